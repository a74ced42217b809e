"""The bad-canary drill through the console's keys: abort is the fast, clean recovery; undoing
a healthy workload and waiting for the analysis to abort the canary are scored down."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import audit_records, until
from tests.console.test_drill_mode import (
    check_off,
    confirm,
    drill_status,
    quit_app,
    report_of,
    resolved,
    scenario_settings,
    undo,
)
from widgets.checklist import Checklist
from widgets.deployment_list import DeploymentList

SIZE = (160, 48)


async def select(pilot: Pilot[Any], app: WarroomApp, key: str) -> None:
    live = app.main_screen.live
    await until(pilot, lambda: app.session.runner is not None and app.drill is not None
                and app.drill.mode.state is not None, message="the console and the drill")
    await until(pilot, lambda: key in live.rollouts or key in live.deployments, 30,
                f"{key} listed")
    await until(pilot, lambda: app.query_one(Checklist).rows, message="the runbook")
    app.query_one(DeploymentList).focus()
    for _ in range(10):
        if live.selected == key:
            break
        await pilot.press("down")
        await pilot.pause()
    assert live.selected == key


async def test_abort_through_the_keys_scores_100(
        drill_factory: Callable[..., Drill], state_dir: Path) -> None:
    drill = drill_factory(scenario="bad-canary", speed=20.0)
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "shop/checkout")
        await until(pilot, lambda: app.main_screen.live.rollouts["shop/checkout"].weight == 20,
                    30, "the canary at 20 %")
        await check_off(pilot, app, 1)  # assess severity
        await pilot.press("a")
        await confirm(pilot, app, "rollout-abort")
        screen = await resolved(pilot, app)
        assert screen.view.outcome == "clean"
        await pilot.press("escape")
        await check_off(pilot, app, 2)  # abort-canary (done), communicate
        await quit_app(pilot, app)
    report = report_of(app)
    assert report.startswith("# Drill score: bad-canary — 100/100"), report[:400]
    status = await drill_status(drill)
    assert status["resolved"] and status["clean"] and status["steps"] == ["abort-canary"]
    assert [r["target"] for r in audit_records(app) if r.get("action") == "rollout-abort"][
        -1] == "rollout/checkout"


async def test_undoing_a_healthy_workload_and_waiting_for_the_analysis_scores_down(
        drill_factory: Callable[..., Drill], state_dir: Path) -> None:
    drill = drill_factory(scenario="bad-canary", speed=60.0)
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "shop/api")
        await undo(pilot, app)  # the wrong workload: api was healthy
        # ... and nobody aborts: the analysis does it, minutes of errors later
        await resolved(pilot, app, timeout=90)
        await quit_app(pilot, app)
    report = report_of(app)
    status = await drill_status(drill)
    assert status["resolved"] and not status["clean"]
    assert [u.split(":")[0] for u in status["unsafe"]] == ["rollback-unrelated",
                                                           "waited-for-analysis"]
    assert "(rollback-unrelated)" in report and "(waited-for-analysis)" in report
    assert "abort the canary (traffic back to stable at once)" in report
    score = int(report.split(" — ", 1)[1].split("/", 1)[0])
    assert score <= 100 - 15 - 15 - 10, report[:600]
    assert not any(r.get("action") == "rollout-abort" for r in audit_records(app))
