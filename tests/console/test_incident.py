"""Incident state: persistence, resume, live sharing between consoles, no lost writes, crash
safety, and the two-person rule."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.domain.actor import Actor, same_operator
from console.domain.incident import (
    IncidentCorrupt,
    IncidentError,
    IncidentNotFound,
    IncidentStore,
    ProposalError,
    SelfApprovalError,
    SharedIncident,
    StepState,
)
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
ALICE = Actor(
    user="alice",
    uid=1001,
    ssh_client="10.0.0.5 51234 22",
    tty="/dev/pts/3",
    pid=100,
    console_id="c-alice",
    host="bastion",
)
BOB = Actor(
    user="bob",
    uid=1002,
    ssh_client="10.0.0.9 40000 22",
    tty="/dev/pts/7",
    pid=200,
    console_id="c-bob",
    host="bastion",
)


def subprocess_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def store(tmp_path: Path) -> IncidentStore:
    return IncidentStore(tmp_path / "state")


@pytest.fixture
def shared(store: IncidentStore) -> SharedIncident:
    return store.open_new(
        "Mobile login broken",
        "critical",
        context="prod",
        namespace="shop",
        runbooks=["production-bug"],
        by=ALICE,
    )


# ---- persistence -----------------------------------------------------------------------------
def test_open_new_persists_privately(store: IncidentStore, shared: SharedIncident) -> None:
    assert shared.path == store.dir / f"{shared.id}.json"
    assert stat.S_IMODE(shared.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.dir.stat().st_mode) == 0o700
    incident = store.load(shared.id)
    assert (incident.title, incident.severity, incident.context, incident.namespace) == (
        "Mobile login broken",
        "critical",
        "prod",
        "shop",
    )
    assert incident.runbooks == ["production-bug"] and incident.opened_by == ALICE
    assert incident.is_open and incident.version == 1
    assert "-mobile-login-broken-" in shared.id
    assert json.loads(shared.path.read_text())["schema"] == 1


def test_steps_current_step_and_close_round_trip(
    store: IncidentStore, shared: SharedIncident
) -> None:
    shared.set_step("production-bug", "assess", "running", ALICE)
    shared.set_step("production-bug", "assess", "done", ALICE, note="60% of users")
    shared.set_step("production-bug", "communicate", "skipped", BOB, note="channel exists")
    incident = store.load(shared.id)
    assert incident.step("production-bug", "assess").status == "done"
    assert incident.step("production-bug", "assess").note == "60% of users"
    assert incident.step("production-bug", "communicate").by == BOB
    assert incident.step("production-bug", "verify") == StepState()  # untouched: pending
    assert incident.current_step == ("production-bug", "assess")
    assert incident.version == 4
    shared.set_current_step("production-bug", "decide")
    closed = shared.close(BOB)
    assert closed.closed_at is not None and closed.closed_by == BOB
    assert closed.duration_s is not None and closed.duration_s >= 0
    assert shared.close(ALICE).closed_by == BOB  # first close wins
    with pytest.raises(ValueError):
        shared.set_step("production-bug", "x", "finished", ALICE)  # type: ignore[arg-type]


def test_severity_is_one_of_the_handbooks(store: IncidentStore) -> None:
    with pytest.raises(ValueError, match="critical, high, medium"):
        store.open_new("x", "sev1")  # type: ignore[arg-type]


def test_list_and_latest_for_resume(tmp_path: Path) -> None:
    moments = iter(datetime(2024, 11, 9, 10, m, tzinfo=UTC) for m in range(0, 60, 10))
    store = IncidentStore(tmp_path, clock=lambda: next(moments))
    first = store.open_new("first", "medium")
    second = store.open_new("second", "high")
    assert [i.title for i in store.list()] == ["second", "first"]
    second.close(ALICE)
    assert store.latest() is not None and store.latest().id == first.id  # type: ignore[union-attr]
    assert store.latest(include_closed=True).id == second.id  # type: ignore[union-attr]
    first.close(ALICE)
    assert store.latest() is None
    assert IncidentStore(tmp_path / "empty").list() == []


def test_resume_after_restart_keeps_progress(tmp_path: Path) -> None:
    console = IncidentStore(tmp_path)
    shared = console.open_new("memory leak", "high", runbooks=["memory-leak"])
    shared.set_step("memory-leak", "scale-up", "done", ALICE)
    shared.set_step("memory-leak", "restart", "running", ALICE)
    del console, shared  # the console exits (or crashes)

    restarted = IncidentStore(tmp_path)
    incident = restarted.latest()
    assert incident is not None and incident.title == "memory leak"
    assert incident.step("memory-leak", "scale-up").status == "done"
    assert incident.current_step == ("memory-leak", "restart")


def test_unknown_bad_and_corrupt_ids(store: IncidentStore, shared: SharedIncident) -> None:
    with pytest.raises(IncidentNotFound):
        store.load("20990101-nothing")
    with pytest.raises(IncidentNotFound):
        store.load("../../etc/passwd")
    bad = store.dir / "broken.json"
    bad.write_text("{not json")
    with pytest.raises(IncidentCorrupt):
        store.load("broken")
    assert [i.id for i in store.list()] == [shared.id]  # the corrupt one is skipped


def test_failed_update_writes_nothing(shared: SharedIncident) -> None:
    before = shared.path.read_bytes()

    def boom(incident: object) -> None:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        shared.update(boom)  # type: ignore[arg-type]
    assert shared.path.read_bytes() == before


# ---- two consoles on one bastion -------------------------------------------------------------
def test_two_consoles_share_progress_live(store: IncidentStore, shared: SharedIncident) -> None:
    other = IncidentStore(store.state_dir).attach(shared.id)  # the second console
    stamp = other.stamp()
    seen = other.read().version
    assert not other.changed_since(stamp)
    assert other.poll(seen) is None

    shared.set_step("production-bug", "assess", "done", ALICE)
    assert other.changed_since(stamp)
    update = other.poll(seen)
    assert update is not None and update.step("production-bug", "assess").by == ALICE

    other.set_step("production-bug", "communicate", "done", BOB)  # and back the other way
    mine = shared.read()
    assert mine.step("production-bug", "assess").status == "done"
    assert mine.step("production-bug", "communicate").by == BOB
    assert mine.version == update.version + 1


UPDATE_N = """
import sys, pathlib
from console.domain.incident import IncidentStore
state, incident_id, who, count, go = sys.argv[1:6]
shared = IncidentStore(state).attach(incident_id)
print("ready", flush=True)
while not pathlib.Path(go).exists():
    pass
for i in range(int(count)):
    shared.update(lambda inc: inc.runbooks.append(f"{who}-{i}"))
"""


def test_concurrent_updates_from_two_processes_lose_nothing(
    store: IncidentStore, shared: SharedIncident, tmp_path: Path
) -> None:
    go, count = tmp_path / "go", 60
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                UPDATE_N,
                str(store.state_dir),
                shared.id,
                who,
                str(count),
                str(go),
            ],
            cwd=ROOT,
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        for who in ("alice", "bob")
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        go.touch()
        for proc in procs:
            assert proc.wait(timeout=120) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    incident = shared.read()
    for who in ("alice", "bob"):
        assert [r for r in incident.runbooks if r.startswith(who)] == [
            f"{who}-{i}" for i in range(count)
        ]
    assert incident.version == 1 + 2 * count


UPDATE_FOREVER = """
import sys
from console.domain.incident import IncidentStore
shared = IncidentStore(sys.argv[1]).attach(sys.argv[2])
inc_by = shared.read().opened_by
i = 0
while True:
    i += 1
    shared.update(lambda inc: inc.runbooks.append(f"rb-{i}"))
    shared.set_step("rb", f"s{i % 7}", "running", inc_by, note="n" * 2000)
"""


def test_kill_9_during_writes_never_leaves_corrupt_state(
    store: IncidentStore, shared: SharedIncident
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", UPDATE_FOREVER, str(store.state_dir), shared.id],
        cwd=ROOT,
        env=subprocess_env(),
    )
    reads = 0

    def read_ok_and_far_enough() -> bool:
        nonlocal reads
        incident = store.load(shared.id)  # raises IncidentCorrupt on a torn file
        reads += 1
        return incident.version >= 80

    try:
        wait_for(read_ok_and_far_enough, timeout=60, interval=0.001, message="80 versions written")
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert reads > 1
    after_crash = store.load(shared.id)  # decodes: atomic replace never exposes half a file
    resumed = shared.set_step("rb", "after-crash", "done", ALICE)  # the lock was released
    assert resumed.version == after_crash.version + 1
    assert not list(store.dir.glob(".*.tmp"))  # stale temp files were cleaned up


# ---- the two-person rule ---------------------------------------------------------------------
UNDO = {"action": "undo", "target": "deployment/api", "params": {"to_revision": 3}}


def test_self_approval_is_refused(shared: SharedIncident) -> None:
    proposal_id = shared.propose(UNDO, ALICE)
    with pytest.raises(SelfApprovalError) as refused:
        shared.approve(proposal_id, ALICE)
    assert "two-person rule" in refused.value.message and "alice" in refused.value.message
    assert [p.id for p in shared.pending_proposals()] == [proposal_id]  # still pending


def test_same_person_from_another_console_in_the_same_session_is_refused(
    shared: SharedIncident,
) -> None:
    proposal_id = shared.propose(UNDO, ALICE)
    second_pane = dataclasses.replace(ALICE, tty="/dev/pts/9", console_id="c-alice-2", pid=101)
    with pytest.raises(SelfApprovalError):
        shared.approve(proposal_id, second_pane)


def test_another_account_on_the_same_terminal_is_refused(shared: SharedIncident) -> None:
    proposal_id = shared.propose(UNDO, ALICE)
    su_bob = dataclasses.replace(BOB, tty=ALICE.tty, ssh_client=ALICE.ssh_client)
    with pytest.raises(SelfApprovalError):
        shared.approve(proposal_id, su_bob)


def test_second_person_approves_and_both_are_recorded(
    store: IncidentStore, shared: SharedIncident
) -> None:
    proposal_id = shared.propose(UNDO, ALICE)
    other = store.attach(shared.id)
    approved = other.approve(proposal_id, BOB)
    assert approved.status == "approved"
    assert approved.proposed_by == ALICE and approved.decided_by == BOB
    assert approved.action == UNDO and approved.decided_at is not None
    stored = shared.read().proposals[proposal_id]
    assert (stored.proposed_by, stored.decided_by, stored.status) == (ALICE, BOB, "approved")
    assert shared.pending_proposals() == []
    with pytest.raises(ProposalError, match="already approved by bob"):
        other.approve(proposal_id, BOB)
    with pytest.raises(ProposalError, match="no proposal"):
        other.approve("p-nope", BOB)


def test_proposer_rejecting_withdraws(shared: SharedIncident) -> None:
    mine = shared.propose(UNDO, ALICE)
    theirs = shared.propose({"action": "scale", "replicas": 10}, BOB)
    assert [p.id for p in shared.pending_proposals()] == [mine, theirs]
    assert shared.reject(mine, ALICE).status == "withdrawn"
    assert shared.reject(theirs, ALICE, reason="not now").status == "rejected"
    assert shared.pending_proposals() == []


@pytest.mark.parametrize(
    ("other", "same"),
    [
        (ALICE, True),
        (dataclasses.replace(ALICE, console_id="c-2"), True),  # same tty
        (dataclasses.replace(ALICE, console_id="c-2", tty="/dev/pts/4"), True),  # tmux pane
        (
            dataclasses.replace(
                ALICE, console_id="c-2", tty="/dev/pts/4", ssh_client="10.0.0.5 51999 22"
            ),
            True,
        ),  # shared account, 2nd ssh: one account is one person
        (dataclasses.replace(BOB, console_id=ALICE.console_id), True),  # same console
        (dataclasses.replace(BOB, tty=ALICE.tty), True),  # su on alice's terminal
        (dataclasses.replace(BOB, tty=ALICE.tty, host="other"), False),  # pts/3 elsewhere
        (BOB, False),
        (dataclasses.replace(BOB, ssh_client=ALICE.ssh_client, tty=None), False),  # other user
    ],
)
def test_same_operator_rule(other: Actor, same: bool) -> None:
    assert same_operator(ALICE, other) is same
    assert same_operator(other, ALICE) is same


def test_sudo_caller_is_recorded_but_not_trusted() -> None:
    local = Actor(user="ops", uid=1000, console_id="c-1", sudo_user="alice")
    assert same_operator(local, dataclasses.replace(local, console_id="c-2"))
    # $SUDO_USER is whatever the environment says: it does not make a second person
    assert same_operator(local, dataclasses.replace(local, console_id="c-2", sudo_user="bob"))
    assert local.label == "ops (sudo from alice)"


def test_two_local_sessions_of_one_account_are_one_person() -> None:
    a = Actor(user="root", tty="/dev/tty1", console_id="c-1")
    b = Actor(user="root", tty="/dev/tty2", console_id="c-2")
    assert same_operator(a, b)


def test_current_actor_reads_ssh_environment() -> None:
    actor = Actor.current(
        env={"SSH_CONNECTION": "10.1.2.3 5555 10.0.0.1 22", "SSH_TTY": "/dev/pts/11"}
    )
    assert actor.ssh_client == "10.1.2.3 5555 22" and actor.client_ip == "10.1.2.3"
    assert actor.pid == os.getpid() and actor.console_id.startswith("c-")
    assert actor.user  # from the uid, not $USER
    assert Actor.current(env={"SSH_CLIENT": "10.9.9.9 1 22"}).ssh_client == "10.9.9.9 1 22"
    assert Actor.from_dict(actor.to_dict()) == actor


def test_update_error_types_are_incident_errors(tmp_path: Path) -> None:
    ghost = SharedIncident(tmp_path / "incidents" / "ghost.json")
    with pytest.raises(IncidentNotFound):
        ghost.update(lambda inc: None)
    assert issubclass(SelfApprovalError, IncidentError)
