"""The drill cluster's control plane: controllers, kubelet and garbage collector on one clock.

`tick()` (called by the cluster every ~50 ms of real time) advances the simulation to the
drill clock's present. Timers (kubelet transitions, requeues) run in due order, each at its
own drill time, and after every step the controllers reconcile whatever the step made dirty,
so a tick that covers minutes of drill time replays a whole rollout faithfully. Work is
O(changes): a store listener marks dirty objects and keeps the ownership index.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .clock import DrillClock
from .controllers import DeploymentController, ReplicaSetController
from .events import EventRecorder
from .kubelet import Kubelet, ProfileFor
from .ownership import Key, OwnerIndex, controller_ref
from .pod_logs import render_logs
from .store import Store
from .timeline import Timeline

Obj = dict[str, Any]

MAX_ROUNDS = 100  # reconcile passes per time step before the rest waits for the next tick
# Timer actions per tick: a burst (thousands of pods starting at once) is spread over several
# ticks, the simulation lagging a little behind the clock, so no tick blocks the server long.
MAX_ACTIONS_PER_TICK = 1000


class ControlPlane:
    """Owns the deployment and replicaset controllers, the kubelet and garbage collection."""

    def __init__(self, store: Store, clock: DrillClock, events: EventRecorder,
                 profile_for: ProfileFor, max_actions_per_tick: int = MAX_ACTIONS_PER_TICK
                 ) -> None:
        self.store = store
        self.max_actions_per_tick = max_actions_per_tick
        self.clock = clock
        self.events = events
        self.profile_for = profile_for
        self.timeline = Timeline(clock)
        events.time_source = self.timeline.moment
        self.index = OwnerIndex()
        self.kubelet = Kubelet(store, self.timeline, events, profile_for)
        self.replicasets = ReplicaSetController(
            store, self.timeline, events, self.index, self.kubelet,
            lambda key, due: self._requeue("replicasets", key, due))
        self.deployments = DeploymentController(
            store, self.timeline, events, self.index,
            lambda key, due: self._requeue("deployments", key, due))
        self._dirty: dict[str, set[Key]] = {"deployments": set(), "replicasets": set()}
        self._garbage: list[tuple[str, str]] = []  # (resource, uid) of deleted owners
        self._deferred: set[Key] = set()  # ReplicaSets that hit their burst this tick
        self._requeued: set[tuple[str, Key, float]] = set()
        store.add_listener(self._on_change)
        self._bootstrap()

    # ---- public API ------------------------------------------------------------------------
    def tick(self) -> None:
        """Advance the simulation to the drill clock's present."""
        timeline = self.timeline
        target = max(timeline.now, self.clock.elapsed())
        timeline.stepping = True
        timeline.horizon = target
        self.replicasets.begin_tick()
        self._dirty["replicasets"].update(self._deferred)
        self._deferred.clear()
        budget = self.max_actions_per_tick
        try:
            self._reconcile()
            while (due := timeline.next_due()) is not None and due <= target:
                if budget <= 0:
                    return  # lagging: the next tick carries on from this instant
                timeline.now = max(timeline.now, due)
                actions = timeline.pop_due(timeline.now, budget)
                budget -= len(actions)
                for action in actions:
                    action()
                self._reconcile()
            timeline.now = target
            self._reconcile()
        finally:
            timeline.stepping = False

    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None = None) -> Obj:
        """Gracefully delete a pod (None: the pod's terminationGracePeriodSeconds).

        Returns the pod with deletionTimestamp set, or the deleted pod when grace is 0.
        """
        return self.kubelet.delete_pod(namespace, name, grace_seconds)

    def logs(self, pod: Obj, container: str | None = None, previous: bool = False,
             tail: int | None = None, *, timestamps: bool = False,
             since_seconds: float | None = None) -> str:
        """The log text of one container run; raises ApiError(400) as the kubelet would."""
        return render_logs(pod, self.profile_for(pod), container, previous, tail,
                           self.timeline.moment(), timestamps=timestamps,
                           since_seconds=since_seconds)

    def reprofile(self) -> None:
        """Re-read pod profiles after a scenario changed them."""
        self.kubelet.reprofile()

    # ---- informer --------------------------------------------------------------------------
    def _bootstrap(self) -> None:
        for resource in ("deployments", "replicasets", "pods"):
            for obj in self.store.list(resource):
                self._on_change("ADDED", resource, obj, None)

    def _on_change(self, kind: str, resource: str, obj: Obj, old: Obj | None) -> None:
        if resource not in ("deployments", "replicasets", "pods"):
            return
        self.index.observe(kind, resource, obj)
        meta = obj["metadata"]
        key: Key = (meta.get("namespace", ""), meta["name"])
        if resource == "pods":
            self.kubelet.observe(kind, obj)
            owner = self._owner_key(obj, "replicasets")
            if owner is not None:
                self._enqueue("replicasets", owner)
                if kind == "DELETED":  # Recreate waits for the last old pod to be gone
                    rs = self.store.try_get("replicasets", *owner)
                    deployment = self._owner_key(rs, "deployments") if rs else None
                    if deployment is not None:
                        self._enqueue("deployments", deployment)
            return
        if kind == "DELETED":
            self._enqueue_garbage(resource, meta.get("uid", ""))
        else:
            self._enqueue(resource, key)
        if resource == "replicasets":
            owner = self._owner_key(obj, "deployments")
            if owner is not None:
                self._enqueue("deployments", owner)

    def _owner_key(self, obj: Obj, owner_resource: str) -> Key | None:
        ref = controller_ref(obj)
        return self.index.key_of(owner_resource, ref["uid"]) if ref else None

    def _enqueue(self, resource: str, key: Key) -> None:
        if self.timeline.stepping:
            self._dirty[resource].add(key)
        else:  # a change from outside (API, scenario): handle it at the time it happened
            self.timeline.schedule(self.timeline.current(), self._marker(resource, key))

    def _marker(self, resource: str, key: Key) -> Callable[[], None]:
        return lambda: self._dirty[resource].add(key)

    def _enqueue_garbage(self, resource: str, uid: str) -> None:
        if self.timeline.stepping:
            self._garbage.append((resource, uid))
        else:
            self.timeline.schedule(self.timeline.current(),
                                   lambda: self._garbage.append((resource, uid)))

    def _requeue(self, resource: str, key: Key, due: float) -> None:
        token = (resource, key, due)
        if token in self._requeued:
            return
        self._requeued.add(token)

        def fire() -> None:
            self._requeued.discard(token)
            self._dirty[resource].add(key)

        self.timeline.schedule(due, fire)

    # ---- reconciling -----------------------------------------------------------------------
    def _reconcile(self) -> None:
        for _ in range(MAX_ROUNDS):
            if self._garbage:
                self._collect_garbage()
            replicasets = self._dirty["replicasets"]
            self._dirty["replicasets"] = set()
            for key in sorted(replicasets):
                if self.replicasets.sync(key):
                    self._deferred.add(key)
            deployments = self._dirty["deployments"]
            self._dirty["deployments"] = set()
            for key in sorted(deployments):
                self.deployments.sync(key)
            if not (self._garbage or any(self._dirty.values())):
                return

    def _collect_garbage(self) -> None:
        """Background cascading deletion: dependents of a deleted owner go too."""
        garbage, self._garbage = self._garbage, []
        for resource, uid in garbage:
            if resource == "deployments":
                for namespace, name in self.index.children("replicasets", uid):
                    if self.store.try_get("replicasets", namespace, name) is not None:
                        self.store.delete("replicasets", namespace, name)
            elif resource == "replicasets":
                for namespace, name in self.index.children("pods", uid):
                    pod = self.store.try_get("pods", namespace, name)
                    if pod is not None and not pod["metadata"].get("deletionTimestamp"):
                        self.kubelet.delete_pod(namespace, name, None)
