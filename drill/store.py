"""Object store of the drill cluster: resourceVersions, generations, and watch fan-out.

Stored objects are never mutated in place: every write stores a new dict, so lists and watch
events can hand out references safely. Callers that want to change an object use `mutate`.
"""

from __future__ import annotations

import asyncio
import copy
import random
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .clock import DrillClock
from .errors import already_exists, conflict, expired, invalid, not_found
from .resources import RESOURCES
from .selectors import Requirement, fields_match, labels_match

Obj = dict[str, Any]
Key = tuple[str, str, str]  # resource, namespace ("" when cluster-scoped), name
Listener = Callable[[str, str, Obj, Obj | None], None]


@dataclass
class WatchEvent:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    resource: str
    obj: Obj


@dataclass
class Watch:
    """One client's watch: a queue of events that match its filters."""

    resource: str
    namespace: str | None
    labels: list[Requirement]
    fields: list[tuple[str, str, str]]
    queue: asyncio.Queue[WatchEvent | None] = field(default_factory=asyncio.Queue)
    loop: asyncio.AbstractEventLoop | None = None

    def matches(self, event: WatchEvent) -> bool:
        if event.resource != self.resource:
            return False
        meta = event.obj.get("metadata", {})
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        return labels_match(self.labels, meta.get("labels")) and fields_match(
            self.fields, event.obj
        )

    def close(self) -> None:
        self.queue.put_nowait(None)


class Store:
    def __init__(self, clock: DrillClock, history_size: int = 20000, seed: int = 7) -> None:
        self.clock = clock
        self.rv = 1
        self._objects: dict[str, dict[tuple[str, str], Obj]] = {name: {} for name in RESOURCES}
        self._history: deque[WatchEvent] = deque(maxlen=history_size)
        self._horizon = 0  # events with rv <= horizon are gone from history
        self._watches: list[Watch] = []
        self._listeners: list[Listener] = []
        self._random = random.Random(seed)

    # ---- reading -------------------------------------------------------------------------
    def try_get(self, resource: str, namespace: str | None, name: str) -> Obj | None:
        return self._objects[resource].get((namespace or "", name))

    def get(self, resource: str, namespace: str | None, name: str) -> Obj:
        obj = self.try_get(resource, namespace, name)
        if obj is None:
            raise not_found(resource, RESOURCES[resource].group, name)
        return obj

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        labels: list[Requirement] | None = None,
        fields: list[tuple[str, str, str]] | None = None,
    ) -> list[Obj]:
        items = []
        for (ns, _name), obj in self._objects[resource].items():
            if namespace and ns != namespace:
                continue
            meta = obj["metadata"]
            if labels and not labels_match(labels, meta.get("labels")):
                continue
            if fields and not fields_match(fields, obj):
                continue
            items.append(obj)
        items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return items

    def count(self, resource: str) -> int:
        return len(self._objects[resource])

    # ---- writing -------------------------------------------------------------------------
    def new_uid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def random_suffix(self, length: int = 5) -> str:
        alphabet = "bcdfghjklmnpqrstvwxz2456789"
        return "".join(self._random.choice(alphabet) for _ in range(length))

    def create(self, resource: str, obj: Obj) -> Obj:
        rt = RESOURCES[resource]
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name"):
            prefix = meta.get("generateName")
            if not prefix:
                raise invalid(resource, rt.group, "", "metadata.name: Required value")
            meta["name"] = prefix + self.random_suffix()
        ns = meta.get("namespace", "") if rt.namespaced else ""
        if rt.namespaced and not ns:
            raise invalid(resource, rt.group, meta["name"], "metadata.namespace: Required value")
        key = (ns, meta["name"])
        if key in self._objects[resource]:
            raise already_exists(resource, rt.group, meta["name"])
        obj["apiVersion"] = rt.api_version
        obj["kind"] = rt.kind
        meta.setdefault("uid", self.new_uid())
        meta.setdefault("creationTimestamp", self.clock.stamp())
        meta.setdefault("labels", {})
        meta.setdefault("annotations", {})
        meta["generation"] = 1
        return self._commit(resource, key, "ADDED", obj, None)

    def update(
        self, resource: str, obj: Obj, *, check_rv: bool = True, subresource: str | None = None
    ) -> Obj:
        """Replace an object. Stale `metadata.resourceVersion` gives 409 when `check_rv`."""
        rt = RESOURCES[resource]
        meta = obj.get("metadata", {})
        ns = meta.get("namespace", "") if rt.namespaced else ""
        name = meta.get("name", "")
        old = self.get(resource, ns, name)
        sent_rv = meta.get("resourceVersion")
        if check_rv and sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
            raise conflict(resource, rt.group, name)
        new = copy.deepcopy(obj)
        new["apiVersion"] = rt.api_version
        new["kind"] = rt.kind
        new_meta = new.setdefault("metadata", {})
        for immutable in ("uid", "creationTimestamp", "namespace", "name", "generation"):
            if immutable in old["metadata"]:
                new_meta[immutable] = old["metadata"][immutable]
        if subresource == "status":
            new = {**copy.deepcopy(old), "status": new.get("status", {})}
        elif "status" in old and "status" in rt.subresources:
            new["status"] = copy.deepcopy(old["status"])
        if new.get("spec") != old.get("spec"):
            new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        if new == old:
            return old  # no-op writes do not bump resourceVersion, as in Kubernetes
        return self._commit(resource, (ns, name), "MODIFIED", new, old)

    def mutate(
        self, resource: str, namespace: str | None, name: str, change: Callable[[Obj], None]
    ) -> Obj:
        """Internal write (controllers): copy, change, store; bumps generation on spec change."""
        old = self.get(resource, namespace, name)
        new = copy.deepcopy(old)
        change(new)
        if new == old:
            return old
        if new.get("spec") != old.get("spec"):
            new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        return self._commit(resource, (namespace or "", name), "MODIFIED", new, old)

    def delete(self, resource: str, namespace: str | None, name: str) -> Obj:
        old = self.get(resource, namespace, name)
        del self._objects[resource][(namespace or "", name)]
        gone = copy.deepcopy(old)
        self.rv += 1
        gone["metadata"]["resourceVersion"] = str(self.rv)
        self._publish(WatchEvent(self.rv, "DELETED", resource, gone), old)
        return gone

    def _commit(
        self, resource: str, key: tuple[str, str], kind: str, obj: Obj, old: Obj | None
    ) -> Obj:
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self._objects[resource][key] = obj
        self._publish(WatchEvent(self.rv, kind, resource, obj), old)
        return obj

    def _publish(self, event: WatchEvent, old: Obj | None) -> None:
        if len(self._history) == self._history.maxlen:
            self._horizon = self._history[0].rv
        self._history.append(event)
        for watch in self._watches:
            if watch.matches(event):
                watch.queue.put_nowait(event)
        for listener in self._listeners:
            listener(event.type, event.resource, event.obj, old)

    # ---- watching ------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        """Synchronous callback on every write (controllers' informers)."""
        self._listeners.append(listener)

    def oldest_rv(self) -> int:
        return self._horizon

    def watch(
        self,
        resource: str,
        namespace: str | None,
        since: int | None,
        labels: list[Requirement] | None = None,
        fields: list[tuple[str, str, str]] | None = None,
    ) -> Watch:
        """Open a watch. `since=None` sends ADDED for every current match first.

        Raises 410 Expired when `since` is older than the history still kept.
        """
        watch = Watch(resource, namespace, labels or [], fields or [])
        if since is None:
            for obj in self.list(resource, namespace, labels, fields):
                rv = int(obj["metadata"]["resourceVersion"])
                watch.queue.put_nowait(WatchEvent(rv, "ADDED", resource, obj))
        else:
            if since < self._horizon:
                raise expired(str(since), self._horizon + 1)
            for event in self._history:
                if event.rv > since and watch.matches(event):
                    watch.queue.put_nowait(event)
        self._watches.append(watch)
        return watch

    def unwatch(self, watch: Watch) -> None:
        if watch in self._watches:
            self._watches.remove(watch)

    def close_watches(self) -> None:
        """Drop every open watch (fault injection: connections dropped mid-watch)."""
        for watch in list(self._watches):
            watch.close()
        self._watches.clear()

    def compact(self) -> None:
        """Forget all history (fault injection: every resume gets 410)."""
        if self._history:
            self._horizon = self._history[-1].rv
        self._history.clear()
