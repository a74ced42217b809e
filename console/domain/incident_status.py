"""The incident's lifecycle as the audit log tells it: status, severity, roles, notes, times.

The audit log is the one source: every console folds the records it tails into an
``IncidentPicture`` (``fold`` / ``IncidentPicture.apply``), so two consoles on one incident see
the same status, notes and roles as soon as the record is on disk. The records:

- ``incident.opened``      title and severity at the start (``params.severity``, the message)
- ``incident.severity``    ``params.severity`` (and ``params.was``)
- ``incident.status``      ``params.status``, ``params.was``; ``params.summary`` (resolved),
                           ``params.reason`` (a forced close, a reopening)
- ``incident.role``        ``params.role``, ``params.person`` ("" clears the role)
- ``note``                 the note's text in ``message``
- ``runbook.step``         with ``params.runbook == "follow-up"``: the Follow-Up checklist
- ``drill.mitigated`` / ``drill.resolved``   a drill's milestones (console/ui/drill_bridge.py)
- ``advisor.verdict``      a deployment's verdict changed (``params.level``, ``params.was``)

The status moves investigating → identified → mitigated → resolved → closed (steps may be
skipped forward); ``transition_refusal`` says why a move is not allowed. Times to detect,
mitigate and resolve are counted from the opening as the drill score counts them
(console/rehearsal/scoring.py): detect at the first human record, mitigate at the status
``mitigated`` (or the drill's milestone), else at resolution.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.domain.actor import Actor
from console.domain.audit_records import (
    ADVISOR_VERDICT,
    INCIDENT_CLOSED,
    INCIDENT_OPENED,
    NOTE,
    RUNBOOK_STEP,
    AuditRecord,
)

INCIDENT_SEVERITY = "incident.severity"
INCIDENT_STATUS = "incident.status"
INCIDENT_ROLE = "incident.role"
DRILL_MITIGATED = "drill.mitigated"
DRILL_RESOLVED = "drill.resolved"
FOLLOW_UP_RUNBOOK = "follow-up"

STATUSES = ("investigating", "identified", "mitigated", "resolved", "closed")
SEVERITY_LEVELS = ("critical", "high", "medium", "low")
ROLES = {
    "commander": "incident commander",
    "operations": "operations",
    "communications": "communications",
}
# what the scoring counts as someone responding (console/rehearsal/scoring.py HUMAN_KINDS)
HUMAN_KINDS = ("action.", "runbook.", "note", "proposal.")


@dataclass(frozen=True)
class Moment:
    """One entry of a history: when, who, and what."""

    time: str
    who: str
    what: str
    detail: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class IncidentPicture:
    """What the records say about the incident so far."""

    title: str = ""
    severity: str = "high"
    status: str = "investigating"
    opened_at: datetime | None = None
    first_response_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    summary: str = ""  # the resolution summary
    roles: dict[str, str] = field(default_factory=dict)  # role -> person label
    notes: list[Moment] = field(default_factory=list)
    statuses: list[Moment] = field(default_factory=list)
    severities: list[Moment] = field(default_factory=list)
    follow_ups: dict[str, Moment] = field(default_factory=dict)  # step id -> who checked it
    people: list[str] = field(default_factory=list)  # everyone on record, first seen first
    verdicts: dict[str, str] = field(default_factory=dict)  # deployment -> last level recorded
    actions: int = 0  # actions finished
    failed: int = 0  # actions failed or refused
    version: int = 0  # records applied

    def apply(self, record: AuditRecord) -> bool:
        """Fold one record in; True when it changed what a header or timeline shows."""
        self.version += 1
        who = _who(record)
        if who and who not in self.people:
            self.people.append(who)
        when = _when(record)
        kind, params = record.kind, record.params
        if self.first_response_at is None and kind.startswith(HUMAN_KINDS):
            self.first_response_at = when
        if kind == INCIDENT_OPENED:
            self.opened_at = self.opened_at or when
            self.title = str(params.get("title") or _title_of(record.message) or self.title)
            severity = params.get("severity") or _severity_of(record.message)
            if severity in SEVERITY_LEVELS:
                self.severity = str(severity)
            self.statuses.append(Moment(record.time, who, "investigating", "incident opened"))
            return True
        if kind == INCIDENT_SEVERITY and params.get("severity") in SEVERITY_LEVELS:
            self.severity = str(params["severity"])
            self.severities.append(Moment(record.time, who, self.severity,
                                          str(params.get("was") or ""), params))
            return True
        if kind == INCIDENT_ROLE and params.get("role") in ROLES:
            person = str(params.get("person") or "")
            if person:
                self.roles[str(params["role"])] = person
            else:
                self.roles.pop(str(params["role"]), None)
            return True
        if kind == NOTE:
            self.notes.append(Moment(record.time, who, "note", record.message, params))
            return True
        if kind in (INCIDENT_STATUS, INCIDENT_CLOSED):
            status = "closed" if kind == INCIDENT_CLOSED else str(params.get("status") or "")
            if status not in STATUSES:
                return False
            self._move(status, when, record, who)
            return True
        if kind == ADVISOR_VERDICT and record.target:
            self.verdicts[record.target] = str(params.get("level") or "")
            return False
        if kind == DRILL_MITIGATED:
            self.mitigated_at = self.mitigated_at or when
            return False
        if kind == DRILL_RESOLVED:
            self.resolved_at = self.resolved_at or when
            return False
        if kind == RUNBOOK_STEP and params.get("runbook") == FOLLOW_UP_RUNBOOK:
            step = str(params.get("step") or record.target or "")
            if params.get("status") == "done":
                self.follow_ups[step] = Moment(record.time, who, "done")
            else:
                self.follow_ups.pop(step, None)
            return True
        if kind == "action.finished":
            self.actions += 1
        elif kind in ("action.failed", "action.refused"):
            self.failed += 1
        return False

    def _move(self, status: str, when: datetime | None, record: AuditRecord, who: str) -> None:
        params = record.params
        detail = str(params.get("summary") or params.get("reason") or "")
        self.statuses.append(Moment(record.time, who, status, detail, params))
        self.status = status
        if status == "investigating":  # reopened: it is not resolved any more
            self.resolved_at = self.closed_at = None
            self.summary = ""
        if status == "mitigated":
            self.mitigated_at = self.mitigated_at or when
        if status == "resolved":
            self.resolved_at = when
            self.summary = str(params.get("summary") or "")
        if status == "closed":
            self.closed_at = when

    # ---- derived ---------------------------------------------------------------------------
    @property
    def resolved_not_closed(self) -> bool:
        return self.status == "resolved"

    def since_opened(self, moment: datetime | None) -> float | None:
        if moment is None or self.opened_at is None:
            return None
        return max(0.0, (moment - self.opened_at).total_seconds())

    @property
    def time_to_detect(self) -> float | None:
        return self.since_opened(self.first_response_at)

    @property
    def time_to_mitigate(self) -> float | None:
        return self.since_opened(self.mitigated_at or self.resolved_at)

    @property
    def time_to_resolve(self) -> float | None:
        return self.since_opened(self.resolved_at)


def fold(records: Iterable[AuditRecord]) -> IncidentPicture:
    picture = IncidentPicture()
    for record in records:
        picture.apply(record)
    return picture


def transition_refusal(picture: IncidentPicture, wanted: str, *, summary: str = "",
                       reason: str = "", open_follow_ups: Iterable[str] = (),
                       force: bool = False) -> str | None:
    """Why the incident cannot move to ``wanted`` now (None: it can)."""
    current = picture.status
    if wanted not in STATUSES:
        return f"unknown status {wanted!r}; one of {', '.join(STATUSES)}"
    if current == "closed":
        return "the incident is closed: a closed incident does not change (open a new one)"
    if wanted == current:
        return f"the incident is already {current}"
    if STATUSES.index(wanted) < STATUSES.index(current):
        if wanted != "investigating":
            return (f"the status moves forward ({' → '.join(STATUSES)}); from {current} only "
                    "back to investigating, with a reason")
        if not reason.strip():
            return "reopening (back to investigating) needs a reason"
        return None
    if wanted == "resolved" and not summary.strip():
        return "resolving needs a resolution summary: what fixed it"
    if wanted == "closed":
        if current != "resolved":
            return f"only a resolved incident can be closed (it is {current}): resolve it first"
        missing = list(open_follow_ups)
        if missing and not force:
            return (f"{len(missing)} follow-up(s) still open ({', '.join(missing)}): check them "
                    "off (F), or close anyway with a reason")
        if missing and not reason.strip():
            return "closing with open follow-ups needs a reason"
    return None


def person(actor: Actor | None) -> str:
    """How a person is named in roles and lists: ``alice@10.0.0.5`` (the account, and where
    from when over SSH), as the audit pane shows them."""
    if actor is None:
        return ""
    return f"{actor.user}@{actor.client_ip}" if actor.client_ip else actor.user


def _who(record: AuditRecord) -> str:
    return person(record.actor)


def _when(record: AuditRecord) -> datetime | None:
    try:
        return record.when
    except ValueError:
        return None


def _title_of(message: str) -> str:
    """``incident.opened``'s message is "TITLE (severity S)" in logs of older consoles."""
    head, sep, _tail = message.rpartition(" (severity ")
    return head if sep else message


def _severity_of(message: str) -> str | None:
    _head, sep, tail = message.rpartition(" (severity ")
    return tail.rstrip(")") if sep else None


__all__ = [
    "DRILL_MITIGATED",
    "DRILL_RESOLVED",
    "FOLLOW_UP_RUNBOOK",
    "INCIDENT_ROLE",
    "INCIDENT_SEVERITY",
    "INCIDENT_STATUS",
    "ROLES",
    "SEVERITY_LEVELS",
    "STATUSES",
    "IncidentPicture",
    "Moment",
    "fold",
    "person",
    "transition_refusal",
]
