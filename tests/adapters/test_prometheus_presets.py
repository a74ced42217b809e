"""Every metric preset reads the same incident from the drill: through a real Prometheus
(Debian's) scraping the drill's /metrics, and through the drill's own PromQL engine.

The drill emits each stack's series (drill/stack_series.py) from the same traffic, so at one
instant every preset must agree with the generic queries and with the drill's own truth:
request rate, error ratio, p99 and memory working set.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.metric_presets import PRESETS
from adapters.metrics import MetricsClient, RateSample
from adapters.metrics_config import MetricsConfig
from drill.memory import running_containers
from drill.ownership import controller_ref
from tests.adapters.test_prometheus_real import (
    PROMETHEUS,
    RealPrometheus,
    start_prometheus,
    stop_prometheus,
)
from tests.conftest import Drill, wait_for

API = ("shop", "api")


@pytest.fixture
def auth_drill(drill_factory: Callable[..., Drill]) -> Drill:
    return drill_factory(scenario="bad-deploy-auth", speed=60)


def memory_truth(drill: Drill, namespace: str, deployment: str) -> float:
    """The largest working set of the deployment's running pods, by the drill's own model."""

    def largest() -> float:
        store = drill.cluster.store
        now = drill.cluster.clock.now().timestamp()
        owned = {rs["metadata"]["name"] for rs in store.list("replicasets", namespace)
                 if (controller_ref(rs) or {}).get("name") == deployment}
        return max((drill.cluster.scenario.pod_memory(pod, now)
                    for pod in store.list("pods", namespace)
                    if (controller_ref(pod) or {}).get("name") in owned
                    and running_containers(pod)), default=0.0)

    return float(drill.call(largest))


def clients(base_url: str, **auth: object) -> dict[str, MetricsClient]:
    return {preset: MetricsClient(MetricsConfig(base_url=base_url, preset=preset, window="10s",
                                                baseline_offset="5m", timeout_s=10,
                                                **auth))  # type: ignore[arg-type]
            for preset in PRESETS}


def close(found: float | None, want: float | None, rel: float) -> bool:
    return found is not None and want is not None and math.isclose(found, want, rel_tol=rel,
                                                                  abs_tol=1e-9)


def agree(every: dict[str, MetricsClient], at: float) -> dict[str, RateSample] | None:
    """Each preset's figures for shop/api at one instant; they match the generic ones (None
    while the generic ones are not all known, e.g. a scrape of the busy drill timed out)."""
    samples = {name: client.deployment_rates("shop", at=at).get(API)
               for name, client in every.items()}
    generic = samples["generic"]
    if generic is None or None in (generic.request_rate, generic.error_ratio, generic.p99_s,
                                   generic.memory_bytes):
        return None
    for name, sample in samples.items():
        assert sample is not None, (name, every[name].looked_for(*API))
        assert close(sample.request_rate, generic.request_rate, 1e-3), (name, sample, generic)
        assert close(sample.error_ratio, generic.error_ratio, 1e-3), (name, sample, generic)
        assert close(sample.p99_s, generic.p99_s, 1e-3), (name, sample, generic)
        assert close(sample.p95_s, generic.p95_s, 1e-3), (name, sample, generic)
        assert close(sample.memory_bytes, generic.memory_bytes, 1e-6), (name, sample, generic)
    return samples  # type: ignore[return-value]


def check_against_truth(drill: Drill, every: dict[str, MetricsClient], per_drill_second: float,
                        record: Callable[[str, object], None]) -> None:
    generic = every["generic"]

    def failing_steadily() -> RateSample | None:
        sample = generic.deployment_rates("shop").get(API)
        return sample if sample and (sample.error_ratio or 0) > 0.5 else None

    wait_for(failing_steadily, timeout=120, interval=0.5,
             message="the bad revision's error ratio for shop/api")

    def consistent() -> dict[str, RateSample] | None:
        at = generic.server_time() - 1.0
        samples = agree(every, at)
        if samples is None:
            return None
        truth = drill.cluster.traffic.current()[API]
        memory = memory_truth(drill, *API)
        sample = samples["istio"]
        ok = (abs((sample.error_ratio or 0) - truth.error_ratio) < 0.06
              and close((sample.request_rate or 0) / per_drill_second, truth.rps, 0.25)
              and close(sample.memory_bytes, memory, 0.02))
        return samples if ok else None

    started = time.monotonic()
    samples = wait_for(consistent, timeout=60, interval=1.0,
                       message="every preset within tolerance of the drill's truth")
    record("presets_agree_s", round(time.monotonic() - started, 2))
    record("api_error_ratio", round(samples["istio"].error_ratio or 0, 3))


def test_presets_on_the_drills_own_promql(auth_drill: Drill,
                                          record_property: Callable[[str, object], None]) -> None:
    every = clients(auth_drill.cluster.url + "/prometheus", bearer_token=auth_drill.cluster.token,
                    verify_tls=str(auth_drill.cluster.ca_path))
    try:
        check_against_truth(auth_drill, every, 1.0, record_property)
    finally:
        for client in every.values():
            client.close()


@pytest.fixture
def prometheus(auth_drill: Drill, tmp_path: Path) -> Iterator[RealPrometheus]:
    if PROMETHEUS is None:
        pytest.skip("no prometheus binary (./dev test unpacks Debian's prometheus)")
    running = start_prometheus(auth_drill, tmp_path / "prometheus")
    yield running
    stop_prometheus(running)


@pytest.mark.prometheus
def test_presets_through_a_real_prometheus(auth_drill: Drill, prometheus: RealPrometheus,
                                           record_property: Callable[[str, object], None]) -> None:
    every = clients(prometheus.url)
    try:
        # Prometheus stamps samples with real time: a drill second is 1/60 of one
        check_against_truth(auth_drill, every, auth_drill.cluster.clock.speed, record_property)
        # no data is never healthy: an unknown workload has no figures, and says what was read
        assert every["istio"].deployment_rates("shop", "nope") == {}
        assert every["istio"].looked_for("shop", "nope") == (
            'istio_requests_total{reporter="destination",destination_workload_namespace="shop",'
            'destination_workload="nope"}')
    finally:
        for client in every.values():
            client.close()
