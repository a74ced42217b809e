"""Which changes of the watch connection deserve a notification, and in what words.

The header always shows the state (● live, ◌ reconnecting, ✖ stale since T); a notification
says *why* once per outage (the adapter's message: unreachable, credentials rejected, ...),
again when the data goes stale, and once when it is live again. Repeated reconnection
attempts stay quiet.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.informer_status import WatchStatus


@dataclass(frozen=True)
class Note:
    message: str
    title: str
    severity: str  # information | warning | error
    timeout: float


class ConnectionNotes:
    """Feed every ``WatchStatus``; ``on_status`` returns a ``Note`` when one is due."""

    def __init__(self) -> None:
        self._down = False
        self._stale = False
        self._seen_live = False

    def on_status(self, status: WatchStatus) -> Note | None:
        reason = status.error.message if status.error is not None else "connection lost"
        if status.state == "live":
            was_down, self._down, self._stale = self._down, False, False
            self._seen_live = True
            if was_down:
                return Note("the watch is live again; the tables are current",
                            "reconnected", "information", 6)
            return None
        if status.state == "reconnecting" and not self._down:
            self._down = True
            what = "lost the connection" if self._seen_live else "cannot load the cluster"
            return Note(f"{what}: {reason} (retrying)", "reconnecting", "warning", 10)
        if status.state == "stale" and not self._stale:
            self._down = self._stale = True
            since = status.since.astimezone().strftime("%H:%M:%S") if status.since else "?"
            return Note(f"data is stale since {since}: do not decide on it. {reason}",
                        "stale", "error", 15)
        return None
