"""The informer's cache: views by kind and key, kept from list pages and watch events.

``InformerCache`` turns objects into views (``kube_views``, ``argo_views``), keeps them by
``namespace/name`` and emits ``Delta`` batches for every change (``informer_deltas``): one page
handed over as it arrives (a first sync), a whole list replacing the cache (a relist), or one
watch event. Pods know their revision through their ReplicaSet, so a ReplicaSet's change
refreshes its pods. ``Informer`` (informer.py) adds the threads that list and watch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from .argo_views import analysis_run_view, rollout_view
from .informer_deltas import ADDED, DELETED, MODIFIED, Delta, DeltaBatcher, View
from .kube_views import (
    DeploymentView,
    PodView,
    RevisionView,
    deployment_view,
    event_view,
    pod_view,
    revision_view,
)

ARGO_VIEWS: dict[str, Callable[[Any], View]] = {"rollouts": rollout_view,
                                                 "analysisruns": analysis_run_view}


def _key(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"


class InformerCache:
    """Views of ``kinds`` by key, and the deltas of their changes. ``clock``: "now" for the
    views' ages, else ``server_now``."""

    def __init__(self, kinds: Iterable[str], clock: Callable[[], datetime] | None,
                 server_now: Callable[[], datetime], flush_interval: float,
                 max_batch: int) -> None:
        self.clock = clock
        self.server_now = server_now
        self._cache: dict[str, dict[str, View]] = {k: {} for k in kinds}
        self._pods_by_rs: dict[str, set[str]] = {}
        self._lock = threading.RLock()
        self._batches = DeltaBatcher(flush_interval, max_batch)

    # ---- the cache --------------------------------------------------------------------
    def get(self, kind: str, key: str) -> View | None:
        """A cached view by ``namespace/name``."""
        with self._lock:
            return self._cache[kind].get(key)

    def items(self, kind: str) -> dict[str, View]:
        """A copy of one kind's cache, keyed by ``namespace/name``."""
        with self._lock:
            return dict(self._cache[kind])

    def pods(self) -> list[PodView]:
        """Cached pods."""
        return [v for v in self.items("pods").values() if isinstance(v, PodView)]

    def deployments(self) -> list[DeploymentView]:
        """Cached deployments."""
        return [v for v in self.items("deployments").values() if isinstance(v, DeploymentView)]

    def drain(self, limit: int | None = None) -> list[Delta]:
        """Take pending deltas (pull mode, when no ``on_deltas`` was given)."""
        return self._batches.drain(limit)

    # ---- views ------------------------------------------------------------------------
    def _now(self) -> datetime:
        return self.clock() if self.clock is not None else self.server_now()

    def _build(self, kind: str, obj: Mapping[str, Any]) -> View:
        if kind == "pods":
            owner_rs = None
            if "replicasets" in self._cache:
                for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
                    if ref.get("controller") and ref.get("kind") == "ReplicaSet":
                        ns = (obj.get("metadata") or {}).get("namespace") or ""
                        found = self._cache["replicasets"].get(f"{ns}/{ref.get('name')}")
                        owner_rs = found if isinstance(found, RevisionView) else None
            return pod_view(obj, replicaset=owner_rs, now=self._now())
        if kind == "deployments":
            return deployment_view(obj, now=self._now())
        if kind == "replicasets":
            return revision_view(obj)
        if kind in ARGO_VIEWS:
            return ARGO_VIEWS[kind](obj)
        return event_view(obj, now=self._now())

    def _index_pod(self, key: str, old: View | None, new: View | None) -> None:
        if isinstance(old, PodView) and old.replicaset:
            keys = self._pods_by_rs.get(f"{old.namespace}/{old.replicaset}")
            if keys is not None:
                keys.discard(key)
        if isinstance(new, PodView) and new.replicaset:
            self._pods_by_rs.setdefault(f"{new.namespace}/{new.replicaset}", set()).add(key)

    def _refresh_pods_of(self, rs: RevisionView, at: float) -> list[Delta]:
        """A ReplicaSet's revision changed (rollback reuses an old RS): update its pods."""
        if "pods" not in self._cache:
            return []
        deltas = []
        pods = self._cache["pods"]
        revision = str(rs.revision) if rs.revision is not None else None
        for key in list(self._pods_by_rs.get(rs.key, ())):
            pod = pods.get(key)
            if not isinstance(pod, PodView):
                continue
            updated = replace(pod, revision=revision or pod.pod_template_hash,
                              deployment=rs.deployment or pod.deployment)
            if updated != pod:
                pods[key] = updated
                deltas.append(Delta("pods", MODIFIED, key, updated, at))
        return deltas

    def _apply(self, kind: str, event_type: str, obj: Mapping[str, Any]) -> None:
        at = time.monotonic()
        key = _key(obj)
        with self._lock:
            cache = self._cache[kind]
            old = cache.get(key)
            view = self._build(kind, obj)
            deltas: list[Delta] = []
            if event_type == DELETED:
                cache.pop(key, None)
                deltas.append(Delta(kind, DELETED, key, view, at))
            else:
                cache[key] = view
                deltas.append(Delta(kind, MODIFIED if old is not None else ADDED, key, view, at))
            if kind == "pods":
                self._index_pod(key, old, None if event_type == DELETED else view)
            elif kind == "replicasets" and event_type != DELETED and isinstance(
                    view, RevisionView):
                if not isinstance(old, RevisionView) or (old.revision, old.deployment) != (
                        view.revision, view.deployment):
                    deltas.extend(self._refresh_pods_of(view, at))
        self._batches.emit(deltas)

    def _replace(self, kind: str, fresh: dict[str, View]) -> None:
        """A (re)list: the new truth. Emit ADDED / MODIFIED (resourceVersion changed) /
        DELETED (gone meanwhile) against the cache, like client-go's Replace."""
        at = time.monotonic()
        with self._lock:
            cache = self._cache[kind]
            deltas: list[Delta] = []
            for key, view in fresh.items():
                old = cache.get(key)
                if old is None:
                    deltas.append(Delta(kind, ADDED, key, view, at))
                elif old.resource_version != view.resource_version or old != view:
                    deltas.append(Delta(kind, MODIFIED, key, view, at))
            for key, old in cache.items():
                if key not in fresh:
                    deltas.append(Delta(kind, DELETED, key, old, at))
            if kind == "pods":
                self._pods_by_rs.clear()
                for key, view in fresh.items():
                    self._index_pod(key, None, view)
            self._cache[kind] = fresh
            if kind == "replicasets":
                for view in fresh.values():
                    if isinstance(view, RevisionView):
                        deltas.extend(self._refresh_pods_of(view, at))
        self._batches.emit(deltas)

    def _add_page(self, kind: str, views: dict[str, View]) -> None:
        """One page of the first list into the (so far empty) cache, handed over at once."""
        at = time.monotonic()
        with self._lock:
            cache = self._cache[kind]
            deltas = [Delta(kind, ADDED, key, view, at) for key, view in views.items()
                      if key not in cache]
            cache.update(views)
            if kind == "pods":
                for key, view in views.items():
                    self._index_pod(key, None, view)
            elif kind == "replicasets":
                for view in views.values():
                    if isinstance(view, RevisionView):
                        deltas.extend(self._refresh_pods_of(view, at))
        self._batches.emit(deltas)

    def _build_page(self, kind: str, items: list[Mapping[str, Any]]) -> dict[str, View]:
        with self._lock:  # pods read the ReplicaSet cache for their revision
            return {_key(obj): self._build(kind, obj) for obj in items}


__all__ = ["ARGO_VIEWS", "InformerCache"]
