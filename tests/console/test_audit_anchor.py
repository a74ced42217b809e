"""The audit chain's head kept outside the log: truncation and rebuilt chains are caught.

Each tampering of tests/console/tamper.py is applied to a real incident log (written by
``AuditLog.for_incident``, so its head is recorded in the incident state) and checked with
``warroom audit verify`` as an operator would run it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from adapters import syslog_sink
from console.cli.audit import main as audit_main
from console.domain.audit import AuditLog, Head, HeadAnchor, line_hash, verify
from console.domain.audit_anchor import head_path, read_head
from console.domain.incident import IncidentStore
from tests.console.tamper import TAMPERS, drop_last, lines_of

RECORDS = 15


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def log(state_dir: Path) -> Path:
    IncidentStore(state_dir).open_new("anchored", "high", incident_id="inc-1")
    audit = AuditLog.for_incident("inc-1", state_dir, extra_secrets=())
    for number in range(1, RECORDS + 1):
        audit.append("note", message=f"note {number}")
    return audit.path


def run_verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = audit_main(["audit", "verify", *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_the_head_is_recorded_after_every_append(log: Path, state_dir: Path) -> None:
    head = read_head(head_path("inc-1", state_dir))
    assert head == Head(RECORDS, line_hash(lines_of(log)[-1]))
    assert stat_mode(head_path("inc-1", state_dir)) == 0o600


def stat_mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o7777


def test_an_intact_log_verifies_against_its_head(log: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_verify(capsys, str(log))
    assert code == 0, out
    assert "ends at or after the recorded head (seq 15)" in out


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_tampering_is_detected(log: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    TAMPERS[name](log)
    code, out = run_verify(capsys, str(log))
    assert code == 1, out
    assert "TAMPERED OR DAMAGED" in out


def test_truncation_says_how_many_records_are_missing(
        log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    drop_last(log)
    _code, out = run_verify(capsys, str(log))
    assert "the log ends at record 12 but the incident recorded 15: 3 records missing" in out
    TAMPERS["empty the file"](log)
    _code, out = run_verify(capsys, str(log))
    assert "the log is empty but the incident recorded 15: 15 records missing" in out


def test_a_rebuilt_chain_is_named(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    TAMPERS["edit a record, re-chain"](log)
    _code, out = run_verify(capsys, str(log))
    assert "record 15 (line 15) is not the one the incident recorded" in out
    assert "chain rebuilt" in out


def test_a_crashed_writer_is_not_taken_for_tampering(log: Path, state_dir: Path) -> None:
    """A writer killed mid-record never recorded that record's head."""
    with open(log, "ab") as handle:
        handle.write(b'{"time":"2024-11-09T10:02:03.456Z","seq":16,"ki')
    report = verify(log, read_head(head_path("inc-1", state_dir)))
    assert report.ok and report.incomplete_final_line == RECORDS + 1
    # and a head that lags behind the log (not saved before a power loss) is only a warning
    lagging = verify(log, Head(14, line_hash(lines_of(log)[13])))
    assert lagging.ok and "come after the recorded head" in lagging.warnings[-1].message


def test_a_deleted_head_is_a_problem_and_syslog_gives_it_back(
        log: Path, state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = read_head(head_path("inc-1", state_dir))
    head_path("inc-1", state_dir).unlink()
    drop_last(log)
    code, out = run_verify(capsys, str(log))
    assert code == 1 and "recorded head" in out and "is missing" in out
    code, out = run_verify(capsys, str(log), "--expect-head", str(head))
    assert code == 1 and "3 records missing" in out


def test_each_head_goes_to_the_outside_sinks(state_dir: Path) -> None:
    sent: list[tuple[str, int, str]] = []
    anchor = HeadAnchor.for_incident("inc-2", state_dir, sinks=(lambda *a: sent.append(a),))
    audit = AuditLog.for_incident("inc-2", state_dir, anchor=anchor)
    for _ in range(3):
        audit.append("note")
    report = verify(audit.path)
    assert sent[-1] == ("inc-2", 3, report.head) and [s[1] for s in sent] == [1, 2, 3]
    line = syslog_sink.head_message(*sent[-1])
    assert Head.parse(line.split("seq=")[1].replace(" head=", ":")) == Head(3, report.head)


def test_syslog_without_a_daemon_is_not_an_error(state_dir: Path) -> None:
    """No /dev/log here (or a real one): either way the append succeeds."""
    syslog_sink.send_head("inc-3", 1, "0" * 64)
    audit = AuditLog.for_incident("inc-3", state_dir)
    assert audit.append("note").seq == 1


def test_a_planted_head_file_link_is_not_followed(state_dir: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("mine\n")
    (state_dir / "incidents").mkdir(mode=0o700)
    head_path("inc-4", state_dir).symlink_to(victim)
    AuditLog.for_incident("inc-4", state_dir).append("note")  # the record is kept regardless
    assert victim.read_text() == "mine\n"
    assert json.loads(head_path("inc-4", state_dir).read_text())["seq"] == 1
