"""Fault injection for the drill cluster, switchable at run time.

Faults are about the network and the API server, not about the scenario, so they last REAL
seconds (`time.monotonic`) whatever the drill clock's speed. Each fault has a name and
parameters (`FAULTS`, drill/fault_specs.py); injecting a fault that is already active replaces it.

Switches: `Faults.inject(name, params)`, `Faults.clear(name=None)`, `Faults.describe()`; over
HTTP `POST /drill/v1/faults {"fault": "latency", "seconds": 2}` and `GET /drill/v1/faults`
(see drill/admin_api.py); on the command line `warroom drill-server --fault
NAME[:k=v,...]` and `warroom drill inject NAME [k=v ...]`.

`before_request(request)` is called by the server's faults middleware for every request
except admin paths (`/drill/...`) and health checks, before authentication (a server that is
down does not authenticate anybody). Kubernetes API faults (latency, errors, api-down,
revoke-token, forbid, watch-gone, conflicts) leave the Prometheus query API
(`[/prometheus]/api/v1/query[_range]`) and `/metrics` alone; prom-slow and prom-down affect
only the Prometheus query API.

api-down closes each request's TCP connection without an answer: SO_LINGER 0, then the
transport is aborted, so the client sees "connection reset by peer" (kubectl: "Unable to
connect to the server" / "connection reset"). aiohttp then cancels the handler. Only if the
transport cannot be reached (it is always reachable in aiohttp's TCP server) is the request
answered 503 ServiceUnavailable instead. Watches open when api-down starts are dropped.

Counters (`Faults.counters`) count what was injected — requests delayed, errors answered by
code, connections reset, watches dropped, 410s, 401s, 403s, 409s, Prometheus queries slowed or
refused — and `Faults.injections` how often each fault was switched on; both only grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import socket
import struct
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import api_faults
from .errors import ApiError, conflict, expired
from .fault_specs import (  # noqa: F401 - FAULT_NAMES, parse_spec: read from here too
    FAULT_NAMES,
    FAULTS,
    FaultSpec,
    Param,
    parse_params,
    parse_spec,
)
from .list_limits import ListLimits

if TYPE_CHECKING:
    from .access import Access
    from .store import Store
    from .traffic import Traffic

JSON = "application/json"
PROM_PATHS = ("/api/v1/query", "/api/v1/query_range",
              "/prometheus/api/v1/query", "/prometheus/api/v1/query_range")
UNFAULTED_PATHS = ("/metrics",)
CANCEL_GRACE = 2.0  # seconds to wait for aiohttp to cancel a handler whose connection we reset


@dataclass
class FaultState:
    """One active fault: its parameters and when it ends (monotonic seconds, or never)."""

    name: str
    params: dict[str, Any]
    started: float
    expires: float | None = None
    remaining: int | None = None  # counted faults (conflicts, watch-gone)
    hits: int = 0
    undo: Callable[[], None] | None = None
    next_at: float | None = None  # periodic faults (drop-watches every N)

    def expired(self, now: float) -> bool:
        return (self.expires is not None and now >= self.expires) or self.remaining == 0


class Faults:
    """The faults active on one drill cluster, and counters of what they injected."""

    def __init__(self, store: Store, access: Access, traffic: Traffic, seed: int = 7,
                 clock: Callable[[], float] = time.monotonic,
                 limits: ListLimits | None = None) -> None:
        self.store = store
        self.limits = limits or ListLimits()
        self.access = access
        self.traffic = traffic
        self._now = clock
        self._random = random.Random(seed)
        self._active: dict[str, FaultState] = {}
        self.counters: Counter[str] = Counter()
        self.injections: Counter[str] = Counter()
        self.added_latency = 0.0  # total seconds of latency injected

    # ---- switching -----------------------------------------------------------------------
    def inject(self, name: str, raw: dict[str, Any] | None = None) -> dict[str, Any]:
        """Switch a fault on (replacing the same fault if active); returns what was done."""
        if name == "clear":
            which = (raw or {}).get("name")
            return {"cleared": self.clear(which)}
        params = parse_params(name, dict(raw or {}))
        self.clear(name)
        now = self._now()
        state = FaultState(name, params, now)
        if params.get("duration") is not None:
            state.expires = now + params["duration"]
        result: dict[str, Any] = {"fault": name, "params": self._public(params)}
        getattr(self, "_start_" + name.replace("-", "_"))(state, result)
        self.injections[name] += 1
        if FAULTS[name].lasting and state.name in self._active:
            result["state"] = self._describe_one(state, now)
        return result

    def clear(self, name: str | None = None) -> list[str]:
        """Switch off one fault, or all; undoes token/RBAC/Prometheus changes."""
        if name is not None and name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; faults: {', '.join(FAULTS)}")
        names = [name] if name is not None else list(self._active)
        cleared = []
        for key in names:
            state = self._active.pop(key, None)
            if state is None:
                continue
            if state.undo is not None:
                state.undo()
            cleared.append(key)
        return cleared

    def expire(self) -> None:
        """Clear faults whose time is up; run periodic ones (called on every server tick)."""
        now = self._now()
        for state in list(self._active.values()):
            if state.expired(now):
                self.clear(state.name)
            elif state.next_at is not None and now >= state.next_at:
                state.hits += self._drop_watches()
                state.next_at = now + state.params["every"]

    def active(self, name: str) -> FaultState | None:
        state = self._active.get(name)
        if state is not None and state.expired(self._now()):
            self.clear(name)
            return None
        return state

    def describe(self) -> dict[str, Any]:
        """Active faults (with parameters, hits and time left) and the counters."""
        self.expire()
        now = self._now()
        return {
            "active": [self._describe_one(state, now) for state in self._active.values()],
            "counters": dict(sorted(self.counters.items())),
            "injections": dict(sorted(self.injections.items())),
            "addedLatencySeconds": round(self.added_latency, 3),
        }

    def _describe_one(self, state: FaultState, now: float) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "fault": state.name, "params": self._public(state.params),
            "activeForSeconds": round(now - state.started, 3),
            "expiresInSeconds": None if state.expires is None
            else round(max(0.0, state.expires - now), 3),
            "hits": state.hits,
        }
        if state.remaining is not None:
            entry["remaining"] = state.remaining
        return entry

    def _public(self, params: dict[str, Any]) -> dict[str, Any]:
        """Parameters as JSON, with tokens redacted."""
        shown: dict[str, Any] = {}
        for key, value in params.items():
            if value is None:
                continue
            if key == "token":
                value = _redact(value, self.access.admin_token)
            elif isinstance(value, tuple):
                value = list(value)
            shown[key] = value
        return shown

    # ---- starting each fault -------------------------------------------------------------
    def _activate(self, state: FaultState) -> None:
        self._active[state.name] = state

    def _start_latency(self, state: FaultState, result: dict[str, Any]) -> None:
        self._activate(state)

    def _start_errors(self, state: FaultState, result: dict[str, Any]) -> None:
        self._activate(state)

    def _start_drop_watches(self, state: FaultState, result: dict[str, Any]) -> None:
        if state.params["every"] is not None and state.params["every"] <= 0:
            raise ValueError("parameter every must be > 0")
        dropped = self._drop_watches()
        result["dropped"] = dropped
        if state.params["every"] is not None:
            state.hits = dropped
            state.next_at = state.started + state.params["every"]
            self._activate(state)

    def _start_api_down(self, state: FaultState, result: dict[str, Any]) -> None:
        state.expires = state.started + state.params["seconds"]
        self._activate(state)
        result["dropped"] = self._drop_watches()

    def _start_watch_gone(self, state: FaultState, result: dict[str, Any]) -> None:
        self.store.compact()
        dropped = self._drop_watches() if state.params["drop"] else 0
        count = state.params["count"]
        state.remaining = max(1, dropped) if count is None else count
        result["dropped"] = dropped
        self._activate(state)

    def _start_revoke_token(self, state: FaultState, result: dict[str, Any]) -> None:
        state.params["token"] = state.params["token"] or self.access.admin_token
        if self.access.principal(f"Bearer {state.params['token']}") is None:
            raise ValueError("parameter token: no such token on this drill cluster")
        self._activate(state)

    def _start_forbid(self, state: FaultState, result: dict[str, Any]) -> None:
        token = state.params["token"] = state.params["token"] or self.access.admin_token
        principal = self.access.principal(f"Bearer {token}")
        if principal is None:
            raise ValueError("parameter token: no such token on this drill cluster")
        added = [(verb, state.params["resource"]) for verb in state.params["verb"]
                 if (verb, state.params["resource"]) not in principal.denied]
        principal.denied.update(added)

        def undo() -> None:
            principal.denied.difference_update(added)

        state.undo = undo
        self._activate(state)

    def _start_conflicts(self, state: FaultState, result: dict[str, Any]) -> None:
        state.remaining = state.params["count"]
        self._activate(state)

    def _start_counted(self, state: FaultState, result: dict[str, Any]) -> None:
        state.remaining = state.params["count"]
        self._activate(state)

    _start_throttle = _start_deny = _start_bad_gateway = _start_counted

    def _start_expire_continue(self, state: FaultState, result: dict[str, Any]) -> None:
        before = self.limits.continue_ttl
        self.limits.continue_ttl = state.params["ttl"]

        def undo() -> None:
            self.limits.continue_ttl = before

        state.undo = undo
        self._activate(state)

    def _hit(self, state: FaultState, counter: str) -> None:
        state.hits += 1
        if state.remaining is not None:
            state.remaining -= 1
        self.counters[counter] += 1

    def _start_prom_slow(self, state: FaultState, result: dict[str, Any]) -> None:
        self.traffic.set_query_delay(state.params["seconds"])
        state.undo = lambda: self.traffic.set_query_delay(0.0)
        self._activate(state)

    def _start_prom_down(self, state: FaultState, result: dict[str, Any]) -> None:
        self.traffic.set_down(True)
        state.undo = lambda: self.traffic.set_down(False)
        self._activate(state)

    def _drop_watches(self) -> int:
        count = len(getattr(self.store, "_watches", ()))
        self.store.close_watches()
        if count:
            self.counters["drop-watches.watches"] += count
        return count

    # ---- per request ---------------------------------------------------------------------
    async def before_request(self, request: web.Request) -> web.StreamResponse | None:
        """Apply request-level faults; a response returned here is sent instead of the API's."""
        self.expire()
        path = request.path
        if path.startswith("/drill/") or path in UNFAULTED_PATHS:
            return None
        if path in PROM_PATHS:
            for name in ("prom-down", "prom-slow"):
                state = self.active(name)
                if state is not None:
                    state.hits += 1
                    self.counters[name] += 1
                    break
            return None

        state = self.active("api-down")
        if state is not None:
            return await self._reset_connection(request, state)

        state = self.active("bad-gateway")  # the proxy answers before the API server sees it
        if state is not None and self._random.random() < state.params["share"]:
            self._hit(state, "bad-gateway")
            return api_faults.bad_gateway()

        state = self.active("latency")
        if state is not None:
            delay = state.params["seconds"] + self._random.uniform(0, state.params["jitter"])
            state.hits += 1
            self.counters["latency"] += 1
            self.added_latency += delay
            await asyncio.sleep(delay)

        state = self.active("errors")
        if state is not None and self._random.random() < state.params["share"]:
            state.hits += 1
            code = self._random.choice(state.params["code"])
            self.counters["errors"] += 1
            self.counters[f"errors.{code}"] += 1
            return _error_response(code, state.params["retry_after"])

        authorization = request.headers.get("Authorization", "")
        state = self.active("revoke-token")
        if state is not None and authorization == f"Bearer {state.params['token']}":
            state.hits += 1
            self.counters["revoke-token"] += 1
            return _status_response(ApiError(401, "Unauthorized"))

        principal = self.access.principal(authorization)
        if principal is None:
            return None  # the auth middleware answers 401
        verb, resource = _verb_and_resource(request)

        state = self.active("throttle")  # APF: after authentication, before authorization
        if state is not None and (verb in state.params["verb"] or "*" in state.params["verb"]):
            self._hit(state, "throttle")
            return api_faults.throttled(state.params["retry_after"])

        state = self.active("forbid")
        if (state is not None and verb is not None
                and authorization == f"Bearer {state.params['token']}"
                and not (principal.allowed(verb, resource)
                         and principal.allowed(verb, resource.split("/")[0]))
                and (verb in state.params["verb"] or "*" in state.params["verb"])):
            state.hits += 1  # the API's own RBAC check answers 403
            self.counters["forbid"] += 1

        state = self.active("watch-gone")
        if state is not None and verb == "watch" and _resumes(request):
            state.hits += 1
            if state.remaining is not None:
                state.remaining -= 1
            self.counters["watch-gone"] += 1
            rv = request.query.get("resourceVersion", "")
            line = json.dumps({"type": "ERROR", "object": expired(
                rv, self.store.oldest_rv() + 1).status()}, separators=(",", ":"))
            return web.Response(body=line.encode() + b"\n", status=200, content_type=JSON)

        info = request.match_info
        state = self.active("deny")  # admission: after RBAC allowed the write
        if (state is not None and verb in state.params["verb"]
                and api_faults.resource_matches(state.params["resource"], resource)
                and principal.allowed(verb, resource)
                and principal.allowed(verb, resource.split("/")[0])):
            self._hit(state, "deny")
            return api_faults.admission_denied(state.params["webhook"], state.params["message"],
                                               resource.split("/")[0], info.get("group", ""),
                                               info.get("name", ""))

        state = self.active("conflicts")
        if (state is not None and verb in ("update", "patch")
                and info.get("resource") == "deployments" and info.get("group") == "apps"
                and info.get("sub") in (None, "scale") and principal.allowed(verb, resource)
                and principal.allowed(verb, "deployments")):
            state.hits += 1
            if state.remaining is not None:
                state.remaining -= 1
            self.counters["conflicts"] += 1
            return _status_response(conflict("deployments", "apps", info.get("name", "")))
        return None

    async def _reset_connection(self, request: web.Request,
                                state: FaultState) -> web.StreamResponse:
        state.hits += 1
        transport = request.transport
        if transport is not None and not transport.is_closing():
            self.counters["api-down"] += 1
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):  # linger 0: close sends RST, not FIN
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
            # aiohttp cancels this handler when it notices the connection is gone; if it does
            # not (handler_cancellation off), answer 503 on the dead transport after a grace.
            await asyncio.sleep(CANCEL_GRACE)
        else:
            self.counters["api-down.503"] += 1
        return _error_response(503, max(1, math.ceil(self._left(state))))

    def _left(self, state: FaultState) -> float:
        return 0.0 if state.expires is None else max(0.0, state.expires - self._now())


# ---- helpers ------------------------------------------------------------------------------
def _redact(token: str, admin_token: str) -> str:
    return "<drill admin token>" if token == admin_token else f"{token[:4]}…"


def _status_response(error: ApiError, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=json.dumps(error.status(), separators=(",", ":")).encode(),
                        status=error.code, content_type=JSON, headers=headers)


def _error_response(code: int, retry_after: int) -> web.Response:
    if code == 429:
        error = ApiError(429, "Too many requests, please try again later.",
                         details={"retryAfterSeconds": retry_after})
    elif code == 503:
        error = ApiError(503, "the server is currently unable to handle the request "
                              "(drill fault injection)",
                         details={"retryAfterSeconds": retry_after})
    else:
        error = ApiError(500, "Internal error occurred: drill fault injection",
                         details={"causes": [{"message": "drill fault injection"}]})
    headers = {"Retry-After": str(retry_after)} if code in (429, 503) else None
    return _status_response(error, headers)


def _verb_and_resource(request: web.Request) -> tuple[str | None, str]:
    """The RBAC verb and resource of a resource request (None for discovery and the like)."""
    info = request.match_info
    resource = info.get("resource")
    if resource is None:
        if request.path.endswith("/selfsubjectaccessreviews"):
            return "create", "selfsubjectaccessreviews"
        return None, ""
    sub = info.get("sub")
    if sub:
        resource = f"{resource}/{sub}"
    method = request.method
    if "name" not in info:
        if method == "GET":
            watching = request.query.get("watch", "").lower() in ("true", "1")
            return ("watch" if watching else "list"), resource
        return ("create" if method == "POST" else None), resource
    verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)
    return verb, resource


def _resumes(request: web.Request) -> bool:
    """A watch that resumes from a resourceVersion (not a fresh list-then-watch)."""
    rv = request.query.get("resourceVersion", "")
    initial = request.query.get("sendInitialEvents", "").lower() in ("true", "1")
    return rv not in ("", "0") and not initial

