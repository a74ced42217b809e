"""The informer's connection state: one state per watched kind, summed up for a status bar.

Each kind's watch is connecting, live or reconnecting; the informer as a whole is live when
every watch is, reconnecting while one is down, and stale once one has been down for
``stale_after`` seconds ("stale since 12:03:04: <error>"). ``StatusBoard`` keeps the states and
publishes every change of the sum as a ``WatchStatus``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import AdapterError

CONNECTING, LIVE, RECONNECTING, STALE, STOPPED = (
    "connecting", "live", "reconnecting", "stale", "stopped")


@dataclass(frozen=True)
class WatchStatus:
    """The informer's connection state, for a status bar."""

    state: str  # connecting | live | reconnecting | stale | stopped
    message: str  # "live", "reconnecting: <error>", "stale since 12:03:04: <error>"
    since: datetime | None = None  # went live, or went down (reconnecting / stale)
    error: AdapterError | None = None
    synced: bool = False  # every kind has been listed at least once

    @property
    def live(self) -> bool:
        """True when every watch is connected."""
        return self.state == LIVE


@dataclass
class KindState:
    """One kind's watch: its state, since when, and the error that took it down."""

    state: str = CONNECTING
    since: datetime | None = None
    error: AdapterError | None = None
    synced: bool = False


class StatusBoard:
    """Per-kind states and the one ``WatchStatus`` they add up to.

    ``notify(status)`` hears of every change (from the thread that made it); ``stop`` is the
    informer's stop event: once set, only ``stopped()`` publishes.
    """

    def __init__(self, kinds: Iterable[str], stale_after: float, stop: threading.Event,
                 notify: Callable[[WatchStatus], None]) -> None:
        self.stale_after = stale_after
        self._stop = stop
        self._notify = notify
        self._states = {k: KindState() for k in kinds}
        self._status = WatchStatus(CONNECTING, "connecting")
        self._synced = threading.Event()
        self._lock = threading.Lock()
        self._recompute_lock = threading.Lock()

    @property
    def status(self) -> WatchStatus:
        """The current overall connection state."""
        return self._status

    @property
    def synced(self) -> threading.Event:
        """Set once every kind has been listed."""
        return self._synced

    def stopped(self) -> None:
        """Publish the last status: "stopped"."""
        self.publish(WatchStatus(STOPPED, "stopped", datetime.now(UTC),
                                 synced=self._synced.is_set()))

    def publish(self, status: WatchStatus) -> None:
        """Make ``status`` the current one and tell the listener, unless nothing changed or
        the informer has stopped."""
        with self._lock:
            old = self._status
            if (old.state, old.message, old.since, old.synced) == (
                    status.state, status.message, status.since, status.synced):
                return
            if old.state == STOPPED:
                return
            self._status = status
        self._notify(status)

    def recompute(self) -> None:
        """Sum the kinds' states up into one status (live, connecting, reconnecting, or stale
        once a watch has been down ``stale_after`` seconds) and publish it."""
        with self._recompute_lock:  # keep publications in order
            self._recompute_locked()

    def _recompute_locked(self) -> None:
        if self._stop.is_set():
            return
        now = datetime.now(UTC)
        with self._lock:
            states = list(self._states.values())
        synced = self._synced.is_set()
        down = [s for s in states if s.state == RECONNECTING]
        if down:
            first = min(down, key=lambda s: s.since or now)
            since = first.since or now
            error = first.error
            reason = error.message if error else "connection lost"
            if (now - since).total_seconds() >= self.stale_after:
                local = since.astimezone().strftime("%H:%M:%S")
                self.publish(WatchStatus(STALE, f"stale since {local}: {reason}", since,
                                         error, synced))
            else:
                self.publish(WatchStatus(RECONNECTING, f"reconnecting: {reason}", since,
                                         error, synced))
        elif any(s.state == CONNECTING for s in states):
            self.publish(WatchStatus(CONNECTING, "connecting", None, None, synced))
        else:
            since = max((s.since for s in states if s.since), default=now)
            self.publish(WatchStatus(LIVE, "live", since, None, synced))

    def kind_live(self, kind: str) -> None:
        """``kind``'s watch is connected."""
        with self._lock:
            state = self._states[kind]
            changed = state.state != LIVE
            if changed:
                state.state, state.since, state.error = LIVE, datetime.now(UTC), None
        if changed:
            self.recompute()

    def kind_down(self, kind: str, error: AdapterError) -> None:
        """``kind``'s watch failed with ``error``; the informer retries it."""
        with self._lock:
            state = self._states[kind]
            if state.state != RECONNECTING:
                state.since = datetime.now(UTC)
            state.state, state.error = RECONNECTING, error
        self.recompute()

    def mark_synced(self, kind: str) -> None:
        """``kind`` has been listed; once every kind has, the informer is synced."""
        with self._lock:
            self._states[kind].synced = True
            done = all(s.synced for s in self._states.values())
        if done and not self._synced.is_set():
            self._synced.set()
            self.recompute()

    def idle_wait(self) -> float:
        """How long the flusher sleeps with nothing to deliver: the status only moves on by
        itself (reconnecting -> stale) while a watch is down; when all are live, rarely."""
        return 1.0 if self._status.state == LIVE else min(0.25, self.stale_after / 4)


__all__ = [
    "CONNECTING",
    "LIVE",
    "RECONNECTING",
    "STALE",
    "STOPPED",
    "KindState",
    "StatusBoard",
    "WatchStatus",
]
