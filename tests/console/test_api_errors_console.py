"""Real clusters' refusals in the console (issue 14 items 6, 7, 8): a throttled scale retried
with its progress on screen, an admission webhook's denial named as such, a proxy's HTML 502
in one short line. The real console (Pilot) against a private drill cluster over real HTTP."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import (
    audit_records,
    deployment,
    drill_settings,
    finished,
    settled,
    until,
)
from tests.console.fault_harness import clear, inject, notifications, notified
from widgets.confirm_modal import ConfirmModal
from widgets.scale_modal import ScaleModal

SIZE = (160, 48)
FAST = {"watch_backoff_max": 1.0, "stale_after": 2.0}


def action_status(app: WarroomApp) -> str:
    return str(app.query_one("#action-status", Static).render())


async def scale_confirmed(pilot: Any, app: WarroomApp, replicas: int) -> None:
    await pilot.press("s")
    await until(pilot, lambda: isinstance(app.screen, ScaleModal), message="the scale modal")
    await pilot.press("ctrl+u", *str(replicas), "enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmModal), 15, "the confirm modal")
    await pilot.press("y")


def last_record(app: WarroomApp, kind: str) -> dict[str, Any]:
    records = [r for r in audit_records(app) if r["kind"] == kind and r.get("action") == "scale"]
    assert records, f"no {kind} record"
    return records[-1]


async def test_throttled_scale_shows_its_retries_and_succeeds(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster, **FAST))
    shown: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        inject(cluster, "throttle", verb="patch", count=2, retry_after=1)
        await scale_confirmed(pilot, app, 4)

        def watching() -> bool:
            shown.append(action_status(app))
            return finished(app, "scale")

        await until(pilot, watching, 30, "the scale to end")
        assert "▶ throttled by the API server, retrying in 1 s (attempt 2 of 5)" in shown
        assert "▶ throttled by the API server, retrying in 1 s (attempt 3 of 5)" in shown
        done = last_record(app, "action.finished")
        assert done["result"]["ok"] is True and done["result"]["retried"] == 2
        # the record is written by the worker; the screen shows the outcome a moment later
        await until(pilot, lambda: action_status(app).startswith(
            "✔ scale deployment/api to 4 replicas"), 10, "the outcome on screen")
        clear(cluster)
    assert deployment(cluster).spec.replicas == 4


async def test_admission_denial_names_the_webhook_not_rbac(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster, **FAST))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        inject(cluster, "deny", webhook="validation.gatekeeper.sh",
               message="[prod-freeze] changes to production are frozen during the incident")
        await scale_confirmed(pilot, app, 5)  # RBAC allows it: the confirm modal comes
        await until(pilot, lambda: finished(app, "scale"), 30, "the scale to end")
        failed = last_record(app, "action.failed")["message"]
        for text in ('admission webhook "validation.gatekeeper.sh"',
                     "[prod-freeze] changes to production are frozen during the incident"):
            assert text in failed and text in action_status(app)
        assert "not allowed" not in failed and "cluster admin" not in failed
        await until(pilot, lambda: notified(app, "[prod-freeze]"), 5,
                    f"the denial on screen; shown: {notifications(app)}")
        clear(cluster)
    assert deployment(cluster).spec.replicas == 3


async def test_html_502_at_the_write_is_one_short_line(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster, **FAST))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        assert app.session.kube is not None
        app.session.kube.before_write = lambda *_: inject(cluster, "bad-gateway")
        await scale_confirmed(pilot, app, 5)
        await until(pilot, lambda: finished(app, "scale"), 30, "the scale to end")
        app.session.kube.before_write = None
        failed = last_record(app, "action.failed")["message"]
        assert "HTTP 502 Bad Gateway" in failed
        assert "invalid response from an upstream server" in failed
        assert len(failed) < 300 and "<" not in failed and "gtag" not in failed
        assert len(action_status(app)) < 400
        clear(cluster)
    assert deployment(cluster).spec.replicas == 3
