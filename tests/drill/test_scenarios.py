"""Drill scenarios: registry, the incident each starts, pod/traffic profiles, "is it over"."""

from __future__ import annotations

import pytest

from drill.profiles import HEALTHY_POD, HEALTHY_TRAFFIC, TrafficProfile
from drill.scenarios import SCENARIOS, Scenario, ScenarioStatus, get_scenario, register
from drill.scenarios.memory_leak import CRASH_EVERY, DROPPED_AFTER_KILL, crash_after
from drill.traffic import Traffic
from tests.drill.factories import make_cluster, pods_of, rollout, run, seed_shop

INCIDENTS = ("bad-deploy-auth", "memory-leak", "bad-migration", "slow-release")
GOOD = "registry.local/shop/api:1.6.0"


@pytest.fixture
def shop():
    store, clock = make_cluster()
    seed_shop(store)
    return store, clock


def overall_error_ratio(profile: TrafficProfile) -> float:
    total = sum(ep.share for ep in profile.endpoints)
    return sum(ep.share * ep.error_ratio for ep in profile.endpoints) / total


def api_pod(store) -> dict:
    return pods_of(store, "shop", "api")[0]


# ---- registry ----------------------------------------------------------------------------
def test_registry_names_and_fresh_instances() -> None:
    assert set(SCENARIOS) >= {"none", *INCIDENTS}
    first, second = get_scenario("memory-leak"), get_scenario("memory-leak")
    assert first is not second
    with pytest.raises(KeyError) as caught:
        get_scenario("data-loss-typo")
    message = str(caught.value)
    assert "data-loss-typo" in message
    assert all(name in message for name in SCENARIOS)


def test_registry_is_open() -> None:
    class Extra(Scenario):
        """A later scenario (e.g. data-loss)."""

        name = "extra-for-test"

    try:
        register(Extra)
        assert isinstance(get_scenario("extra-for-test"), Extra)
    finally:
        SCENARIOS.pop("extra-for-test", None)


@pytest.mark.parametrize("name", INCIDENTS)
def test_scenario_metadata(name: str) -> None:
    scenario = get_scenario(name)
    assert scenario.name == name
    assert scenario.title and scenario.brief and "\n" not in scenario.brief
    assert scenario.difficulty in ("easy", "medium", "hard")
    assert scenario.runbook in ("production-bug", "migration-failed", "performance-degradation")
    assert scenario.default_speed > 0
    assert scenario.target == ("shop", "api")
    assert scenario.bad_image != scenario.good_image == GOOD
    assert scenario.resolution and "undo" in scenario.resolution
    doc = type(scenario).__doc__ or ""
    assert "Example" in doc or "Procedure" in doc  # cites the handbook


def test_handbook_citations() -> None:
    assert "Example 1" in (type(get_scenario("bad-deploy-auth")).__doc__ or "")
    assert "Example 2" in (type(get_scenario("bad-migration")).__doc__ or "")
    assert "Example 3" in (type(get_scenario("memory-leak")).__doc__ or "")
    assert "Procedure 3" in (type(get_scenario("slow-release")).__doc__ or "")
    assert "scale-up" in get_scenario("memory-leak").resolution
    assert "migrate:down" in get_scenario("bad-migration").resolution


# ---- setup -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", INCIDENTS)
def test_setup_deploys_the_bad_image(shop, name: str) -> None:
    store, clock = shop
    before = store.get("deployments", "shop", "api")
    scenario = get_scenario(name)
    scenario.setup(store, clock)
    after = store.get("deployments", "shop", "api")
    container = after["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == scenario.bad_image
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    cause = after["metadata"]["annotations"]["kubernetes.io/change-cause"]
    assert cause.startswith("deploy api 1.7.0")
    assert scenario.good_image == GOOD
    assert scenario.initial_replicas == 3


def test_setup_pins_the_actual_current_image() -> None:
    store, clock = make_cluster()
    seed_shop(store, api_image="registry.local/shop/api:1.6.1")
    scenario = get_scenario("bad-deploy-auth")
    scenario.setup(store, clock)
    assert scenario.good_image == "registry.local/shop/api:1.6.1"


def test_bad_migration_records_the_migration_event(shop) -> None:
    store, clock = shop
    get_scenario("bad-migration").setup(store, clock)
    events = store.list("events", "shop")
    assert any(e["reason"] == "MigrationApplied" and "email_verified" in e["message"]
               for e in events)


def test_none_changes_nothing(shop) -> None:
    store, clock = shop
    rv = store.rv
    scenario = get_scenario("none")
    scenario.setup(store, clock)
    assert store.rv == rv
    assert scenario.status(store).resolved
    pod = api_pod(store)
    assert scenario.pod_profile(pod) == HEALTHY_POD
    deployment = store.get("deployments", "shop", "api")
    assert overall_error_ratio(scenario.traffic_profile(deployment, pod)) == 0


# ---- profiles ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", INCIDENTS)
def test_good_image_pods_stay_healthy(shop, name: str) -> None:
    store, _clock = shop
    scenario = get_scenario(name)
    pod = api_pod(store)
    deployment = store.get("deployments", "shop", "api")
    assert scenario.pod_profile(pod) == HEALTHY_POD
    profile = scenario.traffic_profile(deployment, pod)
    assert overall_error_ratio(profile) == 0
    assert all(ep.latency_factor == 1 for ep in profile.endpoints)
    web = store.get("deployments", "shop", "web")
    assert scenario.traffic_profile(web, pods_of(store, "shop", "web")[0]) != HEALTHY_TRAFFIC


def bad_pod(store, clock, name: str) -> tuple[Scenario, dict, dict]:
    scenario = get_scenario(name)
    scenario.setup(store, clock)
    deployment = rollout(store, "shop", "api", scenario.bad_image)
    return scenario, deployment, pods_of(store, "shop", "api")[0]


def test_bad_deploy_auth_profile(shop) -> None:
    scenario, deployment, pod = bad_pod(*shop, "bad-deploy-auth")
    profile = scenario.traffic_profile(deployment, pod)
    errors = {ep.path: ep.error_ratio for ep in profile.endpoints}
    assert errors["/auth/login"] == errors["/auth/refresh"] == 0.6
    assert all(v == 0 for path, v in errors.items() if not path.startswith("/auth/"))
    assert overall_error_ratio(profile) > 0.5
    assert any("mobile/1.2" in line for line in scenario.pod_profile(pod).log_lines)


def test_bad_migration_profile(shop) -> None:
    scenario, deployment, pod = bad_pod(*shop, "bad-migration")
    profile = scenario.traffic_profile(deployment, pod)
    broken = {ep.path for ep in profile.endpoints if ep.error_ratio > 0}
    assert broken == {"/users/me", "/users/{id}"}
    assert all(ep.error_ratio > 0.95 for ep in profile.endpoints if ep.path in broken)
    assert 0.05 < overall_error_ratio(profile) < 0.3


def test_slow_release_profile(shop) -> None:
    scenario, deployment, pod = bad_pod(*shop, "slow-release")
    profile = scenario.traffic_profile(deployment, pod)
    assert {ep.latency_factor for ep in profile.endpoints} == {12.0}
    assert overall_error_ratio(profile) == 0


def test_memory_leak_pods_oom_every_two_hours(shop) -> None:
    store, clock = shop
    scenario, deployment, pod = bad_pod(store, clock, "memory-leak")
    profiles = [scenario.pod_profile(p) for p in pods_of(store, "shop", "api")]
    for profile in profiles:
        assert profile.crash_reason == "OOMKilled"
        # staggered: killed between 70 % and 100 % of two hours after each start
        assert 0.7 * CRASH_EVERY <= profile.crash_after <= CRASH_EVERY
        assert any("heap" in line for line in profile.log_lines)
    assert len({p.crash_after for p in profiles}) == len(profiles)  # jittered per pod
    assert scenario.pod_profile(pod).crash_after == crash_after(pod)  # deterministic


def test_memory_leak_working_set_climbs_to_the_limit(shop) -> None:
    store, clock = shop
    scenario, deployment, pod = bad_pod(store, clock, "memory-leak")
    limit = 512 * 1024 * 1024
    now = clock.now().timestamp()
    young = scenario.pod_memory(pod, now)
    half = scenario.pod_memory(pod, now + crash_after(pod) / 2)
    end = scenario.pod_memory(pod, now + crash_after(pod))
    assert young < 0.5 * limit < half < end == pytest.approx(limit)
    healthy = get_scenario("none").pod_memory(pod, now + 7200)
    assert healthy < 0.5 * limit


def test_memory_leak_fails_requests_right_after_a_kill(shop) -> None:
    store, clock = shop
    scenario, deployment, pod = bad_pod(store, clock, "memory-leak")
    before = scenario.traffic_profile(deployment, pod).endpoints[0]
    killed_at = clock.stamp()

    def killed(obj: dict) -> None:
        obj["status"]["containerStatuses"][0]["lastState"] = {"terminated": {
            "reason": "OOMKilled", "exitCode": 137, "finishedAt": killed_at}}

    pod = store.mutate("pods", "shop", pod["metadata"]["name"], killed)
    after = scenario.traffic_profile(deployment, pod).endpoints[0]
    assert before.error_ratio == 0 and after.error_ratio > 0.1  # dropped connections
    assert after.latency_factor > before.latency_factor + 1  # cold caches
    clock.advance(DROPPED_AFTER_KILL)
    later = scenario.traffic_profile(deployment, pod).endpoints[0]
    assert later.error_ratio == 0  # until the heap nears the limit again


def test_memory_leak_latency_grows_with_pod_age(shop) -> None:
    store, clock = shop
    scenario, deployment, pod = bad_pod(store, clock, "memory-leak")
    young = scenario.traffic_profile(deployment, pod).endpoints[0]
    clock.advance(3600)
    middle = scenario.traffic_profile(deployment, pod).endpoints[0]
    clock.advance(3300)
    old = scenario.traffic_profile(deployment, pod).endpoints[0]
    assert young.latency_factor == pytest.approx(1.0)
    assert young.latency_factor < middle.latency_factor < old.latency_factor
    assert young.error_ratio == 0 and old.error_ratio > 0


def test_memory_leak_errors_when_few_pods_ready(shop) -> None:
    store, clock = shop
    scenario, deployment, pod = bad_pod(store, clock, "memory-leak")
    deployment["status"]["readyReplicas"] = 1
    endpoint = scenario.traffic_profile(deployment, pod).endpoints[0]
    assert endpoint.error_ratio > 0.1


# ---- status ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", INCIDENTS)
def test_resolved_only_after_undo(shop, name: str) -> None:
    store, clock = shop
    scenario = get_scenario(name)
    scenario.setup(store, clock)
    status = scenario.status(store)
    assert isinstance(status, ScenarioStatus)
    assert not status.resolved and "1.7.0" in status.reason
    rollout(store, "shop", "api", scenario.bad_image)
    assert not scenario.status(store).resolved
    rollout(store, "shop", "api", GOOD)  # kubectl rollout undo, finished
    status = scenario.status(store)
    assert status.resolved, status.reason
    assert "rolled back to 1.6.0" in status.reason
    assert status.resolution == scenario.resolution


def test_unfinished_undo_is_not_resolved(shop) -> None:
    store, clock = shop
    scenario = get_scenario("bad-deploy-auth")
    scenario.setup(store, clock)
    rollout(store, "shop", "api", scenario.bad_image)

    def undo_in_progress(obj: dict) -> None:
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = GOOD
        obj["status"]["updatedReplicas"] = 1

    store.mutate("deployments", "shop", "api", undo_in_progress)
    status = scenario.status(store)
    assert not status.resolved
    assert "3 pods still on 1.7.0" in status.reason


def test_memory_leak_scale_up_mitigates_but_does_not_resolve(shop) -> None:
    store, clock = shop
    scenario = get_scenario("memory-leak")
    scenario.setup(store, clock)
    rollout(store, "shop", "api", scenario.bad_image, replicas=10)  # kubectl scale --replicas=10
    status = scenario.status(store)
    assert not status.resolved
    assert status.mitigated and "scaled up to 10" in status.reason
    rollout(store, "shop", "api", GOOD)
    assert scenario.status(store).resolved


def test_bad_migration_needs_undo_and_lists_migrate_down(shop) -> None:
    store, clock = shop
    scenario = get_scenario("bad-migration")
    scenario.setup(store, clock)
    rollout(store, "shop", "api", scenario.bad_image)
    scenario.migrate_down()  # the migration rollback alone does not end the incident
    assert not scenario.status(store).resolved
    rollout(store, "shop", "api", GOOD)
    status = scenario.status(store)
    assert status.resolved and status.followups == ()


def test_bad_migration_followup_until_migrate_down(shop) -> None:
    store, clock = shop
    scenario = get_scenario("bad-migration")
    scenario.setup(store, clock)
    rollout(store, "shop", "api", GOOD)
    status = scenario.status(store)
    assert status.resolved
    assert any("migrate:down" in item for item in status.followups)
    scenario.migrate_down()
    assert scenario.status(store).followups == ()


def test_status_checks_traffic_when_given(shop) -> None:
    store, clock = shop
    scenario = get_scenario("bad-deploy-auth")
    traffic = Traffic(store, clock, scenario.traffic_profile)
    scenario.setup(store, clock)
    rollout(store, "shop", "api", scenario.bad_image)
    run(clock, traffic, 60)
    assert not scenario.status(store, traffic).resolved
    rollout(store, "shop", "api", GOOD, replicas=0)  # "rolled back" to nothing: an outage
    run(clock, traffic, 10)
    status = scenario.status(store, traffic)
    assert not status.resolved and "error ratio" in status.reason
    rollout(store, "shop", "api", GOOD, replicas=3)
    run(clock, traffic, 10)
    assert scenario.status(store, traffic).resolved
    assert scenario.status(store, traffic.current()).resolved
