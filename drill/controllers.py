"""The deployment and replicaset controllers of the drill cluster.

Faithful to `pkg/controller/deployment` (sync.go, rolling.go, recreate.go, progress.go) and
`pkg/controller/replicaset`: one ReplicaSet per pod template, revisions, rolling updates within
maxSurge/maxUnavailable, proportional scaling, pause, progress deadline, history cleanup; the
replicaset controller creates and deletes pods and reports their readiness. Both work on
the store through `mutate`/`create`/`delete` and find children through the `OwnerIndex`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from . import rollout as ro
from .events import EventRecorder
from .kubelet import Kubelet, qos_class
from .ownership import (
    Key,
    OwnerIndex,
    controller_ref,
    owner_reference,
    pod_is_active,
    pod_ready_condition,
)
from .store import Store
from .timeline import Timeline

apply_deployment_defaults = ro.apply_deployment_defaults  # the server calls it on create/update

__all__ = ["DeploymentController", "ReplicaSetController", "apply_deployment_defaults",
           "build_pod"]

Obj = dict[str, Any]
Requeue = Callable[[Key, float], None]

BURST_REPLICAS = 250  # pods one ReplicaSet may create per tick (bounds a tick's work)
DEFAULT_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300},
]


# ---- pods from templates -------------------------------------------------------------------
def build_pod(rs: Obj, name: str, stamp: str) -> Obj:
    """A new pod for `rs` as the API server stores it: template copy plus pod defaults."""
    template = copy.deepcopy(rs["spec"].get("template") or {})
    template_meta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    ro.apply_pod_spec_defaults(spec)
    for container in spec.get("containers") or []:
        resources = container.get("resources")
        if resources and resources.get("limits"):
            requests = resources.setdefault("requests", {})
            for resource, value in resources["limits"].items():
                requests.setdefault(resource, value)
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", "default")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("tolerations", copy.deepcopy(DEFAULT_TOLERATIONS))
    pod: Obj = {
        "metadata": {
            "name": name,
            "generateName": rs["metadata"]["name"] + "-",
            "namespace": rs["metadata"]["namespace"],
            "labels": dict(template_meta.get("labels") or {}),
            "annotations": dict(template_meta.get("annotations") or {}),
            "ownerReferences": [owner_reference(rs)],
            "creationTimestamp": stamp,
        },
        "spec": spec,
    }
    pod["status"] = {"phase": "Pending", "qosClass": qos_class(pod)}
    return pod


def new_pod_name(store: Store, rs: Obj) -> str:
    prefix = rs["metadata"]["name"] + "-"
    namespace = rs["metadata"]["namespace"]
    while True:
        name = prefix + store.random_suffix()
        if store.try_get("pods", namespace, name) is None:
            return name


# ---- replicaset controller -----------------------------------------------------------------
class ReplicaSetController:
    """Keeps each ReplicaSet's pod count at spec.replicas and reports pod readiness."""

    def __init__(self, store: Store, timeline: Timeline, events: EventRecorder,
                 index: OwnerIndex, kubelet: Kubelet, requeue: Requeue) -> None:
        self.store = store
        self.timeline = timeline
        self.events = events
        self.index = index
        self.kubelet = kubelet
        self.requeue = requeue
        self._created: dict[str, int] = {}

    def begin_tick(self) -> None:
        self._created.clear()

    def sync(self, key: Key) -> bool:
        """Reconcile one ReplicaSet. True when it still lacks pods beyond this tick's burst."""
        rs = self.store.try_get("replicasets", *key)
        if rs is None:
            return False
        uid = rs["metadata"]["uid"]
        diff = self.index.tally(uid)[0] - ro.replicas_of(rs)
        pending = False
        if not rs["metadata"].get("deletionTimestamp"):
            if diff < 0:
                budget = max(0, BURST_REPLICAS - self._created.get(uid, 0))
                count = min(-diff, budget)
                for _ in range(count):
                    self._create_pod(rs)
                self._created[uid] = self._created.get(uid, 0) + count
                pending = count < -diff
            elif diff > 0:
                for pod in sorted(self._live_pods(uid), key=self._deletion_rank)[:diff]:
                    name = pod["metadata"]["name"]
                    self.kubelet.delete_pod(key[0], name, None)
                    self.events.record(rs, "SuccessfulDelete", f"Deleted pod: {name}",
                                       component="replicaset-controller")
        self._update_status(key, rs)
        return pending

    def _live_pods(self, uid: str) -> list[Obj]:
        return [pod for pod_key in self.index.children("pods", uid)
                if (pod := self.store.try_get("pods", *pod_key)) is not None
                and pod_is_active(pod)]

    def _create_pod(self, rs: Obj) -> Obj:
        pod = build_pod(rs, new_pod_name(self.store, rs), self.timeline.stamp())
        created = self.store.create("pods", pod)
        self.events.record(rs, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                           component="replicaset-controller")
        return created

    def _deletion_rank(self, pod: Obj) -> tuple[int, int, int, float, int, float, str]:
        """Sort key, smallest deleted first: unscheduled, pending, not ready, ready most
        recently, most restarts, newest (ActivePodsWithRanks, simplified)."""
        status = pod.get("status") or {}
        phase = {"Pending": 0, "Unknown": 1, "Running": 2}.get(status.get("phase", ""), 0)
        condition = pod_ready_condition(pod)
        ready = condition is not None and condition.get("status") == "True"
        ready_since = 0.0
        if ready and condition and condition.get("lastTransitionTime"):
            ready_since = -self.timeline.seconds(condition["lastTransitionTime"])
        restarts = sum(int(c.get("restartCount") or 0)
                       for c in status.get("containerStatuses") or [])
        created = pod["metadata"].get("creationTimestamp")
        age = -self.timeline.seconds(created) if created else 0.0
        return (1 if pod.get("spec", {}).get("nodeName") else 0, phase, int(ready),
                ready_since, -restarts, age, pod["metadata"]["name"])

    def _update_status(self, key: Key, rs: Obj) -> None:
        active, ready, labeled = self.index.tally(rs["metadata"]["uid"])
        available = ready
        min_ready = float(rs["spec"].get("minReadySeconds") or 0)
        if min_ready and ready:
            available = self._available(key, rs, min_ready)
        status: Obj = {
            "replicas": active,
            "fullyLabeledReplicas": labeled,
            "readyReplicas": ready,
            "availableReplicas": available,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        if status == rs.get("status"):
            return

        def change(obj: Obj) -> None:
            obj["status"] = status

        self.store.mutate("replicasets", key[0], key[1], change)

    def _available(self, key: Key, rs: Obj, min_ready: float) -> int:
        """Pods ready for at least minReadySeconds; requeues for the next one to qualify."""
        now = self.timeline.now
        available = 0
        next_due: float | None = None
        for pod in self._live_pods(rs["metadata"]["uid"]):
            condition = pod_ready_condition(pod)
            if condition is None or condition.get("status") != "True":
                continue
            due = self.timeline.seconds(condition["lastTransitionTime"]) + min_ready
            if due <= now:
                available += 1
            else:
                next_due = due if next_due is None else min(next_due, due)
        if next_due is not None:
            self.requeue(key, next_due)
        return available


# ---- deployment controller -----------------------------------------------------------------
class DeploymentController:
    """Rolls Deployments out through ReplicaSets (sync.go / rolling.go / recreate.go)."""

    def __init__(self, store: Store, timeline: Timeline, events: EventRecorder,
                 index: OwnerIndex, requeue: Requeue) -> None:
        self.store = store
        self.timeline = timeline
        self.events = events
        self.index = index
        self.requeue = requeue

    # ---- entry -----------------------------------------------------------------------------
    def sync(self, key: Key) -> None:
        stored = self.store.try_get("deployments", *key)
        if stored is None:
            return
        if ro.needs_defaults(stored):
            stored = self.store.mutate("deployments", key[0], key[1],
                                       ro.apply_deployment_defaults)
        if stored["metadata"].get("deletionTimestamp"):
            return
        d = copy.deepcopy(stored)
        if not isinstance(d.get("status"), dict):
            d["status"] = {}
        d["metadata"].setdefault("annotations", {})
        self._check_paused_conditions(d)
        if d["spec"].get("paused") or self._is_scaling_event(d, self._owned(d)):
            self._sync(d, self._owned(d))
        elif ro.is_rolling(d):
            self._rollout_rolling(d, self._owned(d))
        else:
            self._rollout_recreate(d, self._owned(d))

    def _owned(self, d: Obj) -> list[Obj]:
        rss = [rs for rs_key in self.index.children("replicasets", d["metadata"]["uid"])
               if (rs := self.store.try_get("replicasets", *rs_key)) is not None]
        return sorted(rss, key=ro.by_creation)

    def _fresh(self, rss: list[Obj | None]) -> list[Obj]:
        out = []
        for rs in rss:
            if rs is None:
                continue
            current = self.store.try_get("replicasets", rs["metadata"]["namespace"],
                                         rs["metadata"]["name"])
            if current is not None and current["metadata"]["uid"] == rs["metadata"]["uid"]:
                out.append(current)
        return out

    def _fresh_one(self, rs: Obj | None) -> Obj | None:
        fresh = self._fresh([rs])
        return fresh[0] if fresh else None

    def _write(self, d: Obj) -> None:
        """Persist the working copy's annotations and status."""
        annotations = copy.deepcopy(d["metadata"].get("annotations") or {})
        status = copy.deepcopy(d.get("status") or {})

        def change(obj: Obj) -> None:
            obj["metadata"]["annotations"] = annotations
            obj["status"] = status

        stored = self.store.mutate("deployments", d["metadata"]["namespace"],
                                   d["metadata"]["name"], change)
        d["metadata"] = copy.deepcopy(stored["metadata"])

    def _record(self, d: Obj, reason: str, message: str, type_: str = "Normal") -> None:
        self.events.record(d, reason, message, type=type_, component="deployment-controller")

    # ---- revisions and the new ReplicaSet ------------------------------------------------
    def _find_new(self, d: Obj, rss: list[Obj]) -> Obj | None:
        template = d["spec"].get("template")
        for rs in sorted(rss, key=ro.by_creation):
            if ro.templates_equal(rs["spec"].get("template"), template):
                return rs
        return None

    def _get_all(self, d: Obj, rss: list[Obj], create: bool) -> tuple[Obj | None, list[Obj]]:
        """getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created when asked) and all
        old ones; stamps revisions on both the new ReplicaSet and the Deployment."""
        existing = self._find_new(d, rss)
        old = [rs for rs in rss
               if existing is None or rs["metadata"]["uid"] != existing["metadata"]["uid"]]
        return self._get_new(d, old, existing, create), old

    def _get_new(self, d: Obj, old: list[Obj], existing: Obj | None,
                 create: bool) -> Obj | None:
        new_revision = ro.max_revision(old) + 1
        if existing is not None:
            return self._sync_existing_new(d, existing, new_revision)
        if not create:
            return None
        return self._create_new(d, old, new_revision)

    def _sync_existing_new(self, d: Obj, rs: Obj, new_revision: int) -> Obj:
        updated = copy.deepcopy(rs)
        changed = ro.set_new_rs_annotations(d, updated, new_revision, exists=True)
        min_ready = int(d["spec"].get("minReadySeconds") or 0)
        if changed or int(updated["spec"].get("minReadySeconds") or 0) != min_ready:
            annotations = updated["metadata"]["annotations"]

            def change(obj: Obj) -> None:
                obj["metadata"]["annotations"] = annotations
                if min_ready or "minReadySeconds" in obj["spec"]:
                    obj["spec"]["minReadySeconds"] = min_ready

            rs = self.store.mutate("replicasets", rs["metadata"]["namespace"],
                                   rs["metadata"]["name"], change)
        needs_write = self._set_revision(d, rs["metadata"]["annotations"].get(ro.REVISION, ""))
        status = d["status"]
        if ro.has_progress_deadline(d) and ro.get_condition(status, "Progressing") is None:
            ro.set_condition(status, ro.new_condition(
                "Progressing", "True", ro.FOUND_NEW_RS,
                f'Found new replica set "{rs["metadata"]["name"]}"', self.timeline.stamp()))
            needs_write = True
        if needs_write:
            self._write(d)
        return rs

    def _create_new(self, d: Obj, old: list[Obj], new_revision: int) -> Obj | None:
        meta = d["metadata"]
        status = d["status"]
        collisions = int(status.get("collisionCount") or 0)
        template = copy.deepcopy(d["spec"].get("template") or {})
        pod_hash = ro.template_hash(template, collisions)
        template.setdefault("metadata", {}).setdefault("labels", {})[ro.HASH_LABEL] = pod_hash
        selector = copy.deepcopy(d["spec"].get("selector") or {})
        selector.setdefault("matchLabels", {})[ro.HASH_LABEL] = pod_hash
        name = f"{meta['name']}-{pod_hash}"
        rs_spec: Obj = {"replicas": 0, "selector": selector, "template": template}
        if d["spec"].get("minReadySeconds"):
            rs_spec["minReadySeconds"] = int(d["spec"]["minReadySeconds"])
        rs: Obj = {
            "metadata": {
                "name": name,
                "namespace": meta["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {},
                "ownerReferences": [owner_reference(d)],
                "creationTimestamp": self.timeline.stamp(),
            },
            "spec": rs_spec,
            "status": {"replicas": 0},
        }
        replicas = ro.new_rs_new_replicas(d, [*old, rs], rs)
        rs_spec["replicas"] = replicas
        ro.set_new_rs_annotations(d, rs, new_revision, exists=False)
        clash = self.store.try_get("replicasets", meta["namespace"], name)
        if clash is not None:
            ref = controller_ref(clash)
            if (ref is not None and ref.get("uid") == meta["uid"]
                    and ro.templates_equal(clash["spec"].get("template"), d["spec"]["template"])):
                return clash
            # A hash collision: bump collisionCount so the next sync picks another name.
            status["collisionCount"] = collisions + 1
            self._write(d)
            return None
        created = self.store.create("replicasets", rs)
        if replicas > 0:
            self._record(d, "ScalingReplicaSet",
                         f"Scaled up replica set {name} from 0 to {replicas}")
        self._set_revision(d, str(new_revision))
        if ro.has_progress_deadline(d):
            ro.set_condition(status, ro.new_condition(
                "Progressing", "True", ro.NEW_RS_CREATED, f'Created new replica set "{name}"',
                self.timeline.stamp()))
        self._write(d)
        return created

    @staticmethod
    def _set_revision(d: Obj, revision: str) -> bool:
        annotations = d["metadata"].setdefault("annotations", {})
        if annotations.get(ro.REVISION) == revision:
            return False
        annotations[ro.REVISION] = revision
        return True

    # ---- scaling ---------------------------------------------------------------------------
    def _scale_rs(self, rs: Obj, new_scale: int, d: Obj, operation: str) -> tuple[bool, Obj]:
        size_changes = ro.replicas_of(rs) != new_scale
        desired = ro.replicas_of(d)
        maximum = desired + ro.max_surge(d)
        if not size_changes and not ro.replicas_annotations_need_update(rs, desired, maximum):
            return False, rs
        before = ro.replicas_of(rs)

        def change(obj: Obj) -> None:
            obj["spec"]["replicas"] = new_scale
            ro.set_replicas_annotations(obj, desired, maximum)

        rs = self.store.mutate("replicasets", rs["metadata"]["namespace"],
                               rs["metadata"]["name"], change)
        if size_changes:
            self._record(d, "ScalingReplicaSet",
                         f"Scaled {operation} replica set {rs['metadata']['name']} "
                         f"from {before} to {new_scale}")
        return size_changes, rs

    def _scale_and_record(self, rs: Obj, new_scale: int, d: Obj) -> tuple[bool, Obj]:
        if ro.replicas_of(rs) == new_scale:
            return False, rs
        operation = "up" if ro.replicas_of(rs) < new_scale else "down"
        return self._scale_rs(rs, new_scale, d, operation)

    def _is_scaling_event(self, d: Obj, rss: list[Obj]) -> bool:
        new_rs, old = self._get_all(d, rss, create=False)
        for rs in ro.active([*old, new_rs]):
            desired = ro.annotation_int(rs, ro.DESIRED_REPLICAS)
            if desired is not None and desired != ro.replicas_of(d):
                return True
        return False

    def _scale(self, d: Obj, new_rs: Obj | None, old: list[Obj]) -> None:
        """Scale for a resize of the Deployment, proportionally during a rollout."""
        target = ro.find_active_or_latest(new_rs, old)
        if target is not None:
            if ro.replicas_of(target) != ro.replicas_of(d):
                self._scale_and_record(target, ro.replicas_of(d), d)
            return
        if ro.is_saturated(d, new_rs):
            for rs in ro.active(old):
                self._scale_and_record(rs, 0, d)
            return
        if not ro.is_rolling(d):
            return
        live = ro.active([*old, new_rs])
        allowed = ro.replicas_of(d) + ro.max_surge(d) if ro.replicas_of(d) > 0 else 0
        to_add = allowed - ro.spec_count(live)
        # Largest first; among equals the newest when growing, the oldest when shrinking.
        live.sort(key=ro.by_creation, reverse=to_add > 0)
        live.sort(key=lambda rs: -ro.replicas_of(rs))
        operation = "up" if to_add > 0 else "down" if to_add < 0 else ""
        added = 0
        sizes: dict[str, int] = {}
        for rs in live:
            if to_add != 0:
                share = ro.proportion(rs, d, to_add, added)
                sizes[rs["metadata"]["name"]] = ro.replicas_of(rs) + share
                added += share
            else:
                sizes[rs["metadata"]["name"]] = ro.replicas_of(rs)
        for i, rs in enumerate(live):
            name = rs["metadata"]["name"]
            if i == 0 and to_add != 0:
                sizes[name] = max(0, sizes[name] + to_add - added)
            self._scale_rs(rs, sizes[name], d, operation)

    # ---- strategies ------------------------------------------------------------------------
    def _sync(self, d: Obj, rss: list[Obj]) -> None:
        """Scaling events and paused deployments: resize, no rollout progress."""
        new_rs, old = self._get_all(d, rss, create=False)
        self._scale(d, new_rs, old)
        if d["spec"].get("paused"):
            self._cleanup(d, self._fresh(old))
        new_rs = self._fresh_one(new_rs)
        self._sync_status(d, self._fresh([*old, new_rs]), new_rs)

    def _rollout_rolling(self, d: Obj, rss: list[Obj]) -> None:
        new_rs, old = self._get_all(d, rss, create=True)
        if new_rs is not None:
            all_rss = [*old, new_rs]
            scaled = self._reconcile_new(all_rss, new_rs, d)
            if not scaled:
                new_rs = self._fresh_one(new_rs)
                old = self._fresh(old)
                scaled = self._reconcile_old([*old, new_rs], ro.active(old), new_rs, d)
            if not scaled and ro.deployment_complete(d, d["status"]):
                self._cleanup(d, self._fresh(old))
        new_rs = self._fresh_one(new_rs)
        self._sync_rollout_status(d, self._fresh([*old, new_rs]), new_rs)

    def _reconcile_new(self, all_rss: list[Obj], new_rs: Obj, d: Obj) -> bool:
        want = ro.replicas_of(d)
        if ro.replicas_of(new_rs) == want:
            return False
        if ro.replicas_of(new_rs) > want:
            return self._scale_and_record(new_rs, want, d)[0]
        count = ro.new_rs_new_replicas(d, all_rss, new_rs)
        return self._scale_and_record(new_rs, count, d)[0]

    def _reconcile_old(self, all_rss: list[Obj], old: list[Obj], new_rs: Obj | None,
                       d: Obj) -> bool:
        if ro.spec_count(old) == 0:
            return False
        all_count = ro.spec_count(all_rss)
        min_available = ro.replicas_of(d) - ro.max_unavailable(d)
        new_unavailable = ro.replicas_of(new_rs) - ro.status_count([new_rs], "availableReplicas")
        max_scaled_down = all_count - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        old, cleaned = self._cleanup_unhealthy(old, d, max_scaled_down)
        scaled = self._scale_down_old(self._fresh([*old, new_rs]), self._fresh(old), d)
        return cleaned + scaled > 0

    def _cleanup_unhealthy(self, old: list[Obj], d: Obj, limit: int) -> tuple[list[Obj], int]:
        """Scale down old ReplicaSets' unavailable pods first: they cost no availability."""
        total = 0
        result = []
        for rs in sorted(old, key=ro.by_creation):
            available = int(rs.get("status", {}).get("availableReplicas") or 0)
            if total >= limit or ro.replicas_of(rs) == 0 or ro.replicas_of(rs) == available:
                result.append(rs)
                continue
            count = min(limit - total, ro.replicas_of(rs) - available)
            _scaled, rs = self._scale_and_record(rs, ro.replicas_of(rs) - count, d)
            total += count
            result.append(rs)
        return result, total

    def _scale_down_old(self, all_rss: list[Obj], old: list[Obj], d: Obj) -> int:
        min_available = ro.replicas_of(d) - ro.max_unavailable(d)
        available = ro.status_count(all_rss, "availableReplicas")
        if available <= min_available:
            return 0
        to_scale = available - min_available
        total = 0
        for rs in sorted(old, key=ro.by_creation):
            if total >= to_scale:
                break
            if ro.replicas_of(rs) == 0:
                continue
            count = min(ro.replicas_of(rs), to_scale - total)
            self._scale_and_record(rs, ro.replicas_of(rs) - count, d)
            total += count
        return total

    def _rollout_recreate(self, d: Obj, rss: list[Obj]) -> None:
        new_rs, old = self._get_all(d, rss, create=False)
        scaled = False
        for rs in ro.active(old):
            scaled = self._scale_and_record(rs, 0, d)[0] or scaled
        if not scaled and not self._old_pods_running(old):
            if new_rs is None:
                new_rs, old = self._get_all(d, self._owned(d), create=True)
            if new_rs is not None:
                self._scale_and_record(new_rs, ro.replicas_of(d), d)
                if ro.deployment_complete(d, d["status"]):
                    self._cleanup(d, self._fresh(old))
        new_rs = self._fresh_one(new_rs)
        self._sync_rollout_status(d, self._fresh([*old, new_rs]), new_rs)

    def _old_pods_running(self, old: list[Obj]) -> bool:
        for rs in self._fresh(old):
            if int(rs.get("status", {}).get("replicas") or 0) > 0:
                return True
            if self.index.children("pods", rs["metadata"]["uid"]):
                return True
        return False

    def _cleanup(self, d: Obj, old: list[Obj]) -> None:
        """Delete the oldest idle ReplicaSets beyond revisionHistoryLimit."""
        limit = d["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        alive = [rs for rs in old if not rs["metadata"].get("deletionTimestamp")]
        excess = len(alive) - int(limit)
        if excess <= 0:
            return
        alive.sort(key=lambda rs: (ro.revision(rs), *ro.by_creation(rs)))
        for rs in alive[:excess]:
            status = rs.get("status") or {}
            if (int(status.get("replicas") or 0) != 0 or ro.replicas_of(rs) != 0
                    or rs["metadata"].get("generation", 1) > int(status.get("observedGeneration")
                                                                 or 0)):
                continue
            self.store.delete("replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"])

    # ---- status ----------------------------------------------------------------------------
    def _calculate_status(self, d: Obj, all_rss: list[Obj], new_rs: Obj | None) -> Obj:
        available = ro.status_count(all_rss, "availableReplicas")
        unavailable = max(ro.spec_count(all_rss) - available, 0)
        status: Obj = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": ro.status_count(all_rss, "replicas"),
            "updatedReplicas": ro.status_count([new_rs], "replicas"),
            "readyReplicas": ro.status_count(all_rss, "readyReplicas"),
            "availableReplicas": available,
            "unavailableReplicas": unavailable,
            "conditions": copy.deepcopy(d["status"].get("conditions") or []),
        }
        if d["status"].get("collisionCount"):
            status["collisionCount"] = d["status"]["collisionCount"]
        stamp = self.timeline.stamp()
        if available >= ro.replicas_of(d) - ro.max_unavailable(d):
            ro.set_condition(status, ro.new_condition(
                "Available", "True", ro.MIN_AVAILABLE, "Deployment has minimum availability.",
                stamp))
        else:
            ro.set_condition(status, ro.new_condition(
                "Available", "False", ro.MIN_UNAVAILABLE,
                "Deployment does not have minimum availability.", stamp))
        return status

    def _sync_status(self, d: Obj, all_rss: list[Obj], new_rs: Obj | None) -> None:
        status = self._calculate_status(d, all_rss, new_rs)
        if status != d["status"]:
            d["status"] = status
            self._write(d)

    def _sync_rollout_status(self, d: Obj, all_rss: list[Obj], new_rs: Obj | None) -> None:
        status = self._calculate_status(d, all_rss, new_rs)
        subject = (f'ReplicaSet "{new_rs["metadata"]["name"]}"' if new_rs is not None
                   else f'Deployment "{d["metadata"]["name"]}"')
        if not ro.has_progress_deadline(d):
            ro.remove_condition(status, "Progressing")
        current = ro.get_condition(d["status"], "Progressing")
        complete = (status["replicas"] == status["updatedReplicas"] and current is not None
                    and current.get("reason") == ro.NEW_RS_AVAILABLE)
        if ro.has_progress_deadline(d) and not complete:
            stamp = self.timeline.stamp()
            if ro.deployment_complete(d, status):
                ro.set_condition(status, ro.new_condition(
                    "Progressing", "True", ro.NEW_RS_AVAILABLE,
                    f"{subject} has successfully progressed.", stamp))
            elif ro.deployment_progressing(d, status):
                condition = ro.new_condition("Progressing", "True", ro.RS_UPDATED,
                                             f"{subject} is progressing.", stamp)
                if current is not None:
                    if current.get("status") == "True":
                        condition["lastTransitionTime"] = current.get("lastTransitionTime")
                    ro.remove_condition(status, "Progressing")
                ro.set_condition(status, condition)
            elif self._timed_out(d, status):
                ro.set_condition(status, ro.new_condition(
                    "Progressing", "False", ro.TIMED_OUT,
                    f"{subject} has timed out progressing.", stamp))
        if status != d["status"]:
            d["status"] = status
            self._write(d)
        self._requeue_stuck(d)

    def _timed_out(self, d: Obj, status: Obj) -> bool:
        condition = ro.get_condition(status, "Progressing")
        if condition is None or condition.get("reason") == ro.NEW_RS_AVAILABLE:
            return False
        if condition.get("reason") == ro.TIMED_OUT:
            return True
        since = self.timeline.seconds(condition["lastUpdateTime"])
        return since + int(d["spec"]["progressDeadlineSeconds"]) < self.timeline.now

    def _requeue_stuck(self, d: Obj) -> None:
        """Come back when the progress deadline passes (requeueStuckDeployment)."""
        condition = ro.get_condition(d["status"], "Progressing")
        if not ro.has_progress_deadline(d) or condition is None:
            return
        if ro.deployment_complete(d, d["status"]) or condition.get("reason") in (
                ro.TIMED_OUT, ro.NEW_RS_AVAILABLE, ro.PAUSED):
            return
        due = self.timeline.seconds(condition["lastUpdateTime"]) + int(
            d["spec"]["progressDeadlineSeconds"]) + 1
        key = (d["metadata"]["namespace"], d["metadata"]["name"])
        self.requeue(key, max(due, self.timeline.now))

    def _check_paused_conditions(self, d: Obj) -> None:
        if not ro.has_progress_deadline(d):
            return
        condition = ro.get_condition(d["status"], "Progressing")
        if condition is not None and condition.get("reason") == ro.TIMED_OUT:
            return
        paused_condition = condition is not None and condition.get("reason") == ro.PAUSED
        paused = bool(d["spec"].get("paused"))
        if paused and not paused_condition:
            ro.set_condition(d["status"], ro.new_condition(
                "Progressing", "Unknown", ro.PAUSED, "Deployment is paused",
                self.timeline.stamp()))
        elif not paused and paused_condition:
            ro.set_condition(d["status"], ro.new_condition(
                "Progressing", "Unknown", ro.RESUMED, "Deployment is resumed",
                self.timeline.stamp()))
        else:
            return
        self._write(d)

