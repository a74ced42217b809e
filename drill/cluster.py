"""The drill cluster: store, controllers, traffic and a scenario behind one HTTP server.

`DrillCluster` runs inside an asyncio loop (`warroom drill-server`); `DrillThread` runs one in
a background thread so the console (and tests) can use it in-process.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import os
import secrets
import shutil
import tempfile
import threading
import weakref
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from .access import Access
from .admin_api import add_admin_routes
from .argo_analysis import AnalysisController
from .argo_rollouts import RolloutController
from .clock import DrillClock, rfc3339
from .control_plane import ControlPlane
from .controllers import apply_deployment_defaults
from .events import EventRecorder
from .exec_plugin import ExecPlugin
from .exec_plugin import install as install_exec_plugin
from .faults import Faults
from .list_limits import DEFAULT_BOOKMARK_EVERY, DEFAULT_CONTINUE_TTL, ListLimits
from .scenarios import get_scenario
from .seed import seed_workload
from .server import build_app
from .store import Store
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
        anonymous_auth: bool = False,
        clock_skew: float = 0.0,
        continue_ttl: float = DEFAULT_CONTINUE_TTL,
        bookmark_every: float = DEFAULT_BOOKMARK_EVERY,
        argo_crds: bool = True,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the drill cluster binds to loopback only, not {host}")
        self.scenario = get_scenario(scenario, seed=seed)
        # Argo Rollouts' CRDs installed (served); False: a cluster without them
        self.argo_crds = argo_crds
        # the cluster has been running for an hour before the incident starts, so baselines
        # ("p99 30 minutes ago") and sparklines have history from the first frame
        # clock_skew: how far the cluster's clock runs ahead of this machine's (negative:
        # behind), as a bastion's clock drifts from an API server's; its Date headers say so
        self.clock_skew = clock_skew
        begin = (start or datetime.now(UTC)) + timedelta(seconds=clock_skew - WARMUP_SECONDS)
        self.clock = DrillClock(self.scenario.default_speed if speed is None else speed, begin)
        self.scenario.prepare(begin + timedelta(seconds=WARMUP_SECONDS))  # while warming up
        self.store = Store(self.clock, seed=seed)
        self.events = EventRecorder(self.store, self.clock)
        self.control = ControlPlane(self.store, self.clock, self.events, self.scenario.pod_profile)
        self.traffic = Traffic(self.store, self.clock, self.scenario.traffic_profile,
                               memory_for=self.scenario.pod_memory)
        self.rollouts = RolloutController(self.store, self.clock, self.events, self.control.index)
        self.analysis = AnalysisController(self.store, self.clock, self.traffic)
        self.access = Access(token, anonymous_auth=anonymous_auth)
        self.exec_plugin: ExecPlugin | None = None  # set by write_kubeconfig(exec_plugin=True)
        self.host = host
        self.port = port
        # how long continue tokens live, how often watches get bookmarks (real seconds)
        self.limits = ListLimits(continue_ttl, bookmark_every)
        self.faults = Faults(self.store, self.access, self.traffic, seed=seed,
                             limits=self.limits)
        self.tls = make_serving_cert(host)
        ca_dir = Path(tempfile.mkdtemp(prefix="warroom-drill-"))
        self.ca_path = ca_dir / "ca.crt"
        self.ca_path.write_bytes(self.tls.ca_pem)
        # Removed by stop(), or when the cluster object goes away (or at exit) if never stopped.
        self._remove_ca_dir = weakref.finalize(self, shutil.rmtree, ca_dir, ignore_errors=True)
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        seed_workload(self.store, self.control, self.clock.now())
        self.scenario.prepare_workload(self.store, self.clock)  # its own workload, settled by the warm-up
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
        app = build_app(self)
        add_admin_routes(app, self)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
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
        self.scenario.close()
        self._remove_ca_dir()

    def tick(self) -> None:
        self.control.tick()
        self.rollouts.tick()
        self.traffic.tick()
        self.analysis.tick()
        self.scenario.tick(self.store, self.clock)

    async def _tick_forever(self) -> None:
        while True:
            self.tick()
            self.faults.expire()  # faults run on real time, not drill time
            await asyncio.sleep(TICK_SECONDS)

    # ---- hooks used by the API ----------------------------------------------------------
    def prepare_deployment(self, body: dict[str, Any]) -> None:
        apply_deployment_defaults(body)

    def status(self) -> dict[str, Any]:
        """What `GET /drill/v1/status` answers: the scenario's state and the drill clock."""
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

    # ---- kubeconfig ----------------------------------------------------------------------
    def kubeconfig(self, context: str = "drill", namespace: str = "shop",
                   token: str | None = None,
                   exec_block: dict[str, Any] | None = None) -> dict[str, Any]:
        user = {"exec": exec_block} if exec_block else {"token": token or self.token}
        return {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": context, "cluster": {
                "server": self.url,
                "certificate-authority-data": base64.b64encode(self.tls.ca_pem).decode()}}],
            "users": [{"name": f"{context}-admin", "user": user}],
            "contexts": [{"name": context, "context": {"cluster": context, "namespace": namespace,
                                                       "user": f"{context}-admin"}}],
            "current-context": context,
        }

    def write_kubeconfig(self, path: str | Path, *, exec_plugin: bool = False,
                         exec_ttl: float = 120.0, exec_delay: float = 0.0,
                         interactive_mode: str = "Never", **kwargs: Any) -> Path:
        """Write the kubeconfig atomically with mode 0600 (it holds the token).

        exec_plugin: the user gets its token from a credential plugin (drill/exec_plugin.py)
        installed in ``<path>.exec/`` -- user ``drill-sso`` with all rights, tokens that
        expire after ``exec_ttl`` seconds; ``self.exec_plugin`` is its handle."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if exec_plugin:
            token = secrets.token_urlsafe(24)
            self.access.add_token(token, "drill-sso")
            self.exec_plugin, kwargs["exec_block"] = install_exec_plugin(
                target.parent / f"{target.name}.exec", token, ttl=exec_ttl, delay=exec_delay,
                interactive_mode=interactive_mode)
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
