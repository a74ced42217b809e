"""The audit log: an append-only, tamper-evident JSON Lines record of everything done.

One file per incident (default ``<state dir>/audit/<incident-id>.jsonl``), one record per line::

    {"time": "2024-11-09T10:02:03.456Z", "seq": 7, "actor": {...}, "context": "prod",
     "namespace": "shop", "kind": "action.finished", "action": "undo",
     "target": "deployment/api", "params": {...}, "result": {...}, "duration_s": 12.3,
     "message": "...", "prev": "<sha256 hex>"}

Guarantees:

- **Durable before shown.** ``append`` returns only after the record is written with
  ``O_APPEND`` and ``fsync``-ed, so anything the UI displays survives a crash or power loss.
  If it cannot write (disk full, permissions) it raises ``AuditWriteError`` and the caller must
  refuse the action: nothing happens that is not on record.
- **Tamper-evident.** ``prev`` is the SHA-256 (hex) of the previous line's bytes, excluding its
  newline; the first record's ``prev`` is ``GENESIS`` = SHA-256 of ``b"warroom audit log v1"``.
  ``seq`` counts records from 1. ``verify`` finds a modified, deleted, inserted or reordered
  record and names its line. A hash chain without an outside anchor cannot show that the *last*
  records were removed or the last one edited: compare ``VerifyReport.last_seq``/``head`` with
  what the console showed.
- **Shared by pair-driving consoles.** Several processes may append to one file: each append
  holds ``flock`` while it reads the file's actual last line (for ``prev`` and ``seq``) and
  writes, so the chain stays linear.
- **Crash-tolerant.** A writer killed mid-record leaves an incomplete final line; ``verify``
  reports it as such (every record before it stays valid). The next append terminates that
  line and chains to its bytes, so it is kept as evidence and later reported as a warning.
- **Secret-free.** Records go through ``adapters.redact.redact_obj`` (plus the values of
  secret-named environment variables) before they are written. Files are 0600, dirs 0700.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.redact import redact_obj, secrets_from_env
from console.domain.actor import Actor
from console.domain.statefiles import (
    FILE_MODE,
    default_state_dir,
    describe_os_error,
    ensure_private_dir,
    flocked,
    fsync_dir,
    restrict_mode,
)

GENESIS = hashlib.sha256(b"warroom audit log v1").hexdigest()

# Record kinds used by the console (free-form strings are allowed; these are the common ones).
ACTION_REQUESTED = "action.requested"
ACTION_STARTED = "action.started"
ACTION_FINISHED = "action.finished"
ACTION_FAILED = "action.failed"
ACTION_REFUSED = "action.refused"
RUNBOOK_STEP = "runbook.step"
NOTE = "note"
INCIDENT_OPENED = "incident.opened"
INCIDENT_CLOSED = "incident.closed"
PROPOSAL_MADE = "proposal.made"
PROPOSAL_APPROVED = "proposal.approved"
ADVISOR_VERDICT = "advisor.verdict"

_READ_CHUNK = 8192


class AuditError(Exception):
    """Base of audit log errors; ``message`` is fit to show a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuditWriteError(AuditError):
    """The record could not be made durable. The action it describes must not go ahead."""


def line_hash(line: bytes) -> str:
    """SHA-256 hex of one line's bytes, without its newline: the next record's ``prev``."""
    return hashlib.sha256(line).hexdigest()


def utc_timestamp(moment: datetime | None = None) -> str:
    """UTC ISO 8601 with milliseconds and a ``Z``: ``2024-11-09T10:02:03.456Z``."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    """Inverse of ``utc_timestamp`` (accepts any ISO 8601 with offset or ``Z``)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def default_audit_path(incident_id: str, state_dir: Path | None = None) -> Path:
    """``<state dir>/audit/<incident-id>.jsonl``."""
    return (state_dir or default_state_dir()) / "audit" / f"{incident_id}.jsonl"


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log, as read back."""

    time: str
    seq: int
    kind: str
    actor: Actor | None = None
    context: str | None = None
    namespace: str | None = None
    action: str | None = None
    target: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    result: Any = None
    duration_s: float | None = None
    message: str = ""
    prev: str = ""
    line: int = 0  # 1-based line number in the file (0 when unknown); not stored

    @property
    def when(self) -> datetime:
        """``time`` as an aware UTC datetime."""
        return parse_timestamp(self.time)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], line: int = 0) -> AuditRecord:
        """Build from a decoded line; raises ValueError if required fields are malformed."""
        seq, kind, stamp = data.get("seq"), data.get("kind"), data.get("time")
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise ValueError("missing or non-integer 'seq'")
        if not isinstance(kind, str) or not isinstance(stamp, str):
            raise ValueError("missing 'kind' or 'time'")
        actor = data.get("actor")
        params = data.get("params")
        duration = data.get("duration_s")
        return cls(
            time=stamp,
            seq=seq,
            kind=kind,
            actor=Actor.from_dict(actor) if isinstance(actor, Mapping) else None,
            context=_opt_str(data.get("context")),
            namespace=_opt_str(data.get("namespace")),
            action=_opt_str(data.get("action")),
            target=_opt_str(data.get("target")),
            params=params if isinstance(params, Mapping) else {},
            result=data.get("result"),
            duration_s=float(duration) if isinstance(duration, int | float) else None,
            message=str(data.get("message") or ""),
            prev=str(data.get("prev") or ""),
            line=line,
        )


def parse_line(raw: bytes, line: int = 0) -> AuditRecord | None:
    """Decode one line, or None if it is not a well-formed record."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        return AuditRecord.from_json(data, line)
    except ValueError:
        return None


class AuditLog:
    """Appends records to one audit file and reads them back.

    ``actor``, ``context`` and ``namespace`` are defaults for every record. ``extra_secrets``
    are exact strings masked in every record (default: values of secret-named environment
    variables). ``clock`` returns the record time (tests pin it).
    """

    def __init__(
        self,
        path: Path | str,
        actor: Actor | None = None,
        context: str | None = None,
        namespace: str | None = None,
        extra_secrets: Iterable[str] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.path = Path(path)
        self.actor = actor or Actor.current()
        self.context = context
        self.namespace = namespace
        self._secrets = tuple(
            secrets_from_env(os.environ) if extra_secrets is None else extra_secrets
        )
        self._clock = clock or (lambda: datetime.now(UTC))
        self._thread_lock = threading.Lock()  # flock is per open file; serialise our threads too

    @classmethod
    def for_incident(
        cls, incident_id: str, state_dir: Path | None = None, **kwargs: Any
    ) -> AuditLog:
        """The log at ``default_audit_path(incident_id, state_dir)``."""
        return cls(default_audit_path(incident_id, state_dir), **kwargs)

    def add_secrets(self, values: Iterable[str]) -> None:
        """Mask these exact strings too in every later record (e.g. the cluster credentials
        the console connected with)."""
        with self._thread_lock:
            self._secrets = tuple(dict.fromkeys((*self._secrets, *(v for v in values if v))))

    # ---- writing -----------------------------------------------------------------------------
    def append(
        self,
        kind: str,
        *,
        action: str | None = None,
        target: str | None = None,
        params: Mapping[str, Any] | None = None,
        result: Any = None,
        duration_s: float | None = None,
        message: str = "",
        actor: Actor | None = None,
        context: str | None = None,
        namespace: str | None = None,
    ) -> AuditRecord:
        """Write one record durably and return it as stored (redacted, with seq and prev).

        Raises ``AuditWriteError`` if the record is not safely on disk; in that case nothing of
        it remains in the file (a partial write is cut back off).
        """
        body: dict[str, Any] = {
            "actor": (actor or self.actor).to_dict(),
            "context": context if context is not None else self.context,
            "namespace": namespace if namespace is not None else self.namespace,
            "kind": kind,
            "action": action,
            "target": target,
            "params": dict(params or {}),
            "result": result,
            "duration_s": round(duration_s, 3) if duration_s is not None else None,
            "message": message,
        }
        body = redact_obj(_jsonable(body), self._secrets)
        with self._thread_lock:
            return self._append_locked(body)

    def _append_locked(self, body: dict[str, Any]) -> AuditRecord:
        try:
            ensure_private_dir(self.path.parent)
            existed = self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
        except OSError as exc:
            raise AuditWriteError(self._explain("cannot open", exc)) from exc
        try:
            if not existed:
                fsync_dir(self.path.parent)
            restrict_mode(fd)
            with flocked(fd):
                size = os.fstat(fd).st_size
                prev, seq, torn = _tail_state(fd, size)
                record = {"time": utc_timestamp(self._clock()), "seq": seq, **body, "prev": prev}
                line = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
                data = (b"\n" if torn else b"") + line + b"\n"
                self._write_all(fd, data, size)
            return AuditRecord.from_json(record)
        finally:
            os.close(fd)

    def _write_all(self, fd: int, data: bytes, size_before: int) -> None:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                if written <= 0:
                    raise OSError(28, "short write")
                view = view[written:]
            os.fsync(fd)
        except OSError as exc:
            # Not acknowledged, so not shown: take the partial record back off the file.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size_before)
                os.fsync(fd)
            raise AuditWriteError(self._explain("cannot write", exc)) from exc

    def _explain(self, what: str, exc: OSError) -> str:
        return (
            f"audit log {self.path}: {what}: {describe_os_error(exc)}. "
            "The action was not performed because it could not be recorded."
        )

    @contextlib.contextmanager
    def action(
        self,
        action: str,
        target: str | None = None,
        params: Mapping[str, Any] | None = None,
        message: str = "",
    ) -> Iterator[dict[str, Any]]:
        """Record ``action.started`` now, then ``action.finished`` or ``action.failed``.

        The block may fill the yielded dict with the result; the duration is measured here. An
        exception is recorded (type and message) and re-raised.
        """
        self.append(ACTION_STARTED, action=action, target=target, params=params, message=message)
        result: dict[str, Any] = {}
        started = time.monotonic()
        try:
            yield result
        except BaseException as exc:
            self.append(
                ACTION_FAILED,
                action=action,
                target=target,
                params=params,
                result={**result, "error": f"{type(exc).__name__}: {exc}"},
                duration_s=time.monotonic() - started,
                message=message,
            )
            raise
        self.append(
            ACTION_FINISHED,
            action=action,
            target=target,
            params=params,
            result=result,
            duration_s=time.monotonic() - started,
            message=message,
        )

    # ---- reading -----------------------------------------------------------------------------
    def records(self) -> list[AuditRecord]:
        """Every well-formed record in the file, in order (an absent file has none)."""
        return self.read_new(0)[0]

    def read_new(self, offset: int) -> tuple[list[AuditRecord], int]:
        """Records in complete lines from byte ``offset`` on, and the offset to resume from.

        An incomplete last line (being written, or left by a crash) is not returned and the
        returned offset stops before it. Malformed lines are skipped (``verify`` reports them).
        """
        try:
            with open(self.path, "rb") as handle:
                handle.seek(offset)
                data = handle.read()
        except FileNotFoundError:
            return [], offset
        except OSError as exc:
            raise AuditError(
                f"audit log {self.path}: cannot read: {describe_os_error(exc)}"
            ) from exc
        end = data.rfind(b"\n") + 1
        records = []
        for raw in data[:end].split(b"\n")[:-1]:
            record = parse_line(raw)
            if record is not None:
                records.append(record)
        return records, offset + end

    def follow(
        self, stop: threading.Event, interval: float = 0.2, offset: int = 0
    ) -> Iterator[AuditRecord]:
        """Yield records as they are appended (by any console) until ``stop`` is set.

        Polls the file size every ``interval`` seconds; meant for a worker thread.
        """
        while not stop.is_set():
            try:
                size = os.stat(self.path).st_size
            except FileNotFoundError:
                size = 0
            if size < offset:  # replaced or truncated: start over
                offset = 0
            if size > offset:
                records, offset = self.read_new(offset)
                yield from records
            stop.wait(interval)


def _tail_state(fd: int, size: int) -> tuple[str, int, bool]:
    """(prev hash, next seq, last line incomplete) from the file's actual end."""
    if size == 0:
        return GENESIS, 1, False
    torn = _pread(fd, 1, size - 1) != b"\n"
    prev: str | None = None
    for raw in _lines_backwards(fd, size):
        if prev is None:
            prev = line_hash(raw)
        record = parse_line(raw)
        if record is not None:
            return prev, record.seq + 1, torn
    return prev or GENESIS, 1, torn


def _lines_backwards(fd: int, size: int) -> Iterator[bytes]:
    """The file's lines (without newlines), last first; reads in chunks from the end."""
    end = size
    if _pread(fd, 1, end - 1) == b"\n":
        end -= 1  # the terminator of the last complete line
    buffer = b""
    position = end
    while position > 0 or buffer:
        cut = buffer.rfind(b"\n")
        if cut >= 0:
            yield buffer[cut + 1 :]
            buffer = buffer[:cut]
            continue
        if position == 0:
            yield buffer
            return
        start = max(0, position - _READ_CHUNK)
        buffer = _pread(fd, position - start, start) + buffer
        position = start


def _pread(fd: int, length: int, offset: int) -> bytes:
    data = b""
    while len(data) < length:
        chunk = os.pread(fd, length - len(data), offset + len(data))
        if not chunk:
            break
        data += chunk
    return data


def _jsonable(value: Any) -> Any:
    """A JSON-serialisable copy (tuples as lists, paths and other objects as strings)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return utc_timestamp(value)
    return str(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


# ---- verification ----------------------------------------------------------------------------
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
        else:
            text = f"{self.path}: TAMPERED OR DAMAGED, {len(self.problems)} problem(s)"
        if self.incomplete_final_line is not None:
            text += (
                f"; incomplete final line {self.incomplete_final_line}"
                " (a writer stopped mid-record; the records before it are intact)"
            )
        return text


def verify(path: Path | str) -> VerifyReport:
    """Check an audit file's hash chain and sequence numbers, naming the lines at fault.

    Raises ``AuditError`` if the file cannot be read.
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
    return VerifyReport(
        path=path,
        records=count,
        problems=tuple(problems),
        warnings=tuple(warnings),
        incomplete_final_line=incomplete,
        last_seq=last_seq,
        head=head,
    )


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


__all__ = [
    "ACTION_FAILED",
    "ACTION_FINISHED",
    "ACTION_REFUSED",
    "ACTION_REQUESTED",
    "ACTION_STARTED",
    "ADVISOR_VERDICT",
    "GENESIS",
    "INCIDENT_CLOSED",
    "INCIDENT_OPENED",
    "NOTE",
    "PROPOSAL_APPROVED",
    "PROPOSAL_MADE",
    "RUNBOOK_STEP",
    "AuditError",
    "AuditLog",
    "AuditRecord",
    "AuditWriteError",
    "Finding",
    "VerifyReport",
    "default_audit_path",
    "line_hash",
    "parse_line",
    "parse_timestamp",
    "utc_timestamp",
    "verify",
]
