"""Prometheus HTTP API adapter: request rate, error ratio and latency per deployment.

The console asks one question many times a minute: "how is each deployment doing, and how
does that compare with before?" ``MetricsClient`` answers it from any server that speaks the
Prometheus HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics, the drill cluster) with a few
instant queries, and turns the answers into ``RateSample``s. A value that cannot be known (no
series, no traffic, NaN) is ``None``, never ``0``: an empty panel must not read as "healthy".

The PromQL lives in ``metrics_queries.QueryTemplates`` (each cluster may use its own metric and
label names), the configuration in ``metrics_config.MetricsConfig`` and the HTTP API in
``prometheus_api.PrometheusAPI``; this module asks the questions and reads the answers.

Every failure is an ``AdapterError`` from ``adapters.errors`` with a ``message`` for people;
credentials never appear in a message. The API is synchronous and thread-safe: the console
calls it from worker threads.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol

import httpx

from .errors import Invalid
from .metric_presets import regex_value, services_of
from .metrics_config import MetricsConfig
from .metrics_queries import render
from .prometheus_api import PrometheusAPI, Sample, Series, unix_seconds

DeploymentKey = tuple[str, str]
"""``(namespace, deployment)``."""

BASELINE_REUSE_S = 60.0  # server seconds a "now" shifted baseline is used again
_MAX_POINTS = 11_000  # Prometheus refuses range queries with more points per series
_SELECTOR = re.compile(r'[A-Za-z_:][A-Za-z0-9_:]*\{(?:[^{}"]|"(?:[^"\\]|\\.)*")*\}')


# ---- results -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RateSample:
    """How one deployment is doing. Any figure is ``None`` when it is not known.

    ``error_ratio`` is 5xx / all requests (0..1); ``p95_s``/``p99_s`` are latencies in seconds;
    ``baseline_p99_s`` is the pinned baseline when one is pinned, else p99 ``baseline_offset``
    ago; ``latency_ratio`` is ``p99_s / baseline_p99_s`` (the handbook's "N x slower");
    ``memory_bytes`` is the deployment's working set (all its containers).
    """

    namespace: str
    deployment: str
    request_rate: float | None
    error_ratio: float | None
    p95_s: float | None
    p99_s: float | None
    baseline_p99_s: float | None
    latency_ratio: float | None
    at: datetime
    memory_bytes: float | None = None  # working set of the deployment's largest container


@dataclass(frozen=True)
class History:
    """Error ratio, p99 and memory of one deployment on a common time grid, for sparklines.

    ``times`` are unix seconds from ``start`` to ``end`` every ``step_s``; the value lists are
    aligned with them and hold ``None`` where nothing is known.
    """

    namespace: str
    deployment: str
    start: datetime
    end: datetime
    step_s: float
    times: list[float]
    error_ratio: list[float | None]
    p99_s: list[float | None]
    memory_bytes: list[float | None] = field(default_factory=list)


class MetricsSource(Protocol):
    """What the console needs from a metrics backend."""

    def deployment_rates(
        self, namespace: str | None = None, deployment: str | None = None
    ) -> dict[DeploymentKey, RateSample]: ...

    def history(
        self, namespace: str, deployment: str, minutes: float = 15, step: float | None = None
    ) -> History: ...

    def pin_baseline(self, namespace: str | None = None) -> dict[DeploymentKey, float]: ...

    def clear_baseline(self) -> None: ...

    def looked_for(self, namespace: str, deployment: str, kind: str = "request_rate") -> str: ...


def _known(value: float | None) -> float | None:
    """NaN means "no answer" in PromQL; map it to None. Infinities are real answers."""
    if value is None or math.isnan(value):
        return None
    return value


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# ---- the client --------------------------------------------------------------------------
class MetricsClient:
    """Runs PromQL against one Prometheus HTTP API and reads per-deployment health.

    Thread-safe; one instance per Prometheus. Pass ``transport`` to route requests elsewhere
    (tests use ``httpx.MockTransport``). Close it (or use ``with``) to release connections.
    """

    def __init__(
        self, config: MetricsConfig, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._config = config
        self._prometheus = PrometheusAPI(config, transport=transport)
        self._lock = threading.Lock()
        self._pinned: dict[DeploymentKey, float] | None = None
        # (scope, server time, p99s) of the last shifted baseline asked for "now"
        self._baseline_kept: tuple[tuple[str | None, str | None], float,
                                   dict[DeploymentKey, float]] | None = None

    @property
    def config(self) -> MetricsConfig:
        """The configuration this client was built with."""
        return self._config

    def close(self) -> None:
        """Release pooled connections."""
        self._prometheus.close()

    def __enter__(self) -> MetricsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- raw queries ---------------------------------------------------------------------
    def instant(self, expr: str, at: float | datetime | None = None, *,
                budget_s: float | None = None) -> list[Sample]:
        """Evaluate ``expr`` at ``at`` (default: the server's now); one ``Sample`` per series.

        A scalar result comes back as one sample without labels. ``budget_s``: at most this
        long (less than the configured timeout), for a caller with a deadline of its own.
        """
        return self._prometheus.instant(expr, at, budget_s=budget_s)

    def range(
        self,
        expr: str,
        start: float | datetime,
        end: float | datetime,
        step: float | str,
    ) -> list[Series]:
        """Evaluate ``expr`` from ``start`` to ``end`` every ``step`` (seconds or ``"15s"``)."""
        return self._prometheus.range(expr, start, end, step)

    def server_time(self) -> float:
        """The server's clock (unix seconds): the drill cluster's runs at drill speed."""
        return self._prometheus.server_time()

    # ---- per deployment ------------------------------------------------------------------
    def matchers(self, namespace: str | None = None, deployment: str | None = None) -> list[str]:
        """The label matchers narrowing a query to a namespace and/or deployment."""
        found: list[str] = []
        if namespace is not None:
            found.append(f'{self._config.namespace_label}="{_escape_label_value(namespace)}"')
        if deployment is not None:
            found.append(f'{self._config.deployment_label}="{_escape_label_value(deployment)}"')
        return found

    def expression(
        self, kind: str, namespace: str | None = None, deployment: str | None = None
    ) -> str:
        """The PromQL the client runs for ``kind`` (``request_rate``, ``error_ratio``, ``p95``,
        ``p99``, ``baseline_p99`` or ``memory``), e.g. to show it or to use it in a runbook
        gate."""
        return render(
            self._template(kind),
            self.matchers(namespace, deployment),
            self._config.window,
            self._config.baseline_offset,
            self._regexes(namespace, deployment),
        )

    def _template(self, kind: str) -> str:
        queries = self._config.queries
        templates = {
            "request_rate": queries.request_rate,
            "error_ratio": queries.error_ratio,
            "p95": queries.p95,
            "p99": queries.p99,
            "baseline_p99": queries.baseline(),
            "memory": queries.memory,
        }
        if kind not in templates:
            raise Invalid(f"Unknown query {kind!r}; known: {', '.join(templates)}.")
        template = templates[kind]
        if template is None:
            raise Invalid(f"No {kind} query is configured.")
        return template

    def _regexes(self, namespace: str | None, deployment: str | None) -> dict[str, str]:
        services = None if deployment is None else services_of(deployment,
                                                                self._config.service_map)
        return {
            "namespace": regex_value(None if namespace is None else [namespace]),
            "deployment": regex_value(None if deployment is None else [deployment]),
            "service": regex_value(services),
        }

    def looked_for(self, namespace: str, deployment: str, kind: str = "request_rate") -> str:
        """The series a query of ``kind`` reads for one deployment, for a "no data" message:
        ``istio_requests_total{reporter="destination",destination_workload_namespace="shop",
        destination_workload="api"}`` (the first selector of the query, names unescaped)."""
        plain = {"namespace": namespace, "deployment": deployment,
                 "service": "|".join(services_of(deployment, self._config.service_map))}
        text = render(self._template(kind), self.matchers(namespace, deployment),
                      self._config.window, self._config.baseline_offset, plain)
        match = _SELECTOR.search(text)
        if match is None:
            return text
        selector = match.group(0)
        for value in plain.values():
            selector = selector.replace(f'=~"{value}"', f'="{value}"')
        return selector

    def deployment_rates(
        self,
        namespace: str | None = None,
        deployment: str | None = None,
        at: float | datetime | None = None,
    ) -> dict[DeploymentKey, RateSample]:
        """Request rate, error ratio, p95/p99 and latency against baseline per deployment.

        Every query is evaluated at the same instant: ``at``, or the server's now as reported
        by the first answer. Deployments appear if any query knows them.
        """
        when: float | None = None if at is None else unix_seconds(at)
        figures: dict[str, dict[DeploymentKey, float]] = {"memory": {}}
        kinds = ["request_rate", "error_ratio", "p95", "p99"]
        if self._config.queries.memory is not None:
            kinds.append("memory")
        for kind in kinds:
            samples = self.instant(self.expression(kind, namespace, deployment), when)
            if when is None:
                when = next((s.at for s in samples if s.at is not None), None)
            figures[kind] = self._by_deployment(samples)
        keys = set().union(*(figure.keys() for figure in figures.values()))

        pinned = self.pinned_baseline
        baseline: dict[DeploymentKey, float] = dict(pinned or {})
        if any(key not in baseline for key in keys):
            baseline = self._shifted_baseline(namespace, deployment, when, at is None,
                                              keys) | baseline

        stamp = _utc(when) if when is not None else datetime.now(UTC)
        rates: dict[DeploymentKey, RateSample] = {}
        for key in sorted(keys):
            p99 = _known(figures["p99"].get(key))
            base = _known(baseline.get(key))
            rates[key] = RateSample(
                namespace=key[0],
                deployment=key[1],
                request_rate=_known(figures["request_rate"].get(key)),
                error_ratio=_known(figures["error_ratio"].get(key)),
                p95_s=_known(figures["p95"].get(key)),
                p99_s=p99,
                baseline_p99_s=base,
                latency_ratio=_latency_ratio(p99, base),
                at=stamp,
                memory_bytes=_known(figures["memory"].get(key)),
            )
        return rates

    # ---- baseline ------------------------------------------------------------------------
    def _shifted_baseline(self, namespace: str | None, deployment: str | None,
                          when: float | None, now: bool,
                          keys: set[DeploymentKey]) -> dict[DeploymentKey, float]:
        """p99 ``baseline_offset`` before ``when``. Asked for the server's now, an answer
        less than ``BASELINE_REUSE_S`` old that knows every deployment is used again: it
        moves as slowly as the hour-old latency it is, and the poll runs every 5 s."""
        scope = (namespace, deployment)
        kept = self._baseline_kept
        if (now and when is not None and kept is not None and kept[0] == scope
                and 0 <= when - kept[1] < BASELINE_REUSE_S and keys <= kept[2].keys()):
            return kept[2]
        shifted = self._by_deployment(
            self.instant(self.expression("baseline_p99", namespace, deployment), when))
        if now and when is not None:
            self._baseline_kept = (scope, when, shifted)
        return shifted

    def pin_baseline(
        self,
        namespace: str | None = None,
        values: Mapping[DeploymentKey, float] | None = None,
    ) -> dict[DeploymentKey, float]:
        """Pin the latency baseline: the current p99s, or ``values`` (e.g. restored from
        incident state). Until ``clear_baseline()``, latency ratios compare with these rather
        than with p99 ``baseline_offset`` ago. Returns what was pinned."""
        if values is None:
            values = self._by_deployment(self.instant(self.expression("p99", namespace)))
        usable = {key: float(v) for key, v in values.items() if math.isfinite(v) and v > 0}
        with self._lock:
            self._pinned = usable
        return dict(usable)

    def clear_baseline(self) -> None:
        """Go back to comparing with p99 ``baseline_offset`` ago."""
        with self._lock:
            self._pinned = None

    @property
    def pinned_baseline(self) -> dict[DeploymentKey, float] | None:
        """A copy of the pinned baseline p99s, or ``None`` when none is pinned."""
        with self._lock:
            return None if self._pinned is None else dict(self._pinned)

    # ---- history -------------------------------------------------------------------------
    def history(
        self,
        namespace: str,
        deployment: str,
        minutes: float = 15,
        step: float | None = None,
        end: float | datetime | None = None,
    ) -> History:
        """Error ratio and p99 over the last ``minutes`` (by the server's clock).

        ``step`` defaults to one point per 1/60 of the span.
        """
        if not minutes > 0:
            raise Invalid(f"History needs a positive number of minutes, not {minutes!r}.")
        span = minutes * 60.0
        step_s = float(step) if step is not None else max(span / 60.0, 1.0)
        if not step_s > 0:
            raise Invalid(f"The history step must be more than 0 seconds, not {step!r}.")
        if span / step_s > _MAX_POINTS:
            raise Invalid(
                f"{minutes:g} minutes every {step_s:g} s is more than {_MAX_POINTS} points; "
                "use a larger step."
            )
        stop = self.server_time() if end is None else unix_seconds(end)
        start = stop - span
        times = [start + i * step_s for i in range(int(span // step_s) + 1)]
        columns: dict[str, list[float | None]] = {}
        columns["memory"] = []
        for kind in ("error_ratio", "p99", "memory"):
            if kind == "memory" and self._config.queries.memory is None:
                continue
            series = self.range(self.expression(kind, namespace, deployment), start, stop, step_s)
            key = (namespace, deployment)
            by_time: dict[float, float] = {}
            for one in series:
                if self._key(one.labels) in (key, None):
                    by_time.update((round(ts, 3), value) for ts, value in one.points)
                    break
            columns[kind] = [_known(by_time.get(round(ts, 3))) for ts in times]
        return History(
            namespace=namespace,
            deployment=deployment,
            start=_utc(start),
            end=_utc(stop),
            step_s=step_s,
            times=times,
            error_ratio=columns["error_ratio"],
            p99_s=columns["p99"],
            memory_bytes=columns["memory"],
        )

    # ---- plumbing ------------------------------------------------------------------------
    def _key(self, labels: Mapping[str, str]) -> DeploymentKey | None:
        namespace = labels.get(self._config.namespace_label)
        deployment = labels.get(self._config.deployment_label)
        if namespace is None or deployment is None:
            return None
        return namespace, deployment

    def _by_deployment(self, samples: Iterable[Sample]) -> dict[DeploymentKey, float]:
        found: dict[DeploymentKey, float] = {}
        for sample in samples:
            key = self._key(sample.labels)
            if key is not None:
                found[key] = sample.value
        return found


def _latency_ratio(p99: float | None, baseline: float | None) -> float | None:
    if p99 is None or baseline is None or baseline <= 0:
        return None
    return _known(p99 / baseline)


__all__ = [
    "DeploymentKey",
    "History",
    "MetricsClient",
    "MetricsSource",
    "RateSample",
]
