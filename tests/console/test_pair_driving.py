"""Two consoles on one incident: shared checklist and audit log, and the two-person rule."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

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
    # two accounts (the tests run as one: the uids stand for alice's and bob's accounts)
    alice = replace(Actor.current(), user="alice", uid=1001, ssh_client="10.0.0.5 50000 22",
                    tty="/dev/pts/1", console_id="console-a", sudo_user=None)
    bob = replace(Actor.current(), user="bob", uid=1002, ssh_client="10.0.0.9 50001 22",
                  tty="/dev/pts/2", console_id="console-b", sudo_user=None)
    return alice, bob


def _alice_again(alice: Actor) -> Actor:
    """alice in a second SSH session: another connection, terminal and console, one account."""
    return replace(alice, ssh_client="10.0.0.5 50999 22", tty="/dev/pts/5",
                   console_id="console-a2")


def _said(app: object, text: str) -> bool:
    return any(text in f"{n.title} {n.message}" for n in app._notifications)  # type: ignore[attr-defined]


STOP_WRITES = """\
id: stop-api
title: Stop the API
kind: procedure
steps:
  - id: scale-to-zero
    title: Scale {deployment} to 0
    type: scale
    deployment: "{deployment}"
    namespace: "{namespace}"
    replicas: 0
"""


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


async def test_two_person_rule_covers_runbook_steps(drill_factory, state, tmp_path) -> None:
    """alice runs a runbook step that scales api to 0: with --two-person it is only proposed;
    bob approves it with A and the step runs in his console, through his runbook engine."""
    from console.ui.app import WarroomApp

    drill = drill_factory(speed=20)
    alice, bob = _people()
    user_dir = tmp_path / "runbooks"
    user_dir.mkdir()
    (user_dir / "stop-api.yaml").write_text(STOP_WRITES)
    apps = client.AppsV1Api(drill.api())
    common = {"metrics": None, "two_person": True, "user_runbook_dirs": (user_dir,),
              "runbook": "stop-api"}
    first = WarroomApp(drill_settings(drill, actor=alice, **common))
    async with first.run_test(size=(160, 48)) as pilot_a:
        await settled(pilot_a, rates=False)
        incident_id = first.session.checklist.incident.read().id
        assert first.query_one(Checklist).current_key == "scale-to-zero"
        await pilot_a.press("g")
        await until(pilot_a, lambda: isinstance(first.screen, ConfirmModal), 15,
                    "the step's modal")
        await pilot_a.press("y")
        await until(pilot_a, lambda: first.session.checklist.incident.pending_proposals(),
                    message="the step proposed")
        await until(pilot_a, lambda: first.main_screen.ops.running is None, 10,
                    "alice's console free again")
        assert apps.read_namespaced_deployment(TARGET, NAMESPACE).spec.replicas == 3
        second = WarroomApp(drill_settings(drill, actor=bob, resume=incident_id, **common))
        async with second.run_test(size=(160, 48)) as pilot_b:
            await settled(pilot_b, rates=False)
            await pilot_b.press("A")
            await until(pilot_b, lambda: isinstance(second.screen, ConfirmModal),
                        message="bob's approval modal")
            await pilot_b.press("y")
            await cluster_until(lambda: apps.read_namespaced_deployment(
                TARGET, NAMESPACE).spec.replicas == 0, message="scaled to 0 after approval")
            await until(pilot_b, lambda: any(
                r["kind"] == "runbook.step" and r["target"] == "scale-to-zero"
                and r["result"]["status"] == "done" for r in audit_records(second)),
                timeout=30, message="the approved step finished")
    records = audit_records(first)
    made = [r for r in records if r["kind"] == "proposal.made"]
    approved = [r for r in records if r["kind"] == "proposal.approved"]
    ran = [r for r in records if r["kind"] == "runbook.step" and r["target"] == "scale-to-zero"
           and r["result"]["status"] in ("running", "done")]
    assert [r["actor"]["user"] for r in made] == ["alice"]
    assert [r["actor"]["user"] for r in approved] == ["bob"]
    assert {r["actor"]["user"] for r in ran} == {"bob"}


async def test_a_second_session_of_the_same_account_cannot_approve(drill_factory,
                                                                   state) -> None:
    from console.ui.app import WarroomApp

    drill = drill_factory(speed=20)
    alice, _bob = _people()
    apps = client.AppsV1Api(drill.api())
    first = WarroomApp(drill_settings(drill, actor=alice, metrics=None, two_person=True))
    async with first.run_test(size=(160, 48)) as pilot_a:
        await settled(pilot_a, rates=False)
        incident_id = first.session.checklist.incident.read().id
        await pilot_a.press("s")
        await until(pilot_a, lambda: first.screen.__class__.__name__ == "ScaleModal")
        await pilot_a.press("ctrl+u", "5", "enter")
        await until(pilot_a, lambda: isinstance(first.screen, ConfirmModal))
        await pilot_a.press("y")
        await until(pilot_a, lambda: first.session.checklist.incident.pending_proposals(),
                    message="a pending proposal")
        second = WarroomApp(drill_settings(drill, actor=_alice_again(alice), metrics=None,
                                           two_person=True, resume=incident_id))
        async with second.run_test(size=(160, 48)) as pilot_b:
            await settled(pilot_b, rates=False)
            await pilot_b.press("A")
            await until(pilot_b, lambda: _said(second, "the two-person rule needs two accounts")
                        or isinstance(second.screen, ConfirmModal), message="an answer to A")
            if isinstance(second.screen, ConfirmModal):
                await pilot_b.press("y")  # what the old console allowed
                await pilot_b.pause(2)
            assert _said(second, "the two-person rule needs two accounts")
            assert apps.read_namespaced_deployment(TARGET, NAMESPACE).spec.replicas == 3
            assert first.session.checklist.incident.pending_proposals()


async def test_an_edited_proposer_in_the_incident_file_is_not_believed(drill_factory,
                                                                       state) -> None:
    """alice rewrites `proposed_by` in the incident file to carol, who never took part: bob's
    approval names alice (from the audit log), and alice's second session still cannot
    approve."""
    from console.ui.app import WarroomApp

    drill = drill_factory(speed=20)
    alice, bob = _people()
    carol = replace(bob, user="carol", uid=1003, console_id="console-c", tty="/dev/pts/8")
    apps = client.AppsV1Api(drill.api())
    first = WarroomApp(drill_settings(drill, actor=alice, metrics=None, two_person=True))
    async with first.run_test(size=(160, 48)) as pilot_a:
        await settled(pilot_a, rates=False)
        incident = first.session.checklist.incident
        await pilot_a.press("s")
        await until(pilot_a, lambda: first.screen.__class__.__name__ == "ScaleModal")
        await pilot_a.press("ctrl+u", "5", "enter")
        await until(pilot_a, lambda: isinstance(first.screen, ConfirmModal))
        await pilot_a.press("y")
        await until(pilot_a, lambda: incident.pending_proposals(), message="a pending proposal")
    data = json.loads(Path(incident.path).read_text())
    for proposal in data["proposals"].values():
        proposal["proposed_by"] = carol.to_dict()
    Path(incident.path).write_text(json.dumps(data))

    again = WarroomApp(drill_settings(drill, actor=_alice_again(alice), metrics=None,
                                      two_person=True, resume=incident.id))
    async with again.run_test(size=(160, 48)) as pilot:
        await settled(pilot, rates=False)
        await pilot.press("A")
        await until(pilot, lambda: _said(again, "needs two accounts")
                    or isinstance(again.screen, ConfirmModal), message="an answer to A")
        if isinstance(again.screen, ConfirmModal):
            await pilot.press("y")
            await pilot.pause(2)
        assert apps.read_namespaced_deployment(TARGET, NAMESPACE).spec.replicas == 3

    second = WarroomApp(drill_settings(drill, actor=bob, metrics=None, two_person=True,
                                       resume=incident.id))
    async with second.run_test(size=(160, 48)) as pilot_b:
        await settled(pilot_b, rates=False)
        await pilot_b.press("A")
        await until(pilot_b, lambda: isinstance(second.screen, ConfirmModal),
                    message="bob's approval modal")
        await pilot_b.press("y")
        await cluster_until(lambda: apps.read_namespaced_deployment(
            TARGET, NAMESPACE).spec.replicas == 5, message="scaled after bob's approval")
    approved = [r for r in audit_records(second) if r["kind"] == "proposal.approved"]
    assert approved and approved[-1]["params"]["proposed_by"].startswith("alice")
    assert "carol" not in json.dumps(approved)
