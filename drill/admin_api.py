"""The drill's own controls over HTTP (`/drill/v1/...`), for the facilitator, tests and console.

`GET /drill/v1/status` (the scenario's state and the drill clock), `POST /drill/v1/clock`
(pause, resume, speed, advance), `POST /drill/v1/tokens`, `POST /drill/v1/scenario/action`,
`GET`/`POST /drill/v1/faults`, and the simulated services (drill/service.py). Every control
needs the drill admin token. The handlers reach the cluster through `DrillControls`, so this
module (like drill/server.py) does not import the cluster.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from .access import Access
from .clock import DrillClock
from .errors import ApiError
from .faults import Faults
from .scenarios import Scenario, ScenarioActionError
from .server import PRINCIPAL, dump
from .service import add_service_routes
from .store import Store
from .traffic import Traffic

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class DrillControls(Protocol):
    """What the controls need of a drill cluster (`DrillCluster` is one)."""

    scenario: Scenario
    store: Store
    clock: DrillClock
    access: Access
    faults: Faults
    traffic: Traffic

    def status(self) -> dict[str, Any]: ...

    def tick(self) -> None: ...


def add_admin_routes(app: web.Application, drill: DrillControls) -> None:
    add_service_routes(app, drill.traffic)

    def admin(handler: Handler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            principal = request[PRINCIPAL]
            if principal is not drill.access.principal(f"Bearer {drill.access.admin_token}"):
                raise ApiError(403, "drill controls need the drill admin token")
            try:
                return await handler(request)
            except (ValueError, KeyError, json.JSONDecodeError) as exc:
                raise ApiError(400, f"bad drill control request: {exc}") from exc

        return wrapped

    async def status(request: web.Request) -> web.Response:
        return dump(drill.status())

    async def scenario_action(request: web.Request) -> web.Response:
        """`{"action": NAME}`: a step of the scenario's recovery the drill simulates (e.g.
        `backup-current`); 400 for an action the scenario does not know, 409 if not now."""
        body = await request.json()
        action = body.get("action") if isinstance(body, dict) else None
        if not isinstance(action, str):
            raise ApiError(400, 'bad drill control request: expected {"action": NAME}')
        try:
            report = drill.scenario.act(action, drill.store)
        except ScenarioActionError as exc:
            raise ApiError(exc.code, exc.message) from exc
        return dump({**report.to_dict(), "status": drill.status()})

    async def clock_control(request: web.Request) -> web.Response:
        body = await request.json()
        clock = drill.clock
        if "speed" in body:
            clock.set_speed(float(body["speed"]))
        if body.get("pause"):
            clock.pause()
        if body.get("resume"):
            clock.resume()
        if body.get("advance"):
            clock.advance(float(body["advance"]))
            drill.tick()
        return dump(drill.status())

    async def token_control(request: web.Request) -> web.Response:
        body = await request.json()
        token, action = body.get("token", ""), body.get("action", "add")
        access = drill.access
        if action == "add":
            denied = {tuple(pair) for pair in body.get("denied", [])}
            access.add_token(token, body.get("user", "drill-user"), denied)  # type: ignore[arg-type]
        elif action == "revoke":
            access.revoke(token)
        elif action == "deny":
            access.deny(token, body["verb"], body["resource"])
        elif action == "allow-all":
            access.allow_all(token)
        else:
            raise ApiError(400, f"unknown token action {action!r}")
        return dump({"ok": True})

    async def faults_status(request: web.Request) -> web.Response:
        return dump(drill.faults.describe())

    async def fault_control(request: web.Request) -> web.Response:
        """`{"fault": NAME, ...params}` switches a fault on; `{"fault": "clear"[, "name": N]}`."""
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("fault"), str):
            raise ApiError(400, 'bad drill control request: expected {"fault": NAME, ...}')
        params = {k: v for k, v in body.items() if k != "fault"}
        result = drill.faults.inject(body["fault"], params)
        return dump({"applied": result, **drill.faults.describe()})

    router = app.router
    router.add_get("/drill/v1/status", admin(status))
    router.add_post("/drill/v1/clock", admin(clock_control))
    router.add_post("/drill/v1/tokens", admin(token_control))
    router.add_post("/drill/v1/scenario/action", admin(scenario_action))
    router.add_get("/drill/v1/faults", admin(faults_status))
    router.add_post("/drill/v1/faults", admin(fault_control))
