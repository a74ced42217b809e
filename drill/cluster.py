"""The drill cluster: store, controllers, traffic and a scenario behind one HTTP server.

`DrillCluster` runs inside an asyncio loop (`warroom drill-server`); `DrillThread` runs one in
a background thread so the console (and tests) can use it in-process.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import json
import os
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from . import promql
from .access import Access
from .clock import DrillClock, rfc3339
from .control_plane import ControlPlane
from .controllers import apply_deployment_defaults
from .errors import ApiError
from .events import EventRecorder
from .faults import Faults
from .scenarios import ScenarioActionError, get_scenario
from .seed import seed_workload
from .server import CLUSTER_KEY, PRINCIPAL, build_app, dump
from .service import add_service_routes
from .tls import make_serving_cert
from .traffic import Traffic

TICK_SECONDS = 0.05
WARMUP_SECONDS = 3600.0
WARMUP_STEP = 30.0


class DrillCluster:
    def __init__(
        self,
        scenario: str = "none",
        speed: float | None = None,
        seed: int = 7,
        start: datetime | None = None,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the drill cluster binds to loopback only, not {host}")
        self.scenario = get_scenario(scenario, seed=seed)
        # the cluster has been running for an hour before the incident starts, so baselines
        # ("p99 30 minutes ago") and sparklines have history from the first frame
        begin = (start or datetime.now(UTC)) - timedelta(seconds=WARMUP_SECONDS)
        self.clock = DrillClock(self.scenario.default_speed if speed is None else speed, begin)
        from .store import Store

        self.store = Store(self.clock, seed=seed)
        self.events = EventRecorder(self.store, self.clock)
        self.control = ControlPlane(self.store, self.clock, self.events, self.scenario.pod_profile)
        self.traffic = Traffic(self.store, self.clock, self.scenario.traffic_profile)
        self.access = Access(token)
        self.host = host
        self.port = port
        self.faults = Faults(self.store, self.access, self.traffic, seed=seed)
        self.tls = make_serving_cert(host)
        ca_dir = Path(tempfile.mkdtemp(prefix="warroom-drill-"))
        self.ca_path = ca_dir / "ca.crt"
        self.ca_path.write_bytes(self.tls.ca_pem)
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        seed_workload(self.store, self.control, self.clock.now())
        self.tick()
        for _ in range(int(WARMUP_SECONDS // WARMUP_STEP)):
            self.clock.advance(WARMUP_STEP)
            self.tick()
        self.incident_started = self.clock.now()
        self.scenario.attach(self)
        self.scenario.setup(self.store, self.clock)

    # ---- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def token(self) -> str:
        return self.access.admin_token

    async def start(self) -> None:
        self._runner = web.AppRunner(build_app(self), handler_cancellation=True,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True,
                           ssl_context=self.tls.server_context())
        await site.start()
        server = site._server
        if server is not None and getattr(server, "sockets", None):
            self.port = server.sockets[0].getsockname()[1]
        self._ticker = asyncio.create_task(self._tick_forever())

    async def stop(self) -> None:
        if self._ticker:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        self.store.close_watches()
        if self._runner:
            await self._runner.cleanup()

    def tick(self) -> None:
        self.control.tick()
        self.traffic.tick()
        self.scenario.tick(self.store, self.clock)

    async def _tick_forever(self) -> None:
        while True:
            self.tick()
            self.faults.expire()  # faults run on real time, not drill time
            await asyncio.sleep(TICK_SECONDS)

    # ---- hooks used by the server --------------------------------------------------------
    def prepare_deployment(self, body: dict[str, Any]) -> None:
        apply_deployment_defaults(body)

    async def prometheus_api(self, params: dict[str, str], ranged: bool) -> web.Response:
        delay = getattr(self.traffic, "query_delay", 0.0) or 0.0
        if getattr(self.traffic, "down", False):
            return dump({"status": "error", "errorType": "unavailable",
                         "error": "prometheus is down (drill fault)"}, 503)
        if delay:
            await asyncio.sleep(delay)
        expr = params.get("query")
        if not expr:
            return dump({"status": "error", "errorType": "bad_data",
                         "error": "parameter 'query' is required"}, 400)
        try:
            if ranged:
                data = promql.query_range(self.traffic, expr, _time(params, "start"),
                                          _time(params, "end"), _step(params.get("step")))
            else:
                at = _time(params, "time") if params.get("time") else None
                data = promql.query(self.traffic, expr, at)
        except promql.PromQLError as exc:
            return dump({"status": "error", "errorType": "bad_data", "error": str(exc)}, 400)
        except ValueError as exc:
            return dump({"status": "error", "errorType": "bad_data", "error": str(exc)}, 400)
        return dump({"status": "success", "data": data})

    # ---- facilitator / test controls -----------------------------------------------------
    def add_admin_routes(self, app: web.Application) -> None:
        add_service_routes(app, self)
        app.router.add_get("/drill/v1/status", _admin(self._status))
        app.router.add_post("/drill/v1/clock", _admin(self._clock_control))
        app.router.add_post("/drill/v1/tokens", _admin(self._token_control))
        app.router.add_post("/drill/v1/scenario/action", _admin(self._scenario_action))
        app.router.add_get("/drill/v1/faults", _admin(self._faults_status))
        app.router.add_post("/drill/v1/faults", _admin(self._fault_control))

    async def _status(self, request: web.Request) -> web.Response:
        return dump(self.status())

    def status(self) -> dict[str, Any]:
        state = self.scenario.status(self.store, self.traffic)
        return {
            "scenario": self.scenario.name,
            "resolved": state.resolved,
            "reason": state.reason,
            "mitigated": state.mitigated,
            "clean": state.clean,
            "resolution": state.resolution,
            "followups": list(state.followups),
            "steps": list(state.steps),
            "unsafe": list(state.unsafe),
            "details": self.scenario.details(self.store),
            "drillTime": self.clock.stamp(),
            "elapsedDrillSeconds": round(self.clock.elapsed(), 3),
            "incidentStart": rfc3339(self.incident_started),
            "speed": self.clock.speed,
            "paused": self.clock.paused,
            "resourceVersion": str(self.store.rv),
        }

    async def _scenario_action(self, request: web.Request) -> web.Response:
        """`{"action": NAME}`: a step of the scenario's recovery the drill simulates (e.g.
        `backup-current`); 400 for an action the scenario does not know, 409 if not now."""
        body = await request.json()
        action = body.get("action") if isinstance(body, dict) else None
        if not isinstance(action, str):
            raise ApiError(400, 'bad drill control request: expected {"action": NAME}')
        try:
            report = self.scenario.act(action, self.store)
        except ScenarioActionError as exc:
            raise ApiError(exc.code, exc.message) from exc
        return dump({**report.to_dict(), "status": self.status()})

    async def _clock_control(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "speed" in body:
            self.clock.set_speed(float(body["speed"]))
        if body.get("pause"):
            self.clock.pause()
        if body.get("resume"):
            self.clock.resume()
        if body.get("advance"):
            self.clock.advance(float(body["advance"]))
            self.tick()
        return dump(self.status())

    async def _token_control(self, request: web.Request) -> web.Response:
        body = await request.json()
        token, action = body.get("token", ""), body.get("action", "add")
        if action == "add":
            denied = {tuple(pair) for pair in body.get("denied", [])}
            self.access.add_token(token, body.get("user", "drill-user"), denied)  # type: ignore[arg-type]
        elif action == "revoke":
            self.access.revoke(token)
        elif action == "deny":
            self.access.deny(token, body["verb"], body["resource"])
        elif action == "allow-all":
            self.access.allow_all(token)
        else:
            raise ApiError(400, f"unknown token action {action!r}")
        return dump({"ok": True})

    async def _faults_status(self, request: web.Request) -> web.Response:
        return dump(self.faults.describe())

    async def _fault_control(self, request: web.Request) -> web.Response:
        """`{"fault": NAME, ...params}` switches a fault on; `{"fault": "clear"[, "name": N]}`."""
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("fault"), str):
            raise ApiError(400, 'bad drill control request: expected {"fault": NAME, ...}')
        params = {k: v for k, v in body.items() if k != "fault"}
        result = self.faults.inject(body["fault"], params)
        return dump({"applied": result, **self.faults.describe()})

    # ---- kubeconfig ----------------------------------------------------------------------
    def kubeconfig(self, context: str = "drill", namespace: str = "shop",
                   token: str | None = None) -> dict[str, Any]:
        return {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": context, "cluster": {
                "server": self.url,
                "certificate-authority-data": base64.b64encode(self.tls.ca_pem).decode()}}],
            "users": [{"name": f"{context}-admin", "user": {"token": token or self.token}}],
            "contexts": [{"name": context, "context": {"cluster": context, "namespace": namespace,
                                                       "user": f"{context}-admin"}}],
            "current-context": context,
        }

    def write_kubeconfig(self, path: str | Path, **kwargs: Any) -> Path:
        """Write the kubeconfig atomically with mode 0600 (it holds the token)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "w") as handle:
                yaml.safe_dump(self.kubeconfig(**kwargs), handle, sort_keys=False)
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return target


def _admin(handler: Any) -> Any:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        principal = request[PRINCIPAL]
        cluster = request.app[CLUSTER_KEY]
        if principal is not cluster.access.principal(f"Bearer {cluster.access.admin_token}"):
            raise ApiError(403, "drill controls need the drill admin token")
        try:
            return await handler(request)
        except (ValueError, KeyError, json.JSONDecodeError) as exc:
            raise ApiError(400, f"bad drill control request: {exc}") from exc

    return wrapped


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


class DrillThread:
    """A drill cluster on its own event loop in a daemon thread."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.cluster: DrillCluster | None = None
        self._thread = threading.Thread(target=self._run, name="drill-cluster", daemon=True)

    def start(self, timeout: float = 30.0) -> DrillCluster:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the drill cluster did not start in time")
        if self._error is not None:
            raise self._error
        assert self.cluster is not None
        return self.cluster

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self.cluster = DrillCluster(**self._kwargs)
            self._loop.run_until_complete(self.cluster.start())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    def call(self, fn: Any, *args: Any) -> Any:
        """Run `fn(*args)` on the cluster's loop and return its result (thread-safe)."""

        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    def stop(self) -> None:
        if self.cluster is None or not self._loop.is_running():
            return
        asyncio.run_coroutine_threadsafe(self.cluster.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
