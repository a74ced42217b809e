"""Safety rails, end to end against a drill cluster: read-only, production, stale targets and
the context the operator sees.

(tests/console/test_app_actions.py covers the read-only keys and the typed name on a
`production=True` console; these add what those do not.)
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml
from kubernetes import client
from textual.widgets import Button

from console.cli.main import _settings, build_parser
from console.domain.actions import ActionRequest
from console.domain.actor import Actor
from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import (
    NAMESPACE,
    TARGET,
    action_kinds,
    audit_records,
    deployment,
    drill_settings,
    fingerprint,
    finished,
    settled,
    until,
)
from tests.console.fault_harness import notified
from widgets.confirm_modal import ConfirmModal
from widgets.status_header import StatusHeader

SIZE = (160, 48)
REFUSED = ["action.requested", "action.refused"]


def renamed_context(drill: Drill, tmp_path: Path, name: str) -> str:
    """A copy of the drill kubeconfig whose (only) context is called ``name``."""
    config = yaml.safe_load(drill.kubeconfig.read_text())
    config["contexts"][0]["name"] = name
    config["current-context"] = name
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return str(path)


# ---- --read-only ---------------------------------------------------------------------------------
def test_read_only_flag_reaches_the_console() -> None:
    args = build_parser().parse_args(["--read-only", "--context", "prod", "-n", "shop"])
    assert _settings(args).read_only is True
    assert _settings(build_parser().parse_args([])).read_only is False


async def test_read_only_runner_refuses_even_when_called_directly(cluster: Drill) -> None:
    """No key leads to a mutation (test_app_actions), and below the keys the runner refuses
    too: the palette lists no mutation, and a request handed to the runner is not run."""
    before = fingerprint(cluster)
    app = WarroomApp(drill_settings(cluster, read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        assert app.session.runner is not None
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Scale deployment" not in titles and "Rollout undo" not in titles
        assert "Verify" in titles  # reading still works
        for kind in ("scale", "restart", "undo", "delete-pod"):
            assert app.main_screen.check_action("act", (kind,)) is None
        assert app.main_screen.check_action("nudge", ("scale", 1)) is None
        request = ActionRequest("scale", "drill", NAMESPACE, TARGET, {"replicas": 7})
        assert "read-only" in (app.session.runner.precheck(request) or "")
        outcome = app.session.runner.run(request)
        assert not outcome.ok and "read-only" in outcome.message
        assert action_kinds(app, "scale") == REFUSED
    assert fingerprint(cluster) == before


# ---- production ----------------------------------------------------------------------------------
async def test_a_prod_context_needs_the_deployments_name_typed(
        cluster: Drill, tmp_path: Path) -> None:
    """Production by the context's name (no flag): only the target's exact name confirms."""
    kubeconfig = renamed_context(cluster, tmp_path, "shop-prod")
    app = WarroomApp(drill_settings(cluster, kubeconfig=kubeconfig, context=None))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        assert app.session.context == "shop-prod" and app.session.production
        assert app.query_one(StatusHeader).info.production
        await pilot.press("plus")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), 15, "the confirm modal")
        modal = app.screen
        assert isinstance(modal, ConfirmModal) and modal.typed_name == TARGET
        confirm = modal.query_one("#confirm", Button)
        for wrong in ("worker", "API", "ap"):
            await pilot.press("ctrl+u", *wrong, "enter")
            await pilot.pause()
            assert app.screen is modal and confirm.disabled, f"{wrong!r} confirmed"
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmModal), 5, "cancelled")
        assert action_kinds(app, "scale") == []
    assert deployment(cluster).spec.replicas == 3


# ---- the target changed while the modal was open ---------------------------------------------------
async def test_target_changed_since_the_modal_opened_is_asked_again(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        seen = app.main_screen.live.deployments[f"{NAMESPACE}/{TARGET}"].generation
        await pilot.press("plus")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), 15, "the confirm modal")
        # someone else changes the pod template while the operator reads the modal
        with cluster.api() as api:
            client.AppsV1Api(api).patch_namespaced_deployment(TARGET, NAMESPACE, {"spec": {
                "template": {"metadata": {"annotations": {"changed-by": "someone-else"}}}}})
        changed = deployment(cluster)
        assert changed.metadata.generation == seen + 1
        await pilot.press("y")
        await until(pilot, lambda: finished(app, "scale"), 30, "the scale to be decided")
        records = [r for r in audit_records(app) if r.get("action") == "scale"]
        assert [r["kind"] for r in records] == REFUSED
        assert (f"changed since you confirmed (generation {seen} → {seen + 1}); review and "
                "confirm again") in records[-1]["message"]
        await until(pilot, lambda: notified(app, "changed since you confirmed"), 10,
                    "the refusal on screen")
    after = deployment(cluster)
    assert after.spec.replicas == 3  # not scaled by us
    assert after.metadata.generation == seen + 1  # only the other change happened


# ---- the context shown is the context acted on -----------------------------------------------------
async def test_runner_refuses_a_request_for_another_context(cluster: Drill) -> None:
    before = fingerprint(cluster)
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        assert app.session.runner is not None and app.session.runner.kube.context == "drill"
        request = ActionRequest("scale", "prod", NAMESPACE, TARGET, {"replicas": 9})
        reason = app.session.runner.precheck(request) or ""
        assert "the screen shows context 'prod' but the client is connected to 'drill'" in reason
        outcome = app.session.runner.run(request)
        assert not outcome.ok
        assert outcome.message == "refused: the client is connected to 'drill', not 'prod'"
        refused = [r for r in audit_records(app) if r["kind"] == "action.refused"]
        assert refused and refused[-1]["context"] == "prod"
    assert fingerprint(cluster) == before


async def test_approving_a_proposal_made_on_another_context_is_refused(
        cluster: Drill, tmp_path: Path) -> None:
    """Two consoles on one incident but different contexts: bob (on `drill`) approves what
    alice proposed on `drill-b`; his console will not run it against the context he is on."""
    alice = replace(Actor.current(), user="alice", uid=1001, console_id="console-a", tty="/dev/pts/1",
                    ssh_client="10.0.0.5 50000 22", sudo_user=None)
    bob = replace(Actor.current(), user="bob", uid=1002, console_id="console-b", tty="/dev/pts/2",
                  ssh_client="10.0.0.9 50001 22", sudo_user=None)
    other = renamed_context(cluster, tmp_path, "drill-b")
    first = WarroomApp(drill_settings(cluster, kubeconfig=other, context="drill-b", actor=alice,
                                      metrics=None, two_person=True))
    async with first.run_test(size=SIZE) as pilot_a:
        await settled(pilot_a, rates=False)
        assert first.session.checklist is not None
        incident = first.session.checklist.incident.read().id
        await pilot_a.press("plus")
        await until(pilot_a, lambda: isinstance(first.screen, ConfirmModal), 15, "alice's modal")
        await pilot_a.press("y")
        await until(pilot_a, lambda: first.session.checklist.incident.pending_proposals(), 10,
                    "alice's proposal")
        second = WarroomApp(drill_settings(cluster, actor=bob, metrics=None, two_person=True,
                                           resume=incident))
        async with second.run_test(size=SIZE) as pilot_b:
            await settled(pilot_b, rates=False)
            assert second.session.context == "drill"
            await pilot_b.press("A")
            await until(pilot_b, lambda: isinstance(second.screen, ConfirmModal), 15,
                        "bob's approval modal")
            modal = second.screen
            assert isinstance(modal, ConfirmModal) and ("context", "drill-b") in modal.facts
            await pilot_b.press("y")
            await until(pilot_b, lambda: any(r["kind"] == "action.refused"
                                             for r in audit_records(second)), 30,
                        "the refusal in the audit log")
            await until(pilot_b, lambda: notified(second, "connected to 'drill', not 'drill-b'"),
                        10, "the refusal on screen")
    refused = [r for r in audit_records(first) if r["kind"] == "action.refused"]
    assert refused[-1]["message"] == "refused: the client is connected to 'drill', not 'drill-b'"
    assert not [r for r in audit_records(first) if r["kind"] in ("action.started",
                                                                  "action.finished")]
    assert deployment(cluster).spec.replicas == 3
