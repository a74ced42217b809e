"""Drill cluster at scale: 10,000 pods, list latency (kubectl and client), watch throughput.

Prints figures; it asserts nothing about speed. Run: .venv/bin/python bench/drill_scale.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from kubernetes import client, config, watch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drill.cluster import DrillThread  # noqa: E402
from tests.conftest import kubectl_binaries  # noqa: E402

NS = "bulk"


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def make_pods(thread: DrillThread, count: int) -> None:
    cluster = thread.cluster
    assert cluster is not None

    def create_all() -> None:
        cluster.store.create("namespaces", {"metadata": {"name": NS}})
        for i in range(count):
            cluster.store.create("pods", {
                "metadata": {"name": f"bulk-{i:05d}", "namespace": NS,
                             "labels": {"app": "bulk", "shard": str(i % 10)}},
                "spec": {"containers": [{"name": "app", "image": "registry.local/bulk:1"}]},
            })

    thread.call(create_all)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=5_000)
    args = parser.parse_args()

    thread = DrillThread(speed=50)
    cluster = thread.start()
    tmp = Path(tempfile.mkdtemp())
    kubeconfig = cluster.write_kubeconfig(tmp / "kubeconfig.yaml")
    try:
        start = time.perf_counter()
        make_pods(thread, args.pods)
        print(f"created {args.pods} pods in {time.perf_counter() - start:.2f} s")
        ready_start = time.perf_counter()
        while True:
            ready = thread.call(lambda: sum(
                1 for p in cluster.store.list("pods", NS)
                if any(c.get("type") == "Ready" and c.get("status") == "True"
                       for c in p.get("status", {}).get("conditions", []))))
            if ready >= args.pods or time.perf_counter() - ready_start > 120:
                break
            time.sleep(0.5)
        print(f"{ready} pods Ready after {time.perf_counter() - ready_start:.2f} s (drill speed 50x)")

        api = config.new_client_from_config(config_file=str(kubeconfig))
        core = client.CoreV1Api(api)
        t, listing = timed(lambda: core.list_namespaced_pod(NS))
        print(f"python client list {len(listing.items)} pods: {t * 1000:.0f} ms (median of 3)")
        t, _ = timed(lambda: core.list_namespaced_pod(NS, _preload_content=False).data)
        print(f"raw HTTP list (JSON bytes, no model decoding): {t * 1000:.0f} ms")
        t, _ = timed(lambda: core.list_namespaced_pod(NS, label_selector="shard=3"))
        print(f"python client list with labelSelector (1/10 of pods): {t * 1000:.0f} ms")

        for version, binary in kubectl_binaries():
            cache = tmp / f"cache-{version}"
            for fmt in ("table", "json"):
                extra = ["-o", "json"] if fmt == "json" else []
                cmd = [str(binary), f"--kubeconfig={kubeconfig}", f"--cache-dir={cache}",
                       "get", "pods", "-n", NS, *extra]
                subprocess.run(cmd, capture_output=True, check=True)  # warm discovery cache
                t, out = timed(lambda cmd=cmd: subprocess.run(cmd, capture_output=True,
                                                              check=True).stdout)
                rows = len(json.loads(out)["items"]) if fmt == "json" else len(out.splitlines()) - 1
                print(f"kubectl {version} get pods ({fmt}) {rows} rows: {t * 1000:.0f} ms")

        start = time.perf_counter()
        count = 0
        for _event in watch.Watch().stream(core.list_namespaced_pod, NS, timeout_seconds=60):
            count += 1
            if count >= args.pods:
                break
        took = time.perf_counter() - start
        print(f"watch initial ADDED events: {count} in {took:.2f} s ({count / took:.0f} events/s)")

        rv = core.list_namespaced_pod(NS, limit=1).metadata.resource_version
        received = 0
        done = threading.Event()

        def consume() -> None:
            nonlocal received
            w = watch.Watch()
            for _ in w.stream(core.list_namespaced_pod, NS, resource_version=rv,
                              timeout_seconds=120):
                received += 1
                if received >= args.changes:
                    done.set()
                    w.stop()

        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        start = time.perf_counter()

        def churn() -> None:
            for i in range(args.changes):
                name = f"bulk-{i % args.pods:05d}"
                cluster.store.mutate("pods", NS, name,
                                     lambda o, i=i: o["metadata"]["labels"].update(gen=str(i)))

        thread.call(churn)
        done.wait(120)
        took = time.perf_counter() - start
        print(f"watch live MODIFIED events: {received} of {args.changes} in {took:.2f} s "
              f"({received / took:.0f} events/s through the python client)")
    finally:
        thread.stop()


if __name__ == "__main__":
    main()
