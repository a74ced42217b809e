"""Audit log records: their kinds, their timestamps, and reading one line back.

The format is described in ``console.domain.audit`` (which also re-exports these names).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.domain.actor import Actor
from console.domain.statefiles import default_state_dir

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
    # the cluster identity the action ran as, when the kubeconfig impersonates ("as:")
    identity: Mapping[str, Any] | None = None
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
            identity=identity if isinstance(identity := data.get("identity"), Mapping) else None,
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


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


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
    "AuditRecord",
    "AuditWriteError",
    "default_audit_path",
    "line_hash",
    "parse_line",
    "parse_timestamp",
    "utc_timestamp",
]
