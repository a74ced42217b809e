"""Driving the war-room app against a drill cluster: settings, waiting, audit and cluster reads.

Waits poll a condition with a deadline (`until`), never a fixed sleep: the console's data
arrives from watch threads and workers at their own pace.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from kubernetes import client
from textual.errors import NoWidget
from textual.pilot import Pilot
from textual.widgets import Footer

from adapters.metrics_config import MetricsConfig
from console.domain.settings import ConsoleSettings
from console.ui.app import WarroomApp
from tests.conftest import Drill
from widgets.audit_view import AuditView
from widgets.checklist import Checklist
from widgets.pod_table import PodTable
from widgets.rates_panel import RatesPanel

NAMESPACE = "shop"
TARGET = "api"


def drill_settings(drill: Drill, **overrides: Any) -> ConsoleSettings:
    """Settings as `warroom drill` builds them (console/cli/main.py `run_drill_console`)."""
    cluster = drill.cluster
    values: dict[str, Any] = {
        "kubeconfig": str(drill.kubeconfig),
        "context": "drill",
        "namespace": NAMESPACE,
        "metrics": MetricsConfig(base_url=cluster.url + "/prometheus",
                                 bearer_token=cluster.token, verify_tls=str(cluster.ca_path)),
        "cluster_clock": cluster.clock.now,
        "drill": cluster,
        "runbook_values": {"deployment": TARGET},
        "incident_title": "drill: free play",
        "title": "drill: none",
    }
    values.update(overrides)
    return ConsoleSettings(**values)


async def until(pilot: Pilot[Any], predicate: Callable[[], Any], timeout: float = 20.0,
                message: str = "condition") -> Any:
    """Let the app run until `predicate()` is truthy; fail with `message` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        await pilot.pause(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {message} (last: {last!r})")


async def cluster_until(predicate: Callable[[], Any], timeout: float = 20.0,
                        message: str = "cluster condition") -> Any:
    """Like `until` for a blocking check (a Kubernetes API call), run off the event loop."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await asyncio.to_thread(predicate)
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {message} (last: {last!r})")


def pods_shown(app: WarroomApp) -> int:
    return len(app.query_one(PodTable).keys)


def busy(app: WarroomApp, *groups: str) -> bool:
    """Whether a worker of one of `groups` is still to finish."""
    return any(w.group in groups and not w.is_finished for w in app.workers)


async def settled(pilot: Pilot[Any], *, pods: int = 3, rates: bool = True,
                  timeout: float = 20.0) -> WarroomApp:
    """Wait until the console is connected and shows api's pods, the runbook and the audit log
    (and, with `rates`, the metrics and sparkline history)."""
    app = pilot.app
    assert isinstance(app, WarroomApp)
    await until(pilot, lambda: app.session.runner is not None, timeout, "the console to connect")
    await until(pilot, lambda: app.session.connection is not None and app.session.connection.state == "live",
                timeout, "the watch to be live")
    await until(pilot, lambda: app.main_screen.live.selected == f"{NAMESPACE}/{TARGET}", timeout,
                "api to be selected")
    await until(pilot, lambda: pods_shown(app) == pods, timeout, f"{pods} api pods on screen")
    await until(pilot, lambda: app.query_one(Checklist).rows, timeout, "the runbook")
    await until(pilot, lambda: app.query_one(AuditView).rows, timeout, "the audit pane")
    await until(pilot, lambda: not busy(app, "connect", "rbac"), timeout,
                "the permission probe")
    # the probe's answer recomposes the footer after a refresh; the screen lays the new keys
    # out on a later one
    await pilot.pause()
    await asyncio.wait_for(app.query_one(Footer).wait_for_refresh(), timeout)
    await until(pilot, lambda: footer_shown(app), timeout, "the footer keys")
    if rates:
        await until(pilot, lambda: set(app.query_one(RatesPanel).keys) >= set(app.main_screen.live.deployments)
                    and len(app.main_screen.live.histories) >= len(app.main_screen.live.deployments)
                    and all(app.main_screen.live.rates.get(k) for k in app.main_screen.live.deployments), timeout, "metrics")
    await repainted(pilot)
    return app


def footer_shown(app: WarroomApp) -> bool:
    """Whether the footer's keys are laid out on the screen (not just mounted)."""
    keys = list(app.query_one(Footer).query("FooterKey"))
    try:
        return bool(keys) and all(app.screen.find_widget(key).region.width for key in keys)
    except NoWidget:
        return False


async def repainted(pilot: Pilot[Any], timeout: float = 10.0) -> None:
    """Let the screen lay out and paint what changed: callbacks after a refresh run after
    its layout, so two in a row see a screen laid out after everything mounted before."""
    await pilot.pause()
    for _ in range(2):
        await asyncio.wait_for(pilot.app.screen.wait_for_refresh(), timeout)
    await pilot.pause()


# ---- the audit log ------------------------------------------------------------------------
def audit_records(app: WarroomApp) -> list[dict[str, Any]]:
    assert app.session.audit is not None
    path = Path(app.session.audit.path)
    if not path.exists():
        return []
    text = path.read_text()
    complete = text[: text.rfind("\n") + 1]  # a record still being written is not on record
    return [json.loads(line) for line in complete.splitlines() if line.strip()]


def action_kinds(app: WarroomApp, action: str) -> list[str]:
    """The kinds of the audit records for `action` (scale, restart, ...), in order."""
    return [r["kind"] for r in audit_records(app) if r.get("action") == action]


def finished(app: WarroomApp, action: str) -> bool:
    return any(k in ("action.finished", "action.failed", "action.refused")
               for k in action_kinds(app, action))


def shown_audit_kinds(app: WarroomApp) -> list[str]:
    return [row.kind for row in app.query_one(AuditView).rows]


# ---- the cluster, through the official client ----------------------------------------------
def deployment(drill: Drill, name: str = TARGET) -> client.V1Deployment:
    with drill.api() as api:
        return client.AppsV1Api(api).read_namespaced_deployment(name, NAMESPACE)


def pod_names(drill: Drill, app_label: str = TARGET) -> set[str]:
    with drill.api() as api:
        pods = client.CoreV1Api(api).list_namespaced_pod(NAMESPACE,
                                                         label_selector=f"app={app_label}")
    return {p.metadata.name for p in pods.items if p.metadata.deletion_timestamp is None}


def fingerprint(drill: Drill) -> tuple[Any, ...]:
    """What an action would change: replicas, revision, template and the pods."""
    dep = deployment(drill)
    return (dep.spec.replicas, dep.metadata.annotations.get("deployment.kubernetes.io/revision"),
            dep.metadata.generation, client.ApiClient().sanitize_for_serialization(dep.spec.template),
            frozenset(pod_names(drill)))


def frozen_time(start: datetime) -> Callable[[], datetime]:
    return lambda: start
