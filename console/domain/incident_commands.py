"""The registry of incident commands: what the operator does to the incident, not the cluster.

Severity, notes, roles, status and the Follow-Up checklist change no cluster object: they have
no RBAC permission, pre-check, confirm modal, rollout or two-person rule, so they are not
``ActionKind``s (console/domain/action_kinds.py). They are declared here once, the same way:
the key, footer label, command palette title and help come from this list
(console/ui/main_screen.py and console/ui/app.py read it), and ``IncidentDesk``
(console/domain/incident_desk.py) writes their audit records. They work in read-only mode too:
writing in the incident's record changes nothing on the cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class IncidentCommand:
    name: str  # note | severity | role | status | follow-ups
    key: str  # the key on the main screen (a Textual key name)
    label: str  # footer label
    title: str  # command palette title
    help: str  # command palette and help line (starts with the key as shown)
    show: bool = False  # in the footer
    order: int = 100

    @property
    def action(self) -> str:
        """The Textual action name of the key: ``incident('note')``."""
        return f"incident({self.name!r})"

    @property
    def shown_key(self) -> str:
        return {"exclamation_mark": "!"}.get(self.key, self.key)


COMMANDS: tuple[IncidentCommand, ...] = (
    IncidentCommand("note", "N", "Note", "Add a note to the timeline",
                    "N: a note in the incident's timeline (what you saw, decided, told)",
                    order=10),
    IncidentCommand("status", "I", "Status", "Incident status",
                    "I: move the incident on: identified, mitigated, resolved (with a "
                    "summary), closed", order=20),
    IncidentCommand("severity", "exclamation_mark", "Severity", "Change severity",
                    "!: the incident's severity: critical, high, medium, low", order=30),
    IncidentCommand("role", "R", "Roles", "Assign roles",
                    "R: incident commander, operations, communications: who does what",
                    order=40),
    IncidentCommand("follow-ups", "F", "Follow-ups", "Follow-up checklist",
                    "F: the Follow-Up checklist (root cause, fix, prevention, post-mortem, "
                    "team notified); closing needs it done", order=50),
)


def commands() -> Iterator[IncidentCommand]:
    return iter(sorted(COMMANDS, key=lambda c: c.order))


def get(name: str) -> IncidentCommand | None:
    return next((c for c in COMMANDS if c.name == name), None)


__all__ = ["COMMANDS", "IncidentCommand", "commands", "get"]
