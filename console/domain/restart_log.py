"""Container restarts over time, per pod: how many in the last hour, and how many were OOM kills.

A pod only reports its restart count and its last termination (reason, finishedAt); the count
going up between two views of the pod is a restart at that termination's time. A pod seen for
the first time with restarts counts its last termination only (earlier ones have no time on
record). A deleted pod's restarts leave with it: what counts is the workload running now.
"""

from __future__ import annotations

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


class RestartLog:
    """Restart moments per pod key, fed with each new view of a pod."""

    def __init__(self, keep: int = 64) -> None:
        self._keep = keep
        self._by_pod: dict[str, deque[Restart]] = {}
        self._groups: dict[str, set[str]] = {}  # workload key -> its pods with restarts
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
        count = added if old is not None else 1
        log = self._by_pod.setdefault(new.key, deque(maxlen=self._keep))
        log.extend(Restart(at, new.last_termination) for _ in range(count))
        self._groups.setdefault(group, set()).add(new.key)
        self._group_of[new.key] = group

    def forget(self, key: str) -> None:
        self._by_pod.pop(key, None)
        group = self._group_of.pop(key, None)
        if group is not None:
            members = self._groups[group]
            members.discard(key)
            if not members:
                del self._groups[group]

    def of_group(self, group: str, now: datetime, window: timedelta = WINDOW) -> RecentRestarts:
        """Restarts of workload ``group``'s pods (only those that ever restarted are looked
        at: O(restarted pods), not O(pods))."""
        return self.recent(list(self._groups.get(group, ())), now, window)

    def recent(self, keys: list[str], now: datetime, window: timedelta = WINDOW) -> RecentRestarts:
        """Restarts of the pods ``keys`` at most ``window`` before ``now`` (inclusive)."""
        total = oom = 0
        latest: datetime | None = None
        for key in keys:
            for restart in self._by_pod.get(key, ()):
                if now - restart.at <= window:
                    total += 1
                    oom += restart.reason == OOM
                    latest = restart.at if latest is None or restart.at > latest else latest
        return RecentRestarts(total, oom, latest)
