"""Shared fixtures: a drill cluster on a free loopback port, kubeconfigs, kubectl binaries."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client, config

from drill.cluster import DrillCluster, DrillThread

TEST_SPEED = 20.0  # kubelet delays of a few drill seconds take a fraction of a real second


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05,
             message: str = "condition") -> Any:
    """Poll `predicate` until it returns something truthy; fail with `message` on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message} (last: {last!r})")


@dataclass
class Drill:
    thread: DrillThread
    cluster: DrillCluster
    kubeconfig: Path

    def api(self) -> client.ApiClient:
        return config.new_client_from_config(config_file=str(self.kubeconfig))

    def http(self, token: str | None = "admin") -> httpx.Client:
        """An httpx client that trusts the drill CA and (by default) sends the admin token."""
        headers = {}
        if token == "admin":
            headers["Authorization"] = f"Bearer {self.cluster.token}"
        elif token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.cluster.url,
                            verify=ssl.create_default_context(cafile=str(self.cluster.ca_path)),
                            headers=headers, timeout=10)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run fn on the cluster's own loop (store access is not thread-safe)."""
        return self.thread.call(fn, *args)


def start_drill(tmp: Path, **kwargs: Any) -> Drill:
    kwargs.setdefault("speed", TEST_SPEED)
    thread = DrillThread(**kwargs)
    cluster = thread.start()
    kubeconfig = cluster.write_kubeconfig(tmp / "kubeconfig.yaml")
    return Drill(thread, cluster, kubeconfig)


@pytest.fixture(scope="session")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    """One drill cluster (scenario none) shared by the session: tests use their own objects."""
    d = start_drill(tmp_path_factory.mktemp("drill"))
    yield d
    d.thread.stop()


@pytest.fixture
def drill_factory(tmp_path: Path) -> Iterator[Callable[..., Drill]]:
    """Start a private drill cluster (e.g. with a scenario); stopped after the test."""
    started: list[Drill] = []

    def make(**kwargs: Any) -> Drill:
        d = start_drill(tmp_path / f"c{len(started)}", **kwargs)
        started.append(d)
        return d

    yield make
    for d in started:
        d.thread.stop()


# ---- kubectl binaries ----------------------------------------------------------------------
def _kubectl_candidates() -> list[Path]:
    seen: list[Path] = []
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    found = shutil.which("kubectl")
    if found:
        dirs.append(str(Path(found).resolve().parent))
    dirs.append("/usr/lib/google-cloud-sdk/bin")
    tools = os.environ.get("WARROOM_TOOLS", str(Path(__file__).resolve().parent.parent / ".tools"))
    dirs.append(str(Path(tools) / "debian" / "usr" / "bin"))
    for d in dirs:
        path = Path(d)
        if not path.is_dir():
            continue
        for candidate in sorted(path.glob("kubectl*")):
            name = candidate.name
            if (name == "kubectl" or name.startswith("kubectl.1.")) and os.access(candidate, os.X_OK):
                if candidate.resolve() not in [s.resolve() for s in seen]:
                    seen.append(candidate)
    return seen


def _client_version(binary: Path) -> tuple[int, int] | None:
    try:
        out = subprocess.run([str(binary), "version", "--client", "-o", "json"],
                             capture_output=True, text=True, timeout=30)
        info = json.loads(out.stdout)["clientVersion"]
        return int(info["major"]), int("".join(ch for ch in info["minor"] if ch.isdigit()))
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired):
        return None


def kubectl_binaries() -> list[tuple[str, Path]]:
    """The oldest and the newest kubectl on this machine, as (version, path)."""
    versions: dict[tuple[int, int], Path] = {}
    for binary in _kubectl_candidates():
        version = _client_version(binary)
        if version and version not in versions:
            versions[version] = binary
    if not versions:
        return []
    ordered = sorted(versions)
    chosen = [ordered[0]] if ordered[0] == ordered[-1] else [ordered[0], ordered[-1]]
    return [(f"{v[0]}.{v[1]}", versions[v]) for v in chosen]


KUBECTLS = kubectl_binaries()


@dataclass
class Kubectl:
    binary: Path
    version: str
    kubeconfig: Path
    cache_dir: Path

    def run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.binary), f"--kubeconfig={self.kubeconfig}", f"--cache-dir={self.cache_dir}",
               *args]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        cmd = [str(self.binary), f"--kubeconfig={self.kubeconfig}", f"--cache-dir={self.cache_dir}",
               *args]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(params=KUBECTLS or [pytest.param(None, marks=pytest.mark.skip("no kubectl found"))],
                ids=[v for v, _ in KUBECTLS] or ["none"])
def kubectl(request: pytest.FixtureRequest, drill: Drill,
            tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    version, binary = request.param
    return Kubectl(binary, version, drill.kubeconfig, tmp_path_factory.mktemp(f"kcache{version}"))
