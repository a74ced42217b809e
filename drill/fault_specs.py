"""The drill's faults by name: what each does and its parameters, and their parsing.

Kept apart from the fault engine (drill/faults.py, which needs aiohttp) so the command line
can list, check and explain faults (`warroom drill inject --help`, `--fault NAME[:k=v,...]`)
without loading the drill server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

ERROR_CODES = (429, 500, 503)
VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "*")


@dataclass(frozen=True)
class Param:
    kind: str  # float | share | count | bool | codes | verbs | str
    default: Any
    help: str


@dataclass(frozen=True)
class FaultSpec:
    name: str
    summary: str
    params: dict[str, Param]
    lasting: bool = True  # False: one-shot, never listed as active


_DURATION = Param("float", None, "clear the fault by itself after this many real seconds")
FAULTS: dict[str, FaultSpec] = {spec.name: spec for spec in (
    FaultSpec("latency", "add latency to every Kubernetes API request", {
        "seconds": Param("float", 1.0, "added latency per request"),
        "jitter": Param("float", 0.0, "plus a random 0..jitter seconds"),
        "duration": _DURATION}),
    FaultSpec("errors", "answer a share of API requests with 500/503/429 (503 and 429 carry "
                        "Retry-After)", {
        "share": Param("share", 0.5, "share of requests that fail, 0..1"),
        "code": Param("codes", (503,), "status code, or several to pick from: 500/503/429"),
        "retry_after": Param("count", 1, "Retry-After seconds on 503 and 429"),
        "duration": _DURATION}),
    FaultSpec("drop-watches", "end every open watch stream (clients must resume)", {
        "every": Param("float", None, "repeat every N seconds (default: once, now)"),
        "duration": _DURATION}),
    FaultSpec("api-down", "API server down: every request's connection is reset, no answer", {
        "seconds": Param("float", 10.0, "how long the API server stays down")}),
    FaultSpec("watch-gone", "history compacted: resuming a watch gets 410 Expired", {
        "count": Param("count", None, "how many watch resumes get 410 for sure "
                                       "(default: one per dropped watch, at least 1)"),
        "drop": Param("bool", True, "also drop open watches so clients resume now"),
        "duration": _DURATION}),
    FaultSpec("revoke-token", "a bearer token is revoked: its requests get 401", {
        "token": Param("str", None, "the token (default: the drill admin token; admin "
                                    "endpoints keep working)"),
        "duration": _DURATION}),
    FaultSpec("forbid", "RBAC denies a verb to a token: 403 (and `auth can-i` says no)", {
        "verb": Param("verbs", ("patch",), "verb(s) denied, e.g. patch or patch/update"),
        "resource": Param("str", "deployments", "resource, e.g. deployments, pods, "
                                                "deployments/scale or *"),
        "token": Param("str", None, "the token (default: the drill admin token)"),
        "duration": _DURATION}),
    FaultSpec("conflicts", "the next writes (PUT/PATCH) on deployments get 409 Conflict", {
        "count": Param("count", 1, "how many writes conflict"),
        "duration": _DURATION}),
    FaultSpec("throttle", "API Priority and Fairness rejects requests: 429 with Retry-After, "
                          "plain text as kube-apiserver sends it", {
        "count": Param("count", None, "how many requests are rejected (default: all while on)"),
        "verb": Param("verbs", ("*",), "only these verbs, e.g. patch or patch/update"),
        "retry_after": Param("count", 1, "Retry-After seconds"),
        "duration": _DURATION}),
    FaultSpec("deny", "an admission webhook denies writes: 403 with its message "
                      "(RBAC allows them; `auth can-i` says yes)", {
        "webhook": Param("str", "validation.gatekeeper.sh", "the webhook's name"),
        "message": Param("str", "[prod-freeze] changes to production are frozen during the "
                                "incident", "the webhook's message"),
        "verb": Param("verbs", ("create", "update", "patch", "delete"), "verbs denied"),
        "resource": Param("str", "deployments", "resource (with its subresources) or *"),
        "count": Param("count", None, "how many requests are denied (default: all while on)"),
        "duration": _DURATION}),
    FaultSpec("bad-gateway", "a proxy in front of the API answers 502 with an HTML page", {
        "share": Param("share", 1.0, "share of requests answered so, 0..1"),
        "count": Param("count", None, "how many requests (default: all while on)"),
        "duration": _DURATION}),
    FaultSpec("expire-continue", "paged lists' continue tokens expire after ttl seconds "
                                 "(410 Expired with a fresh token)", {
        "ttl": Param("float", 0.0, "token lifetime in real seconds (a real server: 5-10 min)"),
        "duration": _DURATION}),
    FaultSpec("prom-slow", "Prometheus queries answer late", {
        "seconds": Param("float", 5.0, "delay per query"),
        "duration": _DURATION}),
    FaultSpec("prom-down", "Prometheus query API answers 503", {
        "duration": _DURATION}),
)}
FAULT_NAMES = (*FAULTS, "clear")


def parse_params(name: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate and convert parameters (strings from the CLI, JSON values over HTTP)."""
    spec = FAULTS.get(name)
    if spec is None:
        raise ValueError(f"unknown fault {name!r}; faults: {', '.join(FAULT_NAMES)}")
    unknown = sorted(set(raw) - set(spec.params))
    if unknown:
        allowed = ", ".join(spec.params) or "none"
        raise ValueError(f"fault {name} has no parameter {', '.join(unknown)} "
                         f"(parameters: {allowed})")
    params: dict[str, Any] = {}
    for key, param in spec.params.items():
        value = raw.get(key)
        params[key] = param.default if value is None else _convert(key, param.kind, value)
    return params


def _convert(key: str, kind: str, value: Any) -> Any:
    try:
        if kind in ("float", "share"):
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not math.isfinite(number) or number < 0 or (kind == "share" and number > 1):
                raise ValueError
            return number
        if kind == "count":
            if isinstance(value, bool) or float(value) != int(float(value)) or int(float(value)) < 0:
                raise ValueError
            return int(float(value))
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).lower()
            if text in ("true", "1", "yes", "on"):
                return True
            if text in ("false", "0", "no", "off"):
                return False
            raise ValueError
        if kind == "codes":
            items = value if isinstance(value, list) else str(value).split("/")
            codes = tuple(int(item) for item in items)
            if not codes or any(code not in ERROR_CODES for code in codes):
                raise ValueError
            return codes
        if kind == "verbs":
            items = value if isinstance(value, list) else str(value).split("/")
            verbs = tuple(str(item).strip().lower() for item in items)
            if not verbs or any(verb not in VERBS for verb in verbs):
                raise ValueError
            return verbs
        if not isinstance(value, str) or not value:
            raise ValueError
        return value
    except (TypeError, ValueError):
        hint = {"float": "a number >= 0", "share": "a number between 0 and 1",
                "count": "a whole number >= 0", "bool": "true or false",
                "codes": f"one or more of {'/'.join(map(str, ERROR_CODES))}",
                "verbs": f"one or more of {'/'.join(VERBS)}",
                "str": "a non-empty string"}[kind]
        raise ValueError(f"parameter {key}={value!r}: expected {hint}") from None


def parse_spec(text: str) -> tuple[str, dict[str, str]]:
    """`NAME[:k=v,k=v]` (the `--fault` syntax) -> (name, raw params)."""
    name, _, rest = text.partition(":")
    name = name.strip()
    params: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"expected k=v in {text!r}, got {item!r}")
        params[key.strip()] = value.strip()
    if name not in FAULT_NAMES:
        raise ValueError(f"unknown fault {name!r}; faults: {', '.join(FAULT_NAMES)}")
    return name, params
