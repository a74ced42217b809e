"""Messages from the console's worker threads to the main screen.

Workers never call into the screen: they post one of these (`post_message` is safe from any
thread) and the screen's handlers apply it on the UI thread. Wake-ups that only say "look
again" coalesce (`can_replace`) so a burst of them costs one handler call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from adapters.informer_status import WatchStatus
from console.domain.actions import ActionOutcome, ActionRequest


class DeltasArrived(Message):
    """The informer handed over a batch of deltas (they wait in the live data's queue)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DeltasArrived)


@dataclass
class ConnectionChanged(Message):
    """The watch's state changed (live, reconnecting, stale); ``link`` is the context's
    (a `ClusterLink`; None: the focused one)."""

    status: WatchStatus
    link: Any = None


@dataclass
class Connected(Message):
    """The session is connected: the incident is open and actions can run."""


@dataclass
class Banner(Message):
    """Something stops the console from working (cannot connect, namespace missing)."""

    message: str
    title: str = "cannot connect"


@dataclass
class Notice(Message):
    """A notification from a worker (its text is outside text: shown plain, redacted)."""

    message: str
    title: str = ""
    severity: str = "information"
    timeout: float = 5.0


class RatesFetched(Message):
    """New rates (and maybe histories) are in the live data: redraw the rates panel."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RatesFetched)


@dataclass
class PermissionsChanged(Message):
    """The RBAC probe found a different set of denied actions: refresh the footer."""


@dataclass
class PrecheckDone(Message):
    """An action's pre-check finished: refused with ``reason``, or ready to confirm."""

    request: ActionRequest
    reason: str | None


@dataclass
class ActionProgress(Message):
    message: str
    fraction: float | None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ActionProgress)


@dataclass
class ActionFinished(Message):
    request: ActionRequest
    outcome: ActionOutcome
    step: str | None = None  # the runbook step it ran, if any


@dataclass
class ShowText(Message):
    """Logs or events to show in a text modal."""

    title: str
    text: str


@dataclass
class UndoHistory(Message):
    """A deployment's rollout history and template diffs, for the undo modal."""

    deployment: Any
    history: list[Any]
    diffs: dict[int, str]
    context: str = ""  # the deployment's context (a console on several)
