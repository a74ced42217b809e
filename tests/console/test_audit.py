"""The audit log: durable append, hash chain, tamper detection, crash safety, pair-driving
writers, redaction, live tail; the post-mortem export and the `warroom audit` commands."""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.cli.audit import add_audit_commands, main, run_audit_command
from console.domain.actor import Actor
from console.domain.audit import (
    ACTION_FAILED,
    ACTION_FINISHED,
    ACTION_REQUESTED,
    ACTION_STARTED,
    GENESIS,
    INCIDENT_CLOSED,
    INCIDENT_OPENED,
    NOTE,
    RUNBOOK_STEP,
    AuditLog,
    AuditWriteError,
    default_audit_path,
    line_hash,
    verify,
)
from console.rehearsal.postmortem import FOLLOW_UP, export_postmortem, render_postmortem
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
ALICE = Actor(
    user="alice",
    ssh_client="10.0.0.5 51234 22",
    tty="/dev/pts/3",
    pid=100,
    console_id="c-alice",
    host="bastion",
)
BOB = Actor(
    user="bob",
    ssh_client="10.0.0.9 40000 22",
    tty="/dev/pts/7",
    pid=200,
    console_id="c-bob",
    host="bastion",
)
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def make_log(path: Path, actor: Actor = ALICE, **kwargs: object) -> AuditLog:
    return AuditLog(path, actor=actor, context="prod", namespace="shop", extra_secrets=(), **kwargs)  # type: ignore[arg-type]


def fill(log: AuditLog, count: int) -> None:
    for i in range(count):
        log.append(NOTE, message=f"note {i + 1}")


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def subprocess_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


# ---- writing and reading back ---------------------------------------------------------------
def test_records_carry_who_what_where_and_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "inc.jsonl"
    log = make_log(path)
    first = log.append(
        ACTION_REQUESTED,
        action="scale",
        target="deployment/api",
        params={"replicas": 10},
        message="buy time",
    )
    second = log.append(
        ACTION_FINISHED,
        action="scale",
        target="deployment/api",
        result={"ready": "10/10"},
        duration_s=4.56789,
        actor=BOB,
    )
    raw = [json.loads(line) for line in lines_of(path)]
    assert [r["seq"] for r in raw] == [1, 2]
    assert raw[0]["prev"] == GENESIS == hashlib.sha256(b"warroom audit log v1").hexdigest()
    assert raw[1]["prev"] == hashlib.sha256(lines_of(path)[0]).hexdigest()
    assert all(TIME_RE.match(r["time"]) for r in raw)
    assert list(raw[0]) == [
        "time",
        "seq",
        "actor",
        "context",
        "namespace",
        "kind",
        "action",
        "target",
        "params",
        "result",
        "duration_s",
        "message",
        "prev",
    ]
    assert raw[0]["actor"] == {
        "user": "alice",
        "ssh_client": "10.0.0.5 51234 22",
        "tty": "/dev/pts/3",
        "pid": 100,
        "console_id": "c-alice",
        "host": "bastion",
        "sudo_user": None,
        "uid": None,  # the account's uid (Actor.current() fills it): who the actor is
    }
    assert raw[1]["actor"]["user"] == "bob" and raw[1]["duration_s"] == 4.568
    assert (raw[0]["context"], raw[0]["namespace"], raw[0]["params"]) == (
        "prod",
        "shop",
        {"replicas": 10},
    )

    back = log.records()
    assert back == [first, second]
    assert back[0].actor == ALICE and back[1].result == {"ready": "10/10"}
    assert back[0].when.tzinfo is not None


def test_file_is_private_and_default_path_is_per_incident(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARROOM_STATE_DIR", str(tmp_path / "state"))
    log = AuditLog.for_incident("20241109-api", actor=ALICE, extra_secrets=())
    assert log.path == tmp_path / "state" / "audit" / "20241109-api.jsonl"
    assert default_audit_path("x", tmp_path) == tmp_path / "audit" / "x.jsonl"
    log.append(NOTE, message="hello")
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700


def test_existing_wide_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "wide.jsonl"
    path.touch()
    os.chmod(path, 0o644)
    make_log(path).append(NOTE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_action_context_records_start_finish_and_failure(tmp_path: Path) -> None:
    log = make_log(tmp_path / "a.jsonl")
    with log.action("undo", "deployment/api", {"to_revision": 3}) as result:
        result["revision"] = 3
    with pytest.raises(RuntimeError), log.action("restart", "deployment/api"):
        raise RuntimeError("409 Conflict")
    kinds = [(r.kind, r.action) for r in log.records()]
    assert kinds == [
        (ACTION_STARTED, "undo"),
        (ACTION_FINISHED, "undo"),
        (ACTION_STARTED, "restart"),
        (ACTION_FAILED, "restart"),
    ]
    records = log.records()
    assert records[1].result == {"revision": 3} and records[1].duration_s is not None
    assert records[3].result == {"error": "RuntimeError: 409 Conflict"}


# ---- secrets ---------------------------------------------------------------------------------
def test_secrets_never_reach_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_TOKEN", "envsecret-7f3a9c")
    path = tmp_path / "s.jsonl"
    log = AuditLog(path, actor=ALICE)  # default extra secrets: secret-named env values
    log.append(
        ACTION_REQUESTED,
        action="verify",
        target="https://api/login",
        params={
            "headers": {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.tok.sig"},
            "password": "hunter2-pw",
            "cmd": "psql postgres://app:dbpass99@db/x",
        },
        message="curl -H 'Authorization: Bearer abc.def.ghi' /login?password=qwerty77",
    )
    log.append(
        ACTION_FAILED,
        action="shell",
        result={
            "stderr": "login failed: password=s3cr3tP4ss token: tok-123456",
            "env": "DEPLOY_TOKEN=envsecret-7f3a9c",
        },
    )
    text = path.read_text()
    for secret in (
        "eyJhbGciOiJIUzI1NiJ9",
        "hunter2-pw",
        "dbpass99",
        "abc.def.ghi",
        "qwerty77",
        "s3cr3tP4ss",
        "tok-123456",
        "envsecret-7f3a9c",
    ):
        assert secret not in text
    assert "Bearer ***" in text and "***" in text
    assert verify(path).ok


# ---- verification: tampering -----------------------------------------------------------------
@pytest.fixture
def ten(tmp_path: Path) -> Path:
    path = tmp_path / "ten.jsonl"
    fill(make_log(path), 10)
    assert verify(path).ok
    return path


def test_clean_log_verifies(ten: Path) -> None:
    report = verify(ten)
    assert report.ok and report.records == 10 and report.last_seq == 10
    assert report.head == line_hash(lines_of(ten)[-1])
    assert report.problems == () and report.incomplete_final_line is None
    assert "OK, 10 records" in report.summary()


def test_modified_record_is_named(ten: Path) -> None:
    lines = lines_of(ten)
    lines[3] = lines[3].replace(b"note 4", b"note X")
    write_lines(ten, lines)
    report = verify(ten)
    assert not report.ok
    assert [p.line for p in report.problems] == [4]
    assert "modified" in report.problems[0].message


def test_modified_first_record_is_named(ten: Path) -> None:
    lines = lines_of(ten)
    lines[0] = lines[0].replace(b'"user":"alice"', b'"user":"mallory"')
    write_lines(ten, lines)
    assert [p.line for p in verify(ten).problems] == [1]


def test_deleted_record_is_named(ten: Path) -> None:
    lines = lines_of(ten)
    del lines[4]  # seq 5
    write_lines(ten, lines)
    report = verify(ten)
    assert [p.line for p in report.problems] == [5]
    assert "deleted" in report.problems[0].message and "seq 6 follows seq 4" in (
        report.problems[0].message
    )


def test_deleted_first_record_is_named(ten: Path) -> None:
    write_lines(ten, lines_of(ten)[1:])
    report = verify(ten)
    assert [p.line for p in report.problems] == [1]
    assert "deleted" in report.problems[0].message


def test_swapped_records_are_named(ten: Path) -> None:
    lines = lines_of(ten)
    lines[2], lines[3] = lines[3], lines[2]
    write_lines(ten, lines)
    report = verify(ten)
    assert [p.line for p in report.problems] == [3, 4]
    assert all("reordered" in p.message for p in report.problems)


def test_inserted_record_is_caught(ten: Path) -> None:
    lines = lines_of(ten)
    forged = json.loads(lines[5])
    forged["message"] = "forged approval"
    lines.insert(6, json.dumps(forged, separators=(",", ":")).encode())
    write_lines(ten, lines)
    report = verify(ten)
    assert not report.ok
    assert {p.line for p in report.problems} & {7, 8}


def test_garbage_line_is_a_problem(ten: Path) -> None:
    lines = lines_of(ten)
    lines[2] = b"not json at all"
    write_lines(ten, lines)
    report = verify(ten)
    assert [p.line for p in report.problems][:1] == [3]
    assert not report.ok


def test_tail_truncation_shows_in_head_and_last_seq(ten: Path) -> None:
    # A chain cannot prove its own end; the report exposes it for an outside comparison.
    before = verify(ten)
    write_lines(ten, lines_of(ten)[:-2])
    after = verify(ten)
    assert after.ok and after.last_seq == 8 and after.head != before.head


# ---- crashes ---------------------------------------------------------------------------------
def test_incomplete_final_line_is_reported_distinctly(ten: Path) -> None:
    last = lines_of(ten)[-1]
    with open(ten, "ab") as handle:
        handle.write(last[: len(last) // 2])  # a writer died mid-record
    report = verify(ten)
    assert report.ok and report.records == 10
    assert report.incomplete_final_line == 11
    assert "incomplete final line 11" in report.summary()
    log = make_log(ten)
    assert len(log.records()) == 10

    record = log.append(NOTE, message="after the crash")  # seals the torn line, chains past it
    assert record.seq == 11
    sealed = verify(ten)
    assert sealed.ok and sealed.incomplete_final_line is None and sealed.records == 11
    assert [w.line for w in sealed.warnings] == [11]
    assert lines_of(ten)[11] and json.loads(lines_of(ten)[11])["message"] == "after the crash"


APPEND_FOREVER = """
import sys
from console.domain.actor import Actor
from console.domain.audit import AuditLog
log = AuditLog(sys.argv[1], actor=Actor(user=sys.argv[2], console_id=sys.argv[2]),
               extra_secrets=())
i = 0
while True:
    i += 1
    log.append("note", message="x" * 300 + str(i), params={"i": i})
"""


def test_kill_9_while_appending_leaves_every_written_record_valid(tmp_path: Path) -> None:
    path = tmp_path / "crash.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-c", APPEND_FOREVER, str(path), "writer"], cwd=ROOT, env=subprocess_env()
    )
    try:
        wait_for(
            lambda: path.exists() and path.read_bytes().count(b"\n") >= 40,
            timeout=60,
            message="40 records appended",
        )
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    report = verify(path)
    assert report.ok, report.problems
    complete = path.read_bytes().count(b"\n")
    assert report.records == complete >= 40
    assert [r.seq for r in make_log(path).records()] == list(range(1, complete + 1))
    make_log(path).append(NOTE, message="console restarted")
    assert verify(path).ok and verify(path).records == complete + 1


def test_disk_full_raises_and_leaves_no_partial_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "full.jsonl"
    log = make_log(path)
    fill(log, 3)
    before = path.read_bytes()
    real_write = os.write
    calls = {"n": 0}

    def half_then_enospc(fd: int, data: bytes | memoryview) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data)[:20])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_enospc)
    with pytest.raises(AuditWriteError) as caught:
        log.append(ACTION_REQUESTED, action="undo", target="deployment/api")
    monkeypatch.undo()
    assert "disk full" in caught.value.message and "not performed" in caught.value.message
    assert path.read_bytes() == before
    log.append(NOTE, message="space freed")
    assert verify(path).ok and verify(path).records == 4


def test_unwritable_location_raises_audit_write_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    log = make_log(blocker / "audit" / "x.jsonl")
    with pytest.raises(AuditWriteError) as caught:
        log.append(NOTE)
    assert str(blocker) in caught.value.message


# ---- pair-driving: two writers ---------------------------------------------------------------
APPEND_N = """
import sys, pathlib
from console.domain.actor import Actor
from console.domain.audit import AuditLog
path, who, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), pathlib.Path(sys.argv[4])
log = AuditLog(path, actor=Actor(user=who, console_id=who), extra_secrets=())
print("ready", flush=True)
while not go.exists():
    pass
for i in range(count):
    log.append("note", message=f"{who} {i}")
"""


def test_two_processes_appending_keep_one_valid_chain(tmp_path: Path) -> None:
    path, go, count = tmp_path / "shared.jsonl", tmp_path / "go", 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", APPEND_N, str(path), who, str(count), str(go)],
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
    report = verify(path)
    assert report.ok, report.problems[:3]
    records = make_log(path).records()
    assert [r.seq for r in records] == list(range(1, 2 * count + 1))
    for who in ("alice", "bob"):
        mine = [r.message for r in records if r.actor and r.actor.user == who]
        assert mine == [f"{who} {i}" for i in range(count)]
    users = [r.actor.user for r in records if r.actor]
    assert any(a != b for a, b in zip(users, users[1:], strict=False))  # they interleaved


def test_two_logs_in_threads_keep_one_valid_chain(tmp_path: Path) -> None:
    path = tmp_path / "threads.jsonl"
    logs = [make_log(path, ALICE), make_log(path, BOB)]
    threads = [threading.Thread(target=fill, args=(log, 60)) for log in logs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    report = verify(path)
    assert report.ok and report.records == 120


# ---- live tail -------------------------------------------------------------------------------
def test_read_new_returns_only_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "tail.jsonl"
    writer, reader = make_log(path, ALICE), make_log(path, BOB)
    assert reader.read_new(0) == ([], 0)
    fill(writer, 3)
    records, offset = reader.read_new(0)
    assert [r.message for r in records] == ["note 1", "note 2", "note 3"]
    assert offset == path.stat().st_size
    with open(path, "ab") as handle:
        handle.write(b'{"time":"2024')  # a record being written
    assert reader.read_new(offset) == ([], offset)


def test_follow_sees_the_other_console(tmp_path: Path) -> None:
    path = tmp_path / "follow.jsonl"
    writer, reader = make_log(path, ALICE), make_log(path, BOB)
    seen: list[str] = []
    stop = threading.Event()

    def tail() -> None:
        for record in reader.follow(stop, interval=0.01):
            seen.append(record.message)

    thread = threading.Thread(target=tail)
    thread.start()
    try:
        writer.append(NOTE, message="one")
        wait_for(lambda: seen == ["one"], timeout=10, message="first record followed")
        fill(writer, 2)
        wait_for(
            lambda: seen == ["one", "note 1", "note 2"], timeout=10, message="more records followed"
        )
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


# ---- post-mortem export ----------------------------------------------------------------------
class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def incident_log(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "audit" / "20241109-api-auth.jsonl"
    clock = Clock(datetime(2024, 11, 9, 10, 0, 0, tzinfo=UTC))
    alice, bob = make_log(path, ALICE, clock=clock), make_log(path, BOB, clock=clock)
    alice.append(
        INCIDENT_OPENED,
        params={"id": "20241109-api-auth", "title": "Mobile login broken", "severity": "critical"},
    )
    clock.tick(90)
    alice.append(
        RUNBOOK_STEP,
        target="production-bug/assess",
        result="done",
        message="60% of users | mobile v1.2",
    )
    clock.tick(30)
    bob.append(ACTION_REQUESTED, action="undo", target="deployment/api", params={"to_revision": 3})
    clock.tick(5)
    bob.append(
        ACTION_FAILED,
        action="undo",
        target="deployment/api",
        result={"error": "409 Conflict"},
        duration_s=1.25,
    )
    clock.tick(10)
    bob.append(
        ACTION_FINISHED,
        action="undo",
        target="deployment/api",
        result={"revision": 3},
        duration_s=42.0,
    )
    clock.tick(3600)
    alice.append(INCIDENT_CLOSED, message="stable for an hour")
    yield path


def test_postmortem_from_a_known_log(incident_log: Path) -> None:
    document, report = export_postmortem(incident_log)
    assert report.ok
    lines = document.splitlines()
    assert lines[0] == "# Post-mortem: Mobile login broken"
    for row in (
        "| Incident | `20241109-api-auth` |",
        "| Severity | critical |",
        "| Cluster | prod / shop |",
        "| Opened | 2024-11-09 10:00:00 |",
        "| Closed | 2024-11-09 11:02:15 |",
        "| Duration | 1h 02m 15s |",
        "| Responders | alice (ssh 10.0.0.5, pts/3), bob (ssh 10.0.0.9, pts/7) |",
    ):
        assert row in lines
    assert any(line.startswith("| Audit log |") and "verified, 6 records" in line for line in lines)
    assert (
        "6 audit records: 1 action(s) finished, 1 failed, 0 refused; "
        "1 runbook step update(s); 0 note(s)."
    ) in lines

    timeline = lines[lines.index("## Timeline") + 2 :]
    assert timeline[:8] == [
        "| Time (UTC) | Actor | Action | Target | Result |",
        "|---|---|---|---|---|",
        "| 2024-11-09 10:00:00 | alice (ssh 10.0.0.5, pts/3) | incident.opened | — | — |",
        "| 2024-11-09 10:01:30 | alice (ssh 10.0.0.5, pts/3) | runbook.step | "
        "production-bug/assess | done — 60% of users \\| mobile v1.2 |",
        "| 2024-11-09 10:02:00 | bob (ssh 10.0.0.9, pts/7) | undo requested | deployment/api | — |",
        "| 2024-11-09 10:02:05 | bob (ssh 10.0.0.9, pts/7) | undo failed | deployment/api | "
        "FAILED: error=409 Conflict (in 1.2 s) |",
        "| 2024-11-09 10:02:15 | bob (ssh 10.0.0.9, pts/7) | undo finished | deployment/api | "
        "revision=3 (in 42.0 s) |",
        "| 2024-11-09 11:02:15 | alice (ssh 10.0.0.5, pts/3) | incident.closed | — | "
        "stable for an hour |",
    ]
    for heading in (
        "## What happened",
        "## Why wasn't it caught?",
        "## How to prevent future?",
        "## Follow-up",
        "## Summary of actions",
    ):
        assert heading in lines
    assert [line for line in lines if line.startswith("- [ ] ")] == [
        f"- [ ] {item}" for item in FOLLOW_UP
    ]
    assert "Root cause identified" in FOLLOW_UP and "Team notified of resolution" in FOLLOW_UP


def test_postmortem_warns_when_the_log_was_altered(incident_log: Path) -> None:
    lines = lines_of(incident_log)
    lines[2] = lines[2].replace(b"to_revision", b"to_revisiom")
    write_lines(incident_log, lines)
    document, report = export_postmortem(incident_log)
    assert not report.ok
    assert "failed verification" in document and "line 3:" in document


def test_postmortem_of_an_empty_log_is_still_a_skeleton() -> None:
    document = render_postmortem([], source="audit/abc.jsonl")
    assert "# Post-mortem: abc" in document and "_The audit log has no records._" in document
    assert "| Closed | still open |" in document


# ---- `warroom audit` -------------------------------------------------------------------------
def test_cli_verify_ok_and_tampered(ten: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", str(ten)]) == 0
    out = capsys.readouterr()
    assert "OK, 10 records, chain intact" in out.out and out.err == ""

    lines = lines_of(ten)
    lines[1] = lines[1].replace(b"note 2", b"note 9")
    write_lines(ten, lines)
    assert main(["audit", "verify", str(ten)]) == 1
    err = capsys.readouterr().err
    assert f"{ten}:2: record was modified" in err and "TAMPERED" in err


def test_cli_verify_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "warroom audit verify: cannot read" in err and "no such file" in err
    assert "Traceback" not in err
    with pytest.raises(SystemExit) as exited:
        main(["audit"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        main(["audit", "export", "x.jsonl", "--format", "pdf"])
    assert exited.value.code == 2
    assert "invalid choice: 'pdf'" in capsys.readouterr().err


def test_cli_export_writes_markdown(
    incident_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pm.md"
    assert main(["audit", "export", str(incident_log), "--format", "md", "-o", str(out)]) == 0
    assert out.read_text().startswith("# Post-mortem: Mobile login broken\n")
    assert "post-mortem written to" in capsys.readouterr().err
    assert main(["audit", "export", str(incident_log)]) == 0
    assert "## Timeline" in capsys.readouterr().out
    assert (
        main(["audit", "export", str(incident_log), "-o", str(tmp_path / "no-dir" / "pm.md")]) == 2
    )
    assert "cannot write" in capsys.readouterr().err


def test_cli_export_of_altered_log_exits_1(
    incident_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_lines(incident_log, lines_of(incident_log)[:2] + lines_of(incident_log)[3:])
    assert main(["audit", "export", str(incident_log)]) == 1
    captured = capsys.readouterr()
    assert "## Timeline" in captured.out and "may be altered" in captured.err


def test_add_audit_commands_plugs_into_a_parent_parser(ten: Path) -> None:
    parser = argparse.ArgumentParser(prog="warroom")
    sub = parser.add_subparsers(dest="command")
    add_audit_commands(sub)
    args = parser.parse_args(["audit", "verify", str(ten)])
    assert args.command == "audit" and run_audit_command(args) == 0


def test_cli_runs_as_a_module(ten: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "console.cli.audit", "audit", "verify", str(ten)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "chain intact" in done.stdout
