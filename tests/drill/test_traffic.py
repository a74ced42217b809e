"""Simulated traffic: counters, histograms, outages, history and the text exposition."""

from __future__ import annotations

import math
import re

import pytest

from drill import promql
from drill.profiles import Endpoint, TrafficProfile
from drill.scenarios import get_scenario
from drill.stack_series import FAMILIES
from drill.traffic import BUCKETS, Traffic, bucket_shares, load_factor
from tests.drill.factories import (
    add_deployment,
    add_pod,
    make_cluster,
    rollout,
    run,
    seed_shop,
    set_ready,
)

API = '{namespace="shop",deployment="api"}'
RATE = "sum by (namespace, deployment) (rate(http_requests_total{sel}[1m]))"
ERRORS = (
    'sum by (namespace, deployment) (rate(http_requests_total{{code=~"5..",{inner}}}[1m])) / '
    "sum by (namespace, deployment) (rate(http_requests_total{{{inner}}}[1m]))"
)
P99 = (
    "histogram_quantile(0.99, sum by (namespace, deployment, le) "
    "(rate(http_request_duration_seconds_bucket{sel}[1m]{offset})))"
)


def api_value(traffic: Traffic, expr: str) -> float:
    result = promql.query(traffic, expr)["result"]
    found = [r for r in result if r["metric"].get("deployment") == "api"]
    assert len(found) == 1, result
    return float(found[0]["value"][1])


def error_ratio(traffic: Traffic) -> float:
    return api_value(traffic, ERRORS.format(inner='namespace="shop",deployment="api"'))


def traffic_for(scenario: str = "none"):
    return get_scenario(scenario).traffic_profile


@pytest.fixture
def shop():
    store, clock = make_cluster()
    seed_shop(store)
    return store, clock


def test_healthy_rates_and_zero_errors(shop) -> None:
    store, clock = shop
    traffic = Traffic(store, clock, traffic_for())
    run(clock, traffic, 600)
    rates = {
        r["metric"]["deployment"]: float(r["value"][1])
        for r in promql.query(traffic, RATE.format(sel=""))["result"]
    }
    assert rates["api"] == pytest.approx(120, rel=0.08)
    assert rates["web"] == pytest.approx(80, rel=0.08)
    assert rates["worker"] == pytest.approx(10, rel=0.1)
    assert rates["login"] == pytest.approx(40, rel=0.08)
    assert error_ratio(traffic) == 0.0
    p99 = api_value(traffic, P99.format(sel=API, offset=""))
    assert 0.1 < p99 < 0.3


def test_rate_wobbles_deterministically(shop) -> None:
    store, clock = shop
    traffic = Traffic(store, clock, traffic_for())
    seen = set()
    for _ in range(10):
        run(clock, traffic, 120)
        seen.add(round(api_value(traffic, RATE.format(sel=API)), 3))
    assert len(seen) > 5  # it moves
    again_store, again_clock = make_cluster()
    seed_shop(again_store)
    again = Traffic(again_store, again_clock, traffic_for())
    run(again_clock, again, 1200)
    assert again.exposition() == traffic.exposition()  # and is reproducible


def test_bad_deploy_auth_errors_then_recovery(shop) -> None:
    store, clock = shop
    scenario = get_scenario("bad-deploy-auth")
    traffic = Traffic(store, clock, scenario.traffic_profile)
    run(clock, traffic, 300)
    assert error_ratio(traffic) == 0.0
    scenario.setup(store, clock)
    rollout(store, "shop", "api", scenario.bad_image)
    run(clock, traffic, 120)
    assert error_ratio(traffic) > 0.5
    auth = promql.query(
        traffic,
        'sum by (path) (rate(http_requests_total{deployment="api",code="500"}[1m])) / '
        'sum by (path) (rate(http_requests_total{deployment="api"}[1m]))',
    )["result"]
    by_path = {r["metric"]["path"]: float(r["value"][1]) for r in auth}
    assert by_path["/auth/login"] == pytest.approx(0.6, abs=0.02)
    assert by_path["/auth/refresh"] == pytest.approx(0.6, abs=0.02)
    assert by_path["/products"] == 0.0
    rollout(store, "shop", "api", scenario.good_image)
    run(clock, traffic, 30)
    assert error_ratio(traffic) > 0.01  # the 1m window still holds bad requests
    run(clock, traffic, 60)
    assert error_ratio(traffic) < 0.01


def test_rollout_mixes_error_ratio(shop) -> None:
    store, clock = shop
    scenario = get_scenario("bad-deploy-auth")
    traffic = Traffic(store, clock, scenario.traffic_profile)
    # one bad pod of three, mid-rollout
    add_pod(store, "shop", "api", scenario.bad_image)
    run(clock, traffic, 120)
    assert 0.1 < error_ratio(traffic) < 0.2  # a quarter of the requests hit the bad pod
    current = traffic.current()[("shop", "api")]
    assert current.ready_pods == 4
    assert 0.1 < current.error_ratio < 0.2


def test_no_ready_pods_is_a_complete_outage(shop) -> None:
    store, clock = shop
    traffic = Traffic(store, clock, traffic_for())
    run(clock, traffic, 120)
    set_ready(store, "shop", "api", 0)
    run(clock, traffic, 120)
    assert error_ratio(traffic) == pytest.approx(1.0)
    only_503 = promql.query(
        traffic, 'sum by (code) (rate(http_requests_total{deployment="api"}[1m])) > 0'
    )["result"]
    assert [r["metric"]["code"] for r in only_503] == ["503"]
    ready = promql.query(traffic, f"warroom_drill_ready_pods{API}")["result"]
    assert ready[0]["value"][1] == "0"
    assert traffic.current()[("shop", "api")].error_ratio == 1.0


def test_fewer_ready_pods_means_higher_latency(shop) -> None:
    store, clock = shop
    traffic = Traffic(store, clock, traffic_for())
    run(clock, traffic, 120)
    full = traffic.current()[("shop", "api")].latency_factor
    set_ready(store, "shop", "api", 1)
    run(clock, traffic, 120)
    single = traffic.current()[("shop", "api")].latency_factor
    assert full == pytest.approx(1.0)
    assert 1.3 < single < 2.5
    assert load_factor(10, 60) == 1.0


def test_not_live_until_first_ready_pod() -> None:
    store, clock = make_cluster()
    add_deployment(store, "shop", "api", "registry.local/shop/api:1.6.0", ready=0)
    traffic = Traffic(store, clock, traffic_for())
    run(clock, traffic, 60)
    assert "http_requests_total{" not in traffic.exposition()
    assert promql.query(traffic, "sum(rate(http_requests_total[1m]))")["result"] == []


def test_slow_release_latency_ratio_to_offset_baseline(shop) -> None:
    store, clock = shop
    scenario = get_scenario("slow-release")
    traffic = Traffic(store, clock, scenario.traffic_profile)
    run(clock, traffic, 40 * 60)
    scenario.setup(store, clock)
    rollout(store, "shop", "api", scenario.bad_image)
    run(clock, traffic, 5 * 60)
    for q in ("0.5", "0.95", "0.99"):
        now = api_value(traffic, P99.format(sel=API, offset="").replace("0.99", q))
        base = api_value(traffic, P99.format(sel=API, offset=" offset 30m").replace("0.99", q))
        assert now / base == pytest.approx(12, rel=0.1), q
    assert traffic.current()[("shop", "api")].latency_factor == pytest.approx(12)
    assert error_ratio(traffic) == 0.0


def test_bad_migration_errors_only_on_users_paths(shop) -> None:
    store, clock = shop
    scenario = get_scenario("bad-migration")
    traffic = Traffic(store, clock, scenario.traffic_profile)
    scenario.setup(store, clock)
    rollout(store, "shop", "api", scenario.bad_image)
    run(clock, traffic, 180)
    failing = promql.query(
        traffic, 'sum by (path) (rate(http_requests_total{deployment="api",code=~"5.."}[1m])) > 0'
    )["result"]
    assert sorted(r["metric"]["path"] for r in failing) == ["/users/me", "/users/{id}"]
    users = api_value(
        traffic,
        'sum by (deployment) (rate(http_requests_total{deployment="api",code=~"5..",'
        'path=~"/users/.*"}[1m])) / sum by (deployment) '
        '(rate(http_requests_total{deployment="api",path=~"/users/.*"}[1m]))',
    )
    assert users > 0.95
    assert 0.05 < error_ratio(traffic) < 0.3


def test_fast_drill_ticks_still_give_rates(shop) -> None:
    """Speed 3600: a tick every 50 ms real is 180 drill seconds, longer than the 1m window."""
    store, clock = shop
    traffic = Traffic(store, clock, traffic_for())
    run(clock, traffic, 3 * 3600, step=180)
    assert api_value(traffic, RATE.format(sel=API)) == pytest.approx(120, rel=0.08)
    assert error_ratio(traffic) == 0.0
    assert api_value(traffic, P99.format(sel=API, offset=" offset 30m")) > 0


def test_history_is_bounded() -> None:
    store, clock = make_cluster()
    seed_shop(store)
    traffic = Traffic(store, clock, traffic_for(), max_samples=50, retention=600)
    run(clock, traffic, 3600, step=5)
    history = traffic.history()
    assert len(history.times) <= 50
    traffic = Traffic(store, clock, traffic_for(), retention=600)
    run(clock, traffic, 3600, step=5)
    history = traffic.history()
    assert history.times[-1] - history.times[0] <= 600 + 5
    assert all(b - a >= 5 for a, b in zip(history.times, history.times[1:], strict=False))


def test_samples_at_most_every_interval() -> None:
    store, clock = make_cluster()
    seed_shop(store)
    traffic = Traffic(store, clock, traffic_for())
    run(clock, traffic, 60, step=0.05)  # real-time ticks at speed 1
    assert 12 <= len(traffic.history().times) <= 14


def test_deleted_deployment_goes_stale(shop) -> None:
    store, clock = shop
    traffic = Traffic(store, clock, traffic_for())
    run(clock, traffic, 120)
    store.delete("deployments", "shop", "worker")
    run(clock, traffic, 600)
    assert 'deployment="worker"' not in traffic.exposition()
    result = promql.query(traffic, RATE.format(sel='{deployment="worker"}'))["result"]
    assert result == []


def test_counters_are_whole_and_monotonic(shop) -> None:
    store, clock = shop
    traffic = Traffic(store, clock, traffic_for())
    previous: dict[str, float] = {}
    for _ in range(20):
        run(clock, traffic, 1.3, step=0.05)
        for line in traffic.exposition().splitlines():
            if line.startswith("http_requests_total"):
                name, value = line.rsplit(" ", 1)
                assert float(value) == int(value)
                assert float(value) >= previous.get(name, 0)
                previous[name] = float(value)


# ---- exposition --------------------------------------------------------------------------
SAMPLE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*'
    r'\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"(?:,(?!\}))?)*\}'
    r" (?:[-+]?[0-9.eE+-]+|NaN|[+-]Inf)$"
)


def check_exposition(text: str) -> dict[str, str]:
    """Every line is a HELP/TYPE comment or `name{labels} value`; returns the declared types."""
    types: dict[str, str] = {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
            continue
        assert SAMPLE.match(line), line
        name = line.split("{", 1)[0]
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or family in types, line
    return types


def test_exposition_parses(shop) -> None:
    store, clock = shop
    traffic = Traffic(store, clock, traffic_for())
    run(clock, traffic, 60)
    text = traffic.exposition()
    types = check_exposition(text)
    own = {
        "http_requests_total": "counter",
        "http_request_duration_seconds": "histogram",
        "warroom_drill_ready_pods": "gauge",
        "container_memory_working_set_bytes": "gauge",
        "container_spec_memory_limit_bytes": "gauge",
    }
    stacks = {family: kind for family, (kind, _) in FAMILIES.items()}
    # these factory pods have no owners or limits: the other stacks' families that apply
    assert own.items() <= types.items() <= (own | stacks).items()
    assert types["istio_requests_total"] == "counter"
    assert 'warroom_drill_ready_pods{namespace="shop",deployment="api"} 3' in text
    assert 'le="0.005"' in text and 'le="1"' in text and 'le="+Inf"' in text


def test_histogram_lines_are_consistent(shop) -> None:
    store, clock = shop
    traffic = Traffic(store, clock, traffic_for())
    run(clock, traffic, 300)
    buckets: dict[str, list[float]] = {}
    counts: dict[str, float] = {}
    for line in traffic.exposition().splitlines():
        if line.startswith("http_request_duration_seconds_bucket"):
            labels = re.sub(r',le="[^"]*"', "", line.split(" ")[0].split("{", 1)[1])
            buckets.setdefault(labels, []).append(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("http_request_duration_seconds_count"):
            counts[line.split(" ")[0].split("{", 1)[1]] = float(line.rsplit(" ", 1)[1])
    assert buckets
    for labels, series in buckets.items():
        assert len(series) == len(BUCKETS) + 1
        assert series == sorted(series)
        assert counts[labels] == series[-1]


def test_exposition_escapes_label_values() -> None:
    store, clock = make_cluster()
    add_deployment(store, "shop", "api", "registry.local/shop/api:1.6.0")
    odd = TrafficProfile((Endpoint('/say/"hi"\\now\nthen', 1.0),))
    traffic = Traffic(store, clock, lambda deployment, pod: odd)
    run(clock, traffic, 10)
    text = traffic.exposition()
    check_exposition(text)
    assert 'path="/say/\\"hi\\"\\\\now\\nthen"' in text


def test_fault_hooks_are_stored(shop) -> None:
    store, clock = shop
    traffic = Traffic(store, clock, traffic_for())
    assert (traffic.query_delay, traffic.down) == (0.0, False)
    traffic.set_query_delay(2.5)
    traffic.set_down(True)
    assert (traffic.query_delay, traffic.down) == (2.5, True)


def test_bucket_shares_follow_the_baseline_shape() -> None:
    shares = bucket_shares(0.040)
    assert sum(shares) == pytest.approx(1.0)
    cumulative = 0.0
    for upper, share in zip(BUCKETS, shares, strict=False):
        cumulative += share
        if upper == 0.05:
            assert 0.6 < cumulative < 0.75  # p50 = 40 ms
        if upper == 0.25:
            assert cumulative > 0.99  # p99 = 180 ms
    assert math.isclose(sum(bucket_shares(10.0)), 1.0)


def test_a_standing_clock_skips_idle_ticks_but_sees_changes(shop) -> None:
    store, clock = shop
    traffic = Traffic(store, clock, traffic_for())
    run(clock, traffic, 120)
    before = traffic.current()
    listed: list[int] = []
    original = store.list

    def counting_list(*args, **kwargs):
        listed.append(1)
        return original(*args, **kwargs)

    store.list = counting_list  # type: ignore[method-assign]
    for _ in range(5):  # the clock stands still and nothing changes: nothing to integrate
        traffic.tick()
    assert listed == [] and traffic.current() == before
    set_ready(store, "shop", "api", 0)  # a change while the clock stands still still counts
    traffic.tick()
    assert listed and traffic.current()[("shop", "api")].error_ratio == 1.0


def test_pods_of_one_profile_are_worked_out_together() -> None:
    """999 pods of one profile and one of another: per path, the requests, codes, latency
    and mix of 1,000 pods serving 0.1 req/s each (the profiles are asked for once per pod)."""
    from drill.traffic import Baseline, _Deployment, mean_latency

    good = TrafficProfile((Endpoint("/", 0.75), Endpoint("/slow", 0.25, latency_factor=2.0)))
    bad = TrafficProfile((Endpoint("/", 1.0, error_ratio=1.0),))
    asked: list[str] = []

    def profile_of(_deployment, pod):
        asked.append(pod["metadata"]["name"])
        return bad if pod["metadata"]["name"] == "p0" else good

    store, clock = make_cluster()
    traffic = Traffic(store, clock, profile_of)
    baseline = Baseline(rps=1000.0, median=0.040)  # 0.1 req/s a pod: no load, no shedding
    state = _Deployment(("shop", "api"), 0)
    ready = [{"metadata": {"name": f"p{i}"}} for i in range(1000)]
    flows = traffic._flows(state, {}, ready, baseline, 100.0)

    assert len(asked) == 1000
    root, slow = flows["/"], flows["/slow"]
    assert root.codes["200"] == pytest.approx(999 * 0.1 * 0.75)
    assert root.codes["500"] == pytest.approx(0.1)
    assert root.codes["503"] == pytest.approx(0.0)
    assert slow.codes["200"] == pytest.approx(999 * 0.1 * 0.25)
    assert sum(root.buckets) == pytest.approx(999 * 0.1 * 0.75 + 0.1)
    assert slow.latency_sum == pytest.approx(999 * 0.1 * 0.25 * mean_latency(0.080))
    assert slow.weighted_factor == pytest.approx(999 * 0.1 * 0.25 * 2.0)
    assert state.shares == pytest.approx({"/": (999 * 0.75 + 1) / 1000,
                                          "/slow": 999 * 0.25 / 1000})


MEMORY_BY_DEPLOYMENT = (
    'max by (namespace, deployment) (label_replace(container_memory_working_set_bytes'
    '{{container!="",namespace="shop",pod=~"api-[a-z0-9]+-[a-z0-9]+"}}{offset}, "deployment", '
    '"$1", "pod", "(.+)-[a-z0-9]+-[a-z0-9]+"))'
)


def test_memory_series_per_running_container(shop) -> None:
    store, clock = shop
    traffic = Traffic(store, clock, traffic_for())
    run(clock, traffic, 60)
    result = promql.query(traffic, 'container_memory_working_set_bytes{namespace="shop"}')
    pods = {pod["metadata"]["name"] for pod in store.list("pods", "shop")}
    by_pod = {r["metric"]["pod"]: r for r in result["result"]}
    assert set(by_pod) == pods
    api = next(r for name, r in by_pod.items() if name.startswith("api-"))
    assert api["metric"]["container"] == "api"
    assert api["metric"]["image"] == "registry.local/shop/api:1.6.0"
    assert 100 * 2**20 < float(api["value"][1]) < 256 * 2**20  # a steady healthy heap
    # a stopped container has no sample; the deployment's others still do
    victim = next(name for name in by_pod if name.startswith("api-"))

    def stop(obj: dict) -> None:
        obj["status"]["containerStatuses"][0]["state"] = {
            "terminated": {"reason": "OOMKilled", "exitCode": 137}}

    store.mutate("pods", "shop", victim, stop)
    run(clock, traffic, 400)  # past the 5-minute lookback of its last sample
    result = promql.query(traffic, 'container_memory_working_set_bytes{namespace="shop"}')
    assert victim not in {r["metric"]["pod"] for r in result["result"]}
    assert len(result["result"]) == len(pods) - 1


def test_memory_leak_climbs_in_the_exported_series(shop) -> None:
    store, clock = shop
    scenario = get_scenario("memory-leak")
    scenario.setup(store, clock)
    rollout(store, "shop", "api", scenario.bad_image)
    traffic = Traffic(store, clock, scenario.traffic_profile, memory_for=scenario.pod_memory)
    run(clock, traffic, 1800, step=60)
    early = api_value(traffic, MEMORY_BY_DEPLOYMENT.format(offset=""))
    run(clock, traffic, 1800, step=60)
    later = api_value(traffic, MEMORY_BY_DEPLOYMENT.format(offset=""))
    back = api_value(traffic, MEMORY_BY_DEPLOYMENT.format(offset=" offset 30m"))
    assert back == pytest.approx(early)
    assert later > early * 1.2
    limits = promql.query(traffic, 'container_spec_memory_limit_bytes{namespace="shop"}')
    assert {r["value"][1] for r in limits["result"]} == {"0"}  # the factory pods set no limit


def test_label_replace_follows_prometheus() -> None:
    store, clock = make_cluster()
    seed_shop(store)
    traffic = Traffic(store, clock, traffic_for())
    run(clock, traffic, 30)
    query = ('label_replace(warroom_drill_ready_pods{namespace="shop"}, "app", "svc-$1", '
             '"deployment", "(a.*)")')
    result = promql.query(traffic, query)["result"]
    apps = {r["metric"]["deployment"]: r["metric"].get("app") for r in result}
    assert apps == {"api": "svc-api", "web": None, "worker": None}  # no match: unchanged
    assert all(r["metric"]["__name__"] == "warroom_drill_ready_pods" for r in result)
    emptied = promql.query(traffic, 'label_replace(warroom_drill_ready_pods, "deployment", '
                                    '"", "deployment", "api")')["result"]
    assert sum(1 for r in emptied if "deployment" not in r["metric"]) == 1
    with pytest.raises(promql.PromQLError, match="regular expression"):
        promql.query(traffic, 'label_replace(warroom_drill_ready_pods, "x", "", "y", "(")')
