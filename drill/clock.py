"""The drill clock: cluster time that can run faster than real time, pause, or stand still."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class DrillClock:
    """Drill time = start + (real time elapsed while running) x speed.

    `speed=0` freezes the clock at `start`, which snapshot tests use for deterministic ages.
    """

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._speed = speed
        self._start = (start or datetime.now(UTC)).replace(microsecond=0)
        self._anchor_real = time.monotonic()
        self._anchor_drill = 0.0  # drill seconds since start at the anchor
        self._paused = False

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    def elapsed(self) -> float:
        """Drill seconds since the clock started."""
        if self._paused:
            return self._anchor_drill
        return self._anchor_drill + (time.monotonic() - self._anchor_real) * self._speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.elapsed())

    def stamp(self) -> str:
        """Current drill time as RFC3339 with Z, as Kubernetes writes timestamps."""
        return rfc3339(self.now())

    def _reanchor(self) -> None:
        self._anchor_drill = self.elapsed()
        self._anchor_real = time.monotonic()

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._reanchor()
        self._speed = speed

    def pause(self) -> None:
        if not self._paused:
            self._reanchor()
            self._paused = True

    def resume(self) -> None:
        if self._paused:
            self._anchor_real = time.monotonic()
            self._paused = False

    def advance(self, seconds: float) -> None:
        """Jump drill time forward (tests and facilitators)."""
        self._reanchor()
        self._anchor_drill += seconds


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
