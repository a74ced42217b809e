"""Two consoles on one incident: shared checklist and audit log, and the two-person rule."""

from __future__ import annotations

from dataclasses import replace

import pytest
from kubernetes import client

from console.domain.actor import Actor
from tests.console.app_harness import (
    NAMESPACE,
    TARGET,
    audit_records,
    cluster_until,
    drill_settings,
    settled,
    until,
)
from widgets.audit_view import AuditView
from widgets.checklist import Checklist
from widgets.confirm_modal import ConfirmModal


def _people() -> tuple[Actor, Actor]:
    alice = replace(Actor.current(), user="alice", ssh_client="10.0.0.5 50000 22",
                    tty="/dev/pts/1", console_id="console-a", sudo_user=None)
    bob = replace(Actor.current(), user="bob", ssh_client="10.0.0.9 50001 22",
                  tty="/dev/pts/2", console_id="console-b", sudo_user=None)
    return alice, bob


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("WARROOM_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


async def test_two_consoles_share_checklist_and_audit(drill_factory, state) -> None:
    from console.ui.app import WarroomApp

    drill = drill_factory(speed=20)
    alice, bob = _people()
    first = WarroomApp(drill_settings(drill, actor=alice, metrics=None))
    async with first.run_test(size=(160, 48)) as pilot_a:
        await settled(pilot_a, rates=False)
        incident_id = first.session.checklist.incident.read().id
        second = WarroomApp(drill_settings(drill, actor=bob, metrics=None, resume=incident_id))
        async with second.run_test(size=(160, 48)) as pilot_b:
            await settled(pilot_b, rates=False)
            assert second.session.checklist.incident.read().id == incident_id
            assert second.session.audit.path == first.session.audit.path
            # alice checks off the first manual step; bob's checklist shows it done
            step = first.query_one(Checklist).current_key
            await pilot_a.press("space")
            await until(pilot_b, lambda: any(r.key == step and r.status == "done"
                                             for r in second.query_one(Checklist).rows),
                        message="bob sees alice's check-off")
            await until(pilot_b, lambda: any(r.kind == "runbook.step" and r.target == step
                                             and r.actor == "alice@10.0.0.5"
                                             for r in second.query_one(AuditView).rows),
                        message="bob's audit pane shows alice's record")


async def test_two_person_rule(drill_factory, state) -> None:
    from console.ui.app import WarroomApp

    drill = drill_factory(speed=20)
    alice, bob = _people()
    apps = client.AppsV1Api(drill.api())
    first = WarroomApp(drill_settings(drill, actor=alice, metrics=None, two_person=True))
    async with first.run_test(size=(160, 48)) as pilot_a:
        await settled(pilot_a, rates=False)
        incident_id = first.session.checklist.incident.read().id
        # alice proposes scaling api to 5: nothing happens to the cluster yet
        await pilot_a.press("s")
        await until(pilot_a, lambda: first.screen.__class__.__name__ == "ScaleModal")
        await pilot_a.press("ctrl+u", "5", "enter")
        await until(pilot_a, lambda: isinstance(first.screen, ConfirmModal))
        await pilot_a.press("y")
        await until(pilot_a, lambda: first.session.checklist.incident.pending_proposals(),
                    message="a pending proposal")
        assert apps.read_namespaced_deployment(TARGET, NAMESPACE).spec.replicas == 3
        # alice cannot approve her own proposal
        await pilot_a.press("A")
        await pilot_a.pause()
        assert not isinstance(first.screen, ConfirmModal)
        second = WarroomApp(drill_settings(drill, actor=bob, metrics=None, two_person=True,
                                           resume=incident_id))
        async with second.run_test(size=(160, 48)) as pilot_b:
            await settled(pilot_b, rates=False)
            await pilot_b.press("A")
            await until(pilot_b, lambda: isinstance(second.screen, ConfirmModal),
                        message="bob's approval modal")
            await pilot_b.press("y")
            await cluster_until(lambda: apps.read_namespaced_deployment(
                TARGET, NAMESPACE).spec.replicas == 5, message="scaled after approval")
            await until(pilot_b, lambda: any(r["kind"] == "action.finished"
                                             for r in audit_records(second)),
                        timeout=30, message="the approved action finished")
    records = audit_records(first)
    made = [r for r in records if r["kind"] == "proposal.made"]
    approved = [r for r in records if r["kind"] == "proposal.approved"]
    done = [r for r in records if r["kind"] == "action.finished" and r["action"] == "scale"]
    assert made and made[0]["actor"]["user"] == "alice"
    assert approved and approved[0]["actor"]["user"] == "bob"
    assert approved[0]["params"]["proposed_by"].startswith("alice")
    assert done and done[0]["params"]["proposed_by"].startswith("alice")
    assert done[0]["params"]["approved_by"].startswith("bob")
