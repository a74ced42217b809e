"""AuditView: one line per record with ✔/✖, newest at the bottom, capped scrollback."""

from __future__ import annotations

from tests.widgets.widget_demo import AUDIT, WidgetApp
from widgets.audit_view import AuditView
from widgets.rows import AuditRow


async def test_lines_carry_who_what_and_the_result() -> None:
    app = WidgetApp(AuditView())
    async with app.run_test(size=(120, 12)) as pilot:
        view = app.query_one(AuditView)
        view.extend(AUDIT)
        await pilot.pause()
        lines = [line.text.rstrip() for line in view.lines]
        assert lines[0] == "03:02:11 alice@10.0.0.5 incident.opened shop · production-bug runbook"
        assert lines[-2] == ("03:06:30 bob@10.0.0.9 action.failed deploy/shop/api ✖ "
                             "verify /healthz: HTTP 503")
        assert lines[-1].endswith("✔ scaled to 4 replicas in 8.2s")
        assert view.rows == AUDIT


async def test_scrollback_is_capped() -> None:
    app = WidgetApp(AuditView(max_lines=50))
    async with app.run_test(size=(120, 12)) as pilot:
        view = app.query_one(AuditView)
        for n in range(120):
            view.append(AuditRow(f"03:00:{n % 60:02d}", "alice", "step.done", f"s{n}", "ok",
                                 ok=True))
        await pilot.pause()
        assert len(view.lines) == 50
        assert len(view.rows) == 50
        assert view.lines[-1].text.split()[3] == "s119"
        assert view.rows[0].target == "s70"


async def test_markup_in_messages_is_shown_literally() -> None:
    app = WidgetApp(AuditView())
    async with app.run_test(size=(120, 12)) as pilot:
        view = app.query_one(AuditView)
        view.append(AuditRow("03:00:00", "bob", "shell", "pod/x", "echo [bold]hi[/]", ok=None))
        await pilot.pause()
        assert view.lines[0].text.rstrip().endswith("· echo [bold]hi[/]")
