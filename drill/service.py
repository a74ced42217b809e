"""The drill's simulated services answer HTTP, so verification steps have something to check.

`GET /drill/v1/svc/{namespace}/{deployment}/{path}` answers like the deployment would right now:
503 when the route is failing for most requests (its current error ratio is 0.5 or more, or the
deployment has no ready pods), else 200 with a small JSON body. Deterministic on purpose: a
verification check should not pass or fail by chance.
"""

from __future__ import annotations

import json

from aiohttp import web

from .traffic import Traffic

FAILING = 0.5


def _route_of(path: str, routes: list[str]) -> str | None:
    """The route template that `path` matches (`/users/42` → `/users/{id}`)."""
    parts = path.strip("/").split("/")
    for route in routes:
        pattern = route.strip("/").split("/")
        if len(pattern) == len(parts) and all(
                p == q or (p.startswith("{") and p.endswith("}")) for p, q in zip(pattern, parts, strict=True)):
            return route
    return None


def service_handler(traffic: Traffic) -> web.RequestHandler:  # type: ignore[name-defined]
    async def handle(request: web.Request) -> web.Response:
        namespace = request.match_info["namespace"]
        deployment = request.match_info["deployment"]
        path = "/" + request.match_info.get("path", "")
        rates = traffic.current().get((namespace, deployment))
        if rates is None:
            return web.Response(status=404, content_type="application/json",
                                text=json.dumps({"error": f"no service {namespace}/{deployment}"}))
        route = _route_of(path, list(rates.path_error_ratio)) or path
        ratio = rates.path_error_ratio.get(route, rates.error_ratio)
        if rates.ready_pods == 0 or ratio >= FAILING:
            body = {"status": "error", "route": route, "error_ratio": round(ratio, 3)}
            return web.Response(status=503, content_type="application/json", text=json.dumps(body))
        body = {"status": "ok", "route": route, "error_ratio": round(ratio, 3)}
        return web.Response(status=200, content_type="application/json", text=json.dumps(body))

    return handle


def add_service_routes(app: web.Application, traffic: Traffic) -> None:
    handler = service_handler(traffic)
    app.router.add_get("/drill/v1/svc/{namespace}/{deployment}", handler)
    app.router.add_get("/drill/v1/svc/{namespace}/{deployment}/{path:.*}", handler)
