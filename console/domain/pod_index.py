"""The console's pods, indexed by deployment, with the advisor's counts kept up to date.

The rates panel asks, for every deployment on every batch of watch deltas, how many of its
pods are crash-looping and how many are ready. Scanning every pod for every deployment is
O(pods x deployments) per batch (10,000 pods: milliseconds each time); here each upsert or
delete adjusts the counts of the one deployment it belongs to, O(1) per delta.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from adapters.kube_views import PodView
from console.domain.restart_log import RecentRestarts, RestartLog

CRASHING = frozenset({"CrashLoopBackOff", "OOMKilled", "Error", "ImagePullBackOff",
                      "ErrImagePull"})


def deployment_key(pod: PodView) -> str:
    """``namespace/deployment`` of a pod ("namespace/" for a bare pod)."""
    return f"{pod.namespace}/{pod.deployment}"


def is_ready(pod: PodView) -> bool:
    ready, _, total = pod.ready.partition("/")
    return ready == (total or ready)


@dataclass(slots=True)
class PodCounts:
    """Counts over one deployment's pods that are not being deleted."""

    total: int = 0
    crashing: int = 0
    ready: int = 0

    def add(self, pod: PodView, sign: int) -> None:
        if pod.deleting:
            return
        self.total += sign
        if pod.status in CRASHING:
            self.crashing += sign
        if is_ready(pod):
            self.ready += sign


class PodIndex:
    """Pods by key (each view held once) and their keys by deployment key;
    ``counts(deployment)`` in O(1)."""

    def __init__(self) -> None:
        self._pods: dict[str, PodView] = {}
        self._by_deployment: dict[str, set[str]] = {}
        self._counts: dict[str, PodCounts] = {}
        self.restarts = RestartLog()
        self.changes = 0  # upserts and deletes so far (a search's cached words are stale)
        self.memberships = 0  # pods added or removed so far (a search's name order is stale)

    def restarts_within(self, key: str, now: datetime) -> RecentRestarts:
        """Restarts of ``namespace/deployment``'s pods in the hour before ``now``."""
        return self.restarts.of_group(key, now)

    # ---- a read-only mapping of key -> PodView ------------------------------------------
    def __len__(self) -> int:
        return len(self._pods)

    def __contains__(self, key: object) -> bool:
        return key in self._pods

    def __getitem__(self, key: str) -> PodView:
        return self._pods[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pods)

    def get(self, key: str | None) -> PodView | None:
        return self._pods.get(key) if key is not None else None

    def values(self) -> Iterator[PodView]:
        return iter(self._pods.values())

    # ---- changes ------------------------------------------------------------------------
    def upsert(self, pod: PodView, now: datetime | None = None) -> None:
        key = pod.key
        old = self._pods.get(key)
        self.restarts.observe(old, pod, now, deployment_key(pod))
        self.changes += 1
        if old is not None:
            self._forget(key, old)
        else:
            self.memberships += 1
        self._pods[key] = pod
        group = deployment_key(pod)
        self._by_deployment.setdefault(group, set()).add(key)
        counts = self._counts.get(group)
        if counts is None:
            counts = self._counts[group] = PodCounts()
        counts.add(pod, 1)

    def delete(self, key: str) -> None:
        old = self._pods.pop(key, None)
        self.restarts.forget(key)
        if old is not None:
            self.changes += 1
            self.memberships += 1
            self._forget(key, old)

    def _forget(self, key: str, pod: PodView) -> None:
        group = deployment_key(pod)
        members = self._by_deployment.get(group)
        if members is not None:
            members.discard(key)
            if not members:
                del self._by_deployment[group]
        counts = self._counts.get(group)
        if counts is not None:
            counts.add(pod, -1)
            if not members:
                del self._counts[group]

    # ---- queries ------------------------------------------------------------------------
    def of_deployment(self, key: str) -> list[PodView]:
        """The pods of ``namespace/deployment``, in no particular order."""
        pods = self._pods
        return [pods[k] for k in self._by_deployment.get(key, ())]

    def memory_limit(self, key: str) -> int | None:
        """The memory limit one of ``namespace/deployment``'s pods declares (None: none)."""
        for pod_key in self._by_deployment.get(key, ()):
            return self._pods[pod_key].memory_limit
        return None

    def counts(self, key: str) -> PodCounts:
        """A copy of the counts of ``namespace/deployment`` (zeros when it has no pods)."""
        counts = self._counts.get(key)
        return PodCounts(counts.total, counts.crashing, counts.ready) if counts else PodCounts()
