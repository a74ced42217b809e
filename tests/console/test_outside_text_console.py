"""Outside text is shown as text: never markup (which crashed the console or became a live
action), never terminal control sequences (which retitled the terminal, wrote the clipboard
or moved the cursor).

Each test takes the text in by the way it really arrives: a runbook shell step's output, a
Prometheus error answer from the drill cluster's query API, a pod's log read from the drill
cluster (its LOG_LEVEL env is echoed into the first log line), an Event created through the
Kubernetes API. The screen is read back from Textual's own rendering (the SVG export and the
toasts' render output).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from textual.widgets import Log

from adapters.metrics_config import MetricsConfig
from adapters.metrics_queries import QueryTemplates
from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import (
    NAMESPACE,
    TARGET,
    audit_records,
    cluster_until,
    drill_settings,
    pod_names,
    settled,
    until,
)
from tests.console.fault_harness import notified
from widgets.checklist import Checklist
from widgets.confirm_modal import ConfirmModal
from widgets.pod_table import PodTable
from widgets.text_modal import TextModal

SIZE = (160, 48)
# a window title (OSC 2), a clipboard write (OSC 52), clear screen and home (CSI)
ESCAPES = "\x1b]2;PWNED\x07\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b[H"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def rendered(app: WarroomApp) -> str:
    """The text of every segment Textual would write to the terminal for the whole screen
    (toasts and modals included), line by line."""
    return "\n".join("".join(segment.text for segment in strip)
                     for strip in app.screen._compositor.render_strips())


def shows(app: WarroomApp, text: str) -> bool:
    """Whether ``text`` is on screen, wherever a toast or a pane wrapped it."""
    return "".join(text.split()) in "".join(rendered(app).split())


def raw_controls(text: str) -> list[str]:
    return sorted(set(CONTROL.findall(text)))


MARKUP_RUNBOOK = r"""
title: Markup in the output
summary: A shell step whose output looks like markup and holds terminal escapes.
kind: procedure
steps:
  - id: print-markup
    title: Print markup
    type: shell
    shell: true
    command: "printf 'status: [/] [@click=app.quit]x[/] \\033]2;PWNED\\007\\n'; exit 3"
    timeout: 30s
"""


async def test_a_shell_step_printing_markup_and_escapes_is_shown_as_text(
        cluster: Drill, tmp_path: Path) -> None:
    user_dir = tmp_path / "runbooks"
    user_dir.mkdir()
    (user_dir / "markup-shell.yaml").write_text(MARKUP_RUNBOOK)
    app = WarroomApp(drill_settings(cluster, user_runbook_dirs=(user_dir,),
                                    runbook="markup-shell", metrics=None))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(pilot, rates=False)
        assert app.query_one(Checklist).current_key == "print-markup"
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), 15, "the step's modal")
        await pilot.press("y")
        await until(pilot, lambda: any(r["kind"] == "runbook.step"
                                       and (r.get("result") or {}).get("status") == "failed"
                                       for r in audit_records(app)), 30, "the step to fail")
        await until(pilot, lambda: app.main_screen.ops.running is None, 10, "the step to clear")
        # shown literally, as text: the toast, the status line
        said = "status: [/] [@click=app.quit]x[/] ␛]2;PWNED␇"
        await until(pilot, lambda: notified(app, said), 10, f"the output notified {[(n.title, n.message) for n in app._notifications]}")
        await pilot.pause(0.2)  # the toast renders (it raised MarkupError here)
        assert app.is_running
        assert shows(app, "status: [/] [@click=app.quit]x[/] ␛]2;PWNED␇")
        assert raw_controls(rendered(app)) == []
        assert said in str(app.query_one("#action-status").render())


async def test_a_prometheus_error_with_markup_in_it_is_shown_as_text(cluster: Drill) -> None:
    # a typo in the configured PromQL: the drill's Prometheus API answers bad_data and its
    # error names the offending string, `[/]` included
    metrics = drill_settings(cluster).metrics
    assert metrics is not None
    typo = ('sum by (namespace, deployment) '
            '(rate(http_requests_total{"[/]",{matchers}}[{window}]))')
    bad = MetricsConfig(base_url=metrics.base_url, bearer_token=metrics.bearer_token,
                        verify_tls=metrics.verify_tls,
                        queries=QueryTemplates(request_rate=typo))
    app = WarroomApp(drill_settings(cluster, metrics=bad))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: notified(app, "metrics unavailable", "[/]"), 30,
                    "the Prometheus error notified")
        await pilot.pause(0.2)
        assert app.is_running
        assert shows(app, "unexpected string [/] in label matching")


async def test_a_pod_log_with_terminal_escapes_is_shown_not_sent(cluster: Drill) -> None:
    """Whoever can set a deployment's env can put bytes in its pods' logs."""
    before = pod_names(cluster)

    def set_log_level() -> None:
        with cluster.api() as api:
            client.AppsV1Api(api).patch_namespaced_deployment(TARGET, NAMESPACE, {
                "spec": {"template": {"spec": {"containers": [
                    {"name": TARGET, "env": [{"name": "LOG_LEVEL", "value": ESCAPES}]}]}}}})

    await asyncio.to_thread(set_log_level)
    await cluster_until(lambda: len(pod_names(cluster) - before) >= 3, 60, "the new pods")
    app = WarroomApp(drill_settings(cluster, metrics=None))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(pilot, rates=False)
        new = pod_names(cluster) - before
        table = app.query_one(PodTable)
        await until(pilot, lambda: set(table.keys) & {f"{NAMESPACE}/{n}" for n in new}, 30,
                    "a new pod in the table")
        key = next(k for k in table.keys if k.partition("/")[2] in new)
        table.focus()
        table.move_to(key)
        await pilot.pause()
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, TextModal), 15, "the logs")
        log = app.screen.query_one(Log)
        await until(pilot, lambda: "log level" in "\n".join(log.lines), 10, "the log lines")
        text = "\n".join(log.lines)
        assert "log level ␛]2;PWNED␇␛]52;c;cHduZWQ=␇␛[2J␛[H)" in text
        await pilot.pause(0.1)
        assert raw_controls(rendered(app)) == []


async def test_an_event_with_terminal_escapes_is_shown_not_sent(cluster: Drill) -> None:
    def create_event() -> None:
        with cluster.api() as api:
            client.CoreV1Api(api).create_namespaced_event(NAMESPACE, {
                "metadata": {"name": "hostile"},
                "involvedObject": {"kind": "Deployment", "name": TARGET,
                                   "namespace": NAMESPACE},
                "reason": "Hostile", "type": "Warning", "message": f"look {ESCAPES} here",
                "count": 1})

    await asyncio.to_thread(create_event)
    app = WarroomApp(drill_settings(cluster, metrics=None))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(pilot, rates=False)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, TextModal), 15, "the events")
        log = app.screen.query_one(Log)
        await until(pilot, lambda: "Hostile" in "\n".join(log.lines), 10, "the event")
        assert "look ␛]2;PWNED␇␛]52;c;cHduZWQ=␇␛[2J␛[H here" in "\n".join(log.lines)
        await pilot.pause(0.1)
        assert raw_controls(rendered(app)) == []


async def test_a_proposers_label_with_markup_is_shown_as_text(cluster: Drill) -> None:
    """The proposer's label is another user's text (their account name, host and terminal as
    their console recorded them in the shared audit log)."""
    from console.domain.actor import Actor
    from console.domain.audit import AuditLog
    from console.domain.two_person import TwoPersonRule

    app = WarroomApp(drill_settings(cluster, metrics=None))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(pilot, rates=False)
        state = app.session.checklist
        assert state is not None
        forged = Actor(user="mallory[/]\x1b]2;PWNED\x07", ssh_client="10.9.9.9 4242 22",
                       host="elsewhere", console_id="forged", uid=4242)
        theirs = AuditLog(state.audit.path, actor=forged)  # another account's console
        TwoPersonRule(state.incident, theirs).propose(
            {"kind": "scale", "context": "drill", "namespace": NAMESPACE, "target": TARGET,
             "params": {"replicas": 1}}, "scale deployment/api to 1 replicas",
            target=f"deployment/{TARGET}", params={"replicas": 1})
        app.main_screen.approvals.announce()
        await until(pilot, lambda: notified(app, "mallory[/]␛]2;PWNED␇"), 10, "the proposal")
        await pilot.pause(0.2)
        assert app.is_running
        assert raw_controls(rendered(app)) == []


def test_crash_is_recorded_in_the_audit_log_before_a_non_zero_exit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception: the audit log says so (redacted), then the exit status is 1."""
    from console.domain.audit import AuditLog
    from console.ui import app as console_app
    from console.ui.crash import CONSOLE_CRASHED, run_reporting_crashes

    audit = AuditLog(tmp_path / "audit.jsonl", extra_secrets=["s3cr3t-value"])

    class Crashing(WarroomApp):
        def on_mount(self) -> None:
            self.set_timer(0.05, self.boom)

        def boom(self) -> None:
            self.session.audit = audit  # as if the incident were open
            raise RuntimeError("fell over: token=s3cr3t-value \x1b]2;PWNED\x07")

    app = Crashing(console_app.ConsoleSettings(state_dir=tmp_path / "state"))
    errors: list[str] = []

    class Err:
        def write(self, text: str) -> None:
            errors.append(text)

        def flush(self) -> None:
            return

    code = run_reporting_crashes(app, tmp_path / "state", redact=app.redact, headless=True,
                                 stderr=Err(), on_crash=app.record_crash)  # type: ignore[arg-type]
    assert code == 1
    records = [r for r in audit.records() if r.kind == CONSOLE_CRASHED]
    assert len(records) == 1
    assert "RuntimeError: fell over" in records[0].message
    text = (tmp_path / "audit.jsonl").read_text()
    assert "s3cr3t-value" not in text and "\\u001b" not in text
    assert "\x1b" not in "".join(errors)  # the reason on stderr, control characters shown
    # run_app wires it: the crash wrapper gets the app's recorder
    seen: dict[str, Any] = {}

    def fake(app: Any, state_dir: Any, **kwargs: Any) -> int:
        seen.update(kwargs)
        return 1

    monkeypatch.setattr(console_app, "run_reporting_crashes", fake)
    assert console_app.run_app(console_app.ConsoleSettings(state_dir=tmp_path)) == 1
    assert seen["on_crash"].__func__ is WarroomApp.record_crash
