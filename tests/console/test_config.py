"""The config file: parsing, line-numbered errors, precedence, `warroom config init|check|show`.

The command line runs as a real process (`python -m console.cli.main`) with its own
$XDG_CONFIG_HOME, state directory and kubeconfig, so nothing of the user's is read.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.metrics_config import MetricsConfig
from adapters.prometheus_api import PrometheusAPI
from console.cli.main import _settings, build_parser
from console.config.errors import ConfigError
from console.config.load import read_config
from console.config.toml_lines import KeyLines

WARROOM = [sys.executable, "-m", "console.cli.main"]
ROOT = Path(__file__).resolve().parents[2]

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: staging
clusters:
- name: eu
  cluster: {server: "https://127.0.0.1:1"}
- name: stg
  cluster: {server: "https://127.0.0.1:2"}
users:
- name: me
  user: {token: abc}
contexts:
- name: prod-eu
  context: {cluster: eu, user: me, namespace: shop}
- name: staging
  context: {cluster: stg, user: me}
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A private $XDG_CONFIG_HOME, state directory and kubeconfig for the real CLI."""
    (tmp_path / "xdg").mkdir()
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    return tmp_path


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WARROOM_") and k not in ("KUBECONFIG", "XDG_CONFIG_HOME")}
    env.update(XDG_CONFIG_HOME=str(home / "xdg"), WARROOM_STATE_DIR=str(home / "state"),
               KUBECONFIG=str(home / "kubeconfig"), PYTHONPATH=str(ROOT), **extra)
    return env


def warroom(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WARROOM, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60, env=environment(home, **env))


def config_file(home: Path, text: str) -> Path:
    path = home / "xdg" / "warroom" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ---- errors ----------------------------------------------------------------------------------
def test_broken_toml_is_named_with_its_line_and_exit_2(home: Path) -> None:
    path = config_file(home, 'theme = "warroom-light"\n\n[metrics\nbase_url = "http://p"\n')
    out = warroom(home, "config", "check")
    assert out.returncode == 2
    assert f"{path}:3: not valid TOML" in out.stderr
    assert "Traceback" not in out.stderr
    # the console itself refuses to start with it, before anything else happens
    console = warroom(home, "--read-only")
    assert console.returncode == 2 and "Traceback" not in console.stderr
    assert f"{path}:3: not valid TOML" in console.stderr
    assert not (home / "state" / "audit").exists() or not any((home / "state" / "audit").iterdir())
    drill = warroom(home, "drill", "--scenario", "none")  # checked before the drill starts
    assert drill.returncode == 2 and f"{path}:3: not valid TOML" in drill.stderr
    assert "Traceback" not in drill.stderr


def test_wrong_types_are_named_with_their_lines(home: Path) -> None:
    path = config_file(home, "\n".join([
        "# comment",
        'theme = "warroom-dark"',
        'max_replicas = "lots"',
        "",
        '[context."prod-eu"]',
        'production = "yes"',
        "[[context.\"prod-eu\".checks]]",
        'workload = "api"',
        'url = "https://api.example.com/healthz"',
        "latency_budget_ms = -5",
    ]) + "\n")
    out = warroom(home, "config", "check", str(path))
    assert out.returncode == 2, out.stdout
    lines = out.stderr.strip().splitlines()
    assert lines == [
        f"{path}:3: max_replicas: must be a whole number, not 'lots'",
        f"{path}:6: context.prod-eu.production: must be true or false (without quotes), "
        "not 'yes'",
        f"{path}:10: context.prod-eu.checks[0].latency_budget_ms: must be more than 0, "
        "not -5",
    ]


def test_unknown_keys_get_a_did_you_mean(home: Path) -> None:
    path = config_file(home, 'thme = "warroom-light"\n[context.staging]\nread_onyl = true\n'
                             "[context.staging.metrics]\nbase_url = \"http://p:9090\"\n"
                             "bearer_tokn_file = \"/x\"\n")
    out = warroom(home, "config", "check")
    assert out.returncode == 2
    assert f"{path}:1: thme: unknown key 'thme' (did you mean 'theme'?)" in out.stderr
    assert (f"{path}:3: context.staging.read_onyl: unknown key 'read_onyl' "
            "(did you mean 'read_only'?)") in out.stderr
    # [metrics] is checked by MetricsConfig.from_mapping, the line found all the same
    config_file(home, '[context.staging.metrics]\nbase_url = "http://p:9090"\n'
                      'bearer_tokn_file = "/x"\n')
    metrics = warroom(home, "--read-only")
    assert metrics.returncode == 2 and "Traceback" not in metrics.stderr
    assert f"{path}:3: metrics: unknown key 'bearer_tokn_file'" in metrics.stderr
    assert "did you mean 'bearer_token_file'" in metrics.stderr


def test_a_missing_named_file_and_a_bad_environment_value_are_errors(home: Path) -> None:
    missing = warroom(home, "--config", str(home / "nope.toml"), "config", "show")
    assert missing.returncode == 2
    assert "nope.toml: cannot read the config file (named by --config)" in missing.stderr
    env = warroom(home, "config", "show", WARROOM_MAX_REPLICAS="many")
    assert env.returncode == 2
    assert "environment WARROOM_MAX_REPLICAS: must be a whole number" in env.stderr
    assert "Traceback" not in missing.stderr + env.stderr


# ---- precedence ------------------------------------------------------------------------------
def test_show_gives_each_value_and_its_source(home: Path) -> None:
    secret = home / "token"
    secret.write_text("s3cret-token-value\n")
    config_file(home, "\n".join([
        'theme = "warroom-light"',           # 1: file (global)
        "max_replicas = 20",                 # 2: env wins
        "read_only = true",                  # 3: flag wins
        "[metrics]",                         # 4
        'base_url = "http://prom:9090"',     # 5
        f'bearer_token_file = "{secret}"',   # 6
        '[context."prod-eu"]',               # 7
        "production = true",                 # 8
        "max_replicas = 5",                  # 9: context beats global, env beats both
        'theme = "warroom-high-contrast"',   # 10: the context's table beats the global key
        '[context."prod-eu".runbook_values]',  # 11
        'database = "shop_production"',      # 12
    ]) + "\n")
    out = warroom(home, "--context", "prod-eu", "--no-read-only", "--set", "writer=api",
                  "config", "show", WARROOM_MAX_REPLICAS="9")
    assert out.returncode == 0, out.stderr
    rows = {line.split(" = ")[0]: line for line in out.stdout.splitlines() if " = " in line}

    def shown(name: str) -> tuple[str, str]:
        value, _, source = rows[name].partition("# ")
        return value.split(" = ", 1)[1].strip(), source.strip()

    assert shown("theme") == ("warroom-high-contrast", "file:10")
    assert shown("max_replicas") == ("9", "env:WARROOM_MAX_REPLICAS")
    assert shown("read_only") == ("false", "flag")
    assert shown("production") == ("true", "file:8")
    assert shown("two_person") == ("false", "default")
    assert shown("metrics.base_url") == ("http://prom:9090", "file:5")
    assert shown("metrics.bearer_token_file")[1] == "file:6"
    assert shown("runbook_values.database") == ("shop_production", "file:12")
    assert shown("runbook_values.writer") == ("api", "flag")
    assert "s3cret-token-value" not in out.stdout
    # another context: its table does not apply, the global keys do
    other = warroom(home, "--context", "staging", "config", "show")
    assert "theme = warroom-light" in other.stdout and "# file:1" in other.stdout
    assert "production = (not set)" in other.stdout
    # without --context: the kubeconfig's current context (staging) picks the table
    current = warroom(home, "config", "show")
    assert "# context: staging" in current.stdout


def test_the_console_settings_follow_the_same_precedence(home: Path, monkeypatch:
                                                         pytest.MonkeyPatch) -> None:
    path = config_file(home, 'max_replicas = 20\ntwo_person = true\n[context.staging]\n'
                             'read_only = true\nwebhooks = ["https://chat.example/hook"]\n'
                             'database_dsn = "postgresql://app@db:5432/app"\n'
                             'contexts = ["a"]\n')
    for key, value in environment(home).items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as error:  # contexts is top-level only
        _settings(build_parser().parse_args([]))
    assert f"{path}:7: context.staging.contexts: unknown key" in error.value.message
    path.write_text(path.read_text().replace('contexts = ["a"]\n', "")
                    + '\n[[checks]]\nworkload = "api"\nurl = "https://api.example/healthz"\n'
                      "expect_status = [200, 204]\nlatency_budget_ms = 300\n"
                      'body_contains = "ok"\n')
    settings = _settings(build_parser().parse_args(["--max-replicas", "7", "--set", "db=x"]))
    assert (settings.max_replicas, settings.two_person, settings.read_only) == (7, True, True)
    assert settings.webhooks == ("https://chat.example/hook",)
    assert settings.database_dsn == "postgresql://app@db:5432/app"
    assert settings.runbook_values == {"db": "x"}
    assert settings.config_file == path
    (check,) = settings.checks
    assert (check.workload, check.expect_status, check.latency_budget_ms, check.body_contains) \
        == ("api", (200, 204), 300.0, "ok")
    monkeypatch.setenv("WARROOM_READ_ONLY", "false")
    assert _settings(build_parser().parse_args([])).read_only is False


def test_an_unknown_theme_is_refused_with_the_nearest(home: Path) -> None:
    path = config_file(home, 'theme = "warroom-drak"\n')
    out = warroom(home, "config", "check")
    assert out.returncode == 2
    assert f"{path}:1: theme: no theme 'warroom-drak' (did you mean 'warroom-dark'?)" \
        in out.stderr
    # the flag wins over the file's value; Textual's own themes work too
    flag = warroom(home, "--theme", "nord", "config", "show")
    assert flag.returncode == 0, flag.stderr
    assert "theme = nord" in flag.stdout and "# flag" in flag.stdout


def test_set_needs_key_equals_value(home: Path) -> None:
    out = warroom(home, "--set", "no-equals", "config", "show")
    assert out.returncode == 2 and "expected KEY=VALUE" in out.stderr


# ---- init ------------------------------------------------------------------------------------
def test_init_writes_a_starter_for_the_contexts_and_never_overwrites(home: Path) -> None:
    out = warroom(home, "config", "init")
    path = home / "xdg" / "warroom" / "config.toml"
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(path)
    text = path.read_text()
    assert '[context."prod-eu"]' in text and '[context."staging"]' in text
    assert "production = true" in text.split('[context."prod-eu"]')[1].split("[context")[0]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    check = warroom(home, "config", "check")
    assert check.returncode == 0, check.stderr  # the starter is a valid file as written
    path.write_text(text + "# mine\n")
    again = warroom(home, "config", "init")
    assert again.returncode == 1 and "already exists; not overwritten" in again.stderr
    assert path.read_text() == text + "# mine\n"


# ---- pieces ----------------------------------------------------------------------------------
def test_key_lines_follow_tables_arrays_and_multiline_values() -> None:
    lines = KeyLines("\n".join([
        'a = """',           # 1
        "b = 2",             # 2: inside a string, not a key
        '"""',               # 3
        "c = [",             # 4
        "  1, 2,",           # 5
        "]",                 # 6
        "[[x.'y z'.list]]",  # 7
        "k = 1",             # 8
        "[[x.'y z'.list]]",  # 9
        "k = 2",             # 10
        "[x.'y z'.list.sub]",  # 11
        "deep.key = 3",      # 12
    ]))
    assert lines.line(("b",)) is None
    assert lines.line(("c",)) == 4
    assert lines.line(("x", "y z", "list", 0, "k")) == 8
    assert lines.line(("x", "y z", "list", 1, "k")) == 10
    assert lines.line(("x", "y z", "list", 1, "sub", "deep", "key")) == 12
    assert lines.line(("x", "y z", "list", 1, "nothing")) == 9


def test_read_config_rejects_a_string_where_a_boolean_goes(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('two_person = "true"\n')
    with pytest.raises(ConfigError) as error:
        read_config(path)
    assert error.value.message == (f"{path}:1: two_person: must be true or false (without "
                                   "quotes), not 'true'")


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).seen.append(dict(self.headers))
        body = b'{"status":"success","data":{"resultType":"vector","result":[]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_prometheus_gets_the_configured_headers_and_token_file(recorder: str,
                                                                tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("tok-123\n")
    config = MetricsConfig.from_mapping({"base_url": recorder, "bearer_token_file": str(token),
                                         "headers": {"X-Scope-OrgID": "tenant-7"}})
    api = PrometheusAPI(config)
    try:
        assert api.instant("up") == []
    finally:
        api.close()
    headers = {k.lower(): v for k, v in _Recorder.seen[-1].items()}
    assert headers["x-scope-orgid"] == "tenant-7"
    assert headers["authorization"] == "Bearer tok-123"
    assert "tenant-7" not in repr(config)
    for bad, why in (({"Authorization": "x"}, "set by warroom itself"),
                     ({"X-A": "a\r\nX-B: b"}, "one line"), ({"bad header": "x"}, "not an HTTP")):
        with pytest.raises(Exception, match=why):
            MetricsConfig.from_mapping({"base_url": recorder, "headers": bad})


def test_prometheus_flag_and_env_change_the_url_and_keep_the_files_credentials(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = home / "token"
    token.write_text("tok\n")
    config_file(home, f'[metrics]\nbase_url = "http://file:9090"\nbearer_token_file = "{token}"\n'
                      'headers = { "X-Scope-OrgID" = "t1" }\n')
    for key, value in environment(home).items():
        monkeypatch.setenv(key, value)
    metrics = _settings(build_parser().parse_args([])).metrics
    assert metrics is not None and metrics.base_url == "http://file:9090"
    monkeypatch.setenv("WARROOM_PROMETHEUS", "http://env:9090")
    metrics = _settings(build_parser().parse_args([])).metrics
    assert metrics is not None and metrics.base_url == "http://env:9090"
    metrics = _settings(build_parser().parse_args(["--prometheus", "http://flag:9090"])).metrics
    assert metrics is not None and metrics.base_url == "http://flag:9090"
    assert metrics.bearer_token == "tok" and dict(metrics.headers) == {"X-Scope-OrgID": "t1"}


def test_the_database_settings_come_from_the_config_file(tmp_path, monkeypatch) -> None:
    """database_dsn and database_password_file reach the settings the db-* steps use; a
    password file that does not exist is named with its line."""
    from console.cli.main import _settings, build_parser
    from console.config.errors import ConfigError

    secret = tmp_path / "db.password"
    secret.write_text("s3cret\n")
    config = tmp_path / "config.toml"
    config.write_text('[context.drill]\ndatabase_dsn = "postgresql://app@db:5432/shop"\n'
                      f'database_password_file = "{secret}"\n')
    monkeypatch.setenv("WARROOM_CONFIG", str(config))
    settings = _settings(build_parser().parse_args(["--context", "drill"]))
    assert settings.database_dsn == "postgresql://app@db:5432/shop"
    assert settings.database_password_file == str(secret)
    config.write_text('database_password_file = "/nonexistent/db.password"\n')
    with pytest.raises(ConfigError) as raised:
        _settings(build_parser().parse_args(["--context", "drill"]))
    assert "config.toml:1" in str(raised.value) and "no such file" in str(raised.value)
