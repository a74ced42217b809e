"""Deployment and replicaset controllers: rollouts, scaling, undo, restart, deadlines, GC."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from drill import rollout as ro
from drill.clock import rfc3339
from drill.profiles import PodProfile
from tests.drill.control_sim import Sim, ready, undo, validate

V1 = "registry.local/shop/api:1.0.0"
V2 = "registry.local/shop/api:2.0.0"
V3 = "registry.local/shop/api:3.0.0"
HASH = re.compile(r"^[bcdfghjklmnpqrstvwxz2456789]{10}$")


def test_new_deployment_gets_one_replicaset_and_ready_pods() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=3)
    sim.until(lambda: sim.rolled_out("api"), limit=60)

    d = sim.deployment("api")
    [rs] = sim.replicasets("api")
    name = rs["metadata"]["name"]
    assert name.startswith("api-") and HASH.match(name[4:])
    pod_hash = name[4:]
    assert rs["metadata"]["labels"] == {"app": "api", "pod-template-hash": pod_hash}
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "api", "pod-template-hash": pod_hash}
    assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == pod_hash
    assert ro.templates_equal(rs["spec"]["template"], d["spec"]["template"])
    [ref] = rs["metadata"]["ownerReferences"]
    assert ref == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api",
                   "uid": d["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}
    assert rs["metadata"]["annotations"][ro.REVISION] == "1"
    assert rs["metadata"]["annotations"][ro.DESIRED_REPLICAS] == "3"
    assert rs["metadata"]["annotations"][ro.MAX_REPLICAS] == "4"
    assert d["metadata"]["annotations"][ro.REVISION] == "1"
    assert rs["status"] == {"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 3,
                            "availableReplicas": 3, "observedGeneration": 1}

    status = d["status"]
    assert status["observedGeneration"] == d["metadata"]["generation"]
    assert (status["replicas"], status["updatedReplicas"], status["readyReplicas"],
            status["availableReplicas"], status["unavailableReplicas"]) == (3, 3, 3, 3, 0)
    available = sim.condition("api", "Available")
    progressing = sim.condition("api", "Progressing")
    assert available and available["status"] == "True"
    assert available["reason"] == "MinimumReplicasAvailable"
    assert available["message"] == "Deployment has minimum availability."
    assert progressing and progressing["reason"] == "NewReplicaSetAvailable"
    assert progressing["message"] == f'ReplicaSet "{name}" has successfully progressed.'

    pods = sim.pods("api")
    assert len(pods) == 3 and all(ready(p) for p in pods)
    for pod in pods:
        assert re.match(rf"^{name}-[bcdfghjklmnpqrstvwxz2456789]{{5}}$", pod["metadata"]["name"])
        assert pod["metadata"]["labels"]["pod-template-hash"] == pod_hash
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
        assert pod["spec"]["nodeName"].startswith("drill-node-")
        validate(pod)
    validate(d)
    validate(rs)

    messages = [e["message"] for e in sim.events_for("api")]
    assert f"Scaled up replica set {name} from 0 to 3" in messages
    created = [e for e in sim.events_for(name) if e["reason"] == "SuccessfulCreate"]
    assert len(created) == 3
    assert created[0]["source"]["component"] == "replicaset-controller"
    assert all(e["message"].startswith(f"Created pod: {name}-") for e in created)
    for event in sim.store.list("events"):
        validate(event)


def test_defaults_are_applied_to_deployments_created_without_them() -> None:
    sim = Sim()
    sim.store.create("deployments", {
        "metadata": {"name": "bare", "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": "bare"}},
                 "template": {"metadata": {"labels": {"app": "bare"}},
                              "spec": {"containers": [{"name": "bare", "image": V1}]}}},
    })
    sim.until(lambda: sim.rolled_out("bare"), limit=60)
    spec = sim.deployment("bare")["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate",
                                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["template"]["spec"]["restartPolicy"] == "Always"


def test_fenceposts_handle_ints_and_percentages() -> None:
    def d(replicas: int, surge: object, unavailable: object) -> dict:
        return ro.apply_deployment_defaults({"spec": {
            "replicas": replicas, "strategy": {"type": "RollingUpdate", "rollingUpdate": {
                "maxSurge": surge, "maxUnavailable": unavailable}}}})

    assert ro.resolve_fenceposts(d(3, "25%", "25%")) == (1, 0)
    assert ro.resolve_fenceposts(d(10, "25%", "25%")) == (3, 2)
    assert ro.resolve_fenceposts(d(4, 0, 0)) == (0, 1)
    assert ro.resolve_fenceposts(d(4, 2, "50%")) == (2, 2)
    assert ro.max_unavailable(d(2, 0, 5)) == 2


def test_scale_up_and_down() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=3)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    [rs] = sim.replicasets("api")
    name = rs["metadata"]["name"]

    sim.scale("api", 5)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    assert len(sim.pods("api")) == 5
    [rs] = sim.replicasets("api")
    assert rs["metadata"]["annotations"][ro.DESIRED_REPLICAS] == "5"
    assert rs["metadata"]["annotations"][ro.MAX_REPLICAS] == "7"

    sim.scale("api", 2)
    sim.cp.tick()
    assert len(sim.pods("api")) == 2  # the others are terminating
    terminating = [p for p in sim.pods("api", live=False) if p["metadata"].get("deletionTimestamp")]
    assert len(terminating) == 3
    sim.run(3)
    assert len(sim.pods("api", live=False)) == 2
    assert sim.rolled_out("api")
    messages = [e["message"] for e in sim.events_for("api")]
    assert f"Scaled up replica set {name} from 3 to 5" in messages
    assert f"Scaled down replica set {name} from 5 to 2" in messages
    deleted = [e for e in sim.events_for(name) if e["reason"] == "SuccessfulDelete"]
    assert len(deleted) == 3


def test_scale_down_deletes_unready_pods_first() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=3)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    old_pods = {p["metadata"]["name"] for p in sim.pods("api")}
    sim.scale("api", 4)
    sim.run(2)  # the fourth pod exists but is not ready yet
    newcomer = {p["metadata"]["name"] for p in sim.pods("api")} - old_pods
    assert len(newcomer) == 1
    sim.scale("api", 3)
    sim.cp.tick()
    assert {p["metadata"]["name"] for p in sim.pods("api")} == old_pods


def test_rolling_update_keeps_availability_and_moves_all_pods() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=4)  # maxSurge 1, maxUnavailable 1
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    [old] = sim.replicasets("api")
    sim.set_image("api", V2)

    steps = 0
    while not sim.rolled_out("api"):
        sim.run(0.5, 0.5)
        steps += 1
        assert steps < 400
        live = sim.pods("api")
        assert sum(1 for p in live if ready(p)) >= 3, "maxUnavailable=1 violated"
        assert len(live) <= 5, "maxSurge=1 violated"

    rss = {rs["metadata"]["name"]: rs for rs in sim.replicasets("api")}
    [new_name] = [n for n in rss if n != old["metadata"]["name"]]
    new = rss[new_name]
    assert new["spec"]["replicas"] == 4
    assert rss[old["metadata"]["name"]]["spec"]["replicas"] == 0
    assert new["metadata"]["annotations"][ro.REVISION] == "2"
    assert rss[old["metadata"]["name"]]["metadata"]["annotations"][ro.REVISION] == "1"
    assert sim.deployment("api")["metadata"]["annotations"][ro.REVISION] == "2"
    sim.run(3)
    pods = sim.pods("api", live=False)
    assert len(pods) == 4
    assert all(p["metadata"]["labels"]["pod-template-hash"] == new_name[4:] for p in pods)
    assert all(p["spec"]["containers"][0]["image"] == V2 for p in pods)
    assert sim.condition("api", "Progressing")["reason"] == "NewReplicaSetAvailable"  # type: ignore[index]


def test_a_large_clock_jump_completes_a_rollout_in_one_tick() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=3)
    sim.clock.advance(180)
    sim.cp.tick()
    assert sim.rolled_out("api")
    sim.set_image("api", V2)
    sim.clock.advance(180)
    sim.cp.tick()
    assert sim.rolled_out("api")
    assert all(p["spec"]["containers"][0]["image"] == V2 for p in sim.pods("api", live=False))
    # Events carry the drill time they happened at, not the time of the tick.
    stamps = sorted({e["firstTimestamp"] for e in sim.events_for("api")})
    assert len(stamps) > 2


def test_undo_reuses_the_old_replicaset_and_bumps_its_revision() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=2)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    [first] = sim.replicasets("api")
    sim.set_image("api", V2)
    sim.until(lambda: sim.rolled_out("api"), limit=60)

    undo(sim, "api")
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    rss = {rs["metadata"]["name"]: rs for rs in sim.replicasets("api")}
    assert len(rss) == 2, "no new ReplicaSet for an old template"
    reused = rss[first["metadata"]["name"]]
    assert reused["metadata"]["uid"] == first["metadata"]["uid"]
    assert reused["spec"]["replicas"] == 2
    assert reused["metadata"]["annotations"][ro.REVISION] == "3"
    assert reused["metadata"]["annotations"][ro.REVISION_HISTORY] == "1"
    assert sim.deployment("api")["metadata"]["annotations"][ro.REVISION] == "3"

    # Undo again: back to the V2 ReplicaSet (revision 2 -> 4, history "2").
    undo(sim, "api")
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    second = next(rs for rs in sim.replicasets("api")
                  if rs["metadata"]["name"] != first["metadata"]["name"])
    assert second["metadata"]["annotations"][ro.REVISION] == "4"
    assert second["metadata"]["annotations"][ro.REVISION_HISTORY] == "2"

    # Back to revision 3 explicitly: history accumulates.
    undo(sim, "api", to_revision=3)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    reused = next(rs for rs in sim.replicasets("api")
                  if rs["metadata"]["name"] == first["metadata"]["name"])
    assert reused["metadata"]["annotations"][ro.REVISION] == "5"
    assert reused["metadata"]["annotations"][ro.REVISION_HISTORY] == "1,3"


def test_change_cause_reaches_the_replicaset() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=1)
    sim.until(lambda: sim.rolled_out("api"), limit=60)

    def change(obj: dict) -> None:
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = V2
        obj["metadata"]["annotations"][ro.CHANGE_CAUSE] = "deploy api 2.0.0: faster checkout"
        obj["metadata"]["annotations"][ro.LAST_APPLIED] = "{}"

    sim.change("api", change)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    new = max(sim.replicasets("api"), key=ro.revision)
    annotations = new["metadata"]["annotations"]
    assert annotations[ro.CHANGE_CAUSE] == "deploy api 2.0.0: faster checkout"
    assert ro.LAST_APPLIED not in annotations


def test_restart_annotation_produces_a_new_revision() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=2)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    before = {p["metadata"]["name"] for p in sim.pods("api")}

    def restart(obj: dict) -> None:
        meta = obj["spec"]["template"].setdefault("metadata", {})
        meta.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = \
            "2024-11-09T12:05:00Z"

    sim.change("api", restart)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    sim.run(3)
    assert len(sim.replicasets("api")) == 2
    assert sim.deployment("api")["metadata"]["annotations"][ro.REVISION] == "2"
    pods = sim.pods("api", live=False)
    assert before.isdisjoint({p["metadata"]["name"] for p in pods})
    assert all(p["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
               == "2024-11-09T12:05:00Z" for p in pods)


def test_readiness_failure_hits_the_progress_deadline() -> None:
    sim = Sim({V2: PodProfile(readiness_fails=True)})
    sim.deploy("api", V1, replicas=3, progressDeadlineSeconds=60)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    sim.set_image("api", V2)
    sim.run(30)
    progressing = sim.condition("api", "Progressing")
    assert progressing and progressing["status"] == "True"
    assert progressing["reason"] == "ReplicaSetUpdated"
    new = max(sim.replicasets("api"), key=ro.revision)
    assert progressing["message"] == f'ReplicaSet "{new["metadata"]["name"]}" is progressing.'
    # maxUnavailable is 0 for 3 replicas: all old pods keep serving.
    assert sum(1 for p in sim.pods("api") if ready(p)) == 3

    sim.run(40)
    progressing = sim.condition("api", "Progressing")
    assert progressing and progressing["status"] == "False"
    assert progressing["reason"] == "ProgressDeadlineExceeded"
    assert progressing["message"] == \
        f'ReplicaSet "{new["metadata"]["name"]}" has timed out progressing.'
    assert sim.condition("api", "Available")["status"] == "True"  # type: ignore[index]
    unhealthy = [e for e in sim.store.list("events", "shop") if e["reason"] == "Unhealthy"]
    assert unhealthy and max(e["count"] for e in unhealthy) >= 5
    assert unhealthy[0]["message"].startswith("Readiness probe failed: ")

    # Rolling back recovers: the condition comes back to NewReplicaSetAvailable.
    undo(sim, "api")
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    sim.run(2)
    assert sim.condition("api", "Progressing")["reason"] == "NewReplicaSetAvailable"  # type: ignore[index]


def test_deleted_pod_is_replaced() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=3)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    victim = sim.pods("api")[0]
    name = victim["metadata"]["name"]

    answer = sim.cp.delete_pod("shop", name, 30)
    expected = rfc3339(sim.clock.now() + timedelta(seconds=30))
    assert answer["metadata"]["deletionTimestamp"] == expected
    assert answer["metadata"]["deletionGracePeriodSeconds"] == 30
    sim.cp.tick()
    assert len(sim.pods("api")) == 3  # a replacement already exists
    assert sim.store.try_get("pods", "shop", name) is not None  # still terminating
    sim.run(2)
    assert sim.store.try_get("pods", "shop", name) is None
    sim.until(lambda: sim.rolled_out("api") and all(ready(p) for p in sim.pods("api")))
    killing = [e for e in sim.events_for(name) if e["reason"] == "Killing"]
    assert killing and killing[0]["message"] == "Stopping container api"

    gone = sim.cp.delete_pod("shop", sim.pods("api")[0]["metadata"]["name"], 0)
    assert sim.store.try_get("pods", "shop", gone["metadata"]["name"]) is None


def test_deleting_a_deployment_cascades() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=3)
    sim.deploy("web", V1, replicas=1)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    sim.set_image("api", V2)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    sim.store.delete("deployments", "shop", "api")
    sim.cp.tick()
    assert [rs["metadata"]["name"] for rs in sim.store.list("replicasets")][0].startswith("web-")
    assert len(sim.store.list("replicasets")) == 1
    assert all(p["metadata"].get("deletionTimestamp") for p in sim.store.list("pods")
               if p["metadata"]["name"].startswith("api-"))
    sim.run(3)
    assert [p["metadata"]["name"][:4] for p in sim.store.list("pods")] == ["web-"]


def test_deleting_a_replicaset_deletes_its_pods_and_the_deployment_recreates_it() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=2)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    [rs] = sim.replicasets("api")
    sim.store.delete("replicasets", "shop", rs["metadata"]["name"])
    sim.run(3)
    [again] = sim.replicasets("api")
    assert again["metadata"]["name"] == rs["metadata"]["name"]
    assert again["metadata"]["uid"] != rs["metadata"]["uid"]
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    sim.run(3)
    owners = {p["metadata"]["ownerReferences"][0]["uid"] for p in sim.store.list("pods")}
    assert owners == {again["metadata"]["uid"]}


def test_paused_deployment_makes_no_rollout_progress() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=2)
    sim.until(lambda: sim.rolled_out("api"), limit=60)

    def pause(obj: dict) -> None:
        obj["spec"]["paused"] = True
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = V2

    sim.change("api", pause)
    sim.run(20)
    assert len(sim.replicasets("api")) == 1
    progressing = sim.condition("api", "Progressing")
    assert progressing and (progressing["status"], progressing["reason"],
                            progressing["message"]) == ("Unknown", "DeploymentPaused",
                                                        "Deployment is paused")
    sim.scale("api", 3)  # scaling still works while paused
    sim.run(10)
    assert len(sim.pods("api")) == 3
    assert sim.deployment("api")["status"]["updatedReplicas"] == 0

    def resume(obj: dict) -> None:
        obj["spec"]["paused"] = False

    sim.change("api", resume)
    sim.cp.tick()
    assert sim.condition("api", "Progressing")["reason"] in (  # type: ignore[index]
        "DeploymentResumed", "NewReplicaSetCreated", "ReplicaSetUpdated")
    sim.until(lambda: sim.rolled_out("api"), limit=120)
    sim.run(2)
    assert all(p["spec"]["containers"][0]["image"] == V2 for p in sim.pods("api", live=False))


def test_pausing_mid_rollout_stops_it_where_it_is_and_resume_carries_on() -> None:
    """kubectl rollout pause during a rolling update: no new pods of the new ReplicaSet, no
    old ones removed; a scale while paused is shared proportionally; resume finishes it."""
    sim = Sim()
    sim.deploy("api", V1, replicas=4)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    sim.set_image("api", V2)
    sim.until(lambda: 0 < sim.deployment("api")["status"].get("updatedReplicas", 0) < 4,
              limit=60, step=0.5)

    def pause(obj: dict) -> None:
        obj["spec"]["paused"] = True

    sim.change("api", pause)
    sim.cp.tick()
    sizes = {rs["metadata"]["name"]: rs["spec"]["replicas"] for rs in sim.replicasets("api")}
    images = sorted(p["spec"]["containers"][0]["image"] for p in sim.pods("api"))
    assert V1 in images and V2 in images
    sim.run(120)  # two drill minutes: a running rollout would have finished long ago
    assert {rs["metadata"]["name"]: rs["spec"]["replicas"]
            for rs in sim.replicasets("api")} == sizes
    assert sorted(p["spec"]["containers"][0]["image"] for p in sim.pods("api")) == images
    status = sim.deployment("api")["status"]
    assert status["observedGeneration"] == sim.deployment("api")["metadata"]["generation"]
    assert sim.condition("api", "Progressing")["reason"] == ro.PAUSED  # type: ignore[index]
    assert not sim.rolled_out("api")

    sim.scale("api", 8)  # scaling works while paused, across both ReplicaSets
    sim.run(20)
    after = {rs["metadata"]["name"]: rs["spec"]["replicas"] for rs in sim.replicasets("api")}
    assert sum(after.values()) == 8 + 2  # proportional scaling allows maxSurge (25 % of 8)
    assert all(after[name] > size for name, size in sizes.items() if size)

    def resume(obj: dict) -> None:
        del obj["spec"]["paused"]  # kubectl rollout resume: {"spec":{"paused":null}}

    sim.change("api", resume)
    sim.until(lambda: sim.rolled_out("api"), limit=300)
    sim.run(3)
    assert all(p["spec"]["containers"][0]["image"] == V2 for p in sim.pods("api", live=False))
    assert len(sim.pods("api", live=False)) == 8


def test_paused_false_is_not_stored() -> None:
    """`paused` is omitempty in apps/v1: the API server never returns paused: false."""
    body = {"spec": {"paused": False, "template": {"spec": {"containers": []}}}}
    assert "paused" not in ro.apply_deployment_defaults(body)["spec"]


def test_recreate_strategy_stops_old_pods_before_starting_new_ones() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=3, strategy={"type": "Recreate"})
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    assert "rollingUpdate" not in sim.deployment("api")["spec"]["strategy"]
    sim.set_image("api", V2)
    seen_new = False
    for _ in range(120):
        sim.run(0.5, 0.5)
        pods = sim.store.list("pods", "shop")
        images = {p["spec"]["containers"][0]["image"] for p in pods}
        assert images != {V1, V2}, "old and new pods overlap under Recreate"
        seen_new = seen_new or V2 in images
        if sim.rolled_out("api"):
            break
    assert seen_new and sim.rolled_out("api")


def test_revision_history_limit_deletes_the_oldest_idle_replicasets() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=1, revisionHistoryLimit=2)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    for version in range(2, 7):
        sim.set_image("api", f"registry.local/shop/api:{version}.0.0")
        sim.until(lambda: sim.rolled_out("api"), limit=60)
        sim.run(3)
    revisions = sorted(ro.revision(rs) for rs in sim.replicasets("api"))
    assert revisions == [4, 5, 6]


def test_resizing_during_a_stuck_rollout_scales_proportionally() -> None:
    sim = Sim({V2: PodProfile(readiness_fails=True)})
    sim.deploy("api", V1, replicas=10)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    sim.set_image("api", V2)
    sim.run(20)
    rss = sorted(sim.replicasets("api"), key=ro.revision)
    # 10 replicas: maxSurge 3, maxUnavailable 2; the new pods never become available.
    assert [rs["spec"]["replicas"] for rs in rss] == [8, 5]
    sim.scale("api", 20)
    sim.cp.tick()
    rss = sorted(sim.replicasets("api"), key=ro.revision)
    assert all(rs["metadata"]["annotations"][ro.DESIRED_REPLICAS] == "20" for rs in rss)
    assert all(rs["metadata"]["annotations"][ro.MAX_REPLICAS] == "25" for rs in rss)
    # 25 allowed pods shared in proportion to the sizes before (8:5 of 13).
    assert [rs["spec"]["replicas"] for rs in rss] == [15, 10]
    old_name, new_name = (rs["metadata"]["name"] for rs in rss)
    messages = [e["message"] for e in sim.events_for("api")]
    assert f"Scaled up replica set {old_name} from 8 to 15" in messages
    assert f"Scaled up replica set {new_name} from 5 to 10" in messages


def test_min_ready_seconds_delays_availability() -> None:
    sim = Sim()
    sim.deploy("api", V1, replicas=2, minReadySeconds=20)
    sim.until(lambda: all(ready(p) for p in sim.pods("api")) and len(sim.pods("api")) == 2,
              limit=60)
    [rs] = sim.replicasets("api")
    assert rs["spec"]["minReadySeconds"] == 20
    assert rs["status"]["readyReplicas"] == 2 and rs["status"]["availableReplicas"] == 0
    assert sim.condition("api", "Available")["status"] == "False"  # type: ignore[index]
    waited = sim.until(lambda: sim.rolled_out("api"), limit=60)
    assert 15 <= waited <= 21
    assert sim.condition("api", "Available")["status"] == "True"  # type: ignore[index]


def test_events_aggregate_and_are_capped() -> None:
    sim = Sim(max_events=5)
    obj = sim.store.create("namespaces", {"metadata": {"name": "shop"}})
    target = {"kind": "Deployment", "apiVersion": "apps/v1",
              "metadata": {"name": "api", "namespace": "shop", "uid": "u1",
                           "resourceVersion": "7"}}
    assert obj
    sim.events.record(target, "ScalingReplicaSet", "Scaled up replica set api-x from 0 to 3")
    sim.clock.advance(5)
    sim.events.record(target, "ScalingReplicaSet", "Scaled up replica set api-x from 0 to 3")
    [event] = sim.store.list("events", "shop")
    assert event["count"] == 2
    assert event["firstTimestamp"] == "2024-11-09T12:00:00Z"
    assert event["lastTimestamp"] == "2024-11-09T12:00:05Z"
    assert event["metadata"]["name"].startswith("api.")
    assert event["involvedObject"] == {"kind": "Deployment", "namespace": "shop", "name": "api",
                                       "uid": "u1", "apiVersion": "apps/v1",
                                       "resourceVersion": "7"}
    assert event["source"] == {"component": "deployment-controller"}
    assert event["reportingComponent"] == "deployment-controller"
    assert event["eventTime"] is None and event["type"] == "Normal"
    validate(event)
    for i in range(8):
        sim.events.record(target, "Test", f"message {i}", type="Warning")
    messages = [e["message"] for e in sim.store.list("events")]
    assert len(messages) == 5
    assert sorted(messages) == [f"message {i}" for i in range(3, 8)]


def test_ten_thousand_pods_settle_in_bounded_ticks() -> None:
    sim = Sim()
    sim.deploy("big", V1, replicas=10_000)
    began = time.monotonic()
    ticks = 0
    while not sim.rolled_out("big"):
        sim.clock.advance(1)
        sim.cp.tick()
        ticks += 1
        assert ticks <= 60
    assert sim.deployment("big")["status"]["readyReplicas"] == 10_000
    assert sim.store.count("pods") == 10_000
    assert len(sim.store.list("events")) <= 5000
    assert time.monotonic() - began < 120
