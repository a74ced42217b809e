"""Prometheus HTTP API adapter: request rate, error ratio and latency per deployment.

The console asks one question many times a minute: "how is each deployment doing, and how
does that compare with before?" ``MetricsClient`` answers it from any server that speaks the
Prometheus HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics, the drill cluster) with a few
instant queries, and turns the answers into ``RateSample``s. A value that cannot be known (no
series, no traffic, NaN) is ``None``, never ``0``: an empty panel must not read as "healthy".

The PromQL lives in ``QueryTemplates`` so each cluster can use its own metric and label names.
Templates are plain text with placeholders:

``{selector}``
    a whole label selector, e.g. ``{namespace="shop",deployment="api"}`` (empty when the
    query is not narrowed), written straight after a metric name.
``{matchers}``
    the same matchers without braces, for selectors that add matchers of their own:
    ``http_requests_total{code=~"5..",{matchers}}`` (a comma next to an empty ``{matchers}``
    is dropped).
``{window}``
    the rate window, e.g. ``1m``.
``{offset}``
    only in ``baseline_p99``: the baseline offset, e.g. ``30m``.

Every failure is an ``AdapterError`` from ``adapters.errors`` with a ``message`` for people;
credentials never appear in a message. The API is synchronous and thread-safe: the console
calls it from worker threads.
"""

from __future__ import annotations

import difflib
import math
import re
import ssl
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx

from adapters.errors import (
    AdapterError,
    Forbidden,
    Invalid,
    NotFound,
    Timeout,
    Unauthorized,
    Unreachable,
)
from adapters.redact import redact

DeploymentKey = tuple[str, str]
"""``(namespace, deployment)``."""

Point = tuple[float, float]
"""``(unix timestamp in seconds, value)``."""

DEFAULT_REQUEST_RATE = (
    "sum by (namespace, deployment) (rate(http_requests_total{selector}[{window}]))"
)
# 5xx over all requests. The `or ... * 0` arm gives a deployment that served traffic but never
# a 5xx (so has no 5xx series at all) a ratio of 0 instead of no value.
DEFAULT_ERROR_RATIO = (
    '(sum by (namespace, deployment) (rate(http_requests_total{code=~"5..",{matchers}}[{window}]))'
    " or sum by (namespace, deployment) (rate(http_requests_total{selector}[{window}])) * 0)"
    " / sum by (namespace, deployment) (rate(http_requests_total{selector}[{window}]))"
)
DEFAULT_P95 = (
    "histogram_quantile(0.95, sum by (namespace, deployment, le) "
    "(rate(http_request_duration_seconds_bucket{selector}[{window}])))"
)
DEFAULT_P99 = (
    "histogram_quantile(0.99, sum by (namespace, deployment, le) "
    "(rate(http_request_duration_seconds_bucket{selector}[{window}])))"
)

_PLACEHOLDER = re.compile(r"\{(selector|matchers|window|offset)\}")
_BARE_WORD_IN_BRACES = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DURATION = re.compile(r"(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?")
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_POINTS = 11_000  # Prometheus refuses range queries with more points per series


# ---- configuration -----------------------------------------------------------------------
def _check_duration(name: str, value: object, where: str = "metrics config") -> None:
    if not isinstance(value, str) or not value or not _DURATION.fullmatch(value):
        raise Invalid(
            f"{where}: {name} must be a Prometheus duration such as 1m, 90s or 1h30m, "
            f"not {value!r}."
        )
    if not any(ch.isdigit() and ch != "0" for ch in value):
        raise Invalid(f"{where}: {name} must be longer than zero, not {value!r}.")


@dataclass(frozen=True)
class QueryTemplates:
    """PromQL for each figure, with ``{selector}``/``{matchers}``/``{window}`` placeholders.

    Each query must return one series per deployment, labelled with the configured namespace
    and deployment labels. ``baseline_p99`` (with ``{offset}``) is optional: by default it is
    ``p99`` with ``offset {offset}`` after every ``[{window}]`` range.
    """

    request_rate: str = DEFAULT_REQUEST_RATE
    error_ratio: str = DEFAULT_ERROR_RATIO
    p95: str = DEFAULT_P95
    p99: str = DEFAULT_P99
    baseline_p99: str | None = None

    def __post_init__(self) -> None:
        for name in ("request_rate", "error_ratio", "p95", "p99", "baseline_p99"):
            template = getattr(self, name)
            if template is None and name == "baseline_p99":
                continue
            _check_template(name, template, allow_offset=name == "baseline_p99")
        if self.baseline_p99 is None and "[{window}]" not in self.p99:
            raise Invalid(
                "metrics config: queries.p99 has no [{window}] range to shift back in time for "
                "the baseline; set queries.baseline_p99 with an {offset} placeholder."
            )
        if self.baseline_p99 is not None and "{offset}" not in self.baseline_p99:
            raise Invalid("metrics config: queries.baseline_p99 must use the {offset} placeholder.")

    def baseline(self) -> str:
        """The template for the p99 a ``baseline_offset`` ago."""
        if self.baseline_p99 is not None:
            return self.baseline_p99
        return self.p99.replace("[{window}]", "[{window}] offset {offset}")


def _check_template(name: str, template: object, *, allow_offset: bool) -> None:
    if not isinstance(template, str) or not template.strip():
        raise Invalid(f"metrics config: queries.{name} must be a non-empty PromQL string.")
    if "{selector}" not in template and "{matchers}" not in template:
        raise Invalid(
            f"metrics config: queries.{name} uses neither {{selector}} nor {{matchers}}, "
            "so it cannot be narrowed to a namespace or deployment."
        )
    known = {"selector", "matchers", "window"} | ({"offset"} if allow_offset else set())
    for match in _BARE_WORD_IN_BRACES.finditer(template):
        word = match.group(1)
        if word not in known:
            hint = _did_you_mean(word, known)
            raise Invalid(
                f"metrics config: queries.{name} has an unknown placeholder {{{word}}}{hint}; "
                f"known placeholders: {', '.join('{' + k + '}' for k in sorted(known))}."
            )


@dataclass(frozen=True)
class MetricsConfig:
    """Where Prometheus is, how to authenticate, and which PromQL to run.

    ``verify_tls`` is ``True`` (system CAs), ``False`` (no verification) or the path of a CA
    bundle. ``window`` is the rate window; ``baseline_offset`` how far back the automatic
    latency baseline looks. ``namespace_label``/``deployment_label`` are the labels the queries
    group by. Credentials are left out of ``repr``.
    """

    base_url: str
    bearer_token: str | None = field(default=None, repr=False)
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    verify_tls: bool | str = True
    timeout_s: float = 5.0
    window: str = "1m"
    baseline_offset: str = "30m"
    namespace_label: str = "namespace"
    deployment_label: str = "deployment"
    queries: QueryTemplates = field(default_factory=QueryTemplates)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url) if isinstance(self.base_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise Invalid(
                "metrics config: base_url must be an http:// or https:// URL such as "
                f"http://prometheus:9090, not {_shown_url(str(self.base_url))!r}."
            )
        if self.bearer_token is not None and self.basic_auth is not None:
            raise Invalid("metrics config: use either bearer_token or basic_auth, not both.")
        if self.bearer_token is not None and not (
            isinstance(self.bearer_token, str) and self.bearer_token.strip()
        ):
            raise Invalid("metrics config: bearer_token is empty.")
        if self.basic_auth is not None and (
            len(self.basic_auth) != 2 or not all(isinstance(p, str) for p in self.basic_auth)
        ):
            raise Invalid("metrics config: basic_auth must be a (username, password) pair.")
        if isinstance(self.verify_tls, str) and not Path(self.verify_tls).is_file():
            raise Invalid(
                f"metrics config: verify_tls names a CA bundle that does not exist: "
                f"{self.verify_tls}."
            )
        if not isinstance(self.verify_tls, bool | str):
            raise Invalid("metrics config: verify_tls must be true, false or a CA bundle path.")
        if (
            isinstance(self.timeout_s, bool)
            or not isinstance(self.timeout_s, int | float)
            or not self.timeout_s > 0
        ):
            raise Invalid(
                f"metrics config: timeout_s must be a number of seconds above 0, "
                f"not {self.timeout_s!r}."
            )
        _check_duration("window", self.window)
        _check_duration("baseline_offset", self.baseline_offset)
        for name in ("namespace_label", "deployment_label"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _LABEL_NAME.fullmatch(value):
                raise Invalid(
                    f"metrics config: {name} must be a Prometheus label name, not {value!r}."
                )
        if not isinstance(self.queries, QueryTemplates):
            raise Invalid("metrics config: queries must be a QueryTemplates.")

    @property
    def shown_url(self) -> str:
        """``base_url`` fit for messages: any user:password in it is dropped."""
        return _shown_url(self.base_url)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> MetricsConfig:
        """Build a config from a parsed config file section, checking every key.

        Keys: ``base_url`` (required), ``bearer_token`` or ``bearer_token_file``,
        ``basic_auth: {username, password | password_file}``, ``verify_tls``, ``timeout_s``,
        ``window``, ``baseline_offset``, ``namespace_label``, ``deployment_label`` and
        ``queries: {request_rate, error_ratio, p95, p99, baseline_p99}``. Raises ``Invalid``
        naming the offending key (and the nearest known key for a typo).
        """
        if not isinstance(data, Mapping):
            raise Invalid(f"metrics config must be a mapping of keys, not {type(data).__name__}.")
        _check_keys("metrics config", data, _TOP_KEYS)
        if "base_url" not in data:
            raise Invalid(
                "metrics config: base_url is required (e.g. base_url: http://prometheus:9090)."
            )
        kwargs: dict[str, Any] = {"base_url": _string("base_url", data["base_url"])}

        if "bearer_token" in data and "bearer_token_file" in data:
            raise Invalid("metrics config: use either bearer_token or bearer_token_file, not both.")
        if "bearer_token" in data:
            kwargs["bearer_token"] = _string("bearer_token", data["bearer_token"])
        if "bearer_token_file" in data:
            kwargs["bearer_token"] = _read_secret_file(
                "bearer_token_file", data["bearer_token_file"]
            )
        if "basic_auth" in data:
            kwargs["basic_auth"] = _basic_auth(data["basic_auth"])

        if "verify_tls" in data:
            verify = data["verify_tls"]
            if not isinstance(verify, bool | str):
                raise Invalid(
                    "metrics config: verify_tls must be true, false or the path of a CA bundle, "
                    f"not {verify!r}."
                )
            kwargs["verify_tls"] = verify
        if "timeout_s" in data:
            timeout = data["timeout_s"]
            if isinstance(timeout, bool) or not isinstance(timeout, int | float):
                raise Invalid(
                    f"metrics config: timeout_s must be a number of seconds, not {timeout!r}."
                )
            kwargs["timeout_s"] = float(timeout)
        for key in ("window", "baseline_offset", "namespace_label", "deployment_label"):
            if key in data:
                kwargs[key] = _string(key, data[key])
        if "queries" in data:
            queries = data["queries"]
            if not isinstance(queries, Mapping):
                raise Invalid("metrics config: queries must be a mapping of query name to PromQL.")
            _check_keys("metrics config: queries", queries, _QUERY_KEYS)
            kwargs["queries"] = QueryTemplates(
                **{key: _string(f"queries.{key}", value) for key, value in queries.items()}
            )
        return cls(**kwargs)


_TOP_KEYS = (
    "base_url",
    "bearer_token",
    "bearer_token_file",
    "basic_auth",
    "verify_tls",
    "timeout_s",
    "window",
    "baseline_offset",
    "namespace_label",
    "deployment_label",
    "queries",
)
_QUERY_KEYS = ("request_rate", "error_ratio", "p95", "p99", "baseline_p99")
_BASIC_KEYS = ("username", "password", "password_file")


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(where: str, data: Mapping[Any, Any], known: tuple[str, ...]) -> None:
    for key in data:
        if key not in known:
            raise Invalid(
                f"{where}: unknown key {key!r}{_did_you_mean(str(key), known)}; "
                f"known keys: {', '.join(known)}."
            )


def _string(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise Invalid(f"metrics config: {key} must be a string, not {type(value).__name__}.")
    return value


def _read_secret_file(key: str, value: object) -> str:
    path = Path(_string(key, value)).expanduser()
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise Invalid(f"metrics config: cannot read {key} {path}: {exc.strerror}.") from exc
    if not secret:
        raise Invalid(f"metrics config: {key} {path} is empty.")
    return secret


def _basic_auth(value: object) -> tuple[str, str]:
    if not isinstance(value, Mapping):
        raise Invalid("metrics config: basic_auth must be a mapping with username and password.")
    _check_keys("metrics config: basic_auth", value, _BASIC_KEYS)
    if "username" not in value:
        raise Invalid("metrics config: basic_auth needs a username.")
    if ("password" in value) == ("password_file" in value):
        raise Invalid("metrics config: basic_auth needs exactly one of password or password_file.")
    username = _string("basic_auth.username", value["username"])
    if "password" in value:
        password = _string("basic_auth.password", value["password"])
    else:
        password = _read_secret_file("basic_auth.password_file", value["password_file"])
    return username, password


def _shown_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")


# ---- results -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    """One series' value at one instant (``at``: unix seconds of the evaluation)."""

    labels: dict[str, str]
    value: float
    at: float | None = None


@dataclass(frozen=True)
class Series:
    """One series over a range: ``points`` are ``(unix seconds, value)`` in time order."""

    labels: dict[str, str]
    points: list[Point]


@dataclass(frozen=True)
class RateSample:
    """How one deployment is doing. Any figure is ``None`` when it is not known.

    ``error_ratio`` is 5xx / all requests (0..1); ``p95_s``/``p99_s`` are latencies in seconds;
    ``baseline_p99_s`` is the pinned baseline when one is pinned, else p99 ``baseline_offset``
    ago; ``latency_ratio`` is ``p99_s / baseline_p99_s`` (the handbook's "N x slower").
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


@dataclass(frozen=True)
class History:
    """Error ratio and p99 of one deployment on a common time grid, for sparklines.

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


def _known(value: float | None) -> float | None:
    """NaN means "no answer" in PromQL; map it to None. Infinities are real answers."""
    if value is None or math.isnan(value):
        return None
    return value


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _timestamp(value: float | datetime) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise Invalid("Give query times as timezone-aware datetimes or unix seconds.")
        return value.timestamp()
    return float(value)


def _format_ts(value: float | datetime) -> str:
    return f"{_timestamp(value):.3f}"


def _format_step(step: float | str) -> str:
    if isinstance(step, str):
        _check_duration("step", step, where="range query")
        return step
    if not step > 0:
        raise Invalid(f"The query step must be more than 0 seconds, not {step!r}.")
    return str(float(step))


def _escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(
    template: str,
    matchers: Iterable[str],
    window: str,
    offset: str | None = None,
) -> str:
    """Fill a query template's placeholders (see the module docstring)."""
    inner = ",".join(matchers)
    text = template
    if not inner:
        text = text.replace(",{matchers}", "").replace("{matchers},", "")
    values = {
        "selector": "{" + inner + "}" if inner else "",
        "matchers": inner,
        "window": window,
        "offset": offset if offset is not None else "{offset}",
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


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
        self._api = config.base_url.rstrip("/") + "/api/v1"
        self._lock = threading.Lock()
        self._pinned: dict[DeploymentKey, float] | None = None
        headers = {"Accept": "application/json"}
        if config.bearer_token is not None:
            headers["Authorization"] = f"Bearer {config.bearer_token.strip()}"
        verify: bool | ssl.SSLContext = (
            config.verify_tls
            if isinstance(config.verify_tls, bool)
            else _ca_context(config.verify_tls)
        )
        self._http = httpx.Client(
            headers=headers,
            auth=httpx.BasicAuth(*config.basic_auth) if config.basic_auth else None,
            verify=verify,
            timeout=config.timeout_s,
            transport=transport,
        )

    @property
    def config(self) -> MetricsConfig:
        """The configuration this client was built with."""
        return self._config

    def close(self) -> None:
        """Release pooled connections."""
        self._http.close()

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
    def instant(self, expr: str, at: float | datetime | None = None) -> list[Sample]:
        """Evaluate ``expr`` at ``at`` (default: the server's now); one ``Sample`` per series.

        A scalar result comes back as one sample without labels.
        """
        params = {"query": expr}
        if at is not None:
            params["time"] = _format_ts(at)
        data = self._call("query", params, expr)
        kind, result = data.get("resultType"), data.get("result")
        if kind == "vector" and isinstance(result, list):
            return [
                self._sample(item) for item in result if isinstance(item, dict) and "value" in item
            ]
        if kind == "scalar" and isinstance(result, list):
            ts, value = self._point(result)
            return [Sample({}, value, ts)]
        if kind == "matrix":
            raise Invalid(
                f"The query returned a range vector; use a range query or wrap it in a function "
                f"such as rate(): {expr}"
            )
        raise self._malformed(f"an instant query answered with result type {kind!r}")

    def range(
        self,
        expr: str,
        start: float | datetime,
        end: float | datetime,
        step: float | str,
    ) -> list[Series]:
        """Evaluate ``expr`` from ``start`` to ``end`` every ``step`` (seconds or ``"15s"``)."""
        if _timestamp(end) < _timestamp(start):
            raise Invalid("The range query ends before it starts.")
        step_text = _format_step(step)
        params = {
            "query": expr,
            "start": _format_ts(start),
            "end": _format_ts(end),
            "step": step_text,
        }
        data = self._call("query_range", params, expr)
        kind, result = data.get("resultType"), data.get("result")
        if kind != "matrix" or not isinstance(result, list):
            raise self._malformed(f"a range query answered with result type {kind!r}")
        series: list[Series] = []
        for item in result:
            if not isinstance(item, dict):
                continue
            points = [self._point(p) for p in item.get("values") or []]
            series.append(Series(self._labels(item), points))
        return series

    def server_time(self) -> float:
        """The server's clock (unix seconds): the drill cluster's runs at drill speed."""
        samples = self.instant("time()")
        if not samples or samples[0].at is None:
            raise self._malformed("time() returned no value")
        return samples[0].at

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
        ``p99`` or ``baseline_p99``), e.g. to show it or to use it in a runbook gate."""
        queries = self._config.queries
        templates = {
            "request_rate": queries.request_rate,
            "error_ratio": queries.error_ratio,
            "p95": queries.p95,
            "p99": queries.p99,
            "baseline_p99": queries.baseline(),
        }
        if kind not in templates:
            raise Invalid(f"Unknown query {kind!r}; known: {', '.join(templates)}.")
        return render(
            templates[kind],
            self.matchers(namespace, deployment),
            self._config.window,
            self._config.baseline_offset,
        )

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
        when: float | None = None if at is None else _timestamp(at)
        figures: dict[str, dict[DeploymentKey, float]] = {}
        for kind in ("request_rate", "error_ratio", "p95", "p99"):
            samples = self.instant(self.expression(kind, namespace, deployment), when)
            if when is None:
                when = next((s.at for s in samples if s.at is not None), None)
            figures[kind] = self._by_deployment(samples)
        keys = set().union(*(figure.keys() for figure in figures.values()))

        pinned = self.pinned_baseline
        baseline: dict[DeploymentKey, float] = dict(pinned or {})
        if any(key not in baseline for key in keys):
            shifted = self._by_deployment(
                self.instant(self.expression("baseline_p99", namespace, deployment), when)
            )
            baseline = shifted | baseline

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
            )
        return rates

    # ---- baseline ------------------------------------------------------------------------
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
        stop = self.server_time() if end is None else _timestamp(end)
        start = stop - span
        times = [start + i * step_s for i in range(int(span // step_s) + 1)]
        columns: dict[str, list[float | None]] = {}
        for kind in ("error_ratio", "p99"):
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

    def _call(self, endpoint: str, params: dict[str, str], expr: str) -> dict[str, Any]:
        where = self._config.shown_url
        try:
            response = self._http.get(f"{self._api}/{endpoint}", params=params)
        except httpx.TimeoutException as exc:
            raise Timeout(
                f"Prometheus at {where} did not answer within {self._config.timeout_s:g} s.",
                self._detail(exc, expr),
            ) from exc
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"Cannot reach Prometheus at {where}: {_transport_reason(exc)}.",
                self._detail(exc, expr),
            ) from exc
        except httpx.InvalidURL as exc:
            raise Invalid(f"Prometheus URL {where} is not usable: {exc}.") from exc
        return self._decode(response, expr)

    def _decode(self, response: httpx.Response, expr: str) -> dict[str, Any]:
        where = self._config.shown_url
        status = response.status_code
        if status == 401:
            raise Unauthorized(
                f"Prometheus at {where} rejected our credentials (HTTP 401); check the metrics "
                "bearer token or basic auth.",
                self._body_detail(response),
            )
        if status == 403:
            raise Forbidden(
                f"Prometheus at {where} refused the query (HTTP 403); the credentials are not "
                "allowed to read these metrics.",
                self._body_detail(response),
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("status") == "error":
            raise _api_error(
                where,
                str(body.get("errorType") or ""),
                str(body.get("error") or "no reason given"),
                expr,
            )
        if status == 404:
            raise NotFound(
                f"No Prometheus API at {where}/api/v1 (HTTP 404); check base_url, including "
                "any path prefix such as /prometheus.",
                self._body_detail(response),
            )
        if status >= 500:
            raise Unreachable(
                f"Prometheus at {where} is unavailable (HTTP {status}).",
                self._body_detail(response),
            )
        if (
            status != 200
            or not isinstance(body, dict)
            or body.get("status") != "success"
            or not isinstance(body.get("data"), dict)
        ):
            raise self._malformed(
                f"HTTP {status} with a body that is not a Prometheus API answer",
                self._body_detail(response),
            )
        data: dict[str, Any] = body["data"]
        return data

    def _malformed(self, what: str, detail: str | None = None) -> AdapterError:
        return AdapterError(
            f"Prometheus at {self._config.shown_url} answered in an unexpected way ({what}); "
            "is base_url a Prometheus HTTP API?",
            detail,
        )

    def _secrets(self) -> list[str]:
        found = [self._config.bearer_token or ""]
        if self._config.basic_auth:
            found.append(self._config.basic_auth[1])
        return [s for s in found if s]

    def _detail(self, exc: BaseException, expr: str) -> str:
        return redact(f"{type(exc).__name__}: {exc}; query: {expr}", self._secrets())

    def _body_detail(self, response: httpx.Response) -> str:
        return redact(f"HTTP {response.status_code}: {response.text[:500]}", self._secrets())

    def _labels(self, item: Mapping[str, Any]) -> dict[str, str]:
        labels = item.get("metric") or {}
        if not isinstance(labels, dict):
            raise self._malformed("a series without a label set")
        return {str(k): str(v) for k, v in labels.items()}

    def _sample(self, item: Mapping[str, Any]) -> Sample:
        ts, value = self._point(item["value"])
        return Sample(self._labels(item), value, ts)

    def _point(self, raw: object) -> Point:
        # Prometheus sends [<unix seconds>, "<value>"], the value as a string so that NaN and
        # +Inf survive JSON; float() reads "NaN", "+Inf" and "-Inf".
        if not isinstance(raw, list | tuple) or len(raw) != 2:
            raise self._malformed(f"a sample that is not [time, value]: {raw!r}")
        try:
            return float(raw[0]), float(raw[1])
        except (TypeError, ValueError) as exc:
            raise self._malformed(f"a sample value that is not a number: {raw!r}") from exc


def _ca_context(ca_file: str) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (ssl.SSLError, OSError) as exc:
        raise Invalid(
            f"metrics config: verify_tls names a file that is not a PEM CA bundle: {ca_file}.",
            str(exc),
        ) from exc


def _latency_ratio(p99: float | None, baseline: float | None) -> float | None:
    if p99 is None or baseline is None or baseline <= 0:
        return None
    return _known(p99 / baseline)


def _api_error(where: str, error_type: str, error: str, expr: str) -> AdapterError:
    """Map a Prometheus ``status: error`` answer onto the adapter exceptions."""
    if error_type in ("timeout", "canceled"):
        return Timeout(f"Prometheus at {where} gave up on the query ({error_type}): {error}", expr)
    if error_type == "unavailable":
        return Unreachable(f"Prometheus at {where} is unavailable: {error}", expr)
    if error_type in ("bad_data", "execution", ""):
        return Invalid(f"Prometheus rejected the query: {error}", expr)
    return AdapterError(f"Prometheus at {where} failed the query ({error_type}): {error}", expr)


def _transport_reason(exc: httpx.HTTPError) -> str:
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate rejected ({cause.verify_message or cause})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed ({cause})"
        cause = cause.__cause__ or cause.__context__
    text = str(exc)
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "host name not found"
    return text or type(exc).__name__


__all__ = [
    "DEFAULT_ERROR_RATIO",
    "DEFAULT_P95",
    "DEFAULT_P99",
    "DEFAULT_REQUEST_RATE",
    "DeploymentKey",
    "History",
    "MetricsClient",
    "MetricsConfig",
    "MetricsSource",
    "QueryTemplates",
    "RateSample",
    "Sample",
    "Series",
    "render",
]
