"""The war-room screen driven by keys against a private drill cluster.

Each test gets its own cluster (scenario none, speed 20) and state dir; the effect of every
action is read back from the cluster with the official client and from the audit log file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Button, Input, Label, Static

from console.domain.incident import IncidentStore
from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import (
    action_kinds,
    audit_records,
    busy,
    cluster_until,
    deployment,
    drill_settings,
    fingerprint,
    finished,
    pod_names,
    settled,
    shown_audit_kinds,
    until,
)
from widgets.checklist import Checklist
from widgets.confirm_modal import ConfirmModal
from widgets.pod_table import PodTable
from widgets.scale_modal import ScaleModal
from widgets.status_header import StatusHeader
from widgets.undo_modal import UndoModal

SIZE = (160, 48)
REVISION = "deployment.kubernetes.io/revision"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
ACTION_RECORDS = ["action.requested", "action.started", "action.finished"]


def on_screen(app: WarroomApp, kind: type) -> bool:
    return isinstance(app.screen, kind)


async def confirm_when_asked(pilot: Any, app: WarroomApp) -> ConfirmModal:
    await until(pilot, lambda: on_screen(app, ConfirmModal), message="the confirm modal")
    modal = app.screen
    assert isinstance(modal, ConfirmModal)
    return modal


async def wait_finished(pilot: Any, app: WarroomApp, action: str, timeout: float = 30) -> None:
    await until(pilot, lambda: finished(app, action), timeout, f"{action} to finish")
    await until(pilot, lambda: app.main_screen.ops.running is None, timeout, "the action status to clear")


def notified(app: WarroomApp, text: str) -> bool:
    return any(text in str(n.message) for n in app._notifications)


# ---- scale ---------------------------------------------------------------------------------
async def test_scale_typed_count_is_confirmed_applied_and_audited(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        await pilot.press("s")
        await until(pilot, lambda: on_screen(app, ScaleModal), message="the scale modal")
        assert app.screen.query_one("#replicas", Input).value == "3"
        await pilot.press("ctrl+u", "5", "enter")
        modal = await confirm_when_asked(pilot, app)
        assert modal.title_text == "scale deployment/api to 5 replicas"
        assert ("change", "replicas 3 → 5") in modal.facts
        assert ("context", "drill") in modal.facts and ("namespace", "shop") in modal.facts
        await pilot.press("y")
        await wait_finished(pilot, app, "scale")
        assert action_kinds(app, "scale") == ACTION_RECORDS
        assert deployment(cluster).spec.replicas == 5
        await until(pilot, lambda: app.main_screen.live.deployments["shop/api"].desired == 5,
                    message="the deployment list to show 5")
        await until(pilot, lambda: "action.finished" in shown_audit_kinds(app),
                    message="the audit pane to show the finished record")


async def test_plus_scales_up_by_one(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        await pilot.press("plus")
        modal = await confirm_when_asked(pilot, app)
        assert ("change", "replicas 3 → 4") in modal.facts
        await pilot.press("y")
        await wait_finished(pilot, app, "scale")
        assert action_kinds(app, "scale") == ACTION_RECORDS
        assert deployment(cluster).spec.replicas == 4


async def test_scale_modal_rejects_bad_counts(cluster: Drill) -> None:
    before = fingerprint(cluster)
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        await pilot.press("s")
        await until(pilot, lambda: on_screen(app, ScaleModal), message="the scale modal")
        modal = app.screen
        for typed, why in (("abc", "'abc' is not a whole number"),
                           ("-1", "must be between 0 and 50")):
            await pilot.press("ctrl+u", *typed, "enter")
            await pilot.pause()
            assert app.screen is modal, f"{typed!r} was accepted"
            error = str(modal.query_one("#scale-error", Label).render())
            assert why in error
            assert modal.query_one("#scale", Button).disabled
        await pilot.press("escape")
        await until(pilot, lambda: not on_screen(app, ScaleModal), message="the modal to close")
        assert not on_screen(app, ConfirmModal)
    assert action_kinds(app, "scale") == []
    assert fingerprint(cluster) == before


# ---- restart, undo, delete pod ---------------------------------------------------------------
async def test_restart_makes_a_new_revision(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        await pilot.press("r")
        modal = await confirm_when_asked(pilot, app)
        assert modal.title_text == "rollout restart deployment/api"
        await pilot.press("y")
        await wait_finished(pilot, app, "restart")
        assert action_kinds(app, "restart") == ACTION_RECORDS
    dep = deployment(cluster)
    assert RESTARTED_AT in (dep.spec.template.metadata.annotations or {})
    assert dep.metadata.annotations[REVISION] == "4"


async def test_undo_goes_back_to_the_previous_revision(cluster: Drill) -> None:
    assert deployment(cluster).spec.template.spec.containers[0].image.endswith(":1.6.0")
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        await pilot.press("u")
        await until(pilot, lambda: on_screen(app, UndoModal), message="the revision picker")
        picker = app.screen
        assert isinstance(picker, UndoModal) and picker.default == 2 and picker.chosen == 2
        await pilot.press("enter")
        modal = await confirm_when_asked(pilot, app)
        assert modal.title_text == "rollout undo deployment/api to revision 2"
        await pilot.press("y")
        await wait_finished(pilot, app, "undo")
        assert action_kinds(app, "undo") == ACTION_RECORDS
    dep = deployment(cluster)
    assert dep.spec.template.spec.containers[0].image == "registry.local/shop/api:1.5.0"
    assert dep.metadata.annotations[REVISION] == "4"  # kubectl: revision 2 becomes 4


async def test_delete_pod_is_replaced(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        await pilot.press("tab")
        table = app.query_one(PodTable)
        await until(pilot, lambda: table.has_focus, message="the pod table to take focus")
        victim = app.main_screen.live.pods[table.cursor_key].name  # type: ignore[index]
        await pilot.press("x")
        modal = await confirm_when_asked(pilot, app)
        assert modal.title_text == f"delete pod/{victim}"
        await pilot.press("y")
        await wait_finished(pilot, app, "delete-pod")
        assert action_kinds(app, "delete-pod") == ACTION_RECORDS
        names = await cluster_until(lambda: (lambda n: victim not in n and len(n) == 3 and n)(
            pod_names(cluster)), message="a replacement pod")
        await until(pilot, lambda: victim not in {p.name for p in app.main_screen.live.pods.values()},
                    message="the pod table to drop the deleted pod")
        await until(pilot, lambda: {app.main_screen.live.pods[k].name for k in table.keys} == names,
                    message="the pod table to show the replacement")


# ---- refusals --------------------------------------------------------------------------------
async def test_read_only_changes_nothing(cluster: Drill) -> None:
    before = fingerprint(cluster)
    app = WarroomApp(drill_settings(cluster, read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        assert "READ-ONLY" in str(app.query_one(StatusHeader).query_one("#read-only").render())
        for key in ("s", "plus", "minus", "r", "u"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is app.screen_stack[0], f"{key} opened {app.screen!r}"
        await pilot.press("tab", "x")
        await pilot.pause()
        assert len(app.screen_stack) == 1
        assert app.main_screen.ops.running is None
        shown = set(shown_audit_kinds(app))
    kinds = shown | {r["kind"] for r in audit_records(app)}
    assert kinds <= {"incident.opened", "action.refused"}
    assert fingerprint(cluster) == before


async def test_production_needs_the_typed_name(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster, production=True))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        assert app.query_one(StatusHeader).info.production
        await pilot.press("plus")
        modal = await confirm_when_asked(pilot, app)
        confirm = modal.query_one("#confirm", Button)
        assert confirm.disabled
        await pilot.press("y", "enter")  # "y" lands in the name box; Enter does not confirm
        await pilot.pause()
        assert app.screen is modal and confirm.disabled
        await pilot.press("ctrl+u", "a", "p")
        assert confirm.disabled
        assert action_kinds(app, "scale") == []
        assert deployment(cluster).spec.replicas == 3
        await pilot.press("i")
        await until(pilot, lambda: not confirm.disabled, message="Confirm to be enabled")
        await pilot.press("enter")
        await wait_finished(pilot, app, "scale")
        assert action_kinds(app, "scale") == ACTION_RECORDS
    assert deployment(cluster).spec.replicas == 4


def limited_kubeconfig(cluster: Drill, tmp_path: Path, denied: set[tuple[str, str]]) -> str:
    token = "on-call-token"
    cluster.call(cluster.cluster.access.add_token, token, "on-call", denied)
    return str(cluster.cluster.write_kubeconfig(tmp_path / "limited.yaml", token=token))


async def test_forbidden_verb_is_refused_and_audited(cluster: Drill, tmp_path: Path) -> None:
    """RBAC tightened while the console runs: the pre-check refuses before the modal."""
    kubeconfig = limited_kubeconfig(cluster, tmp_path, set())
    before = fingerprint(cluster)
    app = WarroomApp(drill_settings(cluster, kubeconfig=kubeconfig))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        cluster.call(cluster.cluster.access.deny, "on-call-token", "patch", "deployments")
        await pilot.press("r")
        await until(pilot, lambda: "action.refused" in action_kinds(app, "restart"),
                    message="an action.refused record")
        refused = [r for r in audit_records(app) if r["kind"] == "action.refused"][0]
        assert refused["target"] == "deployment/api"
        assert "forbidden: you may not patch deployments in namespace shop" in refused["message"]
        await until(pilot, lambda: notified(app, "forbidden: you may not patch deployments"),
                    message="the refusal notified")
        await until(pilot, lambda: "action.refused" in shown_audit_kinds(app),
                    message="the refusal in the audit pane")
        assert len(app.screen_stack) == 1  # never asked to confirm
    assert action_kinds(app, "restart") == ["action.refused"]
    assert fingerprint(cluster) == before


async def test_verb_forbidden_from_the_start_is_disabled(cluster: Drill,
                                                         tmp_path: Path) -> None:
    kubeconfig = limited_kubeconfig(cluster, tmp_path, {("patch", "deployments")})
    before = fingerprint(cluster)
    app = WarroomApp(drill_settings(cluster, kubeconfig=kubeconfig))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        await until(pilot, lambda: "restart" in app.session.denied, message="the RBAC probe")
        # denying a resource denies its subresources (deployments/scale) too
        assert set(app.session.denied) == {"restart", "undo", "scale", "pause", "resume"}
        assert app.main_screen.check_action("nudge", ("scale", 1)) is None  # + and - too
        await until(pilot, lambda: notified(
            app, "forbidden: you may not patch deployments"),
            message="a notification saying why")
        for key in ("s", "plus", "r", "u"):
            await pilot.press(key)
            await pilot.pause()
            assert len(app.screen_stack) == 1, f"{key} opened {app.screen!r}"
        # deleting a pod is still allowed
        await pilot.press("tab", "x")
        await confirm_when_asked(pilot, app)
        await pilot.press("n")
        await until(pilot, lambda: len(app.screen_stack) == 1, message="the modal to close")
    assert fingerprint(cluster) == before
    assert [r["kind"] for r in audit_records(app)] == ["incident.opened"]


async def test_forbidden_by_the_api_after_confirming_fails_cleanly(cluster: Drill,
                                                                   tmp_path: Path) -> None:
    """Permission revoked between the pre-check and the call: action.failed, nothing changed."""
    kubeconfig = limited_kubeconfig(cluster, tmp_path, set())
    before = fingerprint(cluster)
    app = WarroomApp(drill_settings(cluster, kubeconfig=kubeconfig))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        await pilot.press("r")
        await confirm_when_asked(pilot, app)
        cluster.call(cluster.cluster.access.deny, "on-call-token", "patch", "deployments")
        await pilot.press("y")
        await wait_finished(pilot, app, "restart")
        assert action_kinds(app, "restart") == ["action.requested", "action.started",
                                                "action.failed"]
        failed = [r for r in audit_records(app) if r["kind"] == "action.failed"][0]
        assert "not allowed to patch deployments in namespace shop" in failed["message"]
        status = str(app.query_one("#action-status", Static).render())
        assert status.startswith("✖") and "not allowed to patch deployments" in status
    assert fingerprint(cluster) == before


# ---- runbook and quitting --------------------------------------------------------------------
async def test_space_checks_off_the_current_manual_step(cluster: Drill, state_dir: Path) -> None:
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        checklist = app.query_one(Checklist)
        first = checklist.current_key
        assert first is not None and checklist.rows[0].key == first
        assert checklist.rows[0].kind == "manual" and checklist.rows[0].status == "pending"
        await pilot.press("space")
        await until(pilot, lambda: checklist.rows[0].status == "done",
                    message="the step to show as done")
        assert checklist.current_key == checklist.rows[1].key
        await until(pilot, lambda: "runbook.step" in shown_audit_kinds(app),
                    message="the check-off in the audit pane")
        step = [r for r in audit_records(app) if r["kind"] == "runbook.step"][0]
        assert step["target"] == first and step["result"]["status"] == "done"
    assert app.session.checklist is not None
    incident = IncidentStore(state_dir).load(app.session.checklist.incident.read().id)
    progress = incident.step_progress["production-bug"]
    assert progress[first].status == "done"


async def test_q_quits(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, message="the app to exit")
    assert app.return_value == 0


# ---- start-up ------------------------------------------------------------------------------
async def test_typed_apis_are_made_after_the_first_picture(cluster: Drill) -> None:
    """Connect makes none of the client's typed APIs (a second of imports before the first
    pods); once the first picture is in, a worker makes them, so the first action does not
    wait for them (tests/console/test_fault_helpers.py: they are frozen with the rest)."""
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session.kube is not None, message="the console to connect")
        assert app.session.kube is not None
        await settled(pilot, rates=False)
        await until(pilot, lambda: app.gc.settled, message="the first picture to settle")
        await until(pilot, lambda: {"core", "apps"} <= set(vars(app.session.kube)),
                    message="the typed APIs to be made")
        await until(pilot, lambda: not busy(app, "warm-up"), message="the warm-up to end")
        await pilot.press("plus")
        await confirm_when_asked(pilot, app)
        await pilot.press("y")
        await wait_finished(pilot, app, "scale")
        assert deployment(cluster).spec.replicas == 4
