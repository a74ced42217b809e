"""The control plane's drill-time cursor and its timers.

The simulation advances in steps: every timer that falls due is run at its own due time, so a
large jump of the drill clock (speed 3600 moves 180 drill seconds per tick) replays every
transition in order with faithful timestamps instead of collapsing them into one instant.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

from .clock import DrillClock, parse_rfc3339, rfc3339

Action = Callable[[], None]


class Timeline:
    """Simulated time (drill seconds since the clock's start) plus a heap of timed actions."""

    def __init__(self, clock: DrillClock) -> None:
        self.clock = clock
        elapsed = clock.elapsed()
        start = clock.now() - timedelta(seconds=elapsed)
        # The clock's start is a whole second; reading now() and elapsed() apart can shift it
        # by a hair, so snap back to the second.
        if start.microsecond >= 500_000:
            start += timedelta(seconds=1)
        self.epoch: datetime = start.replace(microsecond=0)
        self.now: float = elapsed
        self.stepping = False  # True while the control plane runs a tick
        self.horizon: float = elapsed  # where the running tick will stop
        self._heap: list[tuple[float, int, Action]] = []
        self._seq = itertools.count()

    # ---- time ------------------------------------------------------------------------------
    def current(self) -> float:
        """The time to act at: the cursor during a tick, else the clock (never behind)."""
        if self.stepping:
            return self.now
        return max(self.now, self.clock.elapsed())

    def moment(self, t: float | None = None) -> datetime:
        return self.epoch + timedelta(seconds=self.current() if t is None else t)

    def stamp(self, t: float | None = None) -> str:
        return rfc3339(self.moment(t))

    def seconds(self, stamp: str) -> float:
        """Drill seconds of an RFC3339 timestamp."""
        return (parse_rfc3339(stamp) - self.epoch).total_seconds()

    # ---- timers ----------------------------------------------------------------------------
    def schedule(self, due: float, action: Action) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), action))

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, until: float, limit: int | None = None) -> list[Action]:
        """Remove and return, in order, the actions due at or before `until` (at most
        `limit` of them)."""
        due: list[Action] = []
        while self._heap and self._heap[0][0] <= until and (limit is None or len(due) < limit):
            due.append(heapq.heappop(self._heap)[2])
        return due

    def __len__(self) -> int:
        return len(self._heap)
