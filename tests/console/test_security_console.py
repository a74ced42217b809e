"""Secrets never reach the screen, the logs or the audit log; private files; a private drill.

Credentials are planted where they would leak: a runbook shell step that prints an
Authorization header and a token, a kubeconfig with a token the server rejects, and a real
(misbehaving) HTTP server that echoes the credential into its error messages. The screen is
read back from Textual's own rendering (SVG export), the logs through pytest's caplog, the
audit log from its file.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from console.ui.app import WarroomApp
from drill.cluster import DrillCluster
from tests.conftest import Drill
from tests.console.app_harness import audit_records, drill_settings, settled, until
from tests.console.fault_harness import notifications, notified
from widgets.checklist import Checklist
from widgets.confirm_modal import ConfirmModal

SIZE = (160, 48)
BEARER = "sekret-bearer-4711"
TOKEN = "sekret-token-4711"


def screen_text(app: WarroomApp) -> str:
    """Everything Textual renders, as text (the SVG export spells spaces as &#160;)."""
    return app.export_screenshot().replace("&#160;", " ")


def everything_shown(app: WarroomApp) -> str:
    status = str(app.query_one("#action-status").render())
    return "\n".join([screen_text(app), status, *notifications(app)])


def assert_secret_free(app: WarroomApp, caplog: pytest.LogCaptureFixture,
                       *secrets: str) -> None:
    audit = Path(app.session.audit.path).read_text() if app.session.audit is not None else ""
    for secret in secrets:
        assert secret not in everything_shown(app), f"{secret} on screen"
        assert secret not in audit, f"{secret} in the audit log"
        assert secret not in caplog.text, f"{secret} in the logs"


def kubeconfig_with(tmp_path: Path, server: str, token: str, name: str,
                    ca: dict[str, str] | None = None) -> str:
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": name,
        "clusters": [{"name": name, "cluster": {"server": server, **(ca or {})}}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name,
                                                "namespace": "shop"}}],
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return str(path)


# ---- secrets -----------------------------------------------------------------------------------
LEAKY_RUNBOOK = f"""\
title: Leaky shell
summary: A shell step whose command prints credentials.
kind: procedure
steps:
  - id: show-creds
    title: Print the credentials
    type: shell
    shell: true
    command: "echo 'token: {TOKEN}'; echo 'Authorization: Bearer {BEARER}'; exit 3"
    timeout: 30s
"""


async def test_shell_step_output_is_redacted_on_screen_and_in_the_audit(
        cluster: Drill, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    user_dir = tmp_path / "runbooks"
    user_dir.mkdir()
    (user_dir / "leaky-shell.yaml").write_text(LEAKY_RUNBOOK)
    app = WarroomApp(drill_settings(cluster, user_runbook_dirs=(user_dir,),
                                    runbook="leaky-shell", metrics=None))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        assert app.query_one(Checklist).current_key == "show-creds"
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), 15, "the step's modal")
        await pilot.press("y")
        await until(pilot, lambda: any(r["kind"] == "runbook.step"
                                       and (r.get("result") or {}).get("status") == "failed"
                                       for r in audit_records(app)), 30, "the step to fail")
        await until(pilot, lambda: app.main_screen.ops.running is None, 10, "the step to clear")
        # the output did reach the operator and the log (its last line explains the failure),
        # with the credential masked
        said = "last output: Authorization: Bearer ***"
        assert said in json.dumps(audit_records(app), ensure_ascii=False)
        await until(pilot, lambda: said in everything_shown(app), 10, "the output on screen")
        assert_secret_free(app, caplog, BEARER, TOKEN)


class EchoingServer(ThreadingHTTPServer):
    """An 'API server' (say, a broken auth proxy) that answers 500 and echoes the credential
    it received into the error message, with and without its `Bearer ` scheme."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), EchoHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class EchoHandler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        header = self.headers.get("Authorization", "")
        bare = header.split(" ", 1)[-1]
        body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                           "code": 500, "message": f"upstream rejected credential {bare} "
                                                  f"(sent as {header})"}).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return


async def test_a_server_echoing_the_token_into_errors_does_not_leak_it(
        state_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server = EchoingServer()
    try:
        kubeconfig = kubeconfig_with(tmp_path, server.url, TOKEN, "echo")
        app = WarroomApp(drill_settings_free(kubeconfig))
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: notified(app, "cannot load the cluster", "HTTP 500"), 20,
                        "the error on screen")
            shown = [n for n in notifications(app) if "HTTP 500" in n][0]
            assert "upstream rejected credential ***" in shown  # said, but masked
            await until(pilot, lambda: app.session.audit is not None, 10, "the incident")
            assert_secret_free(app, caplog, TOKEN)
    finally:
        server.shutdown()


async def test_a_rejected_token_is_explained_without_showing_it(
        cluster: Drill, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    good = yaml.safe_load(cluster.kubeconfig.read_text())
    ca = {"certificate-authority-data": good["clusters"][0]["cluster"]
          ["certificate-authority-data"]}
    kubeconfig = kubeconfig_with(tmp_path, cluster.cluster.url, TOKEN, "drill", ca)
    app = WarroomApp(drill_settings(cluster, kubeconfig=kubeconfig, metrics=None))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: notified(app, "rejected our credentials"), 20,
                    "the 401 explained")
        assert notified(app, "Log in again or fix the kubeconfig")
        await until(pilot, lambda: app.session.audit is not None, 10, "the incident")
        # an action attempt is refused with the same explanation, also without the token
        await pilot.press("s")
        await pilot.pause()
        assert_secret_free(app, caplog, TOKEN)


def drill_settings_free(kubeconfig: str) -> Any:
    from console.domain.settings import ConsoleSettings

    return ConsoleSettings(kubeconfig=kubeconfig, namespace="shop", watch_backoff_max=1.0)


# ---- private files --------------------------------------------------------------------------------
async def test_audit_incident_and_kubeconfig_files_are_private(
        cluster: Drill, state_dir: Path, tmp_path: Path) -> None:
    old = os.umask(0)  # a careless umask: the modes must not depend on it
    try:
        app = WarroomApp(drill_settings(cluster, metrics=None))
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot, rates=False)
            assert app.session.audit is not None and app.session.checklist is not None
            files = [Path(app.session.audit.path), app.session.checklist.incident.path]
        kubeconfig = cluster.cluster.write_kubeconfig(tmp_path / "loose" / "drill.yaml")
        files.append(Path(kubeconfig))
    finally:
        os.umask(old)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for directory in (state_dir, state_dir / "audit", state_dir / "incidents"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory


# ---- the drill cluster ----------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3"])
def test_drill_refuses_to_bind_beyond_loopback(host: str) -> None:
    with pytest.raises(ValueError, match="loopback only"):
        DrillCluster(host=host)


def test_drill_listens_on_loopback_only_and_wants_its_token(cluster: Drill) -> None:
    port = cluster.cluster.port
    listening = [c for c in psutil.Process().net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN and c.laddr.port == port]
    assert listening and {c.laddr.ip for c in listening} == {"127.0.0.1"}
    for token in (None, "not-the-token", ""):
        for path in ("/api/v1/namespaces/shop/pods", "/drill/v1/faults",
                     "/prometheus/api/v1/query?query=up"):
            with cluster.http(token=token) as http:
                assert http.get(path).status_code == 401, (token, path)
    with cluster.http() as http:
        assert http.get("/api/v1/namespaces/shop/pods").status_code == 200
