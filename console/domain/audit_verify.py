"""Checking an audit file's hash chain: ``verify`` names the lines that were altered.

A modified, deleted, inserted or reordered record breaks the chain of ``prev`` hashes or the
``seq`` numbers; ``verify`` says which, and where. Crash traces (an incomplete record that the
next one sealed, an incomplete final line) are warnings, not problems. Given the head recorded
outside the file (``audit_anchor``), it also finds records cut off the end, an emptied file and
a chain rebuilt after an edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from console.domain.audit_anchor import Head
from console.domain.audit_records import GENESIS, AuditError, AuditRecord, line_hash, parse_line
from console.domain.statefiles import describe_os_error


@dataclass(frozen=True)
class Finding:
    """A problem or warning about one line of an audit file (``line`` is 1-based)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of ``verify``.

    ``problems`` mean the file was altered (or damaged) after it was written; ``warnings``
    are crash traces that do not break the chain: a sealed incomplete record in the middle, or
    ``incomplete_final_line`` (the line number) when the last line was cut short. ``records``
    counts well-formed records; ``last_seq`` and ``head`` (hash of the last complete line)
    identify the end of the chain for comparison with an outside reference.
    """

    path: Path
    records: int
    problems: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()
    incomplete_final_line: int | None = None
    last_seq: int = 0
    head: str = GENESIS
    expected: Head | None = None  # the head recorded outside the file, if one was given

    @property
    def ok(self) -> bool:
        """True when no record was found modified, deleted, inserted or reordered."""
        return not self.problems

    def summary(self) -> str:
        """One line for humans."""
        if self.ok:
            text = f"{self.path}: OK, {self.records} records, chain intact"
            if self.records:
                text += f" (last seq {self.last_seq}, head {self.head[:12]})"
            if self.expected is not None:
                text += f"; ends at or after the recorded head (seq {self.expected.seq})"
        else:
            text = f"{self.path}: TAMPERED OR DAMAGED, {len(self.problems)} problem(s)"
        if self.incomplete_final_line is not None:
            text += (
                f"; incomplete final line {self.incomplete_final_line}"
                " (a writer stopped mid-record; the records before it are intact)"
            )
        return text


def verify(path: Path | str, expected: Head | None = None) -> VerifyReport:
    """Check an audit file's hash chain and sequence numbers, naming the lines at fault, and,
    given the ``expected`` head recorded outside the file, that the log still reaches it.

    Raises ``AuditError`` if the file cannot be read. (Read the recorded head before the log:
    a console appending meanwhile only moves the log past it.)
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditError(f"cannot read {path}: {describe_os_error(exc)}") from exc
    lines = data.split(b"\n")
    incomplete: int | None = None
    if lines[-1] == b"":
        lines.pop()
    else:
        incomplete = len(lines)
    complete = lines if incomplete is None else lines[:-1]
    hashes = [line_hash(raw) for raw in complete]
    line_of: dict[str, int] = {}
    for number, digest in enumerate(hashes, start=1):
        line_of.setdefault(digest, number)

    problems: list[Finding] = []
    warnings: list[Finding] = []
    displaced: set[int] = set()  # lines reported as moved/inserted: their successors follow them
    seen_seqs: set[int] = set()
    expected_seq = 1
    last_seq = 0
    count = 0
    for number, raw in enumerate(complete, start=1):
        record = parse_line(raw, number)
        if record is None:
            sealed = number < len(complete) and _links_to(complete[number], hashes[number - 1])
            if sealed:
                warnings.append(
                    Finding(
                        number,
                        "incomplete record left by a writer that stopped "
                        f"mid-write; line {number + 1} links to it, so the "
                        "chain is intact",
                    )
                )
            else:
                problems.append(Finding(number, "not a valid audit record (damaged or edited)"))
            continue
        count += 1
        expected_prev = hashes[number - 2] if number > 1 else GENESIS
        if record.prev != expected_prev:
            origin = line_of.get(record.prev)
            if origin is None or origin not in displaced:
                problem = _chain_problem(number, record, expected_seq, origin)
                problems.append(problem)
                if problem.line == number:
                    displaced.add(number)
        elif record.seq != expected_seq:
            problems.append(_seq_problem(number, record.seq, expected_seq, seen_seqs))
        seen_seqs.add(record.seq)
        expected_seq = record.seq + 1
        last_seq = record.seq
    head = hashes[-1] if hashes else GENESIS
    if expected is not None:
        _check_head(complete, hashes, expected, last_seq, problems, warnings)
    return VerifyReport(
        path=path,
        records=count,
        problems=tuple(problems),
        warnings=tuple(warnings),
        incomplete_final_line=incomplete,
        last_seq=last_seq,
        head=head,
        expected=expected,
    )


def _check_head(
    lines: list[bytes],
    hashes: list[str],
    expected: Head,
    last_seq: int,
    problems: list[Finding],
    warnings: list[Finding],
) -> None:
    """Compare the end of the log with the head recorded outside it."""
    end = len(lines) + 1
    if expected.seq == 0:
        return
    if last_seq < expected.seq:
        missing = expected.seq - last_seq
        what = "the log is empty" if last_seq == 0 else f"the log ends at record {last_seq}"
        problems.append(
            Finding(
                end,
                f"{what} but the incident recorded {expected.seq}: {missing} "
                f"{'record' if missing == 1 else 'records'} missing "
                "(cut off the end, or the file was truncated or emptied)",
            )
        )
        return
    number = next(
        (i for i in range(len(lines), 0, -1) if _seq_of(lines[i - 1]) == expected.seq), None
    )
    if number is None or hashes[number - 1] != expected.hash:
        where = f"line {number}" if number is not None else "the log"
        problems.append(
            Finding(
                number or end,
                f"record {expected.seq} ({where}) is not the one the incident recorded (its hash "
                f"differs from {expected.hash[:12]}): records were edited or deleted and the "
                "chain rebuilt",
            )
        )
    elif last_seq > expected.seq:
        warnings.append(
            Finding(
                number + 1,
                f"records {expected.seq + 1}-{last_seq} come after the recorded head: not "
                "anchored (appended since, or the head was not saved before a crash)",
            )
        )


def _seq_of(raw: bytes) -> int | None:
    record = parse_line(raw)
    return record.seq if record is not None else None


def _links_to(raw: bytes, digest: str) -> bool:
    record = parse_line(raw)
    return record is not None and record.prev == digest


def _chain_problem(
    number: int, record: AuditRecord, expected_seq: int, origin: int | None
) -> Finding:
    """Diagnose a record whose ``prev`` does not match the line before it."""
    if origin is not None:
        return Finding(
            number,
            f"seq {record.seq} was written right after line {origin}, not "
            f"after line {number - 1}: records were inserted, duplicated or "
            "reordered (out of order)",
        )
    if record.prev == GENESIS:
        return Finding(
            number,
            f"seq {record.seq} claims to be the first record of the log: inserted or moved here",
        )
    if number == 1:
        if record.seq > 1:
            return Finding(
                1,
                f"the log starts at seq {record.seq}: {record.seq - 1} earlier "
                "record(s) were deleted",
            )
        return Finding(
            1,
            "the first record does not start the chain (prev is not the genesis "
            "hash): it was modified",
        )
    if record.seq == expected_seq:
        return Finding(
            number - 1,
            "record was modified after it was written (its hash no "
            f"longer matches the prev stored in line {number})",
        )
    if record.seq > expected_seq:
        return Finding(
            number,
            f"seq {record.seq} follows seq {expected_seq - 1}: "
            f"{record.seq - expected_seq} record(s) deleted before this line",
        )
    return Finding(
        number,
        f"seq {record.seq} after seq {expected_seq - 1}: record inserted, "
        "duplicated or out of order",
    )


def _seq_problem(number: int, seq: int, expected: int, seen: set[int]) -> Finding:
    if seq > expected:
        return Finding(
            number,
            f"seq {seq} follows seq {expected - 1}: {seq - expected} "
            "record(s) missing before this line, or its seq was modified",
        )
    what = "duplicated" if seq in seen else "out of order"
    return Finding(
        number,
        f"seq {seq} after seq {expected - 1}: record {what} "
        "(inserted or reordered), or its seq was modified",
    )


__all__ = ["Finding", "VerifyReport", "verify"]
