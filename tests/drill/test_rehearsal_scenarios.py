"""Rehearsal scenarios (data-loss, security-breach, random) played against a running drill.

The operator's moves go through the official client (scale, undo, restart, as kubectl does
them) and the drill's admin action endpoint; the model itself is also checked on a hand-built
store with a frozen clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client

from adapters.drill_admin import DrillAdmin, DrillAdminError
from drill.cluster import DrillCluster
from drill.scenarios import SCENARIOS, ScenarioActionError, get_scenario
from drill.scenarios.data_loss import ROWS_PER_POD
from drill.scenarios.random_pick import HIDDEN, pick, pool
from drill.scenarios.security_breach import ATTACK_EVERY, LEAKED_TOKEN
from tests.conftest import Drill, wait_for
from tests.drill.factories import make_cluster, pods_of, rollout, seed_shop

POOL = pool()  # what a random drill draws from: the registry's incidents

REVISION = "deployment.kubernetes.io/revision"


# ---- operator moves through the official client --------------------------------------------
def scale(drill: Drill, namespace: str, name: str, replicas: int) -> None:
    client.AppsV1Api(drill.api()).patch_namespaced_deployment_scale(
        name, namespace, {"spec": {"replicas": replicas}})


def undo(drill: Drill, namespace: str, name: str) -> None:
    """`kubectl rollout undo`: the previous revision's pod template into the deployment."""
    api = drill.api()
    apps = client.AppsV1Api(api)
    deployment = apps.read_namespaced_deployment(name, namespace)
    current = int(deployment.metadata.annotations[REVISION])
    selector = ",".join(f"{k}={v}" for k, v in deployment.spec.selector.match_labels.items())
    sets = apps.list_namespaced_replica_set(namespace, label_selector=selector).items
    previous = max((rs for rs in sets if int(rs.metadata.annotations[REVISION]) < current),
                   key=lambda rs: int(rs.metadata.annotations[REVISION]))
    template = api.sanitize_for_serialization(previous.spec.template)
    template["metadata"]["labels"].pop("pod-template-hash", None)
    apps.patch_namespaced_deployment(name, namespace,
                                     [{"op": "replace", "path": "/spec/template",
                                       "value": template}])


def restart(drill: Drill, namespace: str, name: str) -> None:
    """`kubectl rollout restart`."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    client.AppsV1Api(drill.api()).patch_namespaced_deployment(name, namespace, {
        "spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": stamp}}}}})


def status(drill: Drill) -> dict[str, Any]:
    response = drill.http().get("/drill/v1/status")
    response.raise_for_status()
    return response.json()


def details(drill: Drill) -> dict[str, Any]:
    return status(drill)["details"]


def act(drill: Drill, action: str, expect: int = 200) -> dict[str, Any]:
    response = drill.http().post("/drill/v1/scenario/action", json={"action": action})
    assert response.status_code == expect, response.text
    return response.json()


def ready_on(drill: Drill, namespace: str, name: str, image: str, replicas: int) -> bool:
    pods = client.CoreV1Api(drill.api()).list_namespaced_pod(
        namespace, label_selector=f"app={name}").items
    live = [p for p in pods if not p.metadata.deletion_timestamp]
    return len(live) == replicas and all(
        p.spec.containers[0].image == image
        and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
        for p in live)


# ---- data-loss -------------------------------------------------------------------------------
def test_data_loss_right_path_resolves_cleanly(drill_factory) -> None:
    drill = drill_factory(scenario="data-loss")
    scenario = drill.cluster.scenario
    start = details(drill)
    assert start["rows_corrupt"] == 0 or start["writes_stopped"] is False
    assert start["last_good_backup"] == start["backups"][-1]["name"]
    assert all(b["good"] for b in start["backups"])
    corrupt = wait_for(lambda: details(drill)["rows_corrupt"] > 10 and details(drill),
                       message="0.11.0 pods writing corrupt rows")
    assert status(drill)["resolved"] is False and status(drill)["mitigated"] is False
    act(drill, "stop-writes", expect=409)  # not stopped yet: the drill says so, does nothing
    act(drill, "reconcile", expect=409)  # nothing restored yet

    scale(drill, "shop", "worker", 0)  # STOP WRITES
    wait_for(lambda: details(drill)["writes_stopped"], message="writes stopped")
    stopped = details(drill)["rows_corrupt"]
    assert stopped >= corrupt["rows_corrupt"]
    assert act(drill, "stop-writes")["message"].startswith("writes stopped")
    assert status(drill)["mitigated"] is True
    backup = act(drill, "backup-current")
    assert backup["unsafe"] is False and "corrupted_state_" in backup["message"]
    restored = act(drill, "restore")
    assert restored["unsafe"] is False
    assert restored["status"]["details"]["rows_corrupt"] == 0
    missing = restored["status"]["details"]["rows_missing"]
    assert missing > 0
    assert status(drill)["resolved"] is False  # the rows since the backup are still missing
    reconciled = act(drill, "reconcile")
    assert f"recovered {missing} rows" in reconciled["message"]

    final = status(drill)
    assert final["resolved"] is True and final["clean"] is True, final
    assert final["unsafe"] == []
    assert final["steps"] == ["stop-writes", "backup-current", "restore", "reconcile"]
    assert final["details"]["rows_corrupt"] == 0 and final["details"]["rows_lost"] == 0
    assert final["details"]["rows_recovered"] == missing
    assert [b["kind"] for b in final["details"]["backups"]][-1] == "current-state"
    assert any("rollout undo" in item for item in final["followups"])
    assert any("scale deployment/worker back to 2" in item for item in final["followups"])

    # the follow-ups: roll back 0.11.0, then resume writes; nothing is corrupted again
    undo(drill, "shop", "worker")
    scale(drill, "shop", "worker", 2)
    wait_for(lambda: ready_on(drill, "shop", "worker", scenario.good_image, 2), timeout=30,
             message="worker back on 0.10.0")
    rows = details(drill)["rows_total"]
    wait_for(lambda: details(drill)["rows_total"] > rows, message="good writes resume")
    after = status(drill)
    assert after["resolved"] and after["clean"] and after["followups"] == []
    assert after["details"]["rows_corrupt"] == 0


def test_data_loss_restore_before_backup_is_unsafe(drill_factory) -> None:
    drill = drill_factory(scenario="data-loss")
    wait_for(lambda: details(drill)["rows_corrupt"] > 0, message="corruption")
    undo(drill, "shop", "worker")  # stop writes by rolling back
    wait_for(lambda: details(drill)["writes_stopped"], timeout=30, message="writes stopped")

    restored = act(drill, "restore")  # no backup of the current state first
    assert restored["unsafe"] is True
    assert "without a backup of the current" in restored["unsafeReason"]
    act(drill, "backup-current")  # too late: it holds the restored table, not the evidence
    reconciled = act(drill, "reconcile")
    assert "cannot be recovered" in reconciled["message"]

    final = status(drill)
    assert final["resolved"] is True  # the incident is over...
    assert final["clean"] is False  # ...but not cleanly
    assert [u.split(":")[0] for u in final["unsafe"]] == ["restore-without-backup"]
    assert final["details"]["rows_lost"] > 0 and final["details"]["rows_recovered"] == 0
    assert "data loss" in final["reason"]
    assert final["steps"] == ["stop-writes", "restore", "backup-current", "reconcile"]
    assert any("lost" in item for item in final["followups"])


def test_scenario_action_endpoint_rejects_what_the_scenario_does_not_know(
        drill_factory) -> None:
    drill = drill_factory(scenario="data-loss")
    for unknown in ("rotate-secrets", "migrate-down", "drop-table"):
        body = act(drill, unknown, expect=400)
        assert "does not know drill action" in body["message"]
        assert "backup-current" in body["message"]
    bad = drill.http().post("/drill/v1/scenario/action", json={"nope": 1})
    assert bad.status_code == 400
    anonymous = drill.http(token=None).post("/drill/v1/scenario/action",
                                            json={"action": "restore"})
    assert anonymous.status_code in (401, 403)
    assert details(drill)["restored_from"] is None


# ---- security-breach -------------------------------------------------------------------------
def test_security_breach_right_path_resolves_cleanly(drill_factory) -> None:
    drill = drill_factory(scenario="security-breach")
    scenario = drill.cluster.scenario
    wait_for(lambda: details(drill)["attacker_requests"] >= 2, message="attacker at work")
    leaked = drill.http(token=LEAKED_TOKEN)
    assert leaked.get("/api/v1/namespaces/auth/pods").status_code == 200
    assert leaked.delete("/api/v1/namespaces/auth/pods/x").status_code == 403  # read-only
    state = status(drill)
    assert state["resolved"] is False and "203.0.113.7" in state["reason"]
    assert any("secrets" in path for path in state["details"]["accessed"])
    events = client.CoreV1Api(drill.api()).list_namespaced_event("auth").items
    assert any(e.reason == "SuspiciousAPIAccess" for e in events)

    undo(drill, "auth", "login")  # ISOLATE: the compromised 3.4.0 goes
    wait_for(lambda: details(drill)["isolated"], timeout=30, message="login isolated")
    assert status(drill)["mitigated"] is True
    rotated = act(drill, "rotate-secrets")  # SECURE
    assert rotated["unsafe"] is False and "revoked" in rotated["message"]
    assert leaked.get("/api/v1/namespaces/auth/pods").status_code == 401
    made = details(drill)["attacker_requests"]
    assert "rollout restart" in status(drill)["reason"]

    restart(drill, "auth", "login")  # pods pick up the rotated secrets
    final = wait_for(lambda: (s := status(drill))["resolved"] and s, timeout=30,
                     message="resolved after the redeploy")
    assert final["clean"] is True and final["unsafe"] == []
    assert final["steps"] == ["isolate", "rotate-secrets", "redeploy"]
    assert ready_on(drill, "auth", "login", scenario.good_image, 2)
    assert final["details"]["leaked_token_valid"] is False
    wait_for(lambda: details(drill)["attacker_denied"] > 0, message="attacker locked out")
    assert details(drill)["attacker_requests"] == made


def test_security_breach_rotating_before_isolating_is_unsafe(drill_factory) -> None:
    drill = drill_factory(scenario="security-breach")
    wait_for(lambda: details(drill)["attacker_requests"] >= 1, message="attacker at work")
    rotated = act(drill, "rotate-secrets")  # login 3.4.0 still runs its backdoor
    assert rotated["unsafe"] is True
    state = status(drill)
    assert state["details"]["leaks"] == 2 and state["details"]["leaked_token_valid"] is True
    assert drill.http(token=f"{LEAKED_TOKEN}-2").get("/api/v1/pods").status_code == 200
    assert state["resolved"] is False
    before = state["details"]["attacker_requests"]
    wait_for(lambda: details(drill)["attacker_requests"] > before,
             message="attacker carries on with the new token")

    scale(drill, "auth", "login", 0)  # isolate, then the rest of the procedure
    wait_for(lambda: details(drill)["isolated"], timeout=30, message="login offline")
    act(drill, "rotate-secrets")
    assert "offline" in status(drill)["reason"] or "3.4.0" in status(drill)["reason"]
    undo(drill, "auth", "login")
    scale(drill, "auth", "login", 2)
    final = wait_for(lambda: (s := status(drill))["resolved"] and s, timeout=30,
                     message="resolved after the clean redeploy")
    assert final["clean"] is False
    assert [u.split(":")[0] for u in final["unsafe"]] == ["rotate-before-isolate"]


# ---- random ----------------------------------------------------------------------------------
def test_random_pick_is_deterministic_per_seed() -> None:
    assert pick(2) == "bad-deploy-auth" and pick(5) == "data-loss" and pick(7) == "bad-migration"
    for seed in range(20):
        assert get_scenario("random", seed=seed).picked == get_scenario(
            "random", seed=seed).picked == pick(seed)
    assert {pick(seed) for seed in range(200)} == set(POOL)
    assert set(POOL) <= set(SCENARIOS) and "random" not in POOL and "none" not in POOL
    scenario = get_scenario("random", seed=5)
    assert scenario.runbook == "data-loss" and scenario.target == ("shop", "worker")
    assert scenario.actions == get_scenario("data-loss").actions


def test_random_drill_plays_the_pick_and_reveals_it_at_the_end(drill_factory) -> None:
    drill = drill_factory(scenario="random", seed=2)  # bad-deploy-auth
    state = status(drill)
    assert state["scenario"] == "random"
    assert state["details"]["picked"] == HIDDEN and state["resolution"] == (
        "revealed when the drill ends")
    assert "bad-deploy-auth" not in state["reason"]
    assert drill.cluster.scenario.runbook == "production-bug"
    act(drill, "backup-current", expect=400)
    wait_for(lambda: any(p.spec.containers[0].image.endswith(":1.7.0") for p in
                         client.CoreV1Api(drill.api()).list_namespaced_pod(
                             "shop", label_selector="app=api").items),
             message="the picked incident rolls out")
    undo(drill, "shop", "api")
    final = wait_for(lambda: (s := status(drill))["resolved"] and s, timeout=30,
                     message="random drill resolved")
    assert "random pick (seed 2): bad-deploy-auth" in final["reason"]
    assert final["details"]["picked"] == "bad-deploy-auth"


def test_same_seed_same_pick_on_two_clusters() -> None:
    first = DrillCluster(scenario="random", seed=6, speed=0)
    second = DrillCluster(scenario="random", seed=6, speed=0)
    assert first.scenario.picked == second.scenario.picked == "data-loss"
    assert first.status()["details"]["picked"] == HIDDEN


# ---- the models on a hand-built store --------------------------------------------------------
@pytest.mark.postgres
def test_corruption_grows_with_ready_bad_writers_only() -> None:
    """The worker's ready pods insert rows into the real orders table: 0.11.0's with a NULL
    total; at 0 replicas nothing is inserted."""
    store, clock = make_cluster()
    seed_shop(store)  # worker: 1 replica
    scenario = get_scenario("data-loss")
    scenario.attach(SimpleNamespace(clock=clock))
    try:
        scenario.setup(store, clock)

        def counted() -> dict[str, Any]:
            scenario.tick(store, clock)
            scenario.db.shop.flush()
            scenario.db.observe(force=True)
            return scenario.details(store)

        start = counted()["rows_total"]
        assert start == 60_000 + 3_000 + 1_500
        clock.advance(100)
        db = counted()
        assert db["rows_corrupt"] == 0 and db["rows_total"] == start + 100 * ROWS_PER_POD
        rollout(store, "shop", "worker", scenario.bad_image, replicas=2)
        clock.advance(50)
        assert counted()["rows_corrupt"] == 2 * 50 * ROWS_PER_POD
        assert scenario.status(store).reason.startswith("worker 0.11.0 is writing corrupt rows")
        rollout(store, "shop", "worker", scenario.bad_image, replicas=0)  # scale to 0
        clock.advance(50)
        assert counted()["rows_corrupt"] == 2 * 50 * ROWS_PER_POD
        assert scenario.database.scalar("SELECT count(*) FROM orders WHERE total_cents IS NULL"
                                        ) == 2 * 50 * ROWS_PER_POD
        assert scenario.status(store).mitigated and scenario.step_names() == ("stop-writes",)
        with pytest.raises(ScenarioActionError) as caught:
            scenario.act("reconcile", store)
        assert caught.value.code == 409
    finally:
        scenario.close()


def test_pods_of_login_must_all_be_new_after_rotation() -> None:
    store, clock = make_cluster()
    seed_shop(store)
    scenario = get_scenario("security-breach")
    scenario.setup(store, clock)
    rollout(store, "auth", "login", scenario.bad_image)
    clock.advance(ATTACK_EVERY * 3)
    assert scenario.details(store)["attacker_requests"] == 3
    rollout(store, "auth", "login", scenario.good_image)  # undo: isolated
    assert scenario.details(store)["isolated"]
    scenario.act("rotate-secrets", store)
    old = {p["metadata"]["name"] for p in pods_of(store, "auth", "login")}
    assert not scenario.status(store).resolved
    rollout(store, "auth", "login", scenario.good_image)  # restart: new pods
    assert not old & {p["metadata"]["name"] for p in pods_of(store, "auth", "login")}
    state = scenario.status(store)
    assert state.resolved and state.clean, state.reason
    clock.advance(ATTACK_EVERY * 2)
    assert scenario.details(store)["attacker_requests"] == 3
    assert scenario.details(store)["attacker_denied"] == 2


@pytest.mark.parametrize("name", ["data-loss", "security-breach", "random"])
def test_metadata(name: str) -> None:
    scenario = get_scenario(name)
    assert scenario.title and scenario.brief and "\n" not in scenario.brief
    assert scenario.difficulty in ("easy", "medium", "hard")
    assert scenario.handbook and scenario.resolution
    doc = type(scenario).__doc__ or ""
    assert "Recovering from" in doc or "handbook" in doc
    if name != "random":
        assert scenario.runbook == name


def test_bad_migration_migrate_down_action() -> None:
    store, clock = make_cluster()
    seed_shop(store)
    scenario = get_scenario("bad-migration")
    scenario.setup(store, clock)
    assert scenario.details(store)["migrationApplied"] is True
    report = scenario.act("migrate-down", store)
    assert "rolled back" in report.message and not report.unsafe
    assert scenario.details(store)["migrationApplied"] is False
    assert "already" in scenario.act("migrate-down", store).message
    assert scenario.step_names() == ("migrate-down",)
    with pytest.raises(ScenarioActionError) as caught:
        scenario.act("restore", store)
    assert caught.value.code == 400


def test_bad_migration_migrate_down_over_http(drill_factory) -> None:
    drill = drill_factory(scenario="bad-migration")
    assert details(drill)["migrationApplied"] is True
    body = act(drill, "migrate-down")
    assert body["ok"] is True and body["status"]["details"]["migrationApplied"] is False
    assert body["status"]["steps"] == ["migrate-down"]
    act(drill, "restore", expect=400)
    with DrillAdmin.from_kubeconfig(drill.kubeconfig) as admin:  # what the console uses
        assert "already rolled back" in admin.scenario_action("migrate-down")["message"]
        with pytest.raises(DrillAdminError, match="400: .*does not know drill action"):
            admin.scenario_action("restore")
