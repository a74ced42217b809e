"""The drill's Prometheus-style query API (`/api/v1/query`, `/api/v1/query_range`) over HTTP.

Answers as Prometheus does (`{"status": "success", "data": ...}` or an error with its type),
from the drill's traffic series through drill/promql.py; honours the traffic's drill faults
(`down`, `query_delay`).
"""

from __future__ import annotations

import asyncio
import functools
import json
from datetime import datetime
from typing import Any

from aiohttp import web

from . import promql
from .traffic import Traffic


def _dump(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(body, separators=(",", ":")).encode(), status=status,
                        content_type="application/json")


async def answer(traffic: Traffic, params: dict[str, str], ranged: bool) -> web.Response:
    """The response to one query (`ranged`: a range query) with these parameters."""
    delay = getattr(traffic, "query_delay", 0.0) or 0.0
    if getattr(traffic, "down", False):
        return _dump({"status": "error", "errorType": "unavailable",
                      "error": "prometheus is down (drill fault)"}, 503)
    if delay:
        await asyncio.sleep(delay)
    expr = params.get("query")
    if not expr:
        return _dump({"status": "error", "errorType": "bad_data",
                      "error": "parameter 'query' is required"}, 400)
    try:
        # evaluated off the drill's loop, as a real Prometheus is its own server: a query
        # over 50,000 pods' series takes seconds and must not hold the API server meanwhile
        # (the series are read as a snapshot, under the traffic's lock)
        if ranged:
            work = functools.partial(promql.query_range, traffic, expr, _time(params, "start"),
                                     _time(params, "end"), _step(params.get("step")))
        else:
            at = _time(params, "time") if params.get("time") else None
            work = functools.partial(promql.query, traffic, expr, at)
        traffic.queries_running += 1  # what a benchmark waits out before timing kubectl
        try:
            data = await asyncio.to_thread(work)
        finally:
            traffic.queries_running -= 1
    except promql.PromQLError as exc:
        return _dump({"status": "error", "errorType": "bad_data", "error": str(exc)}, 400)
    except ValueError as exc:
        return _dump({"status": "error", "errorType": "bad_data", "error": str(exc)}, 400)
    return _dump({"status": "success", "data": data})


def _time(params: dict[str, str], key: str) -> float:
    value = params.get(key)
    if value is None:
        raise ValueError(f"parameter '{key}' is required")
    try:
        return float(value)
    except ValueError:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _step(value: str | None) -> float:
    if not value:
        raise ValueError("parameter 'step' is required")
    try:
        return float(value)
    except ValueError:
        return promql.parse_duration(value)
