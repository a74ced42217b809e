"""What an informer delivers: ``Delta``s, coalesced per object and handed over in batches.

A UI applies many changes at once (once per frame), so deltas wait in ``PendingDeltas``, where
several changes to one object merge into one (added then deleted before anyone saw it: none),
until ``DeltaBatcher`` hands a batch over: ``flush_interval`` seconds after the first of them,
or at once when ``max_batch`` are waiting.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace

from .argo_views import AnalysisRunView, RolloutView
from .kube_views import DeploymentView, EventView, PodView, RevisionView

View = PodView | DeploymentView | RevisionView | EventView | RolloutView | AnalysisRunView
ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"


@dataclass(frozen=True)
class Delta:
    """One change to the cache: ``type`` is ADDED, MODIFIED or DELETED; ``view`` is the new
    view (the last known one for DELETED); ``at`` is when it was received (monotonic)."""

    kind: str
    type: str
    key: str  # namespace/name
    view: View
    at: float = 0.0


@dataclass
class PendingDeltas:
    """Deltas waiting for the next flush, coalesced per (kind, key), in arrival order."""

    items: dict[tuple[str, str], Delta] = field(default_factory=dict)

    def add(self, delta: Delta) -> None:
        """Queue ``delta``, merged with one already waiting for the same object."""
        slot = (delta.kind, delta.key)
        before = self.items.get(slot)
        if before is None:
            self.items[slot] = delta
            return
        merged = _coalesce(before.type, delta.type)
        if merged is None:  # added then deleted before anyone saw it
            del self.items[slot]
        else:
            self.items[slot] = replace(delta, type=merged)

    def take(self, limit: int | None = None) -> list[Delta]:
        """Take up to ``limit`` deltas (all when None), oldest first."""
        if limit is None or limit >= len(self.items):
            batch = list(self.items.values())
            self.items.clear()
            return batch
        keys = list(self.items)[:limit]
        return [self.items.pop(k) for k in keys]


def _coalesce(first: str, second: str) -> str | None:
    if first == ADDED:
        return None if second == DELETED else ADDED
    if first == DELETED:
        return MODIFIED if second != DELETED else DELETED
    return second  # MODIFIED then anything


class DeltaBatcher:
    """Pending deltas and the condition the informer's flush thread waits on."""

    def __init__(self, flush_interval: float, max_batch: int) -> None:
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self._pending = PendingDeltas()
        self._wake = threading.Condition(threading.Lock())

    def emit(self, deltas: list[Delta]) -> None:
        """Queue ``deltas``; wake the flusher when a batch starts or is full."""
        if not deltas:
            return
        with self._wake:
            was_empty = not self._pending.items
            for delta in deltas:
                self._pending.add(delta)
            # wake the flusher: the first items start a batch's timer, a full batch goes now
            if was_empty or len(self._pending.items) >= self.max_batch:
                self._wake.notify_all()

    def drain(self, limit: int | None = None) -> list[Delta]:
        """Take pending deltas now (pull mode)."""
        with self._wake:
            return self._pending.take(limit)

    def wake_all(self) -> None:
        """Wake a flusher waiting in ``next_batch`` (to stop, say)."""
        with self._wake:
            self._wake.notify_all()

    def next_batch(self, stop: threading.Event, idle_wait: float, push: bool) -> list[Delta]:
        """Wait up to ``idle_wait`` seconds for deltas; when ``push`` (someone takes batches)
        give the batch ``flush_interval`` seconds to fill up, then return it ([] if none)."""
        with self._wake:
            if not self._pending.items or not push:
                self._wake.wait(idle_wait)
            if push and self._pending.items:
                deadline = time.monotonic() + self.flush_interval
                while len(self._pending.items) < self.max_batch and not stop.is_set():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._wake.wait(remaining)
                return self._pending.take(self.max_batch)
        return []


__all__ = [
    "ADDED",
    "DELETED",
    "MODIFIED",
    "Delta",
    "DeltaBatcher",
    "PendingDeltas",
    "View",
]
