"""`preset` and `service_map` in the config file's [metrics]: checked with their lines, shown
by `config show`, and reaching the console's MetricsConfig."""

from __future__ import annotations

from pathlib import Path

from tests.console.test_config import config_file, home, warroom  # noqa: F401 (fixture)


def test_a_preset_typo_is_named_with_its_line_and_a_suggestion(home: Path) -> None:  # noqa: F811
    path = config_file(home, '[metrics]\nbase_url = "http://p:9090"\npreset = "istoi"\n')
    out = warroom(home, "config", "check")
    assert out.returncode == 2, out.stdout
    assert (f"{path}:3: metrics: preset 'istoi' is not a known preset (did you mean "
            "'istio'?)") in out.stderr
    assert "Traceback" not in out.stderr


def test_a_context_picks_its_preset_and_service_map(home: Path) -> None:  # noqa: F811
    config_file(home, '[metrics]\nbase_url = "http://p:9090"\npreset = "istio"\n'
                      '[context.staging.metrics]\npreset = "ingress-nginx"\n'
                      'service_map = { "shop-frontend" = "web" }\n')
    assert warroom(home, "config", "check").returncode == 0
    shown = warroom(home, "config", "show")
    assert shown.returncode == 0, shown.stderr
    line = next(x for x in shown.stdout.splitlines() if "metrics.preset" in x)
    assert "ingress-nginx" in line and line.endswith("file:5")
    assert any("metrics.service_map" in x and "shop-frontend" in x
               for x in shown.stdout.splitlines())
