"""Container restarts over time, per pod: how many in the last hour, and how many were OOM kills.

A pod only reports its restart count and its last termination (reason, finishedAt); the count
going up between two views of the pod is a restart at that termination's time. A pod seen for
the first time with restarts counts its last termination only (earlier ones have no time on
record). A deleted pod's restarts leave with it: what counts is the workload running now.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.kube_views import PodView

WINDOW = timedelta(hours=1)
OOM = "OOMKilled"


@dataclass(frozen=True)
class Restart:
    at: datetime
    reason: str  # OOMKilled, Error, ...


@dataclass(frozen=True)
class RecentRestarts:
    """Restarts of a workload's pods within the window (``oom`` of them OOM kills)."""

    total: int = 0
    oom: int = 0
    latest: datetime | None = None


class _Times:
    """The restart times of one workload's pods, kept sorted: a window is counted with two
    bisections, whatever the number of restarts (a crash storm over 10,000 pods)."""

    def __init__(self) -> None:
        self.all: list[datetime] = []
        self.oom: list[datetime] = []

    def add(self, restart: Restart) -> None:
        insort(self.all, restart.at)
        if restart.reason == OOM:
            insort(self.oom, restart.at)

    def remove(self, restart: Restart) -> None:
        del self.all[bisect_left(self.all, restart.at)]
        if restart.reason == OOM:
            del self.oom[bisect_left(self.oom, restart.at)]

    def within(self, now: datetime, window: timedelta) -> RecentRestarts:
        """Those at most ``window`` before ``now`` (inclusive; later ones count too)."""
        start = now - window
        total = len(self.all) - bisect_left(self.all, start)
        oom = len(self.oom) - bisect_left(self.oom, start)
        return RecentRestarts(total, oom, self.all[-1] if total else None)


class RestartLog:
    """Restart moments per pod key, fed with each new view of a pod. Each pod keeps its
    last ``keep``; a count that jumps by more (a pod first seen after many restarts, a
    watch that missed some) records ``keep`` at the termination's time."""

    def __init__(self, keep: int = 64) -> None:
        self._keep = keep
        self._by_pod: dict[str, deque[Restart]] = {}
        self._groups: dict[str, _Times] = {}  # workload key -> its pods' restart times
        self._group_of: dict[str, str] = {}

    def observe(self, old: PodView | None, new: PodView, now: datetime | None,
                group: str = "") -> None:
        """A new view of a pod of workload ``group`` (``namespace/deployment``)."""
        before = old.restarts if old is not None else 0
        added = new.restarts - before
        if added <= 0:
            return
        at = new.terminated_at or now
        if at is None:
            return
        count = min(added, self._keep) if old is not None else 1
        key = new.key
        if self._group_of.get(key, group) != group:
            self.forget(key)  # the pod now counts for another workload
        log = self._by_pod.setdefault(key, deque())
        times = self._groups.setdefault(group, _Times())
        self._group_of[key] = group
        restart = Restart(at, new.last_termination)
        for _ in range(count):
            if len(log) == self._keep:
                times.remove(log.popleft())
            log.append(restart)
            times.add(restart)

    def forget(self, key: str) -> None:
        log = self._by_pod.pop(key, None)
        group = self._group_of.pop(key, None)
        if group is None or log is None:
            return
        times = self._groups[group]
        for restart in log:
            times.remove(restart)
        if not times.all:
            del self._groups[group]

    def of_group(self, group: str, now: datetime, window: timedelta = WINDOW) -> RecentRestarts:
        """Restarts of workload ``group``'s pods at most ``window`` before ``now``."""
        times = self._groups.get(group)
        return times.within(now, window) if times is not None else RecentRestarts()
