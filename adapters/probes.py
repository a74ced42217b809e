"""HTTP verification probes: "is the service healthy again?" after a rollback or restart.

A ``Check`` describes one request and what a healthy answer looks like; ``Prober`` runs checks
(concurrently for ``run_all``) and turns every outcome, network failures included, into a
``ProbeResult`` whose ``message`` says in plain words why a check failed. Probes never raise for
anything the network or the server does. Header values are treated as secrets and never appear
in a message.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import ssl
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt, wait_fixed

from adapters.errors import Invalid
from adapters.http_limits import MAX_BODY_BYTES, BodyTooLarge, aread_body, buffered
from adapters.redact import redact


class _Exists:
    """Sentinel for ``Check.json_equals``: the path only has to exist."""

    _instance: _Exists | None = None

    def __new__(cls) -> _Exists:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "EXISTS"


EXISTS: Final = _Exists()
"""Default of ``Check.json_equals``: the JSON path must resolve, to any value."""

_PATH_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+)\]")
_PATH_SHAPE = re.compile(r"(?:[^.\[\]]+|\[-?\d+\])(?:\.[^.\[\]]+|\[-?\d+\])*")
_SHOWN_CHARS = 60

ExpectStatus = int | Sequence[int]


def parse_json_path(path: str) -> list[str | int]:
    """Split ``data.items[0].status`` into ``["data", "items", 0, "status"]``.

    Raises ``Invalid`` when the path is malformed.
    """
    if not _PATH_SHAPE.fullmatch(path):
        raise Invalid(
            f"JSON path {path!r} is malformed; use dotted keys with [index], "
            "like data.items[0].status."
        )
    steps: list[str | int] = []
    for match in _PATH_TOKEN.finditer(path):
        key, index = match.groups()
        steps.append(int(index) if index is not None else key)
    return steps


def json_path_get(document: Any, path: str) -> Any:
    """Return the value at ``path`` in a decoded JSON document.

    Raises ``LookupError`` with a human message saying where the path stopped matching.
    """
    value = document
    walked = ""
    for step in parse_json_path(path):
        if isinstance(step, int):
            if not isinstance(value, list):
                raise LookupError(f"{walked or 'the body'} is not a list")
            if not -len(value) <= step < len(value):
                raise LookupError(
                    f"{walked or 'the body'} has {len(value)} item(s), no index {step}"
                )
            value = value[step]
            walked += f"[{step}]"
        else:
            if not isinstance(value, dict):
                raise LookupError(f"{walked or 'the body'} is not an object")
            if step not in value:
                raise LookupError(f"{walked or 'the body'} has no key {step!r}")
            value = value[step]
            walked += f".{step}" if walked else step
    return value


def _describe_status(expect: ExpectStatus) -> str:
    if isinstance(expect, int):
        return str(expect)
    if isinstance(expect, range) and expect.step == 1 and len(expect) > 1:
        return f"{expect.start}-{expect.stop - 1}"
    codes = list(expect)
    if len(codes) == 1:
        return str(codes[0])
    return "one of " + ", ".join(str(code) for code in codes)


def _show(value: Any) -> str:
    text = json.dumps(value, default=repr, ensure_ascii=False)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


@dataclass(frozen=True)
class Check:
    """One HTTP request and the conditions a healthy response meets.

    ``expect_status`` is a code or a collection of codes (``range(200, 300)`` works).
    ``json_path`` uses dotted keys and ``[index]`` (negative indexes count from the end); with
    the default ``json_equals=EXISTS`` the path only has to resolve. ``latency_budget_ms`` fails
    a response that arrived too slowly. ``retries`` are extra attempts after a failure, spaced
    ``retry_delay_s`` apart; ``timeout_s`` bounds each attempt from connect to last byte, and a
    body larger than ``max_body_bytes`` fails the check unread.
    """

    name: str
    url: str
    method: str = "GET"
    expect_status: ExpectStatus = 200
    body_contains: str | None = None
    json_path: str | None = None
    json_equals: Any = EXISTS
    latency_budget_ms: float | None = None
    retries: int = 0
    retry_delay_s: float = 0.5
    timeout_s: float = 5.0
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    max_body_bytes: int = MAX_BODY_BYTES
    workload: str | None = None  # the deployment this check verifies (None: any)

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise Invalid(f"Check {self.name!r}: retries must be 0 or more, not {self.retries}.")
        if self.retry_delay_s < 0:
            raise Invalid(f"Check {self.name!r}: retry_delay_s must not be negative.")
        if self.timeout_s <= 0:
            raise Invalid(f"Check {self.name!r}: timeout_s must be more than 0.")
        if self.latency_budget_ms is not None and self.latency_budget_ms <= 0:
            raise Invalid(f"Check {self.name!r}: latency_budget_ms must be more than 0.")
        if not isinstance(self.expect_status, int) and not list(self.expect_status):
            raise Invalid(f"Check {self.name!r}: expect_status lists no status codes.")
        if self.json_path is not None:
            parse_json_path(self.json_path)

    def status_ok(self, status: int) -> bool:
        """True if ``status`` is one this check accepts."""
        if isinstance(self.expect_status, int):
            return status == self.expect_status
        return status in self.expect_status

    def secrets(self) -> list[str]:
        """Strings that must never appear in a message: header values and their credentials."""
        found: list[str] = []
        for value in self.headers.values():
            found.append(value)
            _, _, credential = value.partition(" ")
            if credential.strip():
                found.append(credential.strip())
        return [secret for secret in found if len(secret) >= 4]


@dataclass(frozen=True)
class ProbeResult:
    """Outcome of a check: ``message`` says why it failed, or what healthy looked like."""

    name: str
    ok: bool
    status: int | None
    latency_ms: float
    attempts: int
    message: str


class Prober:
    """Runs ``Check``s over HTTP.

    Pass an ``httpx.AsyncClient`` to share connection pools or TLS settings; otherwise each
    ``run`` / ``run_all`` call opens (and closes) its own client with ``verify``.
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        verify: bool | ssl.SSLContext = True,
    ) -> None:
        self._client = client
        self._verify = verify

    async def run(self, check: Check) -> ProbeResult:
        """Run one check, retrying failures ``check.retries`` times; never raises for I/O."""
        if self._client is not None:
            return await self._run_with_retries(self._client, check)
        async with httpx.AsyncClient(verify=self._verify) as client:
            return await self._run_with_retries(client, check)

    async def run_all(self, checks: Iterable[Check]) -> list[ProbeResult]:
        """Run checks concurrently; results come back in the order the checks were given."""
        checks = list(checks)
        if not checks:
            return []
        if self._client is not None:
            return await self._gather(self._client, checks)
        async with httpx.AsyncClient(verify=self._verify) as client:
            return await self._gather(client, checks)

    async def _gather(self, client: httpx.AsyncClient, checks: list[Check]) -> list[ProbeResult]:
        return list(
            await asyncio.gather(*(self._run_with_retries(client, check) for check in checks))
        )

    async def _run_with_retries(self, client: httpx.AsyncClient, check: Check) -> ProbeResult:
        attempts = 0

        async def attempt() -> ProbeResult:
            nonlocal attempts
            attempts += 1
            return await _attempt(client, check, attempts)

        def last_result(state: RetryCallState) -> ProbeResult:
            assert state.outcome is not None
            result: ProbeResult = state.outcome.result()
            return result

        retrying = AsyncRetrying(
            stop=stop_after_attempt(check.retries + 1),
            wait=wait_fixed(check.retry_delay_s),
            retry=retry_if_result(lambda result: not result.ok),
            retry_error_callback=last_result,
        )
        result: ProbeResult = await retrying(attempt)
        return result


async def _attempt(client: httpx.AsyncClient, check: Check, attempt: int) -> ProbeResult:
    started = time.perf_counter()
    finished: float | None = None

    def result(ok: bool, status: int | None, message: str) -> ProbeResult:
        end = finished if finished is not None else time.perf_counter()
        return ProbeResult(
            name=check.name,
            ok=ok,
            status=status,
            latency_ms=(end - started) * 1000,
            attempts=attempt,
            message=redact(message, check.secrets()),
        )

    try:
        # The whole exchange, body included, within timeout_s; the body at most max_body_bytes.
        async with asyncio.timeout(check.timeout_s):
            async with client.stream(
                check.method,
                check.url,
                headers=dict(check.headers),
                timeout=check.timeout_s,
            ) as streamed:
                response = buffered(streamed, await aread_body(streamed, check.max_body_bytes))
    except (TimeoutError, httpx.TimeoutException):
        return result(False, None, f"timed out after {check.timeout_s:g} s")
    except BodyTooLarge as exc:
        return result(False, None, f"{exc}; stopped reading")
    except httpx.InvalidURL as exc:
        return result(False, None, f"invalid URL: {exc}")
    except httpx.HTTPError as exc:
        return result(False, None, _describe_transport_error(exc))
    finished = time.perf_counter()
    latency_ms = (finished - started) * 1000

    status = response.status_code
    if not check.status_ok(status):
        return result(
            False, status, f"expected status {_describe_status(check.expect_status)}, got {status}"
        )
    if check.body_contains is not None and check.body_contains not in response.text:
        return result(False, status, f"body does not contain {check.body_contains!r}")
    if check.json_path is not None:
        failure = _json_failure(response, check.json_path, check.json_equals)
        if failure is not None:
            return result(False, status, failure)
    budget = check.latency_budget_ms
    if budget is not None and latency_ms > budget:
        return result(False, status, f"took {latency_ms:.0f} ms, budget {budget:g} ms")
    return result(True, status, f"status {status} in {latency_ms:.0f} ms")


def _json_failure(response: httpx.Response, path: str, expected: Any) -> str | None:
    try:
        document = response.json()
    except ValueError:
        return "body is not JSON"
    try:
        actual = json_path_get(document, path)
    except LookupError as exc:
        return f"JSON path {path} not found: {exc.args[0]}"
    if expected is not EXISTS and actual != expected:
        return f"{path} is {_show(actual)}, expected {_show(expected)}"
    return None


def _describe_transport_error(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"invalid URL: {text}"
    # httpx wraps the socket error (sometimes twice); the root cause says what happened.
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by the server"
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve host {_host(exc)}"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate rejected: {cause.verify_message or cause}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed: {cause}"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {text}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"server broke the HTTP exchange: {text}"
    if isinstance(exc, httpx.NetworkError):
        return f"network error: {text}"
    return f"request failed: {text}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _host(exc: httpx.HTTPError) -> str:
    try:
        return exc.request.url.host
    except RuntimeError:  # no request attached
        return "(unknown)"


__all__ = [
    "EXISTS",
    "Check",
    "ExpectStatus",
    "ProbeResult",
    "Prober",
    "json_path_get",
    "parse_json_path",
]
