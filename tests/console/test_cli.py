"""The `warroom` command line: help, argument errors, and the standalone drill server."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from console.cli.main import _settings, build_parser
from console.cli.main import main as warroom_main
from drill.scenarios import get_scenario, scenario_names
from tests.conftest import KUBECTLS, wait_for

WARROOM = [sys.executable, "-m", "console.cli.main"]
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WARROOM, *args], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_help_explains_commands() -> None:
    out = run("--help")
    assert out.returncode == 0
    for word in ("drill", "drill-server", "--context", "--namespace", "--selector"):
        assert word in out.stdout
    server = run("drill-server", "--help")
    assert "--kubeconfig-out" in server.stdout and "memory-leak" in server.stdout


def test_namespace_and_selector_reach_the_console_settings() -> None:
    args = build_parser().parse_args(["-n", "shop", "-l", "app in (api,web)"])
    settings = _settings(args)
    assert (settings.namespace, settings.selector) == ("shop", "app in (api,web)")
    assert _settings(build_parser().parse_args([])).selector is None


def test_bad_arguments_are_clear_errors() -> None:
    unknown = run("drill-server", "--scenario", "nope", "--kubeconfig-out", "/tmp/x")
    assert unknown.returncode == 2
    assert "unknown scenario 'nope'" in unknown.stderr and "memory-leak" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    speed = run("drill", "--speed", "fast")
    assert speed.returncode == 2 and "not a number" in speed.stderr
    port = run("drill-server", "--port", "99999", "--kubeconfig-out", "/tmp/x")
    assert port.returncode == 2 and "not a TCP port" in port.stderr


def test_drill_server_serves_kubectl_and_stops_cleanly(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "drill.yaml"
    proc = subprocess.Popen([*WARROOM, "drill-server", "--kubeconfig-out", str(kubeconfig)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(kubeconfig.exists, timeout=30, message="kubeconfig written")
        assert stat.S_IMODE(os.stat(kubeconfig).st_mode) == 0o600
        server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        assert server.startswith("https://127.0.0.1:")
        if KUBECTLS:
            out = subprocess.run([str(KUBECTLS[-1][1]), f"--kubeconfig={kubeconfig}", "get",
                                  "deploy", "-n", "shop", "-o", "name"],
                                 capture_output=True, text=True, timeout=60)
            assert "deployment.apps/api" in out.stdout.split()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert "kubeconfig written to" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_an_unusable_state_directory_is_named_before_anything_starts(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    env = {**os.environ, "WARROOM_STATE_DIR": str(blocker / "state")}
    for args in (["drill", "--scenario", "memory-leak"], ["--kubeconfig", str(tmp_path / "k")]):
        out = subprocess.run([*WARROOM, *args], capture_output=True, text=True, cwd=ROOT,
                             timeout=60, env=env, stdin=subprocess.DEVNULL)
        assert out.returncode == 1, out.stderr
        assert out.stderr.strip() == (f"warroom: cannot use the state directory {blocker}/state:"
                                      " Not a directory. Set WARROOM_STATE_DIR to a directory "
                                      "you can write to.")
    assert blocker.read_text() == "not a directory\n"


@pytest.mark.parametrize("name", scenario_names())
def test_every_registered_scenario_starts_as_warroom_drill_does(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`warroom drill --scenario NAME` for every listed scenario: the drill cluster starts and
    the console gets its settings (issue 21: `none` used to end in a TypeError here)."""
    monkeypatch.setenv("WARROOM_STATE_DIR", str(tmp_path / "state"))
    for key in ("PGHOST", "PGPORT", "PGUSER", "PGPASSFILE"):  # a database drill exports them
        monkeypatch.delenv(key, raising=False)
    opened: list[object] = []
    monkeypatch.setattr("console.ui.app.run_app", lambda settings: opened.append(settings) or 0)
    assert warroom_main(["drill", "--scenario", name]) == 0
    [settings] = opened
    rehearsal = get_scenario(name).rehearsal  # a random drill: its pick's (seed 7, as the CLI)
    assert settings.namespace == rehearsal.namespace  # type: ignore[attr-defined]
    values = settings.runbook_values  # type: ignore[attr-defined]
    assert values["deployment"] == rehearsal.deployment
    if rehearsal.target == "shop/worker" or name == "bad-migration":  # a real database
        assert values["database"] == "shop"
        assert settings.database_dsn.endswith("/shop")  # type: ignore[attr-defined]
        assert "password" not in settings.database_dsn  # type: ignore[attr-defined]
    else:
        assert values == {"deployment": rehearsal.deployment}
    urls = [check.url for check in settings.checks]  # type: ignore[attr-defined]
    assert urls and all(f"/drill/v1/svc/{rehearsal.target}/" in url for url in urls)
    assert (tmp_path / "state" / "drill-kubeconfig.yaml").exists()


@pytest.mark.parametrize("preset", ["istio", "linkerd", "ingress-nginx", "kube-prometheus"])
def test_drill_preset_shows_the_same_incident_through_that_stack(
    preset: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`warroom drill --preset NAME`: the console reads the drill through that stack's series,
    and sees what the generic queries see."""
    from adapters.metrics import MetricsClient
    from adapters.metrics_config import MetricsConfig

    monkeypatch.setenv("WARROOM_STATE_DIR", str(tmp_path / "state"))
    seen: list[tuple[object, object]] = []

    def console(settings: object) -> int:
        config = settings.metrics  # type: ignore[attr-defined]
        assert isinstance(config, MetricsConfig) and config.preset == preset
        generic = MetricsConfig(base_url=config.base_url, bearer_token=config.bearer_token,
                                verify_tls=config.verify_tls)
        with MetricsClient(config) as stack, MetricsClient(generic) as plain:
            def failing() -> bool:
                sample = plain.deployment_rates("shop").get(("shop", "api"))
                return bool(sample and (sample.error_ratio or 0) > 0.3)

            wait_for(failing, timeout=60, interval=0.2, message="the bad deploy's errors")
            at = plain.server_time()
            seen.append((stack.deployment_rates("shop", at=at).get(("shop", "api")),
                         plain.deployment_rates("shop", at=at).get(("shop", "api"))))
        return 0

    monkeypatch.setattr("console.ui.app.run_app", console)
    assert warroom_main(["drill", "--scenario", "bad-deploy-auth", "--speed", "120",
                         "--preset", preset]) == 0
    [(through_stack, generic)] = seen
    assert through_stack is not None and generic is not None
    assert through_stack.error_ratio == pytest.approx(generic.error_ratio, rel=1e-6)
    assert through_stack.request_rate == pytest.approx(generic.request_rate, rel=1e-6)
    assert through_stack.p99_s == pytest.approx(generic.p99_s, rel=1e-6)


def test_drill_preset_typo_is_a_usage_error() -> None:
    out = run("drill", "--preset", "istoi")
    assert out.returncode == 2
    assert "preset 'istoi' is not a known preset (did you mean 'istio'?)" in out.stderr
    assert "Traceback" not in out.stderr
