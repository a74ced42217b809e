"""The database drills solved through the console's keys, on the drill's real PostgreSQL: the
runbooks' db-backup, db-restore, db-migrate, sql-gate and shell (psql) steps run for real, and
the database is checked by SQL afterwards. A restore before the backup of the current state
(through the drill's admin action, as a facilitator or a hand-typed pg_restore would) is scored
as data lost, with the row count the database gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from console.cli.main import drill_libpq_env
from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import until
from tests.console.test_drill_mode import (
    SIZE,
    SPEED,
    drill_action,
    drill_status,
    on_screen,
    quit_app,
    ready,
    report_of,
    resolved,
    scale,
    scenario_settings,
    undo,
)
from widgets.confirm_modal import ConfirmModal
from widgets.score_screen import ScoreScreen

pytestmark = pytest.mark.postgres


@pytest.fixture
def db_drill(drill_factory: Callable[..., Drill], monkeypatch: pytest.MonkeyPatch
             ) -> Callable[[str], Drill]:
    def make(scenario: str) -> Drill:
        drill = drill_factory(scenario=scenario, speed=SPEED)
        for key, value in drill_libpq_env(drill.cluster).items():
            monkeypatch.setenv(key, value)  # what `warroom drill` exports for shell steps
        return drill
    return make


def sql(drill: Drill, query: str) -> int:
    return drill.cluster.scenario.database.scalar(query)


async def close_score(pilot: Pilot[Any], app: WarroomApp) -> None:
    if on_screen(app, ScoreScreen):
        await pilot.press("escape")
        await until(pilot, lambda: not on_screen(app, ScoreScreen), message="score closed")


async def step(pilot: Pilot[Any], app: WarroomApp, step_id: str) -> str:
    """Run the current runbook step with g (y when asked); returns its detail."""
    await until(pilot, lambda: app.session.checklist is not None
                and app.session.checklist.engine is not None, message="the runbook bound")
    engine = app.session.checklist.engine  # type: ignore[union-attr]
    assert engine is not None
    await until(pilot, lambda: engine.current == step_id and app.main_screen.ops.running is None,
                message=f"the cursor on {step_id}")
    await pilot.press("g")
    if engine.runbook.step(step_id).needs_confirmation:
        await until(pilot, lambda: on_screen(app, ConfirmModal), 30, f"{step_id}'s confirm")
        await pilot.press("y")
    await until(pilot, lambda: engine.status(step_id) in ("done", "failed"), 90,
                f"{step_id} to finish")
    await until(pilot, lambda: app.main_screen.ops.running is None, message="the step status")
    detail = next(v.detail for v in engine.steps_view() if v.id == step_id)
    assert engine.status(step_id) == "done", detail
    return detail


async def space(pilot: Pilot[Any], app: WarroomApp, step_id: str) -> None:
    await until(pilot, lambda: app.session.checklist is not None
                and app.session.checklist.engine is not None, message="the runbook bound")
    engine = app.session.checklist.engine  # type: ignore[union-attr]
    await until(pilot, lambda: engine.current == step_id, message=f"the cursor on {step_id}")
    await pilot.press("space")
    await until(pilot, lambda: engine.status(step_id) == "done", message=f"{step_id} done")


async def test_data_loss_solved_with_the_runbook_on_the_real_database(db_drill) -> None:
    drill = db_drill("data-loss")
    ledger = drill.cluster.scenario.db
    floor = ledger.last_good().max_id
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app, "shop/worker")
        await until(pilot, lambda: sql(drill, "SELECT count(*) FROM orders "
                                       "WHERE total_cents IS NULL") > 0, 30, "corrupt rows")
        await step(pilot, app, "stop-writes")
        await until(pilot, lambda: drill.cluster.scenario.writes_stopped, 30, "writes stopped")
        ledger.shop.flush()
        await space(pilot, app, "assess-damage")
        await space(pilot, app, "find-last-good-backup")
        detail = await step(pilot, app, "backup-current")
        assert "sha256" in detail and "readable by pg_restore" in detail
        at_risk = sql(drill, f"SELECT count(*) FROM orders WHERE total_cents IS NOT NULL "
                             f"AND id > {floor}")
        corrupt = sql(drill, "SELECT count(*) FROM orders WHERE total_cents IS NULL")
        assert at_risk >= 1500 and corrupt > 0
        restored = await step(pilot, app, "restore")
        assert "restored" in restored
        assert sql(drill, "SELECT count(*) FROM orders WHERE total_cents IS NULL") == 0
        assert sql(drill, f"SELECT count(*) FROM orders WHERE id > {floor}") == 0
        await undo(pilot, app)  # the bad writer goes before writes resume
        await step(pilot, app, "identify-missing-data")
        assert sql(drill, f"SELECT count(*) FROM orders WHERE total_cents IS NOT NULL "
                          f"AND id > {floor}") == at_risk
        screen = await resolved(pilot, app)
        assert screen.view.outcome == "clean"
        await close_score(pilot, app)
        await space(pilot, app, "restore-critical-data")
        await step(pilot, app, "resume-writes")
        await space(pilot, app, "communicate")
        await until(pilot, lambda: sql(drill, f"SELECT count(*) FROM orders WHERE id > {floor}"
                                       ) > at_risk, 30, "good writes resume")
        assert sql(drill, "SELECT count(*) FROM orders WHERE total_cents IS NULL") == 0
        await quit_app(pilot, app)
    report = report_of(app)
    assert "Outcome: **clean**." in report
    assert f"- rows written after the last good backup: {at_risk}" in report
    assert f"- rows recovered: {at_risk}" in report and "- rows lost: 0" in report
    assert "- backup of the current state before the restore: yes" in report
    status = await drill_status(drill)
    assert status["resolved"] and status["clean"], status


async def test_restore_before_backup_is_scored_as_data_lost(db_drill) -> None:
    drill = db_drill("data-loss")
    ledger = drill.cluster.scenario.db
    floor = ledger.last_good().max_id
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app, "shop/worker")
        await scale(pilot, app, 0)
        await until(pilot, lambda: drill.cluster.scenario.writes_stopped, 30, "writes stopped")
        ledger.shop.flush()
        at_risk = sql(drill, f"SELECT count(*) FROM orders WHERE total_cents IS NOT NULL "
                             f"AND id > {floor}")
        assert (await drill_action(drill, "restore"))["unsafe"] is True  # no backup first
        assert sql(drill, f"SELECT count(*) FROM orders WHERE id > {floor}") == 0
        await drill_action(drill, "backup-current")  # too late: the rows are gone
        await drill_action(drill, "reconcile")
        await resolved(pilot, app)
        await quit_app(pilot, app)
    assert sql(drill, f"SELECT count(*) FROM orders WHERE id > {floor}") == 0
    report = report_of(app)
    assert "Outcome: **resolved with unsafe actions**." in report
    assert f"- rows lost: {at_risk}" in report and "- rows recovered: 0" in report
    assert f"| -10 | data | data lost: {at_risk} rows written after the last good backup " \
        "are gone |" in report
    assert "- backup of the current state before the restore: no" in report


async def test_bad_migration_solved_with_the_runbook_on_the_real_database(db_drill) -> None:
    drill = db_drill("bad-migration")
    users = sql(drill, "SELECT count(*) FROM users")
    assert sql(drill, "SELECT count(*) FROM users WHERE email_verified IS NULL") == users
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app, "shop/api")
        await step(pilot, app, "stop-deployment")  # kubectl rollout pause, as an action step
        await space(pilot, app, "stop-pipeline")
        assessed = await step(pilot, app, "check-database-state")
        assert assessed.startswith(f"{users} >= 0")
        await step(pilot, app, "backup-current")
        migrated = await step(pilot, app, "rollback-migration")
        assert "api_1_7_0 → api_1_6_0" in migrated
        unverified = sql(drill, "SELECT count(*) FROM users WHERE email_verified IS NULL")
        assert 0 < unverified < users / 10
        assert sql(drill, "SELECT count(*) FROM users WHERE email_verified = true") == \
            users - unverified
        await space(pilot, app, "revert-migration-commit")
        # restore code to the previous version: u on the paused deployment resumes and rolls
        # back as one sequence (the runbook step would also verify the service's URL)
        await undo(pilot, app)
        await resolved(pilot, app)
        await close_score(pilot, app)
        engine = app.session.checklist.engine  # type: ignore[union-attr]
        for _ in range(5):  # past the undo step and the HTTP checks, to the data check
            if engine.current == "check-data-integrity":
                break
            await pilot.press("n")
        await step(pilot, app, "check-data-integrity")
        await quit_app(pilot, app)
    report = report_of(app)
    assert "| migration rolled back (npm run migrate:down) | ok |" in report
    assert "Outcome: **clean**." in report
    status = await drill_status(drill)
    assert status["followups"] == [] and status["details"]["revision"] == "api_1_6_0"
    assert Path(drill.cluster.scenario.runbook_values()["backup_file"]).is_file()
