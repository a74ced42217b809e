"""The incident commands on the main screen: note, status, severity, roles, follow-ups.

Keys and palette entries come from the registry (console/domain/incident_commands.py); the
dialogs are ``ChoiceModal`` / ``FormModal`` (widgets/incident_forms.py); the records are
written by ``IncidentDesk`` (console/domain/incident_desk.py), which refuses what the incident's
state does not allow, with the message shown here. What the header shows (severity, status, the
"resolved — not closed" banner) comes from folding the audit records the screen tails
(``take``), so a change made at another console on the same incident shows here too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from console.domain.audit import AuditError, AuditRecord
from console.domain.incident import IncidentError
from console.domain.incident_desk import VERDICT_BEFORE, IncidentDesk
from console.domain.incident_status import (
    ROLES,
    SEVERITY_LEVELS,
    STATUSES,
    IncidentPicture,
)
from widgets.incident_forms import ChoiceModal, FormModal

if TYPE_CHECKING:
    from console.ui.main_screen import MainScreen

NOBODY = "-nobody-"
NEEDS = {
    "investigating": "reopen: needs a reason",
    "identified": "the cause is known",
    "mitigated": "the impact has stopped (a stop-gap is fine)",
    "resolved": "fixed for good: needs a resolution summary",
    "closed": "done: needs the follow-ups checked off (or a reason)",
}


class IncidentControl:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.picture = IncidentPicture()
        self._desk: IncidentDesk | None = None
        self._sent: dict[str, str] = {}  # deployment -> the verdict level last recorded here

    # ---- what the records say ----------------------------------------------------------------
    def take(self, records: Sequence[AuditRecord]) -> bool:
        """Fold newly tailed records in; True when the header should change."""
        changed = False
        for record in records:
            changed = self.picture.apply(record) or changed
        return changed

    @property
    def desk(self) -> IncidentDesk | None:
        session = self.screen.session
        if self._desk is None and session.checklist is not None and session.audit is not None:
            self._desk = IncidentDesk(session.checklist.incident, session.audit,
                                      session.checklist.actor, rates=self._rates)
        return self._desk

    def _rates(self) -> dict[str, list[float | None]]:
        live = self.screen.live
        out: dict[str, list[float | None]] = {}
        for key, history in dict(live.histories).items():
            values = list(history.error_ratio)
            sample = live.rates.get(key)
            if sample is not None:
                values.append(sample.error_ratio)
            out[key] = values
        return out

    def verdicts(self, levels: dict[str, tuple[str, str]],
                 error_ratios: dict[str, float | None]) -> None:
        """The rates panel's verdicts: a change from the last one on record (OK before any)
        is recorded, off the UI thread; UNKNOWN (no signals) is no change."""
        desk = self.desk
        if desk is None:
            return
        for key, (level, rule) in levels.items():
            if level == "UNKNOWN" or self._sent.get(key, VERDICT_BEFORE) == level:
                continue
            if self.picture.verdicts.get(key, VERDICT_BEFORE) == level:
                self._sent[key] = level
                continue
            self._sent[key] = level
            ratio = error_ratios.get(key)
            self.screen.run_worker(lambda key=key, level=level, rule=rule, ratio=ratio:
                                   desk.record_verdict(key, level, rule, ratio),
                                   thread=True, group="verdicts", exit_on_error=False)

    # ---- the commands ------------------------------------------------------------------------
    def start(self, name: str) -> None:
        if self.desk is None:
            self.screen.app.notify("the incident is not open yet", severity="warning")
            return
        getattr(self, "_" + name.replace("-", "_"))()

    def _note(self) -> None:
        self._ask(FormModal("Note for the timeline",
                            [("text", "Note", "what you saw, decided or told whom")],
                            required=("text",)),
                  lambda values: self._do(lambda desk: desk.add_note(values["text"])))

    def _severity(self) -> None:
        options = [(level, f"{level}{'  (now)' if level == self.picture.severity else ''}")
                   for level in SEVERITY_LEVELS]
        self._ask(ChoiceModal("Severity", options, current=self.picture.severity),
                  lambda level: self._do(lambda desk: desk.set_severity(level)))

    def _role(self) -> None:
        roles = self.picture.roles
        options = [(role, f"{label}: {roles.get(role) or 'nobody'}")
                   for role, label in ROLES.items()]
        self._ask(ChoiceModal("Assign a role", options), self._role_chosen)

    def _role_chosen(self, role: str) -> None:
        desk = self.desk
        assert desk is not None
        people = [(p, p) for p in desk.people()] + [(NOBODY, "nobody (clear the role)")]
        self._ask(ChoiceModal(f"Who is {ROLES[role]}?", people,
                              current=self.picture.roles.get(role)),
                  lambda who: self._do(lambda d: d.assign_role(role, "" if who == NOBODY
                                                               else who)))

    def _status(self) -> None:
        current = self.picture.status
        options = [(s, f"{s} — {NEEDS[s]}") for s in STATUSES if s != current]
        self._ask(ChoiceModal(f"Incident status (now {current})", options,
                              hint=" → ".join(STATUSES)), self._status_chosen)

    def _status_chosen(self, status: str) -> None:
        desk = self.desk
        assert desk is not None
        if status == "resolved":
            self._ask(FormModal("Resolve the incident",
                                [("summary", "Resolution summary", "what fixed it")],
                                hint="Resolving needs a summary of what fixed it.",
                                required=("summary",)),
                      lambda v: self._do(lambda d: d.move(status, summary=v["summary"])))
            return
        if status == "investigating" and self.picture.status != "investigating":
            self._ask(FormModal("Reopen: back to investigating",
                                [("reason", "Reason", "why it is not over")],
                                required=("reason",)),
                      lambda v: self._do(lambda d: d.move(status, reason=v["reason"])))
            return
        open_items = desk.open_follow_ups() if status == "closed" else []
        if open_items and self.picture.status == "resolved":
            self._ask(FormModal("Close with open follow-ups?",
                                [("reason", "Reason to close anyway", "e.g. tracked in JIRA-123")],
                                hint=f"Still open: {', '.join(open_items)}. Check them off (F) "
                                     "or give a reason to close anyway (Esc: keep it open).",
                                required=("reason",)),
                      lambda v: self._do(lambda d: d.move(status, reason=v["reason"],
                                                          force=True)))
            return
        self._do(lambda d: d.move(status))

    def _follow_ups(self) -> None:
        desk = self.desk
        assert desk is not None
        done = self.picture.follow_ups
        options = [(step, f"[{'x' if step in done else ' '}] {title}"
                    + (f"  ({done[step].who})" if step in done else ""))
                   for step, title in desk.follow_up_items]
        self._ask(ChoiceModal("Follow-Up checklist", options,
                              hint="Enter checks an item off (or back on)."),
                  lambda step: self._do(lambda d: d.toggle_follow_up(step)))

    # ---- helpers -----------------------------------------------------------------------------
    def _ask(self, modal: ChoiceModal | FormModal, then: Callable[..., None]) -> None:
        def answered(value: object) -> None:
            if value is not None:
                then(value)

        self.screen.app.push_screen(modal, answered)

    def _do(self, change: Callable[[IncidentDesk], str]) -> None:
        desk = self.desk
        assert desk is not None
        app = self.screen.app
        try:
            said = change(desk)
        except (IncidentError, AuditError) as error:
            app.notify(error.message, title="incident: refused", severity="error", timeout=10)
            return
        app.notify(said, title="incident")
        self.screen.tail_now()
