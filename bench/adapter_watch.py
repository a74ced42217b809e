"""Kubernetes adapter watch cache at scale: 10,000 pods, then a steady stream of changes.

Starts a drill cluster in-process (frozen drill clock by default, so only our changes produce
events), creates the pods straight in its store, and measures through the real adapter over
HTTP:
  1. time to the first complete cache (LIST + views) and to the delivery of the initial deltas;
  2. a steady ~200 label changes/s for ~10 s: delta delivery rate and latency percentiles
     (store write -> informer received, and -> on_deltas callback);
  3. a burst of N changes in one go: how fast the informer drains it.
Prints figures; asserts nothing. Run: .venv/bin/python bench/adapter_watch.py [--pods N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.informer import Informer  # noqa: E402
from adapters.informer_deltas import Delta  # noqa: E402
from adapters.kubernetes import KubeClient  # noqa: E402
from drill.cluster import DrillThread  # noqa: E402

NS = "bench"


class Meter:
    """Records delivered deltas with their delivery time (from the flush thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.batches: list[int] = []
        self.delivered: dict[str, tuple[float, float]] = {}  # rv -> (received, delivered)
        self.first_at: float | None = None
        self.last_at = 0.0

    def __call__(self, batch: list[Delta]) -> None:
        now = time.monotonic()
        with self.lock:
            self.count += len(batch)
            self.batches.append(len(batch))
            if self.first_at is None:
                self.first_at = now
            self.last_at = now
            for delta in batch:
                rv = getattr(delta.view, "resource_version", "")
                self.delivered[rv] = (delta.at, now)

    def reset(self) -> None:
        with self.lock:
            self.count, self.batches, self.first_at, self.last_at = 0, [], None, 0.0
            self.delivered = {}


def percentiles(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return (f"p50 {at(0.50):6.1f} ms  p90 {at(0.90):6.1f} ms  p99 {at(0.99):6.1f} ms  "
            f"max {ordered[-1] * 1000:6.1f} ms  mean {statistics.fmean(ordered) * 1000:6.1f} ms")


def create_pods(thread: DrillThread, count: int) -> None:
    cluster = thread.cluster
    assert cluster is not None
    cluster_store = cluster.store

    def create(start: int, stop: int) -> None:
        stamp = cluster.clock.stamp()
        for i in range(start, stop):
            cluster_store.create("pods", {
                "metadata": {"name": f"bench-{i:05d}", "namespace": NS,
                             "labels": {"app": "bench", "shard": str(i % 10)}},
                "spec": {"nodeName": "drill-node-1",
                         "containers": [{"name": "app", "image": "registry.local/bench:1"}]},
                "status": {"phase": "Running", "podIP": "10.0.0.1", "startTime": stamp,
                           "conditions": [{"type": "Ready", "status": "True"}],
                           "containerStatuses": [{
                               "name": "app", "image": "registry.local/bench:1", "imageID": "",
                               "ready": True, "restartCount": 0, "started": True,
                               "state": {"running": {"startedAt": stamp}}}]},
            })

    thread.call(cluster_store.create, "namespaces", {"metadata": {"name": NS}})
    for start in range(0, count, 1000):
        thread.call(create, start, min(count, start + 1000))


def relabel(store: Any, index: int, seq: int) -> str:
    def change(obj: dict[str, Any]) -> None:
        obj["metadata"]["labels"]["bench-seq"] = str(seq)

    return str(store.mutate("pods", NS, f"bench-{index:05d}", change)["metadata"]["resourceVersion"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="steady phase length")
    parser.add_argument("--burst", type=int, default=5_000, help="changes in the burst phase")
    parser.add_argument("--speed", type=float, default=0.0,
                        help="drill clock speed (0 freezes the simulated kubelet)")
    parser.add_argument("--flush", type=float, default=0.05, help="informer flush interval (s)")
    args = parser.parse_args()

    thread = DrillThread(speed=args.speed)
    cluster = thread.start()
    store = cluster.store
    try:
        began = time.perf_counter()
        create_pods(thread, args.pods)
        print(f"created {args.pods} pods in the drill store in "
              f"{time.perf_counter() - began:.2f} s")
        with tempfile.TemporaryDirectory() as tmp:
            kubeconfig = cluster.write_kubeconfig(Path(tmp) / "kubeconfig.yaml")
            kube = KubeClient.connect(str(kubeconfig))
        meter = Meter()
        informer = Informer(kube, NS, kinds=("pods",), on_deltas=meter,
                            flush_interval=args.flush)

        # 1. first complete cache
        began = time.monotonic()
        informer.start()
        informer.wait_synced(120)
        synced = time.monotonic() - began
        deadline = time.monotonic() + 60
        while meter.count < args.pods and time.monotonic() < deadline:
            time.sleep(0.005)
        delivered = (meter.last_at or time.monotonic()) - began
        print(f"\n[initial sync] {len(informer.pods())} pods cached")
        print(f"  LIST + cache complete     {synced * 1000:8.0f} ms")
        print(f"  all ADDED deltas delivered {delivered * 1000:7.0f} ms "
              f"({meter.count} deltas in {len(meter.batches)} batches, "
              f"max batch {max(meter.batches, default=0)})")

        # 2. steady stream
        meter.reset()
        sent: dict[str, float] = {}
        interval = 1.0 / args.rate
        total = int(args.rate * args.seconds)
        began = time.monotonic()
        next_at = began
        for seq in range(total):
            now = time.monotonic()
            if next_at > now:
                time.sleep(next_at - now)
            next_at += interval
            at = time.monotonic()
            rv = thread.call(relabel, store, seq % args.pods, seq)
            sent[rv] = at
        drive = time.monotonic() - began
        deadline = time.monotonic() + 10
        while len(set(sent) & set(meter.delivered)) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.01)
        with meter.lock:
            got = {rv: meter.delivered[rv] for rv in sent if rv in meter.delivered}
            batches = list(meter.batches)
            first, last = meter.first_at, meter.last_at
        receive = [received - sent[rv] for rv, (received, _) in got.items()]
        deliver = [done - sent[rv] for rv, (_, done) in got.items()]
        window = (last - first) if first else 0.0
        print(f"\n[steady] {total} changes sent in {drive:.2f} s "
              f"({total / drive:.0f}/s requested {args.rate:.0f}/s)")
        print(f"  delivered {len(got)}/{total} in {len(batches)} batches "
              f"(mean {statistics.fmean(batches) if batches else 0:.1f}, "
              f"max {max(batches, default=0)} deltas/batch); "
              f"delivery rate {len(got) / window if window else 0:.0f} deltas/s")
        print(f"  write -> informer received  {percentiles(receive)}")
        print(f"  write -> on_deltas callback {percentiles(deliver)}")

        # 3. burst
        meter.reset()
        burst = min(args.burst, args.pods)

        def burst_changes() -> list[str]:
            return [relabel(store, i, 10_000_000 + i) for i in range(burst)]

        began = time.monotonic()
        rvs = thread.call(burst_changes)
        written = time.monotonic() - began
        deadline = time.monotonic() + 60
        while len(set(rvs) & set(meter.delivered)) < len(rvs) and time.monotonic() < deadline:
            time.sleep(0.005)
        drained = (meter.last_at or time.monotonic()) - began
        with meter.lock:
            got_burst = len(set(rvs) & set(meter.delivered))
            batches = list(meter.batches)
        print(f"\n[burst] {burst} changes written in {written * 1000:.0f} ms; "
              f"{got_burst} delivered {drained * 1000:.0f} ms after the first write "
              f"({got_burst / drained if drained else 0:.0f} deltas/s, {len(batches)} batches, "
              f"max {max(batches, default=0)})")
        stats = informer.stats["pods"]
        print(f"\n[informer] lists {stats.lists}, watches {stats.watches}, events "
              f"{stats.events}, bookmarks {stats.bookmarks}, errors {stats.errors}")
        began = time.monotonic()
        informer.stop()
        print(f"  stop() took {(time.monotonic() - began) * 1000:.0f} ms")
        kube.close()
    finally:
        thread.stop()


if __name__ == "__main__":
    main()
