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
  record and names its line. A hash chain alone cannot show that the *last* records were
  removed or the chain rebuilt after an edit, so a log with an ``anchor`` (every incident's
  log) records its head after each append outside the file (``audit_anchor``: the incident
  state and syslog), and ``verify(path, expected=head)`` checks the end against it. (The check
  is ``audit_verify``; records and their kinds are ``audit_records``; both are re-exported.)
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
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.redact import redact_obj, secrets_from_env
from console.domain.actor import Actor
from console.domain.audit_anchor import Head, HeadAnchor, head_beside, read_head
from console.domain.audit_records import (
    ACTION_FAILED,
    ACTION_FINISHED,
    ACTION_REFUSED,
    ACTION_REQUESTED,
    ACTION_STARTED,
    ADVISOR_VERDICT,
    GENESIS,
    INCIDENT_CLOSED,
    INCIDENT_OPENED,
    NOTE,
    PROPOSAL_APPROVED,
    PROPOSAL_MADE,
    RUNBOOK_STEP,
    AuditError,
    AuditRecord,
    AuditWriteError,
    default_audit_path,
    line_hash,
    parse_line,
    parse_timestamp,
    utc_timestamp,
)
from console.domain.audit_verify import Finding, VerifyReport, verify
from console.domain.statefiles import (
    describe_os_error,
    ensure_private_dir,
    flocked,
    fsync_dir,
    open_state_file,
)

_READ_CHUNK = 8192


class AuditLog:
    """Appends records to one audit file and reads them back.

    ``actor``, ``context`` and ``namespace`` are defaults for every record. ``extra_secrets``
    are exact strings masked in every record (default: values of secret-named environment
    variables). ``clock`` returns the record time (tests pin it). ``anchor`` records the
    chain's head after each append (``for_incident`` sets it).
    """

    def __init__(
        self,
        path: Path | str,
        actor: Actor | None = None,
        context: str | None = None,
        namespace: str | None = None,
        extra_secrets: Iterable[str] | None = None,
        clock: Callable[[], datetime] | None = None,
        anchor: HeadAnchor | None = None,
    ) -> None:
        self.path = Path(path)
        self.anchor = anchor
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
        """The log at ``default_audit_path(incident_id, state_dir)``, its head anchored in the
        incident state and syslog."""
        kwargs.setdefault("anchor", HeadAnchor.for_incident(incident_id, state_dir))
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
        identity: Mapping[str, Any] | None = None,
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
        if identity is not None:  # as whom the cluster saw it: kubeconfig impersonation
            body["identity"] = dict(identity)
        body = redact_obj(_jsonable(body), self._secrets)
        with self._thread_lock:
            return self._append_locked(body)

    def _append_locked(self, body: dict[str, Any]) -> AuditRecord:
        try:
            ensure_private_dir(self.path.parent)
            existed = os.path.lexists(self.path)
            fd = open_state_file(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
        except OSError as exc:
            raise AuditWriteError(self._explain("cannot open", exc)) from exc
        try:
            if not existed:
                fsync_dir(self.path.parent)
            with flocked(fd):
                size = os.fstat(fd).st_size
                prev, seq, torn = _tail_state(fd, size)
                record = {"time": utc_timestamp(self._clock()), "seq": seq, **body, "prev": prev}
                line = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
                data = (b"\n" if torn else b"") + line + b"\n"
                self._write_all(fd, data, size)
                self._anchor(Head(seq, line_hash(line)))
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

    def _anchor(self, head: Head) -> None:
        # The record is durable already; a head that cannot be kept only leaves it unanchored
        # (verify says so), it does not undo what was recorded.
        if self.anchor is not None:
            with contextlib.suppress(OSError):
                self.anchor.record(head)

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


__all__ = [
    "ACTION_FAILED",
    "ACTION_FINISHED",
    "ACTION_REFUSED",
    "ACTION_REQUESTED",
    "ACTION_STARTED",
    "ADVISOR_VERDICT",
    "GENESIS",
    "INCIDENT_CLOSED",
    "Head",
    "HeadAnchor",
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
    "head_beside",
    "line_hash",
    "parse_line",
    "parse_timestamp",
    "read_head",
    "utc_timestamp",
    "verify",
]
