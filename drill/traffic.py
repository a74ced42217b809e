"""Simulated request traffic of the drill cluster, as a Prometheus would see it.

Every deployment that has had a ready pod serves requests (a deployment whose pods never
became ready has not gone live yet and serves nothing). Each `tick()` integrates, over the
drill seconds since the previous tick:

- `http_requests_total{namespace,deployment,path,code}` counters, codes "200", "500" (a pod
  failed the request, per its `TrafficProfile`) and "503" (no ready pod at all: a complete
  outage; or a pod shedding load far beyond its capacity);
- `http_request_duration_seconds{namespace,deployment,path}` histogram (buckets `BUCKETS`),
  from a log-normal baseline (p50 = the deployment's median, p99 = 4.5 x median) multiplied by
  the endpoint's `latency_factor` and by a load factor when few pods carry the traffic;
- `warroom_drill_ready_pods{namespace,deployment}` gauge;
- the same traffic as Istio, Linkerd and ingress-nginx report it, and kube-state-metrics
  series of the cluster's objects (`stack_series.StackSeries`);
- per running container of a deployment's pods, as cAdvisor reports them through the kubelet:
  `container_memory_working_set_bytes{namespace,pod,container,image,node}` (the scenario's
  `pod_memory`, see `memory.py`) and `container_spec_memory_limit_bytes` (0 without a limit).

The request rate of a deployment (`Baseline.rps` with a small deterministic wobble) is split
equally over its ready pods; each pod serves its share per its own profile, so during a rollout
the error ratio is mixed. An Argo Rollout (drill/argo_rollouts.py) serves too, under its name
in the `deployment` label, its requests split by `status.canary.weights` as a traffic router
would (drill/argo.py `traffic_shares`): a bad canary at 20 % fails only its 20 %. Counters are integers (fractions carry over to the next tick), so
`exposition()` shows real counter values.

A bounded sample history (one row per `sample_interval` drill seconds at most, `retention`
drill seconds and `max_samples` rows at most) backs the PromQL evaluator in `promql.py`.
"""

from __future__ import annotations

import math
import threading
import zlib
from array import array
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .argo import traffic_shares
from .clock import DrillClock
from .memory import healthy_working_set, limit_bytes, running_containers
from .profiles import TrafficProfile
from .stack_series import StackSeries
from .workloads import deployment_pods, is_ready

Obj = dict[str, Any]
LabelPairs = tuple[tuple[str, str], ...]
SeriesKey = tuple[str, LabelPairs]  # metric name, sorted label pairs
DeploymentKey = tuple[str, str]  # namespace, deployment
TrafficFor = Callable[[Obj, Obj], TrafficProfile]

BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CODES: tuple[str, ...] = ("200", "500", "503")
REQUESTS = "http_requests_total"
DURATION = "http_request_duration_seconds"
READY_PODS = "warroom_drill_ready_pods"
WORKING_SET = "container_memory_working_set_bytes"
MEMORY_LIMIT = "container_spec_memory_limit_bytes"
MemoryFor = Callable[[Obj, float], float]  # (pod, unix time) -> working-set bytes

SIGMA = math.log(4.5) / 2.3263478740408408  # p99 / p50 = 4.5 (40 ms -> 180 ms)
OUTAGE_MEDIAN = 0.002  # a 503 from the load balancer with no upstream is fast
SHED_FACTOR = 4.0  # a pod sheds (503) what exceeds this many times its comfortable load


@dataclass(frozen=True)
class Baseline:
    """Healthy traffic of one deployment."""

    rps: float  # requests per drill second, before wobble
    median: float  # p50 latency in seconds

    @property
    def pod_capacity(self) -> float:
        """Requests per second one pod serves at baseline latency."""
        return self.rps / 2


# Medians sit where the fixed buckets let histogram_quantile estimates track true latency
# ratios (a 12x slowdown reads as 11-13x at p50, p95 and p99): estimated p50 ~32 ms, p99
# ~200 ms for a 30 ms median.
BASELINES: dict[str, Baseline] = {
    "api": Baseline(120.0, 0.030),
    "web": Baseline(80.0, 0.030),
    "worker": Baseline(10.0, 0.049),
    "login": Baseline(40.0, 0.030),
}
DEFAULT_BASELINE = Baseline(20.0, 0.030)


def baseline_for(name: str) -> Baseline:
    return BASELINES.get(name, DEFAULT_BASELINE)


def wobble(key: DeploymentKey, t: float) -> float:
    """Deterministic slow variation of the request rate (about +-6 %)."""
    phase = zlib.crc32(f"{key[0]}/{key[1]}".encode()) / 2**32 * 2 * math.pi
    return (
        1.0
        + 0.04 * math.sin(2 * math.pi * t / 900.0 + phase)
        + 0.02 * math.sin(2 * math.pi * t / 137.0 + 2 * phase)
    )


def load_factor(per_pod_rps: float, capacity: float) -> float:
    """Latency multiplier when a pod carries more than its comfortable load."""
    if capacity <= 0:
        return 1.0
    return 1.0 + 0.6 * max(0.0, per_pod_rps / capacity - 1.0)


def bucket_shares(median: float) -> list[float]:
    """Share of requests per histogram bucket (non-cumulative, last one is +Inf)."""
    shares: list[float] = []
    below = 0.0
    scale = SIGMA * math.sqrt(2.0)
    for upper in BUCKETS:
        cdf = 0.5 * (1.0 + math.erf((math.log(upper) - math.log(median)) / scale))
        shares.append(max(0.0, cdf - below))
        below = max(below, cdf)
    shares.append(max(0.0, 1.0 - below))
    return shares


def mean_latency(median: float) -> float:
    return median * math.exp(SIGMA * SIGMA / 2.0)


@dataclass(frozen=True)
class History:
    """A consistent snapshot of the sample history for queries.

    `rows[i][j]` is the value of series `keys[j]` at `times[i]` (unix seconds of drill time);
    a row shorter than `keys`, or NaN, means the series had no sample then.
    """

    keys: Sequence[SeriesKey]
    times: Sequence[float]
    rows: Sequence[array]
    lookback: float  # how far back an instant selector looks for the latest sample

    def value(self, row: int, series: int) -> float | None:
        values = self.rows[row]
        if series >= len(values):
            return None
        value = values[series]
        return None if math.isnan(value) else value


@dataclass(frozen=True)
class DeploymentRates:
    """What one deployment served during the last tick."""

    namespace: str
    deployment: str
    rps: float
    error_ratio: float
    latency_factor: float  # request-weighted multiple of the baseline median
    ready_pods: int
    path_error_ratio: Mapping[str, float] = field(default_factory=dict)


@dataclass
class _Path:
    codes: dict[str, int]  # code -> series index
    buckets: list[int]  # series indices of the cumulative buckets, +Inf last
    sum_index: int
    count_index: int
    counts: list[int]  # non-cumulative integer bucket counts
    carry: list[float]
    total: float = 0.0  # sum of observed latencies


@dataclass
class _Deployment:
    key: DeploymentKey
    ready_index: int
    paths: dict[str, _Path] = field(default_factory=dict)
    shares: dict[str, float] = field(default_factory=dict)  # last known mix, for outages
    live: bool = False
    # (pod, container) -> series indices of its working set and limit
    containers: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)


@dataclass
class _Flow:
    """Requests of one path during one tick, before rounding to whole requests."""

    codes: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CODES, 0.0))
    buckets: list[float] = field(default_factory=lambda: [0.0] * (len(BUCKETS) + 1))
    latency_sum: float = 0.0
    weighted_factor: float = 0.0  # sum of requests x latency multiple (pod-served only)
    served: float = 0.0

    def observe(self, requests: float, median: float) -> None:
        if requests <= 0:
            return
        for i, share in enumerate(bucket_shares(median)):
            self.buckets[i] += requests * share
        self.latency_sum += requests * mean_latency(median)


class Traffic:
    """Request counters, latency histograms and their history for every deployment."""

    def __init__(
        self,
        store: Any,
        clock: DrillClock,
        traffic_for: TrafficFor,
        *,
        memory_for: MemoryFor = healthy_working_set,
        sample_interval: float = 5.0,
        retention: float = 7200.0,
        max_samples: int = 2000,
    ) -> None:
        self._store = store
        self._clock = clock
        self._traffic_for = traffic_for
        self._memory_for = memory_for
        self.sample_interval = sample_interval
        self.retention = retention
        self._lock = threading.RLock()
        self._keys: list[SeriesKey] = []
        self._index: dict[SeriesKey, int] = {}
        self._values: list[float] = []
        self._carry: list[float] = []
        self._deployments: dict[DeploymentKey, _Deployment] = {}
        self._current: dict[DeploymentKey, DeploymentRates] = {}
        self._times: deque[float] = deque(maxlen=max_samples)
        self._rows: deque[array] = deque(maxlen=max_samples)
        self._last = self.drill_time()
        self._ticked_at: tuple[float, int] | None = None  # (drill time, store rv) last ticked
        self._stacks = StackSeries(self._series)
        self._prefixes: dict[int, str] = {}  # series index -> `name{labels} ` for exposition
        # fault hooks, consulted by the server
        self.query_delay = 0.0
        self.down = False
        self.queries_running = 0  # PromQL queries being evaluated now (prometheus_api.py)
        self.tick()

    # ---- fault hooks ---------------------------------------------------------------------
    def set_query_delay(self, seconds: float) -> None:
        """Make the metrics API answer this many real seconds late (fault injection)."""
        self.query_delay = max(0.0, float(seconds))

    def set_down(self, down: bool) -> None:
        """Make the metrics API unreachable (fault injection)."""
        self.down = bool(down)

    # ---- time and snapshots --------------------------------------------------------------
    def drill_time(self) -> float:
        """Now, as unix seconds of drill time."""
        return self._clock.now().timestamp()

    def current(self) -> dict[DeploymentKey, DeploymentRates]:
        """Per deployment, what it served during the last tick (live deployments only)."""
        with self._lock:
            return dict(self._current)

    def history(self) -> History:
        with self._lock:
            times = list(self._times)
            spacing = times[-1] - times[-2] if len(times) >= 2 else self.sample_interval
            return History(
                keys=list(self._keys),
                times=times,
                rows=list(self._rows),
                lookback=max(300.0, 2.5 * spacing),
            )

    # ---- simulation ----------------------------------------------------------------------
    def tick(self) -> None:
        """Integrate traffic up to the current drill time and record a sample when due.

        On a clock that stands still (a paused or frozen drill) with no object changed since
        the last tick, that tick's result is the one already there: skipped (with 10,000 pods
        a tick costs ~0.4 s of CPU, which every API request of the drill would wait for)."""
        with self._lock:
            now = self.drill_time()
            dt = max(0.0, now - self._last)
            if dt == 0.0 and self._ticked_at == (now, self._store.rv):
                return
            self._ticked_at = (now, self._store.rv)
            self._last = max(self._last, now)
            seen: set[DeploymentKey] = set()
            current: dict[DeploymentKey, DeploymentRates] = {}
            workloads = [*self._store.list("deployments"), *self._store.list("rollouts")]
            for deployment in workloads:
                meta = deployment["metadata"]
                key = (meta.get("namespace", ""), meta["name"])
                seen.add(key)
                rates = self._tick_deployment(key, deployment, now - dt / 2, dt)
                if rates is not None:
                    current[key] = rates
            for key in [k for k in self._deployments if k not in seen]:
                self._retire(key)
            self._current = current
            if not self._times or now - self._times[-1] >= self.sample_interval:
                # the other stacks' series are read from samples and the exposition only
                self._stacks.update_mirrors(self._values)
                self._stacks.update_state(self._store, self._values)
                self._record(now)

    def _tick_deployment(
        self, key: DeploymentKey, deployment: Obj, t_mid: float, dt: float
    ) -> DeploymentRates | None:
        state = self._deployments.get(key)
        if state is None:
            state = _Deployment(key, self._register(READY_PODS, key, ()))
            self._deployments[key] = state
        pods = deployment_pods(self._store, deployment)
        ready = [pod for pod in pods if is_ready(pod)]
        self._values[state.ready_index] = float(len(ready))
        self._memory(state, pods, t_mid + dt / 2)
        if ready:
            state.live = True
        if not state.live:
            return None
        baseline = baseline_for(key[1])
        rate = baseline.rps * wobble(key, t_mid)
        flows = self._flows(state, deployment, ready, baseline, rate)
        requests = sum(sum(flow.codes.values()) for flow in flows.values())
        for path, flow in flows.items():
            self._apply(self._path(state, path), flow, dt)
        errors = sum(flow.codes["500"] + flow.codes["503"] for flow in flows.values())
        served = sum(flow.served for flow in flows.values())
        weighted = sum(flow.weighted_factor for flow in flows.values())
        return DeploymentRates(
            namespace=key[0],
            deployment=key[1],
            rps=rate,
            error_ratio=errors / requests if requests else 0.0,
            latency_factor=weighted / served if served else 1.0,
            ready_pods=len(ready),
            path_error_ratio={
                path: (flow.codes["500"] + flow.codes["503"]) / total
                for path, flow in flows.items()
                if (total := sum(flow.codes.values())) > 0
            },
        )

    def _flows(
        self,
        state: _Deployment,
        deployment: Obj,
        ready: list[Obj],
        baseline: Baseline,
        rate: float,
    ) -> dict[str, _Flow]:
        """Requests per second per path, by code and latency bucket."""
        flows: dict[str, _Flow] = {}
        if not ready:
            for path, share in (state.shares or {"/": 1.0}).items():
                flow = flows.setdefault(path, _Flow())
                flow.codes["503"] += rate * share
                flow.observe(rate * share, OUTAGE_MEDIAN)
            return flows
        per_pod = rate / len(ready)
        # a Rollout's router splits requests by canary weight; anything else: pods equally
        shares = traffic_shares(deployment, ready)
        load = load_factor(per_pod, baseline.pod_capacity)
        limit = baseline.pod_capacity * SHED_FACTOR
        shed = max(0.0, 1.0 - limit / per_pod) if per_pod > 0 else 0.0
        # pods serving the same profile serve the same: each profile is worked out once, for
        # all its pods (10,000 pods of one revision: one profile, not 10,000)
        serving: dict[Any, float] = {}  # profile -> share of the requests its pods serve
        for pod in ready:
            profile = self._traffic_for(deployment, pod)
            share = shares.get(pod["metadata"]["name"], 0.0) if shares else 1.0 / len(ready)
            serving[profile] = serving.get(profile, 0.0) + share
        mix: dict[str, float] = {}
        for profile, pods in serving.items():
            endpoints = profile.endpoints
            total_share = sum(max(0.0, ep.share) for ep in endpoints) or 1.0
            for endpoint in endpoints:
                share = max(0.0, endpoint.share) / total_share
                mix[endpoint.path] = mix.get(endpoint.path, 0.0) + share * pods
                requests = rate * share * pods
                served = requests * (1.0 - shed)
                failed = served * min(1.0, max(0.0, endpoint.error_ratio))
                factor = max(0.0, endpoint.latency_factor) * load
                flow = flows.setdefault(endpoint.path, _Flow())
                flow.codes["200"] += served - failed
                flow.codes["500"] += failed
                flow.codes["503"] += requests - served
                flow.observe(served, baseline.median * factor)
                flow.observe(requests - served, OUTAGE_MEDIAN)
                flow.served += served
                flow.weighted_factor += served * factor
        state.shares = mix
        return flows

    def _memory(self, state: _Deployment, pods: list[Obj], now: float) -> None:
        """Working set and limit of every running container; stopped ones have no sample."""
        seen: set[tuple[str, str]] = set()
        for pod in pods:
            running = running_containers(pod)
            if not running:
                continue
            meta = pod["metadata"]
            node = pod.get("spec", {}).get("nodeName", "")
            working_set = self._memory_for(pod, now)
            for container in pod.get("spec", {}).get("containers") or ():
                name = container.get("name", "")
                if name not in running:
                    continue
                key = (meta["name"], name)
                seen.add(key)
                indices = state.containers.get(key)
                if indices is None:
                    labels = (("namespace", state.key[0]), ("pod", meta["name"]),
                              ("container", name), ("image", container.get("image", "")),
                              ("node", node))
                    indices = (self._series(WORKING_SET, labels),
                               self._series(MEMORY_LIMIT, labels))
                    state.containers[key] = indices
                limit = limit_bytes(container)
                self._values[indices[0]] = float(round(working_set))
                self._values[indices[1]] = float(limit or 0.0)
        for key in [k for k in state.containers if k not in seen]:
            for index in state.containers.pop(key):
                self._values[index] = math.nan

    def _apply(self, path: _Path, flow: _Flow, dt: float) -> None:
        """Add one tick's worth of a flow (per second) to the counters, in whole requests."""
        if dt <= 0:
            return
        for code, per_second in flow.codes.items():
            self._add(path.codes[code], per_second * dt)
        for i, per_second in enumerate(flow.buckets):
            path.carry[i] += per_second * dt
            whole = math.floor(path.carry[i])
            path.counts[i] += whole
            path.carry[i] -= whole
        path.total += flow.latency_sum * dt
        cumulative = 0
        for i, index in enumerate(path.buckets):
            cumulative += path.counts[i]
            self._values[index] = float(cumulative)
        self._values[path.count_index] = float(cumulative)
        self._values[path.sum_index] = path.total

    def _add(self, index: int, amount: float) -> None:
        self._carry[index] += amount
        whole = math.floor(self._carry[index])
        self._values[index] += whole
        self._carry[index] -= whole

    # ---- series bookkeeping --------------------------------------------------------------
    def _register(self, name: str, key: DeploymentKey, extra: LabelPairs) -> int:
        return self._series(name, (("namespace", key[0]), ("deployment", key[1])) + extra)

    def _series(self, name: str, pairs: LabelPairs) -> int:
        labels = tuple(sorted(pairs))
        series = (name, labels)
        index = self._index.get(series)
        if index is None:
            index = len(self._keys)
            self._keys.append(series)
            self._index[series] = index
            self._values.append(0.0)
            self._carry.append(0.0)
        else:  # a deployment created again starts from zero, like a restarted process
            self._values[index] = 0.0
            self._carry[index] = 0.0
        return index

    def _path(self, state: _Deployment, path: str) -> _Path:
        found = state.paths.get(path)
        if found is not None:
            return found
        key = state.key
        labels = (("path", path),)
        les = [format_le(b) for b in BUCKETS] + ["+Inf"]
        found = _Path(
            codes={code: self._register(REQUESTS, key, labels + (("code", code),))
                   for code in CODES},
            buckets=[self._register(DURATION + "_bucket", key, labels + (("le", le),))
                     for le in les],
            sum_index=self._register(DURATION + "_sum", key, labels),
            count_index=self._register(DURATION + "_count", key, labels),
            counts=[0] * len(les),
            carry=[0.0] * len(les),
        )
        state.paths[path] = found
        for code, index in found.codes.items():
            self._stacks.requests(key[0], key[1], path, code, index)
        self._stacks.histogram(key[0], key[1], path, list(zip(les, found.buckets, strict=True)),
                               found.sum_index, found.count_index)
        return found

    def _retire(self, key: DeploymentKey) -> None:
        """A deleted deployment's series stop (NaN marks "no sample")."""
        state = self._deployments.pop(key)
        indices = [state.ready_index]
        for pair in state.containers.values():
            indices += pair
        for path in state.paths.values():
            indices += [*path.codes.values(), *path.buckets, path.sum_index, path.count_index]
        for index in indices:
            self._values[index] = math.nan
        self._current.pop(key, None)

    def _record(self, now: float) -> None:
        self._times.append(now)
        self._rows.append(array("d", self._values))
        while len(self._times) > 2 and self._times[0] < now - self.retention:
            self._times.popleft()
            self._rows.popleft()

    # ---- exposition ----------------------------------------------------------------------
    def exposition(self) -> str:
        """Current values in the Prometheus text exposition format 0.0.4."""
        with self._lock:
            states = [self._deployments[k] for k in sorted(self._deployments)]
            lines = [
                f"# HELP {REQUESTS} HTTP requests served, by endpoint path and status code.",
                f"# TYPE {REQUESTS} counter",
            ]
            for state in states:
                for path in sorted(state.paths):
                    lines += [self._line(i) for i in state.paths[path].codes.values()]
            lines += [
                f"# HELP {DURATION} HTTP request latency in seconds, by endpoint path.",
                f"# TYPE {DURATION} histogram",
            ]
            for state in states:
                for path in sorted(state.paths):
                    entry = state.paths[path]
                    lines += [self._line(index) for index in entry.buckets]
                    lines += [self._line(entry.sum_index), self._line(entry.count_index)]
            lines += [
                f"# HELP {READY_PODS} Ready pods behind each deployment in the drill cluster.",
                f"# TYPE {READY_PODS} gauge",
            ]
            lines += [self._line(state.ready_index) for state in states]
            self._stacks.update_mirrors(self._values)
            self._stacks.update_state(self._store, self._values)
            lines += self._stacks.exposition(self._line, self._values)
            for name, what in ((WORKING_SET, "Current working set of the container in bytes."),
                               (MEMORY_LIMIT, "Memory limit for the container in bytes.")):
                lines += [f"# HELP {name} {what}", f"# TYPE {name} gauge"]
                which = 0 if name == WORKING_SET else 1
                for state in states:
                    lines += [self._line(state.containers[k][which])
                              for k in sorted(state.containers)]
            return "\n".join(lines) + "\n"

    def _line(self, index: int) -> str:
        prefix = self._prefixes.get(index)
        if prefix is None:  # a series' labels never change: written once
            name, labels = self._keys[index]
            order = {"namespace": 0, "deployment": 1, "pod": 1, "container": 2, "path": 2,
                     "code": 3, "le": 4}
            pairs = sorted(labels, key=lambda kv: (order.get(kv[0], 9), kv[0]))
            text = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in pairs)
            prefix = self._prefixes[index] = f"{name}{{{text}}} "
        return prefix + format_sample(self._values[index])


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_le(bound: float) -> str:
    """Bucket bound as Prometheus client libraries write it: 0.005, 1, 2.5, +Inf."""
    if math.isinf(bound):
        return "+Inf"
    return f"{bound:g}" if bound != int(bound) else str(int(bound))


def format_sample(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
