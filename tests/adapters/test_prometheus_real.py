"""The Prometheus adapter against a real Prometheus (Debian's 2.42) scraping the drill cluster.

The drill cluster's `/metrics` is scraped every second with its bearer token; the adapter then
reads the figures back through Prometheus' own HTTP API, as it would in production.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from kubernetes import client as k8s

from adapters.metrics import MetricsClient, RateSample
from adapters.metrics_config import MetricsConfig
from tests.conftest import Drill, wait_for

pytestmark = pytest.mark.prometheus

REPO = Path(__file__).resolve().parents[2]


def find_prometheus() -> Path | None:
    """Debian's prometheus unpacked by ./dev under $WARROOM_TOOLS (or .tools), else PATH."""
    candidates: list[Path] = []
    if os.environ.get("WARROOM_TOOLS"):
        candidates.append(Path(os.environ["WARROOM_TOOLS"]) / "debian/usr/bin/prometheus")
    candidates.append(REPO / ".tools/debian/usr/bin/prometheus")
    on_path = shutil.which("prometheus")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


PROMETHEUS = find_prometheus()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RealPrometheus:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    ready_after_s: float

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])


def start_prometheus(drill: Drill, workdir: Path) -> RealPrometheus:
    """Run Prometheus scraping the drill cluster; return once `/-/ready` answers 200."""
    assert PROMETHEUS is not None
    url = urlsplit(drill.cluster.url)
    job: dict[str, object] = {
        "job_name": "drill",
        "scheme": url.scheme,
        "metrics_path": "/metrics",
        "authorization": {"type": "Bearer", "credentials": drill.cluster.token},
        "static_configs": [{"targets": [url.netloc]}],
    }
    if url.scheme == "https":
        job["tls_config"] = {"ca_file": str(drill.cluster.ca_path)}
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [job],
    }
    workdir.mkdir(parents=True, exist_ok=True)
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    config_file.chmod(0o600)
    port = _free_port()
    log = workdir / "prometheus.log"
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={config_file}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                f"--web.console.templates={workdir}",
                f"--web.console.libraries={workdir}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    prometheus = RealPrometheus(f"http://127.0.0.1:{port}", process, log, 0.0)

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(
                f"prometheus exited with {process.returncode}:\n{prometheus.log_tail()}"
            )
        try:
            return httpx.get(f"{prometheus.url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, timeout=60, interval=0.1, message="prometheus /-/ready")
    except BaseException:
        stop_prometheus(prometheus)
        raise
    prometheus.ready_after_s = time.monotonic() - started
    return prometheus


def stop_prometheus(prometheus: RealPrometheus) -> None:
    prometheus.process.terminate()
    try:
        prometheus.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        prometheus.process.kill()
        prometheus.process.wait(timeout=15)


@pytest.fixture
def auth_drill(drill_factory: Callable[..., Drill]) -> Drill:
    return drill_factory(scenario="bad-deploy-auth", speed=60)


@pytest.fixture
def prometheus(auth_drill: Drill, tmp_path: Path) -> Iterator[RealPrometheus]:
    if PROMETHEUS is None:
        pytest.skip(
            "no prometheus binary: looked in $WARROOM_TOOLS/debian/usr/bin, "
            ".tools/debian/usr/bin and PATH (./dev test unpacks Debian's prometheus)"
        )
    running = start_prometheus(auth_drill, tmp_path / "prometheus")
    yield running
    stop_prometheus(running)


@pytest.fixture
def metrics(prometheus: RealPrometheus) -> Iterator[MetricsClient]:
    # a short window: the scrapes begin with the test, and 1 s scrapes fill 10 s quickly
    config = MetricsConfig(
        base_url=prometheus.url, window="10s", baseline_offset="5m", timeout_s=10
    )
    with MetricsClient(config) as client:
        yield client


def _seeded(drill: Drill) -> set[tuple[str, str]]:
    apps = k8s.AppsV1Api(drill.api())
    return {
        (str(d.metadata.namespace), str(d.metadata.name))
        for d in apps.list_deployment_for_all_namespaces().items
        if d.metadata is not None
    }


def test_real_prometheus_sees_the_bad_deploy(
    auth_drill: Drill,
    prometheus: RealPrometheus,
    metrics: MetricsClient,
    record_property: Callable[[str, object], None],
) -> None:
    started = time.monotonic()

    def target_up() -> bool:
        up = metrics.instant('up{job="drill"}')
        return bool(up) and up[0].value == 1.0

    wait_for(target_up, timeout=30, interval=0.25, message="the drill target to be scraped")
    target_up_s = time.monotonic() - started

    def api_failing() -> RateSample | None:
        rate = metrics.deployment_rates(namespace="shop").get(("shop", "api"))
        return rate if rate and rate.error_ratio is not None and rate.error_ratio > 0 else None

    failing = wait_for(
        api_failing,
        timeout=90,
        interval=0.5,
        message="a non-zero error ratio for shop/api in Prometheus",
    )
    error_seen_s = time.monotonic() - started

    seeded = _seeded(auth_drill)

    def all_serving() -> dict[tuple[str, str], RateSample] | None:
        rates = metrics.deployment_rates()
        serving = {k for k, r in rates.items() if r.request_rate is not None and r.request_rate > 0}
        return rates if seeded <= serving else None

    rates = wait_for(
        all_serving,
        timeout=90,
        interval=0.5,
        message=f"request rates for every seeded deployment {sorted(seeded)}",
    )
    for key, rate in rates.items():
        if key != ("shop", "api"):
            assert rate.error_ratio is not None and rate.error_ratio < 0.05, (key, rate)
        assert rate.p99_s is not None and rate.p99_s > 0, (key, rate)
        # Prometheus has minutes of history at most: the 5m-offset baseline is unknown
        assert rate.baseline_p99_s is None and rate.latency_ratio is None, (key, rate)
        # the working set of the largest container, the deployment taken from the pod name
        assert rate.memory_bytes is not None and 100 * 2**20 < rate.memory_bytes < 512 * 2**20

    # narrowed to one deployment by pod name (Prometheus' RE2 and label_replace)
    narrowed = metrics.deployment_rates("shop", "web")[("shop", "web")]
    assert narrowed.memory_bytes is not None and narrowed.memory_bytes > 0

    # the bad revision fails 54 % of requests: once the 10 s window holds only it, so does
    # Prometheus
    wait_for(
        lambda: (metrics.deployment_rates("shop", "api")[("shop", "api")].error_ratio or 0) > 0.5,
        timeout=60,
        interval=0.5,
        message="shop/api error ratio above 0.5 in Prometheus",
    )
    history = metrics.history("shop", "api", minutes=1, step=1)
    assert any(v is not None and v > 0 for v in history.error_ratio)

    figures = {
        "prometheus_ready_s": round(prometheus.ready_after_s, 2),
        "target_up_s": round(target_up_s, 2),
        "error_ratio_seen_s": round(error_seen_s, 2),
        "first_error_ratio": round(failing.error_ratio or 0.0, 3),
        "api_error_ratio_now": round(rates[("shop", "api")].error_ratio or 0.0, 3),
    }
    for name, value in figures.items():
        record_property(name, value)
    print(f"\nreal prometheus timings: {figures}")
