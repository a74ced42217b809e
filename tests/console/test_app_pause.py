"""Pause and resume from the keys (z, Z) against a private drill cluster, and what a paused
deployment does to undo (u) and restart (r): the console offers resume-then-act as one audited
sequence. State is read back from the cluster and the audit log file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Button

from adapters.kubernetes import KubeClient
from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import (
    action_kinds,
    audit_records,
    cluster_until,
    deployment,
    drill_settings,
    fingerprint,
    settled,
    until,
)
from tests.console.test_app_actions import (
    ACTION_RECORDS,
    RESTARTED_AT,
    confirm_when_asked,
    limited_kubeconfig,
    notified,
    on_screen,
    wait_finished,
)
from widgets.checklist import Checklist
from widgets.deployment_list import DeploymentList
from widgets.undo_modal import UndoModal

SIZE = (160, 48)


def rollout_cell(app: WarroomApp) -> str:
    return str(app.query_one(DeploymentList).get_cell("shop/api", "rollout"))


def pause_with_client(cluster: Drill) -> None:
    KubeClient.connect(str(cluster.kubeconfig)).pause("shop", "api")


async def test_z_pauses_and_shift_z_resumes(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        palette = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert palette["Rollout pause"].startswith("z: pause")
        assert palette["Rollout resume"].startswith("Z: resume")
        await pilot.press("z")
        modal = await confirm_when_asked(pilot, app)
        assert modal.title_text == "rollout pause deployment/api"
        change = dict(modal.facts)["change"]
        assert "spec.paused → true" in change and "now 3/3 new pods" in change
        await pilot.press("y")
        await wait_finished(pilot, app, "pause")
        assert action_kinds(app, "pause") == ACTION_RECORDS
        assert deployment(cluster).spec.paused is True
        await until(pilot, lambda: rollout_cell(app) == "⏸ paused at 3/3 new pods",
                    message="the deployment list to show the pause")
        finished = [r for r in audit_records(app) if r["kind"] == "action.finished"][-1]
        assert finished["target"] == "deployment/api"
        assert finished["message"] == "deployment.apps/api paused"
        assert finished["result"]["paused"] is True

        await pilot.press("Z")
        modal = await confirm_when_asked(pilot, app)
        assert modal.title_text == "rollout resume deployment/api"
        await pilot.press("y")
        await wait_finished(pilot, app, "resume")
        assert action_kinds(app, "resume") == ACTION_RECORDS
        await until(pilot, lambda: rollout_cell(app) == "✔ complete",
                    message="the deployment list to show the rollout complete")
    dep = deployment(cluster)
    assert dep.spec.paused is None  # kubectl's resume patch removes it: {"paused": null}


async def test_pausing_a_paused_deployment_is_refused_in_kubectls_words(cluster: Drill) -> None:
    pause_with_client(cluster)
    before = fingerprint(cluster)
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        await until(pilot, lambda: rollout_cell(app).startswith("⏸ paused"),
                    message="the pause on screen")
        await pilot.press("z")
        await until(pilot, lambda: "action.refused" in action_kinds(app, "pause"),
                    message="the refusal on record")
        refused = [r for r in audit_records(app) if r["kind"] == "action.refused"][0]
        assert refused["message"] == 'deployments.apps "api" is already paused'
        await until(pilot, lambda: notified(app, "is already paused"),
                    message="the refusal notified")
        assert len(app.screen_stack) == 1  # never asked to confirm
    assert action_kinds(app, "pause") == ["action.refused"]
    assert fingerprint(cluster) == before


async def test_pause_and_resume_are_disabled_without_patch_on_deployments(
        cluster: Drill, tmp_path: Path) -> None:
    kubeconfig = limited_kubeconfig(cluster, tmp_path, {("patch", "deployments")})
    before = fingerprint(cluster)
    app = WarroomApp(drill_settings(cluster, kubeconfig=kubeconfig))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        await until(pilot, lambda: "pause" in app.session.denied, message="the RBAC probe")
        assert {"pause", "resume"} <= set(app.session.denied)
        assert "forbidden: you may not patch deployments" in app.session.denied["pause"]
        for key, kind in (("z", "pause"), ("Z", "resume")):
            assert app.main_screen.check_action("act", (kind,)) is None  # greyed out
            await pilot.press(key)
            await pilot.pause()
            assert len(app.screen_stack) == 1, f"{key} opened {app.screen!r}"
    assert fingerprint(cluster) == before
    assert not deployment(cluster).spec.paused


async def test_read_only_cannot_pause_or_resume(cluster: Drill) -> None:
    before = fingerprint(cluster)
    app = WarroomApp(drill_settings(cluster, read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        for key, kind in (("z", "pause"), ("Z", "resume")):
            assert app.main_screen.check_action("act", (kind,)) is None
            await pilot.press(key)
            await pilot.pause()
            assert len(app.screen_stack) == 1, f"{key} opened {app.screen!r}"
    assert fingerprint(cluster) == before
    assert not deployment(cluster).spec.paused


def sequence_records(app: WarroomApp) -> list[tuple[str, str, dict[str, Any]]]:
    return [(r["kind"], r["action"], r["params"]) for r in audit_records(app)
            if r["kind"].startswith("action.")]


async def test_undo_on_a_paused_deployment_resumes_and_rolls_back_in_one_sequence(
        cluster: Drill) -> None:
    pause_with_client(cluster)
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        await until(pilot, lambda: (dep := app.main_screen.live.selected_deployment())
                    is not None and dep.paused, message="the pause seen by the console")
        await pilot.press("u")
        await until(pilot, lambda: on_screen(app, UndoModal), message="the revision picker")
        picker = app.screen
        assert isinstance(picker, UndoModal) and picker.resume_first and picker.chosen == 2
        assert str(picker.query_one("#undo", Button).label) == "Resume and roll back to rev 2"
        warnings = " ".join(str(w.render()) for w in picker.query("#warnings Static"))
        assert "paused at 3/3 new pods" in warnings and "one audited sequence" in warnings
        await pilot.press("enter")
        modal = await confirm_when_asked(pilot, app)
        assert modal.title_text == ("rollout resume, then rollout undo deployment/api to "
                                    "revision 2")
        await pilot.press("y")
        await wait_finished(pilot, app, "undo")
        records = sequence_records(app)
        assert [(k, a) for k, a, _ in records] == [
            ("action.requested", "resume"), ("action.started", "resume"),
            ("action.finished", "resume"),
            ("action.requested", "undo"), ("action.started", "undo"),
            ("action.finished", "undo")]
        linked = {p["sequence"] for _, _, p in records}
        assert len(linked) == 1 and "" not in linked
        assert records[0][2]["then"] == "undo"
        assert records[3][2] == {"to_revision": 2, "after": "resume",
                                 "sequence": records[0][2]["sequence"]}
    dep = deployment(cluster)
    assert dep.spec.paused is None
    assert dep.spec.template.spec.containers[0].image == "registry.local/shop/api:1.5.0"
    assert dep.metadata.annotations["deployment.kubernetes.io/revision"] == "4"


async def test_restart_on_a_paused_deployment_offers_resume_and_restart(cluster: Drill) -> None:
    pause_with_client(cluster)
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        await until(pilot, lambda: (dep := app.main_screen.live.selected_deployment())
                    is not None and dep.paused, message="the pause seen by the console")
        await pilot.press("r")
        modal = await confirm_when_asked(pilot, app)
        assert modal.title_text == "rollout resume, then rollout restart deployment/api"
        assert dict(modal.facts)["change"].startswith(
            "1. rollout resume deployment/api\n2. rollout restart: replace every pod")
        assert "one audited sequence" in modal.warnings[0]
        await pilot.press("y")
        await wait_finished(pilot, app, "restart")
        assert action_kinds(app, "resume") == ACTION_RECORDS
        assert action_kinds(app, "restart") == ACTION_RECORDS
    dep = await cluster_until(lambda: (d := deployment(cluster)) and d.metadata.annotations.get(
        "deployment.kubernetes.io/revision") == "4" and d, message="the restart's revision")
    assert dep.spec.paused is None
    assert RESTARTED_AT in (dep.spec.template.metadata.annotations or {})


async def test_the_migration_runbooks_first_step_pauses_the_deployment(
        cluster: Drill, tmp_path: Path) -> None:
    values = {"deployment": "api", "database": "shop", "app_dir": str(tmp_path),
              "migrations": str(tmp_path / "alembic.ini")}
    app = WarroomApp(drill_settings(cluster, runbook="migration-failed", runbook_values=values))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        checklist = app.query_one(Checklist)
        assert checklist.current_key == "stop-deployment"
        assert checklist.rows[0].kind == "pause"
        await pilot.press("g")
        modal = await confirm_when_asked(pilot, app)
        assert "rollout pause deployment/api" in modal.title_text
        await pilot.press("y")
        await until(pilot, lambda: checklist.rows[0].status == "done",
                    message="the step done on screen")
        steps = [r for r in audit_records(app) if r["kind"] == "runbook.step"]
        assert [s["result"]["status"] for s in steps] == ["running", "done"]
        assert [k for k in action_kinds(app, "pause") if k.startswith("action.")] == (
            ACTION_RECORDS)
        await until(pilot, lambda: rollout_cell(app) == "⏸ paused at 3/3 new pods",
                    message="the pause in the deployment list")
    assert deployment(cluster).spec.paused is True


async def test_two_person_rule_holds_resume_and_roll_back_as_one_proposal(
        drill_factory: Any, state_dir: Path) -> None:
    """alice proposes resume-and-roll-back on the paused api; nothing changes until bob
    approves it at his console, where both steps run, each record naming them both."""
    from tests.console.test_pair_driving import _people

    drill = drill_factory(speed=20)
    pause_with_client(drill)
    alice, bob = _people()
    first = WarroomApp(drill_settings(drill, actor=alice, metrics=None, two_person=True))
    async with first.run_test(size=SIZE) as pilot_a:
        await settled(pilot_a, rates=False)
        await until(pilot_a, lambda: (dep := first.main_screen.live.selected_deployment())
                    is not None and dep.paused, message="the pause seen by alice's console")
        incident_id = first.session.checklist.incident.read().id
        await pilot_a.press("u")
        await until(pilot_a, lambda: on_screen(first, UndoModal), message="the picker")
        await pilot_a.press("enter")
        await confirm_when_asked(pilot_a, first)
        await pilot_a.press("y")
        await until(pilot_a, lambda: first.session.checklist.incident.pending_proposals(),
                    message="a pending proposal")
        assert deployment(drill).spec.paused is True  # proposed, not run
        second = WarroomApp(drill_settings(drill, actor=bob, metrics=None, two_person=True,
                                           resume=incident_id))
        async with second.run_test(size=SIZE) as pilot_b:
            await settled(pilot_b, rates=False)
            await pilot_b.press("A")
            modal = await confirm_when_asked(pilot_b, second)
            assert "rollout resume, then rollout undo deployment/api" in modal.title_text
            await pilot_b.press("y")
            await until(pilot_b, lambda: "action.finished" in action_kinds(second, "undo"),
                        timeout=30, message="the approved sequence finished")
    steps = [r for r in audit_records(first) if r["kind"] == "action.finished"]
    assert [r["action"] for r in steps] == ["resume", "undo"]
    for record in steps:
        assert record["actor"]["user"] == "bob"
        assert record["params"]["proposed_by"].startswith("alice")
        assert record["params"]["approved_by"].startswith("bob")
    assert steps[0]["params"]["sequence"] == steps[1]["params"]["sequence"]
    dep = deployment(drill)
    assert dep.spec.paused is None
    assert dep.spec.template.spec.containers[0].image == "registry.local/shop/api:1.5.0"
