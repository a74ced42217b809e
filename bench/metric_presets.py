"""Metric presets on the drill: what emitting every stack's series costs, and each preset's
queries on the drill's own PromQL engine.

Prints, for the seeded drill cluster (shop and auth deployments, 10 drill minutes of
traffic): the number of series, a traffic tick, one `/metrics` exposition (what a scraping
Prometheus waits for; target under 50 ms), and per preset the time of one
`deployment_rates()` worth of queries (request rate, error ratio, p95, p99, baseline, memory)
evaluated by `drill.promql` (target under 100 ms: the console asks every few seconds).
Asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.metric_presets import PRESETS  # noqa: E402
from adapters.metrics import MetricsClient  # noqa: E402
from adapters.metrics_config import MetricsConfig  # noqa: E402
from drill import promql  # noqa: E402
from drill.cluster import DrillCluster  # noqa: E402

EXPOSITION_TARGET_MS = 50.0
QUERIES_TARGET_MS = 100.0
KINDS = ("request_rate", "error_ratio", "p95", "p99", "baseline_p99", "memory")


def timed(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def main() -> None:
    cluster = DrillCluster(scenario="bad-deploy-auth", speed=0.0)
    traffic = cluster.traffic
    for _ in range(120):  # 10 drill minutes in 5 s steps
        cluster.clock.advance(5.0)
        traffic.tick()
    series = len(traffic.history().keys)
    def tick() -> None:
        cluster.clock.advance(1.0)
        traffic.tick()

    tick_ms = timed(tick, 50)
    exposition_ms = timed(traffic.exposition, 20)
    lines = len(traffic.exposition().splitlines())
    print(f"series: {series}")
    print(f"traffic tick (1 drill second): {tick_ms:.2f} ms")
    print(f"exposition: {exposition_ms:.2f} ms for {lines} lines "
          f"(target < {EXPOSITION_TARGET_MS:.0f} ms)")
    for preset in PRESETS:
        client = MetricsClient(MetricsConfig(base_url="http://drill", preset=preset))
        exprs = [client.expression(kind, "shop") for kind in KINDS]
        ms = timed(lambda exprs=exprs: [promql.query(traffic, e) for e in exprs], 10)
        print(f"{preset:<16} one deployment_rates() worth of queries: {ms:7.2f} ms "
              f"(target < {QUERIES_TARGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()
