"""Drill mode: each incident scenario rehearsed through the console's keys, scored and reported.

The controller (console/rehearsal/drill_mode.py) is checked on a scripted drill with a pinned wall clock:
a known sequence of polls and audit records gives known milestones and a known score. The
console (console/ui/drill_bridge.py) is then driven with keys against private drill clusters at
high speed: the right recovery resolves every scenario and writes the Markdown report beside
the audit log; a wrong action leaves it unresolved or unclean, with the deduction on record.
The drill-only scenario steps (backup, restore, rotate secrets, migrate:down) go through the
drill's admin endpoint, as a facilitator or a runbook shell step would.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from adapters.drill_admin import DrillAdmin
from console.cli.main import _drill_checks, drill_database
from console.domain.durations import format_elapsed as format_duration
from console.rehearsal.drill_mode import DrillMode, DrillState
from console.rehearsal.scoring import report_path
from console.ui.app import WarroomApp
from console.ui.drill_bridge import DRILL_CLOCK, DRILL_RESOLVED, DRILL_SCORED
from drill.scenarios import SCENARIOS
from tests.conftest import Drill
from tests.console.app_harness import audit_records, drill_settings, finished, until
from widgets.checklist import Checklist
from widgets.confirm_modal import ConfirmModal
from widgets.deployment_list import DeploymentList
from widgets.scale_modal import ScaleModal
from widgets.score_screen import ScoreScreen
from widgets.status_header import StatusHeader
from widgets.undo_modal import UndoModal

SIZE = (160, 48)
SPEED = 600.0  # a drill minute in 0.1 s: rollouts and OOM kills take moments
ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 11, 9, 10, 0, 0, tzinfo=UTC)


# ---- the controller on a scripted drill ------------------------------------------------------
def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class ScriptedDrill:
    """A drill admin API that answers what the test says."""

    def __init__(self, **status: Any) -> None:
        self.data: dict[str, Any] = {
            "scenario": "bad-deploy-auth",
            "resolved": False,
            "mitigated": False,
            "clean": False,
            "reason": "api 1.7.0",
            "steps": [],
            "unsafe": [],
            "details": {},
            "speed": 60.0,
            "paused": False,
            "incidentStart": stamp(T0),
            "drillTime": stamp(T0 + timedelta(seconds=600)),
            **status,
        }
        self.clock_calls: list[dict[str, Any]] = []

    def status(self) -> dict[str, Any]:
        return dict(self.data)

    def clock(
        self, *, pause: bool = False, resume: bool = False, speed: float | None = None
    ) -> dict[str, Any]:
        self.clock_calls.append({"pause": pause, "resume": resume})
        if pause:
            self.data["paused"] = True
        if resume:
            self.data["paused"] = False
        return dict(self.data)


class Wall:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> datetime:
        self.now = T0 + timedelta(seconds=seconds)
        return self.now


def rec(
    seconds: float,
    kind: str,
    action: str | None = None,
    target: str | None = None,
    params: dict[str, Any] | None = None,
    result: Any = None,
) -> dict[str, Any]:
    return {
        "time": stamp(T0 + timedelta(seconds=seconds)),
        "kind": kind,
        "action": action,
        "target": target,
        "namespace": "shop",
        "params": params or {},
        "result": result,
    }


def test_milestones_are_stamped_on_the_wall_clock_and_scored() -> None:
    """A known sequence: rollback at +30 s, communicate at +40 s, verify at +50 s; the error
    ratio back under 1 % seen at +60 s, resolved at +90 s."""
    drill = ScriptedDrill()
    wall = Wall(T0 + timedelta(seconds=10))  # 600 drill s at 60x: the incident began at T0
    mode = DrillMode(drill, scenario="bad-deploy-auth", target="shop/api", wall_clock=wall)
    first = mode.poll(error_ratio=0.0)  # before the bad pods serve: not "back under"
    assert mode.started == T0
    assert not first.mitigated_now and not first.resolved_now
    wall.at(20)
    assert not mode.poll(error_ratio=0.54).mitigated_now
    wall.at(40)  # the errors ebb before anyone did anything: not a mitigation
    assert not mode.poll(error_ratio=0.003, acted=False).mitigated_now
    wall.at(60)
    assert mode.poll(error_ratio=0.004).mitigated_now
    assert mode.mitigated_at == T0 + timedelta(seconds=60)
    wall.at(75)
    assert not mode.poll(error_ratio=0.002).mitigated_now  # once
    drill.data.update(resolved=True, clean=True)
    wall.at(90)
    update = mode.poll(error_ratio=0.0)
    assert update.resolved_now and not update.mitigated_now
    assert mode.resolved_at == T0 + timedelta(seconds=90)
    assert not mode.poll().resolved_now

    records = [
        rec(5, "incident.opened"),
        rec(25, "action.requested", "undo", "deployment/api"),
        rec(
            30,
            "action.finished",
            "undo",
            "deployment/api",
            {"to_revision": 3},
            {"from_revision": 4, "to_revision": 3},
        ),
        rec(40, "runbook.step", "manual", "communicate", result={"status": "done"}),
        rec(50, "action.finished", "verify", "http", result={"ok": True}),
    ]
    result = mode.score(records)
    assert (result.time_to_detect_s, result.time_to_mitigate_s, result.time_to_resolve_s) == (
        25.0,
        60.0,
        90.0,
    )
    assert all(check.ok for check in result.checks) and not result.unsafe
    assert result.total == 100 and result.clean

    wrong = [
        rec(20, "action.finished", "scale", "deployment/api", {"replicas": 0}, {"from": 3, "to": 0})
    ]
    unresolved = DrillMode(
        ScriptedDrill(),
        scenario="bad-deploy-auth",
        target="shop/api",
        wall_clock=Wall(T0 + timedelta(seconds=10)),
    )
    unresolved.poll()
    result = unresolved.score(wrong)
    assert not result.resolved and [u.code for u in result.unsafe] == ["scale-to-zero"]
    # communicate missing -10, scale to 0 -20, never mitigated -15, not resolved -25
    assert sorted(d.points for d in result.deductions) == [10, 15, 20, 25]
    assert result.total == 30


def test_pause_toggles_and_the_header_says_so() -> None:
    drill = ScriptedDrill()
    mode = DrillMode(drill, scenario="memory-leak", wall_clock=Wall(T0))
    assert mode.clock_text("10:00:00") == "10:00:00"  # nothing known yet
    mode.poll()
    assert mode.clock_text("10:00:00") == "10:00:00 ×60"
    assert mode.toggle_pause().paused is True
    assert mode.clock_text("10:00:00") == "10:00:00 ⏸ PAUSED"
    assert mode.toggle_pause().paused is False
    assert drill.clock_calls == [{"pause": True, "resume": False}, {"pause": False, "resume": True}]


def test_a_random_drill_is_scored_as_its_pick_once_over() -> None:
    drill = ScriptedDrill(scenario="random", details={"picked": "hidden until the drill ends"})
    mode = DrillMode(drill, scenario="random", hidden_pick="data-loss", wall_clock=Wall(T0))
    mode.poll()
    assert mode.facts().scenario == "random"  # not given away mid-drill
    assert mode.facts(final=True).scenario == "data-loss"
    drill.data["details"] = {"picked": "data-loss"}
    mode.poll()
    assert mode.facts().scenario == "data-loss"
    assert DrillState.from_status(drill.status()).picked == "data-loss"


def test_durations_read_like_the_report() -> None:
    assert [format_duration(s) for s in (None, 0, 59.6, 125, 3723)] == [
        "—",
        "0s",
        "1m00s",
        "2m05s",
        "1h02m03s",
    ]


# ---- the console on a drill ----------------------------------------------------------------
def scenario_settings(drill: Drill, **overrides: Any) -> Any:
    """Settings as `warroom drill --scenario X` builds them (console/cli/main.py)."""
    scenario = drill.cluster.scenario
    namespace, target = scenario.target or ("shop", "api")
    values: dict[str, Any] = {
        "namespace": namespace,
        "runbook": scenario.runbook,
        **drill_database(drill.cluster, {"deployment": target}),
        "checks": _drill_checks(drill.cluster, namespace, target),
        "probe_ca": str(drill.cluster.ca_path),
        "incident_title": f"drill: {scenario.title}",
        "title": f"drill: {scenario.name}",
    }
    values.update(overrides)
    return drill_settings(drill, **values)


def on_screen(app: WarroomApp, kind: type) -> bool:
    return isinstance(app.screen, kind)


async def ready(pilot: Pilot[Any], app: WarroomApp, key: str) -> None:
    """Connected, the drill polled, and `key` (namespace/deployment) selected by keys."""
    await until(
        pilot,
        lambda: app.session.runner is not None and app.session.audit is not None,
        message="the console to connect",
    )
    await until(
        pilot,
        lambda: app.session.connection is not None and app.session.connection.state == "live",
        message="the watch to be live",
    )
    await until(
        pilot, lambda: key in app.main_screen.live.deployments and app.main_screen.live.selected is not None, message=f"{key} listed"
    )
    await until(
        pilot,
        lambda: app.drill is not None and app.drill.mode.state is not None,
        message="the first drill poll",
    )
    # the runbook on screen: space checks off its highlighted step (none before it is shown)
    await until(pilot, lambda: app.query_one(Checklist).rows, message="the runbook")
    app.query_one(DeploymentList).focus()
    for _ in range(len(app.main_screen.live.deployments)):
        if app.main_screen.live.selected == key:
            break
        await pilot.press("down")
        await pilot.pause()
    assert app.main_screen.live.selected == key


async def confirm(pilot: Pilot[Any], app: WarroomApp, action: str) -> None:
    await until(pilot, lambda: on_screen(app, ConfirmModal), message="the confirm modal")
    await pilot.press("y")
    await until(pilot, lambda: finished(app, action), 60, f"{action} to finish")
    await until(pilot, lambda: app.main_screen.ops.running is None, message="the action status")
    assert [r["kind"] for r in audit_records(app) if r.get("action") == action][
        -1
    ] == "action.finished"


async def undo(pilot: Pilot[Any], app: WarroomApp) -> None:
    await pilot.press("u")
    await until(pilot, lambda: on_screen(app, UndoModal), message="the revision picker")
    await pilot.press("enter")  # the default: the revision before the bad release
    await confirm(pilot, app, "undo")


async def scale(pilot: Pilot[Any], app: WarroomApp, replicas: int) -> None:
    await pilot.press("s")
    await until(pilot, lambda: on_screen(app, ScaleModal), message="the scale modal")
    await pilot.press("ctrl+u", *str(replicas), "enter")
    await confirm(pilot, app, "scale")


async def restart(pilot: Pilot[Any], app: WarroomApp) -> None:
    await pilot.press("r")
    await confirm(pilot, app, "restart")


async def check_off(pilot: Pilot[Any], app: WarroomApp, count: int) -> None:
    """Space on the current manual runbook step(s): assess, communicate, ..."""
    for _ in range(count):
        before = sum(r["kind"] == "runbook.step" for r in audit_records(app))
        await pilot.press("space")
        await until(
            pilot,
            lambda b=before: sum(r["kind"] == "runbook.step" for r in audit_records(app)) > b,
            message="the check-off on record",
        )


async def drill_action(drill: Drill, action: str) -> dict[str, Any]:
    """A drill-only step (backup, restore, rotate secrets, migrate:down) via the admin API."""

    def call() -> dict[str, Any]:
        with DrillAdmin.from_kubeconfig(drill.kubeconfig) as admin:
            return admin.scenario_action(action)

    return await asyncio.to_thread(call)


async def drill_status(drill: Drill) -> dict[str, Any]:
    def call() -> dict[str, Any]:
        with DrillAdmin.from_kubeconfig(drill.kubeconfig) as admin:
            return admin.status()

    return await asyncio.to_thread(call)


async def resolved(pilot: Pilot[Any], app: WarroomApp, timeout: float = 60) -> ScoreScreen:
    """The drill resolves: the score screen pops up and the report is on disk."""
    try:
        await until(
            pilot,
            lambda: app.drill is not None and app.drill.mode.resolved_at,
            timeout,
            "the drill to be resolved",
        )
    except AssertionError as error:  # say where the drill stood, for the failure's reader
        mode = getattr(app.drill, "mode", None)
        state = getattr(mode, "state", None)
        raise AssertionError(f"{error}; last drill state: {state!r}; still polling: "
                             f"{getattr(app.drill, '_polling', None)}") from None
    await until(pilot, lambda: on_screen(app, ScoreScreen), message="the score screen")
    screen = app.screen
    assert isinstance(screen, ScoreScreen) and screen.view.final
    assert app.session.audit is not None
    await until(pilot, lambda: report_path(app.session.audit.path).exists(), message="the report")
    return screen


async def quit_app(pilot: Pilot[Any], app: WarroomApp) -> None:
    """Leave: escape any screen, then q (quitting writes the report again)."""
    while len(app.screen_stack) > 1:
        await pilot.press("escape")
        await pilot.pause()
    await pilot.press("q")
    await until(pilot, lambda: not app.is_running, message="the app to exit")


def report_of(app: WarroomApp) -> str:
    """The Markdown report beside the audit log (read once the app has shut down)."""
    assert app.session.audit is not None
    return report_path(app.session.audit.path).read_text()


def kinds(app: WarroomApp) -> list[str]:
    return [r["kind"] for r in audit_records(app)]


# ---- the right recovery resolves each scenario -----------------------------------------------
async def test_bad_deploy_auth_textbook_rollback_scores_100(
    drill_factory: Callable[..., Drill], state_dir: Path
) -> None:
    drill = drill_factory(scenario="bad-deploy-auth", speed=SPEED)
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app, "shop/api")
        await check_off(pilot, app, 2)  # assess severity, communicate
        await undo(pilot, app)
        screen = await resolved(pilot, app)
        assert screen.view.time_to_resolve != "—"
        await pilot.press("escape")
        await pilot.press("v")  # verify after the rollback
        await until(pilot, lambda: finished(app, "verify"), 30, "verification")
        assert "action.finished" in [
            r["kind"] for r in audit_records(app) if r.get("action") == "verify"
        ]
        await quit_app(pilot, app)
    report = report_of(app)
    assert report.startswith("# Drill score: bad-deploy-auth — 100/100")
    assert "Outcome: **clean**." in report
    assert "None: full marks." in report
    assert DRILL_RESOLVED in kinds(app) and DRILL_SCORED in kinds(app)


@pytest.mark.parametrize("name", ["slow-release", "memory-leak", "bad-migration"])
async def test_rollback_scenarios_are_resolved_by_their_runbook(
    drill_factory: Callable[..., Drill], state_dir: Path, name: str
) -> None:
    drill = drill_factory(scenario=name, speed=SPEED)
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app, "shop/api")
        if name == "memory-leak":
            await scale(pilot, app, 6)  # buy time first
        if name == "bad-migration":
            assert "rolled back" in (await drill_action(drill, "migrate-down"))["message"]
        await undo(pilot, app)
        screen = await resolved(pilot, app)
        assert screen.view.unsafe == () and screen.view.outcome == "clean"
        await quit_app(pilot, app)
    report = report_of(app)
    assert report.startswith(f"# Drill score: {name} — ")
    assert "Outcome: **clean**." in report
    assert "| Time to resolve | —" not in report
    if name == "memory-leak":
        assert "- Good: scaled up to buy time before the rollback." in report
    if name == "bad-migration":
        assert "| migration rolled back (npm run migrate:down) | ok |" in report
    status = await drill_status(drill)
    assert status["resolved"] and status["clean"]


async def test_data_loss_stop_backup_restore_reconcile(
    drill_factory: Callable[..., Drill], state_dir: Path
) -> None:
    drill = drill_factory(scenario="data-loss", speed=SPEED)
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app, "shop/worker")
        await scale(pilot, app, 0)  # STOP WRITES
        await until(
            pilot,
            lambda: app.drill is not None and app.drill.mode.mitigated_at,
            30,
            "writes stopped (mitigated)",
        )
        await drill_action(drill, "backup-current")
        await drill_action(drill, "restore")
        await drill_action(drill, "reconcile")
        screen = await resolved(pilot, app)
        assert screen.view.outcome == "clean"
        await quit_app(pilot, app)
    report = report_of(app)
    assert "Outcome: **clean**." in report
    for rule in (
        "STOP WRITES before the restore",
        "backup of the current state BEFORE the restore",
        "missing data identified and reconciled after the restore",
    ):
        assert f"| {rule} | ok |" in report


async def test_security_breach_isolate_rotate_redeploy(
    drill_factory: Callable[..., Drill], state_dir: Path
) -> None:
    drill = drill_factory(scenario="security-breach", speed=SPEED)
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app, "auth/login")
        await undo(pilot, app)  # ISOLATE: 3.4.0 goes
        await until(
            pilot,
            lambda: app.drill is not None and app.drill.mode.mitigated_at,
            30,
            "login isolated (mitigated)",
        )
        assert (await drill_action(drill, "rotate-secrets"))["unsafe"] is False
        await restart(pilot, app)  # pods pick up the rotated secrets
        screen = await resolved(pilot, app)
        assert screen.view.outcome == "clean"
        await quit_app(pilot, app)
    report = report_of(app)
    assert "Outcome: **clean**." in report
    assert "| ISOLATE before rotating secrets | ok |" in report
    assert "| redeploy after rotating the secrets | ok |" in report


# ---- a wrong action leaves it unresolved or unclean ------------------------------------------
async def test_scaling_api_to_zero_is_unsafe_and_resolves_nothing(
    drill_factory: Callable[..., Drill], state_dir: Path
) -> None:
    drill = drill_factory(scenario="bad-deploy-auth", speed=SPEED)
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app, "shop/api")
        await scale(pilot, app, 0)
        await pilot.pause(0.5)
        await pilot.press("S")  # the score so far
        await until(pilot, lambda: on_screen(app, ScoreScreen), message="the score screen")
        view = app.screen.view  # type: ignore[attr-defined]
        assert not view.final and view.outcome == "not resolved"
        assert [line.text.split(" ")[0] for line in view.unsafe] == ["scaled"]
        assert app.drill is not None and app.drill.mode.resolved_at is None
        await quit_app(pilot, app)
    report = report_of(app)
    assert "Outcome: **not resolved**." in report
    assert "(scale-to-zero)" in report and "| -20 | unsafe |" in report
    assert "| -25 | time | not resolved |" in report
    assert not (await drill_status(drill))["resolved"]


async def test_data_loss_restore_before_backup_is_resolved_but_not_clean(
    drill_factory: Callable[..., Drill], state_dir: Path
) -> None:
    drill = drill_factory(scenario="data-loss", speed=SPEED)
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app, "shop/worker")
        await scale(pilot, app, 0)
        await until(
            pilot,
            lambda: app.drill is not None and app.drill.mode.mitigated_at,
            30,
            "writes stopped",
        )
        assert (await drill_action(drill, "restore"))["unsafe"] is True  # no backup first
        await drill_action(drill, "backup-current")
        await drill_action(drill, "reconcile")
        screen = await resolved(pilot, app)
        assert screen.view.outcome == "resolved with unsafe actions"
        assert any(line.points == 25 for line in screen.view.unsafe)
        await quit_app(pilot, app)
    report = report_of(app)
    assert "Outcome: **resolved with unsafe actions**." in report
    assert "(restore-without-backup)" in report and "| -25 | unsafe |" in report


async def test_rotating_before_isolating_leaves_the_attacker_in(
    drill_factory: Callable[..., Drill], state_dir: Path
) -> None:
    drill = drill_factory(scenario="security-breach", speed=SPEED)
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app, "auth/login")
        assert (await drill_action(drill, "rotate-secrets"))["unsafe"] is True
        await restart(pilot, app)  # still on the backdoored 3.4.0: leaks the new token
        await pilot.pause(0.5)
        assert app.drill is not None and app.drill.mode.resolved_at is None
        await quit_app(pilot, app)
    report = report_of(app)
    assert "Outcome: **not resolved**." in report
    assert "(rotate-before-isolate)" in report


# ---- the drill clock, and drill mode only in drills ------------------------------------------
async def test_shift_p_pauses_and_resumes_the_drill_clock(
    drill_factory: Callable[..., Drill], state_dir: Path
) -> None:
    drill = drill_factory(scenario="memory-leak", speed=SPEED)
    clock = drill.cluster.clock
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app, "shop/api")
        header = app.query_one(StatusHeader)
        await until(
            pilot,
            lambda: header.info and f"×{SPEED:g}" in (header.info.drill_time or ""),
            message="the drill speed in the header",
        )
        assert header.info.incident_clock  # real time beside drill time
        await pilot.press("P")
        await until(pilot, lambda: clock.paused, message="the drill clock to pause")
        await until(
            pilot,
            lambda: "PAUSED" in (header.info.drill_time or ""),
            message="PAUSED in the header",
        )
        frozen = clock.now()
        await pilot.pause(0.3)
        assert clock.now() == frozen
        await pilot.press("P")
        await until(pilot, lambda: not clock.paused, message="the drill clock to resume")
        records = [r for r in audit_records(app) if r["kind"] == DRILL_CLOCK]
        assert [r["action"] for r in records] == ["paused", "resumed"]
        await quit_app(pilot, app)


async def test_drill_keys_are_hidden_on_a_real_cluster(
    drill_factory: Callable[..., Drill], state_dir: Path
) -> None:
    drill = drill_factory(scenario="bad-deploy-auth", speed=SPEED)
    app = WarroomApp(replace(drill_settings(drill), drill=None))  # `warroom` on a cluster
    async with app.run_test(size=SIZE) as pilot:
        await until(
            pilot,
            lambda: app.session.runner is not None and app.session.audit is not None,
            message="the console to connect",
        )
        assert app.drill is None
        assert app.main_screen.check_action("drill_pause", ()) is False
        assert app.main_screen.check_action("drill_score", ()) is False
        await pilot.press("P", "S")
        await pilot.pause(0.3)
        assert not drill.cluster.clock.paused and len(app.screen_stack) == 1
        await pilot.press("q")
    assert not any(k.startswith("drill.") for k in kinds(app))
    assert app.session.audit is not None and not report_path(app.session.audit.path).exists()


async def test_a_drill_without_an_incident_has_no_score(
    drill_factory: Callable[..., Drill], state_dir: Path
) -> None:
    drill = drill_factory(scenario="none", speed=SPEED)
    app = WarroomApp(drill_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app, "shop/api")
        await pilot.pause(1.2)  # "resolved" from the start: nothing pops up
        assert len(app.screen_stack) == 1
        await pilot.press("q")
    assert not any(k.startswith("drill.") for k in kinds(app))
    assert app.session.audit is not None and not report_path(app.session.audit.path).exists()


# ---- a facilitator injects from a second terminal ------------------------------------------
async def test_injection_from_a_second_process_reaches_the_running_drill(
    drill_factory: Callable[..., Drill], state_dir: Path, tmp_path: Path
) -> None:
    """`warroom drill inject` while the console runs (the CLI itself is covered in
    tests/drill/test_faults.py::test_inject_command_changes_a_running_cluster)."""
    drill = drill_factory(scenario="bad-deploy-auth", speed=SPEED)
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app, "shop/api")
        env = {
            **os.environ,
            "WARROOM_STATE_DIR": str(tmp_path / "facilitator"),
            "PYTHONPATH": str(ROOT),
        }
        out = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "console.cli.main",
                "drill",
                "inject",
                "latency",
                "seconds=0.05",
                "duration=60",
                "--kubeconfig",
                str(drill.kubeconfig),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert "injected latency" in out.stdout
        active = drill.call(lambda: drill.cluster.faults.describe()["active"])
        assert [f["fault"] for f in active] == ["latency"]
        await pilot.pause(0.3)
        assert app.is_running
        await quit_app(pilot, app)


def test_every_incident_scenario_is_rehearsed_here() -> None:
    rehearsed = {
        "bad-deploy-auth",
        "slow-release",
        "memory-leak",
        "bad-migration",
        "data-loss",
        "security-breach",
        "bad-canary",  # tests/console/test_drill_canary.py
    }
    assert rehearsed == set(SCENARIOS) - {"none", "random"}
