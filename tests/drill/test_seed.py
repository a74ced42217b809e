"""The seeded workload: settled, deterministic, and adopted by the controllers without churn."""

from __future__ import annotations

from datetime import timedelta

from drill import rollout as ro
from drill.clock import parse_rfc3339
from drill.control_plane import ControlPlane
from drill.events import EventRecorder
from drill.profiles import PodProfile
from drill.seed import APPS, seed_workload
from tests.drill.control_sim import Sim, ready, undo, validate


def seeded() -> Sim:
    sim = Sim()
    seed_workload(sim.store, sim.cp, sim.clock.now())
    return sim


def test_seed_creates_namespaces_and_deployments_with_history() -> None:
    sim = seeded()
    namespaces = {ns["metadata"]["name"]: ns for ns in sim.store.list("namespaces")}
    assert set(namespaces) == {"default", "kube-system", "shop", "auth"}
    assert all(ns["status"]["phase"] == "Active" for ns in namespaces.values())

    expected = {("shop", "api"): 3, ("shop", "web"): 2, ("shop", "worker"): 2,
                ("auth", "login"): 2}
    found = {(d["metadata"]["namespace"], d["metadata"]["name"]): d["spec"]["replicas"]
             for d in sim.store.list("deployments")}
    assert found == expected

    api = sim.deployment("api")
    assert api["metadata"]["labels"] == {"app": "api"}
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.local/shop/api:1.6.0"
    assert container["resources"]["limits"]["memory"] == "512Mi"
    assert {"name": "LOG_LEVEL", "value": "info"} in container["env"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["ports"][0]["containerPort"] == 8080
    assert api["metadata"]["annotations"][ro.REVISION] == "3"

    rss = sorted(sim.replicasets("api"), key=ro.revision)
    assert [ro.revision(rs) for rs in rss] == [1, 2, 3]
    assert [rs["spec"]["replicas"] for rs in rss] == [0, 0, 3]
    assert [rs["spec"]["template"]["spec"]["containers"][0]["image"] for rs in rss] == [
        f"registry.local/shop/api:{v}" for v in ("1.4.0", "1.5.0", "1.6.0")]
    assert rss[1]["metadata"]["annotations"][ro.CHANGE_CAUSE] == \
        "deploy api 1.5.0: faster checkout"
    for app in APPS:
        history = sim.replicasets(app.name, app.namespace)
        assert len(history) == len(app.revisions)
        assert 2 <= len(history) <= 4
        for rs in history:
            pod_hash = rs["metadata"]["labels"][ro.HASH_LABEL]
            assert rs["metadata"]["name"] == f"{app.name}-{pod_hash}"
            assert pod_hash == ro.template_hash(rs["spec"]["template"])
            validate(rs)
        current = max(history, key=ro.revision)
        deployment = sim.deployment(app.name, app.namespace)
        assert ro.templates_equal(current["spec"]["template"], deployment["spec"]["template"])
        validate(deployment)


def test_seeded_pods_are_running_ready_and_three_days_old() -> None:
    sim = seeded()
    now = sim.clock.now()
    pods = sim.pods("api")
    assert len(pods) == 3
    for pod in pods:
        assert pod["status"]["phase"] == "Running" and ready(pod)
        created = parse_rfc3339(pod["metadata"]["creationTimestamp"])
        assert timedelta(days=2, hours=23) < now - created < timedelta(days=3, hours=1)
        assert pod["spec"]["nodeName"].startswith("drill-node-")
        assert pod["status"]["qosClass"] == "Burstable"
        validate(pod)
    assert len({p["status"]["podIP"] for p in sim.store.list("pods")}) == \
        sim.store.count("pods") == 9
    assert sim.rolled_out("api") and sim.rolled_out("login", "auth")
    tail = sim.cp.logs(pods[0], None, False, 5)
    assert len(tail.splitlines()) == 5


def test_seed_is_deterministic() -> None:
    def snapshot() -> list:
        sim = seeded()
        return [sim.store.list(r) for r in ("deployments", "replicasets", "pods")]

    assert snapshot() == snapshot()


def test_controllers_adopt_the_seed_without_churn() -> None:
    sim = seeded()
    before = {r: {o["metadata"]["uid"]: o["metadata"]["resourceVersion"]
                  for o in sim.store.list(r)} for r in ("deployments", "replicasets", "pods")}
    for _ in range(5):
        sim.run(1)
    sim.run(120, 30)
    after = {r: {o["metadata"]["uid"]: o["metadata"]["resourceVersion"]
                 for o in sim.store.list(r)} for r in ("deployments", "replicasets", "pods")}
    assert after == before
    assert sim.store.list("events") == []


def test_undo_on_the_seed_goes_back_to_the_previous_revision() -> None:
    sim = seeded()
    undo(sim, "api")
    sim.until(lambda: sim.rolled_out("api"), limit=120)
    sim.run(3)
    rss = {ro.revision(rs): rs for rs in sim.replicasets("api")}
    assert sorted(rss) == [1, 3, 4]
    assert rss[4]["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "registry.local/shop/api:1.5.0"
    assert rss[4]["metadata"]["annotations"][ro.REVISION_HISTORY] == "2"
    assert sim.deployment("api")["metadata"]["annotations"][ro.CHANGE_CAUSE] == \
        "deploy api 1.5.0: faster checkout"
    assert {p["spec"]["containers"][0]["image"] for p in sim.pods("api", live=False)} == \
        {"registry.local/shop/api:1.5.0"}


def test_seeded_pods_follow_a_crashing_profile() -> None:
    sim = Sim({"registry.local/shop/api:1.6.0": PodProfile(crash_after=600,
                                                           crash_reason="OOMKilled")})
    seed_workload(sim.store, sim.cp, sim.clock.now())
    sim.run(2)  # they have run for three days: the crash is overdue
    for pod in sim.pods("api"):
        status = pod["status"]["containerStatuses"][0]
        assert status["restartCount"] == 1
        assert status["lastState"]["terminated"]["reason"] == "OOMKilled"
        assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert all(ready(p) for p in sim.pods("web"))


def test_a_control_plane_adopts_objects_stored_before_it_started() -> None:
    sim = Sim()
    seed_workload(sim.store, sim.cp, sim.clock.now())
    late = ControlPlane(sim.store, sim.clock, EventRecorder(sim.store, sim.clock),
                        sim.profile_for)
    sim.store.create("namespaces", {"metadata": {"name": "late"}})
    current = max(sim.replicasets("api"), key=ro.revision)
    assert late.index.tally(current["metadata"]["uid"]) == (3, 3, 3)
    assert sorted(late.kubelet.pods) == sorted(p["metadata"]["uid"]
                                               for p in sim.store.list("pods"))
    rv = sim.store.rv
    late.tick()
    assert sim.store.rv == rv  # nothing to change: adopted as is
