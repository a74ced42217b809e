"""core/v1 Events of the drill cluster, recorded the way client-go's event recorder does.

A repeat of the same (object, type, reason, message, source) bumps `count` and
`lastTimestamp` of the existing Event instead of creating another, as the event correlator
does. The number of Events is capped; the oldest are deleted first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .clock import DrillClock, rfc3339
from .store import Store

Obj = dict[str, Any]
EventKey = tuple[str, str, str, str, str, str]  # uid, fieldPath, type, reason, message, component

DEFAULT_MAX_EVENTS = 5000


class EventRecorder:
    """Creates and aggregates Events for objects in the store."""

    def __init__(
        self, store: Store, clock: DrillClock, max_events: int = DEFAULT_MAX_EVENTS
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_events = max_events
        # When set (the control plane does), events are stamped with this time instead of
        # the clock's: controllers catching up on a large drill-time jump act "in the past".
        self.time_source: Callable[[], datetime] | None = None
        self._known: OrderedDict[EventKey, tuple[str, str]] = OrderedDict()  # -> (ns, name)
        self._seq = 0

    def _now(self) -> datetime:
        return self.time_source() if self.time_source else self.clock.now()

    def record(
        self,
        obj: Obj,
        reason: str,
        message: str,
        type: str = "Normal",
        component: str = "deployment-controller",
        *,
        host: str | None = None,
        field_path: str | None = None,
        count: int = 1,
        when: datetime | None = None,
    ) -> None:
        """Record `count` occurrences of an event about `obj` (at `when`, default now)."""
        meta = obj.get("metadata", {})
        uid = meta.get("uid", "")
        key: EventKey = (uid, field_path or "", type, reason, message, component)
        moment = when or self._now()
        stamp = rfc3339(moment)
        existing = self._known.get(key)
        if existing is not None and self.store.try_get("events", *existing) is not None:

            def bump(event: Obj) -> None:
                event["count"] = int(event.get("count") or 1) + count
                event["lastTimestamp"] = stamp

            self.store.mutate("events", existing[0], existing[1], bump)
            self._known.move_to_end(key)
            return
        self._create(obj, key, stamp, moment, host, count)
        self._enforce_cap()

    def _create(
        self, obj: Obj, key: EventKey, stamp: str, moment: datetime, host: str | None, count: int
    ) -> None:
        uid, field_path, type_, reason, message, component = key
        meta = obj.get("metadata", {})
        namespace = meta.get("namespace") or "default"
        self._seq += 1
        nanos = int(moment.timestamp()) * 1_000_000_000 + self._seq
        name = f"{meta.get('name', 'unknown')}.{nanos:x}"
        while self.store.try_get("events", namespace, name) is not None:
            nanos += 1
            name = f"{meta.get('name', 'unknown')}.{nanos:x}"
        involved: Obj = {
            "kind": obj.get("kind", ""),
            "namespace": meta.get("namespace", ""),
            "name": meta.get("name", ""),
            "uid": uid,
            "apiVersion": obj.get("apiVersion", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if field_path:
            involved["fieldPath"] = field_path
        source: Obj = {"component": component}
        if host:
            source["host"] = host
        event: Obj = {
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": stamp},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "type": type_,
            "source": source,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": count,
            "reportingComponent": component,
            "reportingInstance": host or "",
            "eventTime": None,
        }
        self.store.create("events", event)
        self._known[key] = (namespace, name)

    def _enforce_cap(self) -> None:
        while len(self._known) > self.max_events:
            _key, (namespace, name) = self._known.popitem(last=False)
            if self.store.try_get("events", namespace, name) is not None:
                self.store.delete("events", namespace, name)
