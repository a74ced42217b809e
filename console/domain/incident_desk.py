"""Changing the incident itself: severity, notes, roles, status, follow-ups (no cluster change).

Each change is checked against what the audit log says now (``incident_status.fold``), under
the incident's lock so two consoles cannot both move the status at once, and written as one
audit record (redacted by ``AuditLog.append`` like every record). Severity and closing are
also kept in the incident file (``--resume`` and ``warroom incidents list`` read it). A
refused change raises ``IncidentRefused`` with the message to show; nothing is written.

``rates`` is a snapshot of the error ratios the console shows (deployment -> recent values),
stored with status and severity changes so the post-mortem can show the rates at those moments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from console.domain.actor import Actor
from console.domain.audit import ADVISOR_VERDICT, NOTE, RUNBOOK_STEP, AuditLog
from console.domain.durations import format_elapsed
from console.domain.incident import IncidentError, SharedIncident
from console.domain.incident_status import (
    FOLLOW_UP_RUNBOOK,
    INCIDENT_ROLE,
    INCIDENT_SEVERITY,
    INCIDENT_STATUS,
    ROLES,
    SEVERITY_LEVELS,
    IncidentPicture,
    fold,
    person,
    transition_refusal,
)
from console.domain.statefiles import lock_file

NOTE_LIMIT = 2000  # characters of one note
VERDICT_BEFORE = "OK"  # a deployment's verdict before any is recorded
# the handbook's "Rollback Checklist › Follow-Up" (runbooks/follow-up.yaml has the same ids)
HANDBOOK_FOLLOW_UPS: tuple[tuple[str, str], ...] = (
    ("root-cause-identified", "Root cause identified"),
    ("fix-implemented", "Fix implemented and tested"),
    ("prevention-measures-added", "Prevention measures added"),
    ("post-mortem-documented", "Post-mortem documented"),
    ("team-notified-of-resolution", "Team notified of resolution"),
)
Rates = Mapping[str, Sequence[float | None]]


class IncidentRefused(IncidentError):
    """The change is not allowed now; ``message`` says why."""


class IncidentDesk:
    def __init__(self, incident: SharedIncident, audit: AuditLog, actor: Actor,
                 follow_ups: Sequence[tuple[str, str]] = HANDBOOK_FOLLOW_UPS,
                 rates: Callable[[], Rates] | None = None) -> None:
        self.incident = incident
        self.audit = audit
        self.actor = actor
        self.follow_up_items = tuple(follow_ups)
        self._rates = rates or (lambda: {})

    # ---- reading ---------------------------------------------------------------------------
    def picture(self) -> IncidentPicture:
        return fold(self.audit.records())

    def open_follow_ups(self, picture: IncidentPicture | None = None) -> list[str]:
        done = (picture or self.picture()).follow_ups
        return [title for step, title in self.follow_up_items if step not in done]

    def people(self) -> list[str]:
        """Everyone on record in this incident, this console's person first."""
        me = person(self.actor)
        return [me, *(p for p in self.picture().people if p != me)]

    # ---- changing --------------------------------------------------------------------------
    def set_severity(self, severity: str) -> str:
        if severity not in SEVERITY_LEVELS:
            raise IncidentRefused(f"severity is one of {', '.join(SEVERITY_LEVELS)}, "
                                  f"not {severity!r}")
        with self._locked():
            picture = self.picture()
            self._refuse_if_closed(picture)
            if picture.severity == severity:
                raise IncidentRefused(f"the severity is already {severity}")
            self.audit.append(INCIDENT_SEVERITY, target=self.incident.id,
                              params={"severity": severity, "was": picture.severity,
                                      "rates": self._snapshot()},
                              message=f"severity {picture.severity} → {severity}",
                              actor=self.actor)
            self.incident.update(lambda i: setattr(i, "severity", severity))
        return f"severity is now {severity}"

    def add_note(self, text: str) -> str:
        text = text.strip()
        if not text:
            raise IncidentRefused("an empty note is not recorded")
        if len(text) > NOTE_LIMIT:
            raise IncidentRefused(f"a note is at most {NOTE_LIMIT} characters "
                                  f"({len(text)} given)")
        self._refuse_if_closed(self.picture())
        self.audit.append(NOTE, target=self.incident.id, message=text, actor=self.actor)
        return "note added to the timeline"

    def assign_role(self, role: str, who: str) -> str:
        if role not in ROLES:
            raise IncidentRefused(f"role is one of {', '.join(ROLES)}, not {role!r}")
        with self._locked():
            picture = self.picture()
            self._refuse_if_closed(picture)
            if picture.roles.get(role, "") == who:
                raise IncidentRefused(f"{who or 'nobody'} is already {ROLES[role]}")
            self.audit.append(INCIDENT_ROLE, target=self.incident.id,
                              params={"role": role, "person": who,
                                      "was": picture.roles.get(role, "")},
                              message=f"{ROLES[role]}: {who or 'nobody'}", actor=self.actor)
        return f"{ROLES[role]}: {who or 'nobody'}"

    def move(self, status: str, *, summary: str = "", reason: str = "",
             force: bool = False) -> str:
        """Move the status (see ``transition_refusal`` for what each move needs)."""
        with self._locked():
            picture = self.picture()
            missing = self.open_follow_ups(picture) if status == "closed" else []
            refusal = transition_refusal(picture, status, summary=summary, reason=reason,
                                         open_follow_ups=missing, force=force)
            if refusal:
                raise IncidentRefused(refusal)
            params: dict[str, Any] = {"status": status, "was": picture.status,
                                      "rates": self._snapshot()}
            if summary.strip():
                params["summary"] = summary.strip()
            if reason.strip():
                params["reason"] = reason.strip()
            if missing:
                params["open_follow_ups"] = missing
            message = f"status {picture.status} → {status}"
            if summary.strip() or reason.strip():
                message += f": {summary.strip() or reason.strip()}"
            record = self.audit.append(INCIDENT_STATUS, target=self.incident.id,
                                       params=params, message=message, actor=self.actor)
            if status == "closed":
                self.incident.close(self.actor)
        since = picture.since_opened(record.when)
        if status in ("mitigated", "resolved") and since is not None:
            return f"incident {status}: {format_elapsed(since)} after it was opened"
        return f"incident {status}"

    def toggle_follow_up(self, step: str) -> str:
        titles = dict(self.follow_up_items)
        if step not in titles:
            raise IncidentRefused(f"no follow-up {step!r}")
        with self._locked():
            picture = self.picture()
            self._refuse_if_closed(picture)
            status = "pending" if step in picture.follow_ups else "done"
            self.audit.append(RUNBOOK_STEP, action="manual", target=step,
                              params={"runbook": FOLLOW_UP_RUNBOOK, "step": step,
                                      "status": status},
                              result={"status": status},
                              message=f"{'checked off' if status == 'done' else 'unchecked'}: "
                                      f"{titles[step]}", actor=self.actor)
        return f"{titles[step]}: {status}"

    def record_verdict(self, deployment: str, level: str, rule: str,
                       error_ratio: float | None = None) -> bool:
        """Record that ``deployment``'s verdict changed to ``level`` (from the last one on
        record; OK before any). False when the log already says so (another console was first,
        or nothing changed) or the incident is closed."""
        with self._locked():
            picture = self.picture()
            was = picture.verdicts.get(deployment, VERDICT_BEFORE)
            if was == level or picture.status == "closed":
                return False
            snapshot = self._snapshot()
            self.audit.append(ADVISOR_VERDICT, target=deployment,
                              params={"level": level, "was": was, "rule": rule,
                                      "error_ratio": error_ratio,
                                      "rates": {deployment: snapshot.get(deployment, [])}},
                              message=f"{deployment}: {was} → {level} ({rule})",
                              actor=self.actor)
        return True

    # ---- helpers ---------------------------------------------------------------------------
    def _locked(self) -> Any:
        return lock_file(self.incident.path.with_suffix(".desk.lock"))

    @staticmethod
    def _refuse_if_closed(picture: IncidentPicture) -> None:
        if picture.status == "closed":
            raise IncidentRefused("the incident is closed: nothing more is recorded in it")

    def _snapshot(self) -> dict[str, list[float | None]]:
        try:
            rates = self._rates()
        except Exception:  # noqa: BLE001 - a snapshot is a nicety; the record matters
            return {}
        return {key: [None if v is None else round(float(v), 5) for v in values][-30:]
                for key, values in rates.items()}


__all__ = ["HANDBOOK_FOLLOW_UPS", "IncidentDesk", "IncidentRefused"]
