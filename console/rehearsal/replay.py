"""Replay a drill (or incident) from its audit log, at any speed.

``load_replay(path)`` reads an audit JSONL with ``console.domain.audit`` (well-formed records only, in
file order, which is the hash chain's order) and returns ``ReplayEntry`` items: each record
with its time relative to the first record. ``ReplayClock(entries, speed)`` iterates
``(delay_s, record)`` pairs: how long to wait before showing the record, scaled by ``speed``
(2.0 = twice as fast; 0 = as fast as possible, every delay 0). The iterator never sleeps —
the caller waits (``time.sleep``, a Textual timer, ``asyncio.sleep``); ``play`` is a blocking
helper for scripts.

Times between records that go backwards (two consoles appending with slightly different clocks)
count as no wait. ``max_gap_s`` caps long idle stretches so a replay does not stall on them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from console.domain.audit import AuditLog, AuditRecord


@dataclass(frozen=True)
class ReplayEntry:
    """One record and when it happened, in seconds after the first record."""

    offset_s: float
    record: AuditRecord


def entries(records: Iterable[AuditRecord]) -> list[ReplayEntry]:
    """Records (in the given order) with their offsets from the first one's time."""
    out: list[ReplayEntry] = []
    start = None
    for record in records:
        try:
            when = record.when
        except ValueError:
            continue
        if start is None:
            start = when
        out.append(ReplayEntry((when - start).total_seconds(), record))
    return out


def load_replay(path: Path | str) -> list[ReplayEntry]:
    """The records of an audit JSONL file with relative times (``AuditError`` if unreadable)."""
    return entries(AuditLog(path).records())


class ReplayClock:
    """Iterate ``(delay_s, record)``: the wait before each record, at ``speed``.

    ``speed`` > 0 divides the recorded gaps; ``speed == 0`` yields every record with no wait.
    ``max_gap_s`` (recorded seconds) caps any single gap before scaling.
    """

    def __init__(self, items: Sequence[ReplayEntry], speed: float = 1.0,
                 max_gap_s: float | None = None) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0 (0 = as fast as possible)")
        if max_gap_s is not None and max_gap_s < 0:
            raise ValueError("max_gap_s must be >= 0")
        self.items = list(items)
        self.speed = speed
        self.max_gap_s = max_gap_s

    def gaps(self) -> list[float]:
        """Recorded seconds between consecutive records (first: 0), clamped and capped."""
        out: list[float] = []
        previous = None
        for item in self.items:
            gap = 0.0 if previous is None else max(0.0, item.offset_s - previous)
            if self.max_gap_s is not None:
                gap = min(gap, self.max_gap_s)
            out.append(gap)
            previous = item.offset_s if previous is None else max(previous, item.offset_s)
        return out

    def delays(self) -> list[float]:
        if self.speed == 0:
            return [0.0] * len(self.items)
        return [gap / self.speed for gap in self.gaps()]

    @property
    def duration_s(self) -> float:
        """How long the whole replay takes at this speed."""
        return sum(self.delays())

    def __iter__(self) -> Iterator[tuple[float, AuditRecord]]:
        for delay, item in zip(self.delays(), self.items, strict=True):
            yield delay, item.record

    def __len__(self) -> int:
        return len(self.items)


def play(clock: ReplayClock, show: Callable[[AuditRecord], None],
         sleep: Callable[[float], None] = time.sleep) -> int:
    """Show every record after its delay (blocking); returns how many were shown."""
    shown = 0
    for delay, record in clock:
        if delay > 0:
            sleep(delay)
        show(record)
        shown += 1
    return shown


__all__ = ["ReplayClock", "ReplayEntry", "entries", "load_replay", "play"]
