"""Fuzz: arbitrary outside text through every path that shows or records it.

Markup, terminal escapes, C0/C1 controls, invalid UTF-8 (decoded with ``errors="replace"`` as
the adapters decode), 1 MB lines and known secrets go through notifications (message and
title), the banner on the status line, a pod's logs, events, the audit log and its pane, a
real runbook shell step (its output streamed as progress, its last line in the outcome and
the audit record) and ``warroom replay``. After each example the app still runs, nothing
Textual would write to the terminal holds a raw control character or a secret, and the audit
file holds no secret.

One console (on one drill cluster) serves every example: examples are few (CI has two
cores) and each exercises all the paths.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Verbosity, example, given, settings
from hypothesis import strategies as st
from textual.pilot import Pilot

from adapters.kube_views import EventView
from console.domain.audit import NOTE, AuditLog
from console.rehearsal.replay import load_replay
from console.ui.app import WarroomApp
from console.ui.messages import Banner, Notice
from console.ui.replay_app import ReplayApp
from tests.console.app_harness import (
    NAMESPACE,
    drill_settings,
    settled,
    until,
)
from widgets.audit_view import AuditView
from widgets.confirm_modal import ConfirmModal
from widgets.pod_table import PodTable
from widgets.text_modal import TextModal

SIZE = (160, 48)
ENV_SECRET = "fuzz-env-secret-5150"  # the value of a secret-named environment variable
BEARER = "fuzz-bearer-8086"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SECRETS = (ENV_SECRET, BEARER)
BIG = b"y" * 1_000_000

PIECES = st.sampled_from([
    b"[/]", b"[@click=app.quit]x[/]", b"[b]bold", b"[link=http://x]", b"\\[",
    b"\x1b]2;PWNED\x07", b"\x1b]52;c;cHduZWQ=\x07", b"\x1b[2J\x1b[H", b"\x1bP+q\x1b\\",
    b"\xc2\x9b31m", b"\x07\x08\x00\x7f", b"\r\n", b"\r", b"\n", b"\t",
    f" {ENV_SECRET} ".encode(), f"Authorization: Bearer {BEARER}\n".encode(),
    b"\xff\xfe\xc3(", b"\xed\xa0\x80",
])
RAW = st.lists(st.one_of(PIECES, st.binary(max_size=24),
                         st.text(max_size=24).map(lambda t: t.encode("utf-8", "surrogatepass"))),
               min_size=1, max_size=10).map(b"".join)
FUZZ = settings(max_examples=25, deadline=None, derandomize=True, print_blob=False,
                verbosity=Verbosity.quiet,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])

FUZZ_RUNBOOK = """
title: Fuzz output
summary: Prints whatever the fuzzer wrote, then fails.
kind: procedure
steps:
  - id: print-it
    title: Print the fuzz file
    type: shell
    shell: true
    command: "cat {path}; exit 3"
    timeout: 60s
"""


def rendered(app: Any) -> str:
    """The text of every segment Textual would write to the terminal, whole screen."""
    return "\n".join("".join(segment.text for segment in strip)
                     for strip in app.screen._compositor.render_strips())


def assert_screen_safe(app: Any, where: str) -> None:
    shown = rendered(app)
    assert CONTROL.findall(shown) == [], f"raw control characters on screen ({where})"
    for secret in SECRETS:
        assert secret not in shown, f"{secret} on screen ({where})"


def assert_audit_safe(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    for secret in SECRETS:
        assert secret not in text, f"{secret} in the audit log"


@pytest.fixture
async def console(drill_factory: Any, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[WarroomApp, Pilot[Any],
                                                                          Path]]:
    monkeypatch.setenv("WARROOM_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("FUZZ_API_TOKEN", ENV_SECRET)  # secret-named: masked everywhere
    cluster = drill_factory()
    fuzz_file = tmp_path / "fuzz-output"
    fuzz_file.write_bytes(b"")
    books = tmp_path / "runbooks"
    books.mkdir()
    (books / "fuzz-output.yaml").write_text(FUZZ_RUNBOOK.replace("{path}", str(fuzz_file)))
    app = WarroomApp(drill_settings(cluster, user_runbook_dirs=(books,), runbook="fuzz-output",
                                    metrics=None))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(pilot, rates=False)
        yield app, pilot, fuzz_file


def failed_steps(app: WarroomApp) -> int:
    """Failed runbook steps on record (the file split at newlines only: a record's text may
    hold other line separators, which JSON leaves as they are). What follows the last newline
    is a record still being written (a 1 MB one takes a moment): not on record yet."""
    assert app.session.audit is not None
    lines = Path(app.session.audit.path).read_bytes().split(b"\n")[:-1]
    records = [json.loads(line) for line in lines if line.strip()]
    return sum(r["kind"] == "runbook.step" and (r.get("result") or {}).get("status") == "failed"
               for r in records)


async def close_modal(pilot: Pilot[Any], app: WarroomApp) -> None:
    await pilot.press("escape")
    await until(pilot, lambda: app.screen is app.main_screen, 10, "the modal to close")


@settings(FUZZ, max_examples=15)  # each example drives every path of one console
@given(raw=RAW)
@example(raw=b"[/] " + BIG + b"\x1b]2;PWNED\x07 " + ENV_SECRET.encode())
async def test_outside_text_never_crashes_steers_the_terminal_or_leaks(
        console: tuple[WarroomApp, Pilot[Any], Path], raw: bytes) -> None:
    app, pilot, fuzz_file = console
    text = raw.decode("utf-8", errors="replace")
    kube, audit = app.session.kube, app.session.audit
    assert kube is not None and audit is not None

    # notifications (message and title), a notice from a worker, the banner line
    app.notify(text, title=text[:200], severity="warning", timeout=3)
    app.main_screen.post_message(Notice(text, text[:80], "error", 3))
    app.main_screen.post_message(Banner(text, "banner"))
    await pilot.pause(0.1)
    assert app.is_running
    assert_screen_safe(app, "notifications")

    # a pod's logs and the events, as the cluster would answer
    kube.pod_logs = lambda *args, **kwargs: text  # type: ignore[method-assign]
    kube.list_events = lambda *args, **kwargs: [  # type: ignore[method-assign]
        EventView(NAMESPACE, "ev", "Warning", text[:100], text, f"pod/{text[:50]}",
                  last_seen=datetime.now(UTC))]
    table = app.query_one(PodTable)
    table.focus()
    await pilot.press("l")
    await until(pilot, lambda: isinstance(app.screen, TextModal), 15, "the logs")
    await pilot.pause(0.05)
    assert_screen_safe(app, "logs")
    await close_modal(pilot, app)
    table.focus()
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, TextModal), 15, "the events")
    await pilot.pause(0.05)
    assert_screen_safe(app, "events")
    await close_modal(pilot, app)

    # the audit log and its pane
    view = app.query_one(AuditView)
    shown_before = len(view.rows)
    audit.append(NOTE, target=text[:200], message=text)
    await until(pilot, lambda: len(view.rows) > shown_before, 10, "the audit pane")

    # a runbook shell step printing the bytes: progress, outcome, audit record
    fuzz_file.write_bytes(raw)
    failed_before = failed_steps(app)
    await pilot.press("g")
    await until(pilot, lambda: isinstance(app.screen, ConfirmModal), 15, "the step's modal")
    assert_screen_safe(app, "the step's modal")
    await pilot.press("y")
    await until(pilot, lambda: failed_steps(app) > failed_before, 60, "the step to fail")
    await until(pilot, lambda: app.main_screen.ops.running is None, 30, "the step to clear")
    await pilot.pause(0.1)
    assert app.is_running
    assert_screen_safe(app, "the step's outcome")
    assert_audit_safe(Path(audit.path))


@FUZZ
@given(raw=RAW)
@example(raw=BIG + b"\x1b]2;PWNED\x07 " + ENV_SECRET.encode() + b" [/]")
async def test_replayed_audit_rows_are_plain_text(
        raw: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    text = raw.decode("utf-8", errors="replace")
    path = tmp_path_factory.mktemp("replay") / "audit.jsonl"
    log = AuditLog(path, context="drill", namespace="shop", extra_secrets=[ENV_SECRET])
    log.append(NOTE, target=text[:100], message=text)
    log.append("action.failed", action=text[:20], target="deployment/api", message=text)
    assert_audit_safe(path)
    app = ReplayApp(load_replay(path), speed=0)
    async with app.run_test(size=(140, 30)) as pilot:
        view = app.query_one(AuditView)
        await until(pilot, lambda: len(view.rows) == 2, 10, "the replayed rows")
        await pilot.pause(0.05)
        assert app.is_running
        assert_screen_safe(app, "replay")
