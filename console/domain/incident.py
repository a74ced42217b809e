"""Incident state that survives restarts and is shared live by pair-driving consoles.

An incident (title, severity, cluster context, runbooks in use, per-step progress, proposals
awaiting a second person) is one JSON file, ``<state dir>/incidents/<id>.json``:

- **Crash-safe.** Every change rewrites the file atomically (temporary file, ``fsync``,
  ``os.replace``, mode 0600), so a console killed mid-write leaves the previous state intact.
- **Shared.** Changes go through ``SharedIncident.update(fn)``: under an exclusive ``flock`` on
  a sidecar ``<id>.lock`` it reloads the file, applies ``fn``, bumps ``version`` and writes. Two
  consoles never lose each other's writes. A console notices the other's changes cheaply with
  ``changed_since(stamp)`` (one ``stat``: the inode changes with every replace), then ``read()``.
- **Two-person rule.** ``propose`` records an action that needs a second person; ``approve``
  refuses the proposer themselves (see ``console.domain.actor.two_person_refusal`` for the exact
  rule) and records both people. This file can be edited by anyone who can write the state
  directory, so ``console.domain.two_person`` passes the proposer as the audit log records it.

Callers write the matching audit records; this module keeps state only.
"""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

from console.domain.actor import Actor, two_person_refusal
from console.domain.audit import parse_timestamp, utc_timestamp
from console.domain.statefiles import (
    atomic_write,
    default_state_dir,
    describe_os_error,
    ensure_private_dir,
    lock_file,
    read_state_file,
    remove_stale_temps,
)

SCHEMA = 1
StepStatus = Literal["pending", "running", "done", "failed", "skipped"]
STEP_STATUSES: tuple[str, ...] = get_args(StepStatus)
# the handbook's "Severity assessed" levels, and low for what can wait
Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[str, ...] = get_args(Severity)
ProposalStatus = Literal["pending", "approved", "rejected", "withdrawn"]
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class IncidentError(Exception):
    """Base of incident-state errors; ``message`` is fit to show a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IncidentNotFound(IncidentError):
    """No incident with that id."""


class IncidentCorrupt(IncidentError):
    """The incident file exists but cannot be decoded."""


class IncidentWriteError(IncidentError):
    """The change could not be saved (nothing was changed on disk)."""


class ProposalError(IncidentError):
    """A proposal cannot be approved/rejected (unknown, or no longer pending)."""


class SelfApprovalError(ProposalError):
    """The two-person rule: the proposer cannot approve their own proposal."""


@dataclass
class StepState:
    """Progress of one runbook step."""

    status: StepStatus = "pending"
    by: Actor | None = None
    at: str | None = None  # UTC ISO timestamp of the last change
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "by": self.by.to_dict() if self.by else None,
            "at": self.at,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepState:
        status = data.get("status", "pending")
        if status not in STEP_STATUSES:
            raise ValueError(f"unknown step status {status!r}")
        by = data.get("by")
        return cls(
            status=status,
            by=Actor.from_dict(by) if isinstance(by, Mapping) else None,
            at=data.get("at"),
            note=str(data.get("note") or ""),
        )


@dataclass
class Proposal:
    """An action waiting for a second person's approval."""

    id: str
    action: dict[str, Any]
    proposed_by: Actor
    proposed_at: str
    status: ProposalStatus = "pending"
    decided_by: Actor | None = None
    decided_at: str | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "proposed_by": self.proposed_by.to_dict(),
            "proposed_at": self.proposed_at,
            "status": self.status,
            "decided_by": self.decided_by.to_dict() if self.decided_by else None,
            "decided_at": self.decided_at,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Proposal:
        decided = data.get("decided_by")
        return cls(
            id=str(data["id"]),
            action=dict(data.get("action") or {}),
            proposed_by=Actor.from_dict(data.get("proposed_by") or {}),
            proposed_at=str(data.get("proposed_at") or ""),
            status=data.get("status", "pending"),
            decided_by=Actor.from_dict(decided) if isinstance(decided, Mapping) else None,
            decided_at=data.get("decided_at"),
            reason=str(data.get("reason") or ""),
        )


@dataclass
class Incident:
    """The state of one incident. Instances are snapshots: change them via ``update``."""

    id: str
    title: str
    severity: Severity
    opened_at: str
    context: str | None = None
    namespace: str | None = None
    runbooks: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)  # a console on several (--context a,b)
    step_progress: dict[str, dict[str, StepState]] = field(default_factory=dict)
    current_step: tuple[str, str] | None = None  # (runbook, step id)
    closed_at: str | None = None
    opened_by: Actor | None = None
    closed_by: Actor | None = None
    proposals: dict[str, Proposal] = field(default_factory=dict)
    runbook_values: dict[str, dict[str, str]] = field(default_factory=dict)  # incident_values.py
    audit_path: str | None = None
    version: int = 0
    updated_at: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def duration_s(self) -> float | None:
        """Seconds from opening to closing (None while open)."""
        if self.closed_at is None:
            return None
        return (parse_timestamp(self.closed_at) - parse_timestamp(self.opened_at)).total_seconds()

    def step(self, runbook: str, step_id: str) -> StepState:
        """The state of a step (pending if never touched)."""
        return self.step_progress.get(runbook, {}).get(step_id, StepState())

    def pending_proposals(self) -> list[Proposal]:
        """Proposals still waiting for a decision, oldest first."""
        pending = [p for p in self.proposals.values() if p.status == "pending"]
        return sorted(pending, key=lambda p: p.proposed_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "opened_at": self.opened_at,
            "closed_at": self.closed_at,
            "context": self.context,
            "namespace": self.namespace,
            **({"contexts": self.contexts} if self.contexts else {}),
            "runbooks": self.runbooks,
            "step_progress": {
                rb: {sid: st.to_dict() for sid, st in steps.items()}
                for rb, steps in self.step_progress.items()
            },
            "current_step": list(self.current_step) if self.current_step else None,
            "opened_by": self.opened_by.to_dict() if self.opened_by else None,
            "closed_by": self.closed_by.to_dict() if self.closed_by else None,
            "proposals": {pid: p.to_dict() for pid, p in self.proposals.items()},
            "runbook_values": self.runbook_values,
            "audit_path": self.audit_path,
            "version": self.version,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Incident:
        severity = data.get("severity")
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r}")
        current = data.get("current_step")
        opened_by, closed_by = data.get("opened_by"), data.get("closed_by")
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            severity=severity,
            opened_at=str(data["opened_at"]),
            closed_at=data.get("closed_at"),
            context=data.get("context"),
            namespace=data.get("namespace"),
            runbooks=[str(r) for r in data.get("runbooks") or []],
            contexts=[str(c) for c in data.get("contexts") or []],
            step_progress={
                str(rb): {str(sid): StepState.from_dict(st) for sid, st in steps.items()}
                for rb, steps in (data.get("step_progress") or {}).items()
            },
            current_step=(str(current[0]), str(current[1])) if current else None,
            opened_by=Actor.from_dict(opened_by) if isinstance(opened_by, Mapping) else None,
            closed_by=Actor.from_dict(closed_by) if isinstance(closed_by, Mapping) else None,
            proposals={
                str(pid): Proposal.from_dict(p) for pid, p in (data.get("proposals") or {}).items()
            },
            runbook_values={str(rb): {str(k): str(v) for k, v in values.items()}
                            for rb, values in (data.get("runbook_values") or {}).items()},
            audit_path=data.get("audit_path"),
            version=int(data.get("version") or 0),
            updated_at=data.get("updated_at"),
        )


Stamp = tuple[int, int, int]  # (inode, mtime_ns, size) of the incident file


class SharedIncident:
    """One incident file, shared by every console working on it.

    Reads are lock-free (the file is only ever replaced whole); writes go through ``update``.
    """

    def __init__(self, path: Path, clock: Callable[[], datetime] | None = None) -> None:
        self.path = path
        self.id = path.stem
        self._lock_path = path.with_suffix(".lock")
        self._clock = clock or (lambda: datetime.now(UTC))

    def _now(self) -> str:
        return utc_timestamp(self._clock())

    # ---- reading -----------------------------------------------------------------------------
    def read(self) -> Incident:
        """The current state from disk."""
        try:
            text = read_state_file(self.path)  # no symbolic links, checked owner
        except FileNotFoundError:
            raise IncidentNotFound(f"no incident {self.id!r} (looked for {self.path})") from None
        except OSError as exc:
            raise IncidentError(f"cannot read {self.path}: {describe_os_error(exc)}") from exc
        try:
            return Incident.from_dict(json.loads(text))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise IncidentCorrupt(f"incident file {self.path} is unreadable: {exc}") from exc

    def stamp(self) -> Stamp | None:
        """A cheap fingerprint of the file (one ``stat``); None if it does not exist."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def changed_since(self, stamp: Stamp | None) -> bool:
        """True if the file was replaced since ``stamp`` was taken (by any console)."""
        return self.stamp() != stamp

    def poll(self, version: int) -> Incident | None:
        """The state if its version differs from ``version``, else None. Reads the file."""
        incident = self.read()
        return incident if incident.version != version else None

    # ---- writing -----------------------------------------------------------------------------
    def update(self, fn: Callable[[Incident], None]) -> Incident:
        """Reload under the lock, apply ``fn`` (which mutates its argument), save atomically.

        Returns the saved state. If ``fn`` raises, nothing is written and the exception
        propagates.
        """
        if not self.path.exists():
            raise IncidentNotFound(f"no incident {self.id!r} (looked for {self.path})")
        try:
            with lock_file(self._lock_path):
                incident = self.read()
                fn(incident)
                incident.version += 1
                incident.updated_at = self._now()
                self._write(incident)
                return incident
        except IncidentError:
            raise
        except OSError as exc:
            raise IncidentWriteError(
                f"cannot save incident {self.id}: {describe_os_error(exc)}"
            ) from exc

    def _write(self, incident: Incident) -> None:
        remove_stale_temps(self.path)
        data = json.dumps(incident.to_dict(), indent=2, ensure_ascii=False).encode() + b"\n"
        atomic_write(self.path, data)

    def set_step(
        self, runbook: str, step_id: str, status: StepStatus, by: Actor, note: str = ""
    ) -> Incident:
        """Record a step's new status (and make it the current step while it runs)."""
        if status not in STEP_STATUSES:
            raise ValueError(f"unknown step status {status!r}")
        at = self._now()

        def apply(incident: Incident) -> None:
            incident.step_progress.setdefault(runbook, {})[step_id] = StepState(
                status=status, by=by, at=at, note=note
            )
            if runbook not in incident.runbooks:
                incident.runbooks.append(runbook)
            if status == "running":
                incident.current_step = (runbook, step_id)

        return self.update(apply)

    def set_current_step(self, runbook: str, step_id: str | None) -> Incident:
        """Move the shared cursor (None clears it)."""

        def apply(incident: Incident) -> None:
            incident.current_step = (runbook, step_id) if step_id is not None else None

        return self.update(apply)

    def close(self, by: Actor) -> Incident:
        """Mark the incident resolved (idempotent: the first close time is kept)."""
        at = self._now()

        def apply(incident: Incident) -> None:
            if incident.closed_at is None:
                incident.closed_at = at
                incident.closed_by = by

        return self.update(apply)

    # ---- two-person rule ---------------------------------------------------------------------
    def propose(self, action: Mapping[str, Any], by: Actor, proposal_id: str | None = None
                ) -> str:
        """Record an action that needs a second person's approval; returns the proposal id
        (``proposal_id`` when the caller chose it, e.g. to put it on record first)."""
        proposal_id = proposal_id or f"p-{secrets.token_hex(4)}"
        proposal = Proposal(
            id=proposal_id,
            action=copy.deepcopy(dict(action)),
            proposed_by=by,
            proposed_at=self._now(),
        )

        def apply(incident: Incident) -> None:
            if proposal_id in incident.proposals:
                raise ProposalError(f"proposal {proposal_id} already exists")
            incident.proposals[proposal_id] = proposal

        self.update(apply)
        return proposal_id

    def approve(self, proposal_id: str, by: Actor, *, proposer: Actor | None = None
                ) -> Proposal:
        """Approve a pending proposal as a second person.

        ``proposer`` is who made it as the audit log records it (``console.domain.two_person``);
        it replaces the ``proposed_by`` stored here, which anyone who can write the file can
        change. Refused with ``SelfApprovalError`` when ``two_person_refusal`` objects to
        either: the same console, account (uid) or terminal, or an unknown uid. Returns the
        approved proposal, which names both people.
        """
        return self._decide(proposal_id, by, "approved", "", proposer)

    def reject(self, proposal_id: str, by: Actor, reason: str = "") -> Proposal:
        """Turn a proposal down (anyone may; the proposer doing so counts as withdrawing)."""
        return self._decide(proposal_id, by, "rejected", reason)

    def pending_proposals(self) -> list[Proposal]:
        """Proposals still waiting for a decision, oldest first."""
        return self.read().pending_proposals()

    def _decide(self, proposal_id: str, by: Actor, status: ProposalStatus, reason: str,
                proposer: Actor | None = None) -> Proposal:
        at = self._now()
        decided: list[Proposal] = []

        def apply(incident: Incident) -> None:
            proposal = incident.proposals.get(proposal_id)
            if proposal is None:
                raise ProposalError(f"no proposal {proposal_id!r} in incident {incident.id}")
            if proposal.status != "pending":
                who = proposal.decided_by.label if proposal.decided_by else "someone"
                raise ProposalError(
                    f"proposal {proposal_id} was already {proposal.status} by {who}"
                )
            final = status
            if proposer is not None:
                proposal.proposed_by = proposer
            refusal = two_person_refusal(proposal.proposed_by, by)
            if refusal is not None:
                if status == "approved":
                    raise SelfApprovalError(refusal)
                final = "withdrawn"
            proposal.status = final
            proposal.decided_by = by
            proposal.decided_at = at
            proposal.reason = reason
            decided.append(copy.deepcopy(proposal))

        self.update(apply)
        return decided[0]


class IncidentStore:
    """The incidents directory: create, find and attach to incidents."""

    def __init__(
        self, state_dir: Path | str | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.state_dir = Path(state_dir) if state_dir is not None else default_state_dir()
        self.dir = self.state_dir / "incidents"
        self._clock = clock or (lambda: datetime.now(UTC))

    def path_for(self, incident_id: str) -> Path:
        """``<state dir>/incidents/<id>.json`` (the id is validated: it names a file)."""
        if not _ID.match(incident_id):
            raise IncidentNotFound(f"not an incident id: {incident_id!r}")
        return self.dir / f"{incident_id}.json"

    def open_new(
        self,
        title: str,
        severity: Severity,
        context: str | None = None,
        namespace: str | None = None,
        runbooks: Iterable[str] = (),
        by: Actor | None = None,
        audit_path: str | Path | None = None,
        incident_id: str | None = None,
    ) -> SharedIncident:
        """Create an incident file and return a handle on it."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
        now = self._clock()
        incident_id = incident_id or new_incident_id(title, now)
        path = self.path_for(incident_id)
        incident = Incident(
            id=incident_id,
            title=title,
            severity=severity,
            opened_at=utc_timestamp(now),
            context=context,
            namespace=namespace,
            runbooks=list(runbooks),
            opened_by=by,
            audit_path=str(audit_path) if audit_path else None,
            version=1,
            updated_at=utc_timestamp(now),
        )
        try:
            ensure_private_dir(self.dir)
            with lock_file(path.with_suffix(".lock")):
                if path.exists():
                    raise IncidentError(f"incident {incident_id} already exists")
                atomic_write(
                    path,
                    json.dumps(incident.to_dict(), indent=2, ensure_ascii=False).encode() + b"\n",
                )
        except OSError as exc:
            raise IncidentWriteError(
                f"cannot create incident {incident_id} in {self.dir}: {describe_os_error(exc)}"
            ) from exc
        return SharedIncident(path, self._clock)

    def attach(self, incident_id: str) -> SharedIncident:
        """A handle on an existing incident (e.g. the second console joining)."""
        path = self.path_for(incident_id)
        if not path.exists():
            raise IncidentNotFound(f"no incident {incident_id!r} in {self.dir}")
        return SharedIncident(path, self._clock)

    def load(self, incident_id: str) -> Incident:
        """The current state of an incident."""
        return self.attach(incident_id).read()

    def list(self) -> list[Incident]:
        """Every readable incident, most recently opened first (unreadable files skipped)."""
        found: list[Incident] = []
        if not self.dir.is_dir():
            return found
        for path in self.dir.glob("*.json"):
            if path.name.startswith("."):
                continue
            try:
                found.append(SharedIncident(path).read())
            except IncidentError:
                continue
        return sorted(found, key=lambda i: (i.opened_at, i.id), reverse=True)

    def latest(self, include_closed: bool = False) -> Incident | None:
        """The most recently opened incident still open (for ``warroom --resume``)."""
        for incident in self.list():
            if include_closed or incident.is_open:
                return incident
        return None


def new_incident_id(title: str, now: datetime | None = None) -> str:
    """``20241109-100203-api-auth-broken-3f9a``: sortable, readable, unique enough."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:32].strip("-") or "incident"
    return f"{now:%Y%m%d-%H%M%S}-{slug}-{secrets.token_hex(2)}"


__all__ = [
    "SEVERITIES",
    "STEP_STATUSES",
    "Incident",
    "IncidentCorrupt",
    "IncidentError",
    "IncidentNotFound",
    "IncidentStore",
    "IncidentWriteError",
    "Proposal",
    "ProposalError",
    "SelfApprovalError",
    "Severity",
    "SharedIncident",
    "Stamp",
    "StepState",
    "StepStatus",
    "new_incident_id",
]
