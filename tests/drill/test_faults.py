"""Fault injection on the drill cluster, observed over real HTTP by httpx and the python client.

Every test gets its own cluster (faults are cluster-wide). Nothing sleeps: durations are
measured, and recoveries are waited for with `wait_for`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import urllib3
import yaml
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from adapters.drill_admin import DrillAdminError, endpoint_from_kubeconfig
from tests.conftest import Drill, wait_for

from .kube_helpers import make_deployment, make_namespace, unique

ROOT = Path(__file__).resolve().parents[2]
PODS = "/api/v1/namespaces/shop/pods"
QUERY = "sum(rate(http_requests_total[1m]))"

Factory = Callable[..., Drill]


def inject(d: Drill, fault: str, **params: Any) -> dict[str, Any]:
    r = d.http().post("/drill/v1/faults", json={"fault": fault, **params})
    assert r.status_code == 200, r.text
    return r.json()


def faults(d: Drill) -> dict[str, Any]:
    r = d.http().get("/drill/v1/faults")
    assert r.status_code == 200, r.text
    return r.json()


def active(d: Drill) -> dict[str, dict[str, Any]]:
    return {f["fault"]: f for f in faults(d)["active"]}


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


class WatchReader:
    """Reads a watch stream in a thread: `connected` once the server answered (the watch is
    registered before the response starts), `started` after the first event, `ended` at EOF."""

    def __init__(self, d: Drill, path: str = PODS, **params: str) -> None:
        self.http = d.http()
        self.params = {"watch": "true", "timeoutSeconds": "120", **params}
        self.path = path
        self.lines: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self.started = threading.Event()
        self.ended = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            with self.http.stream("GET", self.path, params=self.params,
                                  timeout=httpx.Timeout(10, read=120)) as response:
                self.connected.set()
                for line in response.iter_lines():
                    if line:
                        self.lines.append(json.loads(line))
                        self.started.set()
        except httpx.HTTPError as exc:  # a reset connection is an ending too
            self.error = exc
        finally:
            self.connected.set()
            self.started.set()
            self.ended.set()


# ---- admin endpoint ------------------------------------------------------------------------
def test_admin_endpoints_need_the_admin_token(drill_factory: Factory) -> None:
    d = drill_factory()
    assert d.http(token=None).get("/drill/v1/faults").status_code == 401
    assert d.http(token=None).post("/drill/v1/faults", json={"fault": "clear"}).status_code == 401
    r = d.http().post("/drill/v1/tokens", json={"token": "viewer-token", "user": "viewer"})
    assert r.status_code == 200
    viewer = d.http(token="viewer-token")
    assert viewer.get(PODS).status_code == 200
    assert viewer.get("/drill/v1/faults").status_code == 403
    r = viewer.post("/drill/v1/faults", json={"fault": "api-down", "seconds": 60})
    assert r.status_code == 403
    assert faults(d) == {"active": [], "counters": {}, "injections": {},
                         "addedLatencySeconds": 0.0}


def test_bad_fault_requests_are_400_status(drill_factory: Factory) -> None:
    d = drill_factory()
    for body in ({"fault": "nope"}, {"fault": "latency", "secs": 1},
                 {"fault": "latency", "seconds": -1}, {"fault": "errors", "share": 2},
                 {"fault": "errors", "code": 404}, {"fault": "forbid", "verb": "fly"},
                 {"fault": "revoke-token", "token": "no-such-token"}, {"no": "fault"}):
        r = d.http().post("/drill/v1/faults", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["kind"] == "Status"
    assert active(d) == {}


def test_describe_clear_and_expiry(drill_factory: Factory) -> None:
    d = drill_factory()
    inject(d, "latency", seconds=0.01)
    inject(d, "conflicts", count=3)
    answer = inject(d, "prom-slow", seconds=0.2, duration=0.3)
    assert answer["applied"]["state"]["expiresInSeconds"] <= 0.3
    assert set(active(d)) == {"latency", "conflicts", "prom-slow"}
    assert active(d)["conflicts"]["remaining"] == 3
    wait_for(lambda: "prom-slow" not in active(d), timeout=10, message="prom-slow expired")
    assert d.call(lambda: d.cluster.traffic.query_delay) == 0
    cleared = inject(d, "clear", name="latency")
    assert cleared["applied"] == {"cleared": ["latency"]}
    assert set(active(d)) == {"conflicts"}
    assert inject(d, "clear")["applied"] == {"cleared": ["conflicts"]}
    assert active(d) == {}
    assert faults(d)["injections"] == {"conflicts": 1, "latency": 1, "prom-slow": 1}


# ---- request-level faults ------------------------------------------------------------------
def test_latency_delays_api_requests_only(drill_factory: Factory) -> None:
    d = drill_factory()
    inject(d, "latency", seconds=0.4, jitter=0.1)
    http = d.http()
    r, elapsed = timed(lambda: http.get(PODS))
    assert r.status_code == 200 and elapsed >= 0.4
    _, elapsed = timed(lambda: client.CoreV1Api(d.api()).list_namespaced_pod("shop"))
    assert elapsed >= 0.4
    assert http.get("/healthz").status_code == 200
    assert http.get("/drill/v1/status").status_code == 200
    assert http.get("/api/v1/query", params={"query": QUERY}).status_code == 200
    state = faults(d)
    assert state["counters"]["latency"] == 2  # health, admin and Prometheus paths untouched
    assert 0.8 <= state["addedLatencySeconds"] <= 1.0
    assert state["active"][0]["hits"] == 2
    inject(d, "clear")
    _, elapsed = timed(lambda: http.get(PODS))
    assert faults(d)["counters"]["latency"] == 2


def test_errors_answer_503_and_429_with_retry_after(drill_factory: Factory) -> None:
    d = drill_factory()
    inject(d, "errors", share=1.0, code=503, retry_after=0)
    apps = client.AppsV1Api(d.api())
    with pytest.raises(ApiException) as failed:
        apps.list_namespaced_deployment("shop")
    assert failed.value.status == 503
    assert failed.value.headers["Retry-After"] == "0"
    status = json.loads(failed.value.body)
    assert status["kind"] == "Status" and status["reason"] == "ServiceUnavailable"
    assert status["code"] == 503 and status["details"]["retryAfterSeconds"] == 0
    # urllib3 (under the python client) retries 429/503 that carry Retry-After 3 times
    assert faults(d)["counters"]["errors.503"] >= 1
    inject(d, "errors", share=1.0, code=503, retry_after=2)
    r = d.http().get(PODS)
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    http = d.http()
    assert http.get("/healthz").status_code == 200
    assert http.get("/drill/v1/status").status_code == 200
    assert http.get("/api/v1/query", params={"query": QUERY}).status_code == 200

    inject(d, "errors", share=1.0, code="429")
    r = http.get(PODS)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert r.json()["reason"] == "TooManyRequests"
    inject(d, "errors", share=1.0, code=[500])
    r = http.get(PODS)
    assert r.status_code == 500 and "Retry-After" not in r.headers
    assert r.json()["reason"] == "InternalError"

    before = faults(d)["counters"]
    assert (before["errors.429"], before["errors.500"]) == (1, 1)

    inject(d, "errors", share=0.0, code="500/503/429")
    assert all(http.get(PODS).status_code == 200 for _ in range(5))
    inject(d, "errors", share=0.5, code="500/503/429")
    codes = [http.get(PODS).status_code for _ in range(60)]
    assert set(codes) == {200, 500, 503, 429}  # seeded: a mix of successes and failures
    counters = faults(d)["counters"]
    assert counters["errors"] == before["errors"] + sum(code != 200 for code in codes)
    assert counters["errors"] == sum(v for k, v in counters.items() if k.startswith("errors."))
    inject(d, "clear", name="errors")
    assert apps.list_namespaced_deployment("shop").items


def test_api_down_resets_connections_and_recovers_by_itself(drill_factory: Factory) -> None:
    d = drill_factory()
    reader = WatchReader(d)
    wait_for(reader.started.is_set, message="watch started")
    answer = inject(d, "api-down", seconds=1.5)
    injected = time.monotonic()
    assert answer["applied"]["dropped"] >= 1
    wait_for(reader.ended.is_set, message="open watch dropped")

    http = d.http()
    with pytest.raises(httpx.TransportError):
        http.get(PODS)
    with pytest.raises(urllib3.exceptions.HTTPError):  # MaxRetryError after urllib3's retries
        client.CoreV1Api(d.api()).list_namespaced_pod("shop", _request_timeout=5)
    with pytest.raises(httpx.TransportError):
        d.http(token=None).get("/version")  # down means down, even before authentication
    assert http.get("/healthz").status_code == 200
    assert "api-down" in active(d)  # admin endpoints keep answering

    def answers() -> bool:
        try:
            return d.http().get(PODS).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(answers, timeout=15, interval=0.1, message="API back after api-down")
    assert time.monotonic() - injected >= 1.5 - 0.05
    assert client.CoreV1Api(d.api()).list_namespaced_pod("shop").items
    state = faults(d)
    assert "api-down" not in {f["fault"] for f in state["active"]}
    assert state["counters"]["api-down"] >= 3


def test_drop_watches_ends_open_streams(drill_factory: Factory) -> None:
    d = drill_factory()
    first = WatchReader(d)
    wait_for(first.started.is_set, message="watch started")
    assert not first.ended.is_set()
    answer = inject(d, "drop-watches")
    assert answer["applied"]["dropped"] >= 1
    assert answer["active"] == []  # one-shot
    wait_for(first.ended.is_set, message="watch dropped")
    assert first.error is None  # the stream ended cleanly, as a server-side close does
    assert first.lines and first.lines[0]["type"] == "ADDED"

    inject(d, "drop-watches", every=0.2)
    second = WatchReader(d)
    wait_for(second.ended.is_set, message="periodic drop")
    third = WatchReader(d)
    wait_for(third.ended.is_set, message="periodic drop again")
    assert faults(d)["counters"]["drop-watches.watches"] >= 3
    inject(d, "clear")


def test_python_watch_resumes_after_a_dropped_watch(drill_factory: Factory) -> None:
    d = drill_factory()
    api = d.api()
    ns = make_namespace(api, unique("resume"))
    core = client.CoreV1Api(api)
    seen: list[str] = []
    stream = watch.Watch()

    def consume() -> None:
        for event in stream.stream(core.list_namespaced_pod, ns):
            seen.append(event["object"].metadata.name)
            if seen[-1].startswith("two-"):
                stream.stop()

    make_deployment(api, ns, "one", replicas=1)
    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    wait_for(lambda: len(seen) >= 1, message="first pod seen")
    assert inject(d, "drop-watches")["applied"]["dropped"] >= 1
    make_deployment(api, ns, "two", replicas=1)  # seen only if the client resumed its watch
    reader.join(20)
    assert not reader.is_alive(), seen
    assert {name.split("-")[0] for name in seen} == {"one", "two"}
    assert faults(d)["counters"]["drop-watches.watches"] == 1


def test_watch_gone_makes_a_resume_410(drill_factory: Factory) -> None:
    d = drill_factory()
    core = client.CoreV1Api(d.api())
    rv = core.list_namespaced_pod("shop").metadata.resource_version
    reader = WatchReader(d, resourceVersion=rv)
    wait_for(reader.connected.is_set, message="watch connected")
    answer = inject(d, "watch-gone")
    wait_for(reader.ended.is_set, message="watch dropped")
    assert answer["applied"]["dropped"] >= 1
    assert active(d)["watch-gone"]["remaining"] == answer["applied"]["dropped"]

    r = d.http().get(PODS, params={"watch": "1", "resourceVersion": rv})
    assert r.status_code == 200
    event = json.loads(r.text.splitlines()[0])
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
    assert event["object"]["message"].startswith(f"too old resource version: {rv}")
    # the python client (no retry with timeout_seconds) raises the 410
    inject(d, "watch-gone", count=1, drop=False)
    with pytest.raises(ApiException) as gone:
        for _ in watch.Watch().stream(core.list_namespaced_pod, "shop", resource_version=rv,
                                      timeout_seconds=5):
            pass
    assert gone.value.status == 410
    assert "watch-gone" not in active(d)  # count used up
    # a fresh list+watch works; the pre-fault resourceVersion stays compacted away
    fresh = WatchReader(d)
    wait_for(fresh.started.is_set, message="fresh watch")
    assert fresh.lines[0]["type"] == "ADDED"
    r = d.http().get(PODS, params={"watch": "1", "resourceVersion": "1", "timeoutSeconds": "1"})
    assert json.loads(r.text.splitlines()[0])["object"]["code"] == 410
    assert faults(d)["counters"]["watch-gone"] == 2


def test_revoke_token_gives_401_and_clear_restores(drill_factory: Factory) -> None:
    d = drill_factory()
    d.http().post("/drill/v1/tokens", json={"token": "ops-token", "user": "ops"})
    inject(d, "revoke-token", token="ops-token")
    ops = d.http(token="ops-token")
    r = ops.get(PODS)
    assert r.status_code == 401 and r.json()["reason"] == "Unauthorized"
    assert d.http().get(PODS).status_code == 200
    assert active(d)["revoke-token"]["params"]["token"] == "ops-…"  # never shown in full
    inject(d, "clear")
    assert ops.get(PODS).status_code == 200

    inject(d, "revoke-token")  # default: the admin token the kubeconfig carries
    with pytest.raises(ApiException) as revoked:
        client.CoreV1Api(d.api()).list_namespaced_pod("shop")
    assert revoked.value.status == 401
    assert "<drill admin token>" in json.dumps(faults(d))  # admin endpoints still work
    assert faults(d)["counters"]["revoke-token"] == 2
    inject(d, "clear")
    assert client.CoreV1Api(d.api()).list_namespaced_pod("shop").items


def test_forbid_denies_one_verb_only(drill_factory: Factory) -> None:
    d = drill_factory()
    api = d.api()
    ns = make_namespace(api, unique("forbid"))
    make_deployment(api, ns, "f", replicas=1)
    apps = client.AppsV1Api(api)
    inject(d, "forbid", verb="patch", resource="deployments")
    with pytest.raises(ApiException) as denied:
        apps.patch_namespaced_deployment("f", ns, {"metadata": {"labels": {"x": "y"}}})
    assert denied.value.status == 403
    status = json.loads(denied.value.body)
    assert status["reason"] == "Forbidden" and "cannot patch resource" in status["message"]
    with pytest.raises(ApiException) as scale_denied:
        apps.patch_namespaced_deployment_scale("f", ns, {"spec": {"replicas": 2}})
    assert scale_denied.value.status == 403
    assert apps.read_namespaced_deployment("f", ns).metadata.name == "f"  # get still allowed
    d_obj = apps.read_namespaced_deployment("f", ns)
    d_obj.metadata.labels["put"] = "ok"
    assert apps.replace_namespaced_deployment("f", ns, d_obj).metadata.labels["put"] == "ok"
    auth = client.AuthorizationV1Api(api)

    def can(verb: str) -> bool:
        review = auth.create_self_subject_access_review({"spec": {"resourceAttributes": {
            "verb": verb, "resource": "deployments", "group": "apps", "namespace": ns}}})
        return bool(review.status.allowed)

    assert not can("patch") and can("get") and can("update")
    assert faults(d)["counters"]["forbid"] == 2
    inject(d, "clear")
    assert can("patch")
    apps.patch_namespaced_deployment("f", ns, {"metadata": {"labels": {"x": "y"}}})


def test_forbid_for_another_token_leaves_the_admin_alone(drill_factory: Factory) -> None:
    d = drill_factory()
    d.http().post("/drill/v1/tokens", json={"token": "dev-token", "user": "dev"})
    inject(d, "forbid", verb="list", resource="pods", token="dev-token")
    r = d.http(token="dev-token").get(PODS)
    assert r.status_code == 403 and 'User "dev" cannot list resource "pods"' in r.json()["message"]
    assert d.http().get(PODS).status_code == 200
    assert d.http(token="dev-token").get(PODS + "?watch=1&timeoutSeconds=1").status_code == 200


def test_conflicts_answer_409_then_writes_succeed(drill_factory: Factory) -> None:
    d = drill_factory()
    api = d.api()
    ns = make_namespace(api, unique("conflicts"))
    make_deployment(api, ns, "c", replicas=1)
    apps = client.AppsV1Api(api)
    inject(d, "conflicts", count=2)
    patch = {"spec": {"template": {"metadata": {"annotations": {"k": "v"}}}}}
    with pytest.raises(ApiException) as first:
        apps.patch_namespaced_deployment("c", ns, patch)
    assert first.value.status == 409
    status = json.loads(first.value.body)
    assert status["reason"] == "Conflict"
    assert status["message"].startswith('Operation cannot be fulfilled on deployments.apps "c"')
    assert apps.read_namespaced_deployment("c", ns).spec.template.metadata.annotations in (
        None, {})  # reads are not writes, and the conflicting patch changed nothing
    with pytest.raises(ApiException) as second:
        apps.patch_namespaced_deployment_scale("c", ns, {"spec": {"replicas": 2}})
    assert second.value.status == 409
    assert "conflicts" not in active(d)
    patched = apps.patch_namespaced_deployment("c", ns, patch)
    assert patched.spec.template.metadata.annotations == {"k": "v"}
    assert faults(d)["counters"]["conflicts"] == 2


def test_prometheus_slow_and_down(drill_factory: Factory) -> None:
    d = drill_factory()
    http = d.http()
    inject(d, "prom-slow", seconds=0.4)
    r, elapsed = timed(lambda: http.get("/api/v1/query", params={"query": QUERY}))
    assert r.status_code == 200 and r.json()["status"] == "success" and elapsed >= 0.4
    inject(d, "prom-down")
    r = http.get("/api/v1/query", params={"query": QUERY})
    assert r.status_code == 503 and r.json()["status"] == "error"
    r = http.post("/prometheus/api/v1/query_range",
                  data={"query": QUERY, "start": "0", "end": "60", "step": "15"})
    assert r.status_code == 503
    assert http.get(PODS).status_code == 200  # the Kubernetes API is fine
    counters = faults(d)["counters"]
    assert counters["prom-slow"] == 1 and counters["prom-down"] == 2
    inject(d, "clear")
    r, elapsed = timed(lambda: http.get("/api/v1/query", params={"query": QUERY}))
    assert r.status_code == 200
    assert d.call(lambda: (d.cluster.traffic.query_delay, d.cluster.traffic.down)) == (0, False)


# ---- command line ---------------------------------------------------------------------------
def warroom(*args: str, env_dir: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WARROOM_STATE_DIR": str(env_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "console.cli.main", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_inject_command_changes_a_running_cluster(drill_factory: Factory, tmp_path: Path) -> None:
    d = drill_factory()
    kc = str(d.kubeconfig)
    out = warroom("drill", "inject", "conflicts", "count=2", "--kubeconfig", kc, env_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"injected conflicts on {d.cluster.url}: count=2" in out.stdout
    assert active(d)["conflicts"]["remaining"] == 2
    # k=v may follow the option; the top-level alias does the same
    out = warroom("drill-inject", "latency", "--kubeconfig", kc, "seconds=0.01", "duration=60",
                  env_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    assert active(d)["latency"]["params"] == {"seconds": 0.01, "jitter": 0.0, "duration": 60.0}
    out = warroom("drill", "inject", "status", "--kubeconfig", kc, env_dir=tmp_path)
    assert out.returncode == 0 and "conflicts" in out.stdout and "latency" in out.stdout
    out = warroom("drill", "inject", "clear", "--kubeconfig", kc, env_dir=tmp_path)
    assert out.returncode == 0 and "cleared" in out.stdout
    assert active(d) == {}
    out = warroom("drill", "inject", "errors", "share=3", "--kubeconfig", kc, env_dir=tmp_path)
    assert out.returncode == 2 and "between 0 and 1" in out.stderr


def test_inject_uses_the_drill_kubeconfig_by_default(drill_factory: Factory,
                                                     tmp_path: Path) -> None:
    d = drill_factory()
    d.cluster.write_kubeconfig(tmp_path / "drill-kubeconfig.yaml")  # where `warroom drill` puts it
    out = warroom("drill", "inject", "prom-down", env_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    assert d.http().get("/api/v1/query", params={"query": QUERY}).status_code == 503


def test_inject_without_a_cluster_says_so(drill_factory: Factory, tmp_path: Path) -> None:
    out = warroom("drill", "inject", "latency", env_dir=tmp_path)
    assert out.returncode == 1
    assert "no drill kubeconfig at" in out.stderr and "warroom drill" in out.stderr
    d = drill_factory()
    url = d.cluster.url
    d.thread.stop()
    out = warroom("drill", "inject", "latency", "--kubeconfig", str(d.kubeconfig),
                  env_dir=tmp_path)
    assert out.returncode == 1
    assert f"no drill cluster is answering at {url} — start one with `warroom drill`" in out.stderr


def test_inject_refuses_non_loopback_servers(tmp_path: Path, drill_factory: Factory) -> None:
    d = drill_factory()
    config = yaml.safe_load(d.kubeconfig.read_text())
    config["clusters"][0]["cluster"]["server"] = "https://10.1.2.3:6443"
    path = tmp_path / "real.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(DrillAdminError, match="not a drill cluster"):
        endpoint_from_kubeconfig(path)
    assert endpoint_from_kubeconfig(d.kubeconfig).url == d.cluster.url


def test_drill_server_fault_flag_and_inject_subprocess(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "server-kubeconfig.yaml"
    env = {**os.environ, "WARROOM_STATE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli.main", "drill-server", "--kubeconfig-out", str(kubeconfig),
         "--speed", "20", "--fault", "errors:share=1,code=429,retry_after=3",
         "--fault", "latency:seconds=0.2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: kubeconfig.exists() or proc.poll() is not None, timeout=30,
                 message="drill-server kubeconfig")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        api = client.CoreV1Api(_api(kubeconfig))
        (failure, elapsed) = timed(lambda: _status_of(lambda: api.list_namespaced_pod("shop")))
        assert failure == (429, "3") and elapsed >= 0.2
        out = warroom("drill", "inject", "status", "--kubeconfig", str(kubeconfig),
                      env_dir=tmp_path)
        assert out.returncode == 0, out.stderr
        assert "errors" in out.stdout and "errors.429=" in out.stdout
        out = warroom("drill", "inject", "clear", "name=errors", "--kubeconfig", str(kubeconfig),
                      env_dir=tmp_path)
        assert out.returncode == 0 and "cleared" in out.stdout and "errors" in out.stdout
        assert api.list_namespaced_pod("shop").items
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 0


def _api(kubeconfig: Path) -> client.ApiClient:
    from kubernetes import config

    return config.new_client_from_config(config_file=str(kubeconfig))


def _status_of(call: Callable[[], Any]) -> tuple[int, str | None]:
    try:
        call()
    except ApiException as exc:
        return exc.status, (exc.headers or {}).get("Retry-After")
    return 200, None
