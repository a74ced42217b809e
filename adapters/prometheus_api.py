"""The Prometheus HTTP API: instant and range queries, answers checked, failures in words.

``PrometheusAPI`` speaks to any server with that API (Prometheus, Thanos, Mimir,
VictoriaMetrics, the drill cluster) over ``httpx``. Every failure is an ``AdapterError`` with a
``message`` for people; credentials never appear in a message or a detail. Thread-safe.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from .errors import (
    AdapterError,
    Forbidden,
    Invalid,
    NotFound,
    Timeout,
    Unauthorized,
    Unreachable,
)
from .http_limits import (
    MAX_BODY_BYTES,
    BodyTooLarge,
    DeadlinePassed,
    buffered,
    describe_size,
    read_body,
)
from .metrics_config import MetricsConfig
from .metrics_queries import check_duration
from .redact import redact

Point = tuple[float, float]
"""``(unix timestamp in seconds, value)``."""


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


class PrometheusAPI:
    """Queries one Prometheus HTTP API. Pass ``transport`` to route requests elsewhere (tests
    use ``httpx.MockTransport``); ``close`` releases the connections."""

    def __init__(
        self, config: MetricsConfig, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._config = config
        self._api = config.base_url.rstrip("/") + "/api/v1"
        headers = {"Accept": "application/json", **dict(config.headers)}
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

    def close(self) -> None:
        """Release pooled connections."""
        self._http.close()

    # ---- raw queries ---------------------------------------------------------------------
    def instant(self, expr: str, at: float | datetime | None = None, *,
                budget_s: float | None = None) -> list[Sample]:
        """Evaluate ``expr`` at ``at`` (default: the server's now); one ``Sample`` per series.
        ``budget_s`` shortens the timeout (a gate with less time left than that).

        A scalar result comes back as one sample without labels.
        """
        params = {"query": expr}
        if at is not None:
            params["time"] = _format_ts(at)
        data = self._call("query", params, expr, budget_s)
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
        if unix_seconds(end) < unix_seconds(start):
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

    # ---- plumbing ------------------------------------------------------------------------
    def _call(self, endpoint: str, params: dict[str, str], expr: str,
              budget_s: float | None = None) -> dict[str, Any]:
        """One API call, bounded by the configured timeout or the caller's ``budget_s`` (what
        is left of a gate's deadline), whichever is shorter."""
        where = self._config.shown_url
        timeout_s = self._config.timeout_s
        if budget_s is not None:
            timeout_s = max(0.1, min(timeout_s, budget_s))
        # timeout_s bounds the whole exchange, not each read: a server dripping bytes is cut off.
        deadline = time.monotonic() + timeout_s
        try:
            with self._http.stream("GET", f"{self._api}/{endpoint}", params=params,
                                   timeout=timeout_s) as streamed:
                response = buffered(streamed, read_body(streamed, deadline, MAX_BODY_BYTES))
        except DeadlinePassed as exc:
            raise Timeout(
                f"Prometheus at {where} was still sending its answer after {timeout_s:g} s.",
                self._detail(exc, expr),
            ) from exc
        except BodyTooLarge as exc:
            raise AdapterError(
                f"Prometheus at {where} sent an answer larger than "
                f"{describe_size(exc.limit)}; narrow the query.",
                self._detail(exc, expr),
            ) from exc
        except httpx.TimeoutException as exc:
            raise Timeout(
                f"Prometheus at {where} did not answer within {timeout_s:g} s.",
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


def unix_seconds(value: float | datetime) -> float:
    """A query time as unix seconds (a datetime must be timezone-aware)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise Invalid("Give query times as timezone-aware datetimes or unix seconds.")
        return value.timestamp()
    return float(value)


def _format_ts(value: float | datetime) -> str:
    return f"{unix_seconds(value):.3f}"


def _format_step(step: float | str) -> str:
    if isinstance(step, str):
        check_duration("step", step, where="range query")
        return step
    if not step > 0:
        raise Invalid(f"The query step must be more than 0 seconds, not {step!r}.")
    return str(float(step))


def _ca_context(ca_file: str) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (ssl.SSLError, OSError) as exc:
        raise Invalid(
            f"metrics config: verify_tls names a file that is not a PEM CA bundle: {ca_file}.",
            str(exc),
        ) from exc


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


__all__ = ["Point", "PrometheusAPI", "Sample", "Series", "unix_seconds"]
