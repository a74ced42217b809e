"""The two-person rule in the domain: identity by uid, the proposer read from the audit log,
and runbook steps, compensations and abort going through propose/approve.

Tests run as one account (root), so "two accounts" are actors built with different uids; the
console itself always takes its uid from ``os.getuid()``."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import sys
import textwrap
from pathlib import Path

import pytest

from console.domain.actor import Actor, same_operator
from console.domain.audit import PROPOSAL_APPROVED, PROPOSAL_MADE, RUNBOOK_STEP, AuditLog
from console.domain.incident import IncidentStore, SelfApprovalError, SharedIncident
from console.domain.two_person import TwoPersonRule
from console.runbook.engine import RunbookEngine
from console.runbook.loading import parse_runbook

PY = sys.executable
HERE = {"pid": os.getpid(), "host": socket.gethostname()}
ALICE = Actor(user="alice", uid=1001, ssh_client="10.0.0.5 50000 22", tty="/dev/pts/1",
              console_id="c-alice", **HERE)
# alice again, in a second SSH session (another connection, terminal and console)
ALICE_AGAIN = dataclasses.replace(ALICE, ssh_client="10.0.0.5 50999 22", tty="/dev/pts/5",
                                  console_id="c-alice-2")
BOB = Actor(user="bob", uid=1002, ssh_client="10.0.0.9 50001 22", tty="/dev/pts/2",
            console_id="c-bob", **HERE)
CAROL = Actor(user="carol", uid=1003, console_id="c-carol", **HERE)
UNDO = {"kind": "undo", "context": "prod", "namespace": "shop", "target": "api",
        "params": {"to_revision": 3}}


@pytest.fixture
def shared(tmp_path: Path) -> SharedIncident:
    return IncidentStore(tmp_path / "state").open_new("db writes", "high", context="drill",
                                                      namespace="shop", by=ALICE)


def log_for(tmp_path: Path, actor: Actor) -> AuditLog:
    return AuditLog(tmp_path / "audit" / "incident.jsonl", actor=actor, context="drill",
                    namespace="shop")


def rule_for(shared: SharedIncident, tmp_path: Path, actor: Actor) -> TwoPersonRule:
    return TwoPersonRule(SharedIncident(shared.path), log_for(tmp_path, actor))


# ---- identity ------------------------------------------------------------------------------
def test_identity_is_the_uid_not_the_environment() -> None:
    me = Actor.current(env={"SUDO_USER": "bob", "SSH_CLIENT": "10.9.9.9 1 22"})
    assert me.uid == os.getuid()
    again = Actor.current(env={"SUDO_USER": "carol", "SSH_CLIENT": "10.9.9.8 2 22"},
                          console_id="c-other")
    # another SSH connection, another claimed sudo caller: the same account all the same
    assert same_operator(me, again)
    assert same_operator(ALICE, ALICE_AGAIN)
    assert not same_operator(ALICE, BOB)
    assert same_operator(ALICE, dataclasses.replace(BOB, uid=None))  # unknown: never trusted
    assert Actor.from_dict(ALICE.to_dict()) == ALICE


def test_a_shared_account_is_refused_with_a_clear_message(
        shared: SharedIncident, tmp_path: Path) -> None:
    proposal = rule_for(shared, tmp_path, ALICE).propose(UNDO, "undo api to revision 3")
    with pytest.raises(SelfApprovalError, match="the two-person rule needs two accounts: "):
        rule_for(shared, tmp_path, ALICE_AGAIN).approve(proposal)
    assert [p.id for p in shared.pending_proposals()] == [proposal]


def test_the_proposer_comes_from_the_audit_log_not_the_incident_file(
        shared: SharedIncident, tmp_path: Path) -> None:
    proposal = rule_for(shared, tmp_path, ALICE).propose(UNDO, "undo api to revision 3")
    # alice edits the incident file: the proposal now says carol made it
    data = json.loads(shared.path.read_text())
    data["proposals"][proposal]["proposed_by"] = CAROL.to_dict()
    shared.path.write_text(json.dumps(data))
    with pytest.raises(SelfApprovalError, match="needs two accounts"):
        rule_for(shared, tmp_path, ALICE_AGAIN).approve(proposal)
    approved = rule_for(shared, tmp_path, BOB).approve(proposal)
    assert approved.proposed_by.user == "alice" and approved.approved_by.user == "bob"
    record = [r for r in log_for(tmp_path, BOB).records() if r.kind == PROPOSAL_APPROVED][-1]
    assert record.params["proposed_by"].startswith("alice")
    assert "carol" not in json.dumps(record.params)
    assert shared.read().proposals[proposal].proposed_by.user == "alice"


def test_an_edited_action_in_the_incident_file_is_refused(
        shared: SharedIncident, tmp_path: Path) -> None:
    proposal = rule_for(shared, tmp_path, ALICE).propose(UNDO, "undo api to revision 3")
    data = json.loads(shared.path.read_text())
    data["proposals"][proposal]["action"]["params"]["to_revision"] = 1
    shared.path.write_text(json.dumps(data))
    with pytest.raises(SelfApprovalError, match="changed since it was proposed"):
        rule_for(shared, tmp_path, BOB).approve(proposal)


# ---- runbook steps, compensations, abort ---------------------------------------------------
def _runbook(log: Path) -> str:
    def append(word: str) -> str:
        return json.dumps([PY, "-c", f"open({str(log)!r}, 'a').write({word!r} + chr(10))"])

    return textwrap.dedent(f"""
        title: Stop writes
        kind: procedure
        on_abort: always
        steps:
          - id: stop-writes
            title: Stop the writer
            type: shell
            command: {append('stopped')}
            undo:
              type: shell
              title: Start the writer again
              command: {append('started')}
          - id: check
            title: Count the rows
            type: shell
            confirm: false
            command: {append('counted')}
          - id: soak
            title: Let it settle
            type: wait
            duration: 10ms
    """)


def _engine(text: str, shared: SharedIncident, tmp_path: Path, actor: Actor) -> RunbookEngine:
    runbook = parse_runbook(text, default_id="stop-writes").bind({})
    return RunbookEngine(runbook, incident=SharedIncident(shared.path),
                         audit=log_for(tmp_path, actor), context="drill", namespace="shop",
                         two_person=True)


def test_runbook_steps_compensations_and_abort_need_a_second_person(
        shared: SharedIncident, tmp_path: Path) -> None:
    log = tmp_path / "writer.log"
    text = _runbook(log)
    alice, again, bob = (_engine(text, shared, tmp_path, who)
                         for who in (ALICE, ALICE_AGAIN, BOB))

    # alice confirms a mutating step: it is proposed, not run
    asked: list[str] = []
    proposed = alice.run_step("stop-writes", lambda q: asked.append(q) or True)
    assert asked and proposed.proposal and not proposed.ok and proposed.refused
    assert "waiting for a second person" in proposed.message
    assert not log.exists()
    # a mutating step without confirm: is proposed all the same; a wait step just runs
    assert alice.run_step("check").proposal and not log.exists()
    assert alice.run_step("soak").ok

    # alice in her second SSH session cannot approve it
    refused = again.run_proposal(proposed.proposal)
    assert not refused.ok and "the two-person rule needs two accounts" in refused.message
    assert not log.exists()

    # bob approves: the step runs in bob's console, through his engine
    done = bob.run_proposal(proposed.proposal)
    assert done.ok and done.status == "done", done.message
    assert log.read_text().splitlines() == ["stopped"]
    assert not bob.run_proposal(proposed.proposal).ok  # one approval runs it once
    assert log.read_text().splitlines() == ["stopped"]

    records = log_for(tmp_path, BOB).records()
    made = [r for r in records if r.kind == PROPOSAL_MADE]
    approvals = [r for r in records if r.kind == PROPOSAL_APPROVED]
    assert {r.actor.user for r in made} == {"alice"}
    assert [r.actor.user for r in approvals] == ["bob"]
    running = [r for r in records if r.kind == RUNBOOK_STEP and r.target == "stop-writes"
               and r.result["status"] == "running"]
    assert [r.actor.user for r in running] == ["bob"]

    # abort would run the undo: alice alone only proposes it
    alice.refresh()
    assert alice.pending_compensations() == ["stop-writes"]
    aborted = alice.abort()
    assert aborted.proposal and not aborted.ran
    assert log.read_text().splitlines() == ["stopped"]
    assert not again.run_proposal(aborted.proposal).ok
    bob.refresh()
    result = bob.run_proposal(aborted.proposal)
    assert result.ok, result.message
    assert log.read_text().splitlines() == ["stopped", "started"]
