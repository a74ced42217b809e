"""The console keeps working when the cluster does not.

Each test runs the real console (Textual Pilot) against a private drill cluster over real
HTTP and switches the drill's faults on over its admin endpoint: a slow API (latency), an API
that is down (connections reset), failing requests (errors share=1) and write conflicts.
Keys must answer within 100 ms whatever the API does; the header must say reconnecting and
then stale since T; the tables must catch up by themselves when the API returns; actions must
end with a clear message on screen and in the audit log, never a traceback.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from textual.widgets import Label, Static

from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import (
    NAMESPACE,
    TARGET,
    action_kinds,
    audit_records,
    cluster_until,
    deployment,
    drill_settings,
    finished,
    pods_shown,
    settled,
    until,
)
from tests.console.fault_harness import (
    assert_responsive,
    clear,
    inject,
    notifications,
    notified,
    probe_keys,
    responsive,
    send_key,
)
from widgets.confirm_modal import ConfirmModal
from widgets.scale_modal import ScaleModal
from widgets.status_header import StatusHeader
from widgets.text_modal import TextModal

SIZE = (160, 48)
# quick reconnection and an early "stale" so an outage fits in a test
FAST = {"watch_backoff_max": 1.0, "stale_after": 2.0}
SLOW_API = 10.0


def header_connection(app: WarroomApp) -> str:
    return str(app.query_one(StatusHeader).query_one("#connection", Label).render())


def action_status(app: WarroomApp) -> str:
    return str(app.query_one("#action-status", Static).render())


async def scale_to(pilot: Any, app: WarroomApp, replicas: int) -> None:
    """s, type the count, Enter: up to the confirm modal (or a refusal)."""
    await pilot.press("s")
    await until(pilot, lambda: isinstance(app.screen, ScaleModal), message="the scale modal")
    await pilot.press("ctrl+u", *str(replicas), "enter")


def scale_outside(drill: Drill, replicas: int) -> None:
    """Change the deployment inside the drill cluster itself (works while its API is down)."""
    store = drill.cluster.store

    def change(obj: dict[str, Any]) -> None:
        obj["spec"]["replicas"] = replicas

    drill.call(store.mutate, "deployments", NAMESPACE, TARGET, change)


# ---- the UI never freezes --------------------------------------------------------------------
async def test_keys_answer_within_100ms_while_the_api_is_slow(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster, **FAST))
    batches: list[list[float]] = []
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        baseline = await probe_keys(pilot, rounds=1)
        # every API request takes SLOW_API s: long enough to press a dozen keys while one is
        # in flight, even on a loaded machine
        inject(cluster, "latency", seconds=SLOW_API)
        for _ in range(3):
            # keys pressed while slow API calls run in workers: the events list (e) and the
            # permission check (can-i) before scaling by one (+)
            started = time.monotonic()
            send_key(app, "e")
            send_key(app, "plus")
            batch = await probe_keys(pilot, rounds=3)
            assert time.monotonic() - started < SLOW_API, "the probe outlasted the slow calls"
            batches.append(batch)
            await until(pilot, lambda: len(app.screen_stack) == 3, 2 * SLOW_API + 10,
                        "the events and the confirm modal, once the API answered")
            assert {type(s) for s in app.screen_stack[1:]} == {TextModal, ConfirmModal}
            await pilot.press("escape", "escape")
            await until(pilot, lambda: len(app.screen_stack) == 1, 10, "both closed")
            if responsive(batch):
                break
        clear(cluster)
    assert_responsive(batches, f"under 5 s API latency (baseline ms: {baseline})")


async def test_api_down_header_goes_stale_keys_answer_and_data_catches_up(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster, **FAST))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        assert header_connection(app) == "● live"
        inject(cluster, "api-down", seconds=120)
        await until(pilot, lambda: app.session.connection is not None
                    and app.session.connection.state in ("reconnecting", "stale"), 10,
                    "the watch to notice the API is down")
        await until(pilot, lambda: header_connection(app).startswith(("◌ reconnecting",
                                                                      "✖ stale")),
                    5, "the header to say reconnecting")
        await until(pilot, lambda: notified(app, "lost the connection", "API server"),
                    5, "a notification saying why")
        await until(pilot, lambda: app.session.connection is not None
                    and app.session.connection.state == "stale", 10, "the watch to go stale")
        await until(pilot, lambda: re.fullmatch(r"✖ stale since \d\d:\d\d:\d\d",
                                                header_connection(app)),
                    5, "the header to say stale since HH:MM:SS")
        batches = [await probe_keys(pilot)]
        # the cluster changes while the console cannot see it
        scale_outside(cluster, 5)
        while len(batches) < 3 and not responsive(batches[-1]):
            batches.append(await probe_keys(pilot))
        assert app.session.connection is not None and app.session.connection.state == "stale"
        clear(cluster)
        await until(pilot, lambda: header_connection(app) == "● live", 15,
                    "the header to be live again")
        await until(pilot, lambda: notified(app, "reconnected"), 5, "the all-clear")
        await until(pilot, lambda: app.main_screen.live.deployments[f"{NAMESPACE}/{TARGET}"].desired == 5, 20,
                    "the deployment list to show the scale made during the outage")
        await until(pilot, lambda: pods_shown(app) == 5, 20,
                    "the pod table to show the 5 pods made during the outage")
    assert_responsive(batches, "while the API was down")


# ---- actions under faults end with a clear result ----------------------------------------------
@pytest.mark.parametrize(("fault", "params", "says"), [
    ("api-down", {"seconds": 120}, "API server"),
    ("errors", {"share": 1, "code": 503}, "HTTP 503"),
], ids=["api-down", "errors"])
async def test_action_during_an_outage_is_refused_with_a_reason(
        cluster: Drill, fault: str, params: dict[str, Any], says: str) -> None:
    before = deployment(cluster).spec.replicas
    app = WarroomApp(drill_settings(cluster, **FAST))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        inject(cluster, fault, **params)
        await scale_to(pilot, app, 5)
        await until(pilot, lambda: notified(app, "refused", says), 20,
                    f"a refusal naming the cause ({says}); shown: {notifications(app)}")
        assert not isinstance(app.screen, ConfirmModal)
        records = [r for r in audit_records(app) if r.get("action") == "scale"]
        assert [r["kind"] for r in records] == ["action.refused"]
        assert "cannot check permissions" in records[0]["message"] and says in records[0]["message"]
        assert "Traceback" not in records[0]["message"]
        clear(cluster)
    assert deployment(cluster).spec.replicas == before


@pytest.mark.parametrize(("fault", "params", "says"), [
    ("api-down", {"seconds": 120}, "API server"),
    ("errors", {"share": 1, "code": 503}, "HTTP 503"),
], ids=["api-down", "errors"])
async def test_fault_at_the_write_fails_the_action_cleanly(
        cluster: Drill, fault: str, params: dict[str, Any], says: str) -> None:
    """The API breaks after the checks, exactly when the scale PATCH goes out."""
    before = deployment(cluster).spec.replicas
    app = WarroomApp(drill_settings(cluster, **FAST))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        assert app.session.kube is not None
        app.session.kube.before_write = lambda *_: inject(cluster, fault, **params)
        await scale_to(pilot, app, 5)
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), 15, "the confirm modal")
        await pilot.press("y")
        await until(pilot, lambda: finished(app, "scale"), 30, "the scale to end")
        await until(pilot, lambda: app.main_screen.ops.running is None, 10, "the action to clear")
        kinds = action_kinds(app, "scale")
        assert kinds == ["action.requested", "action.started", "action.failed"]
        failed = [r for r in audit_records(app) if r["kind"] == "action.failed"][0]
        assert says in failed["message"] and "Traceback" not in failed["message"]
        assert failed["result"]["ok"] is False
        assert action_status(app).startswith("✖ scale deployment/api to 5 replicas: ")
        assert says in action_status(app)
        await until(pilot, lambda: notified(app, "✖ scale deployment/api", says), 5,
                    "the failure notified")
        app.session.kube.before_write = None
        clear(cluster)
    assert deployment(cluster).spec.replicas == before


async def test_conflicts_are_retried_and_the_scale_succeeds(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster, **FAST))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        inject(cluster, "conflicts", count=2)
        await scale_to(pilot, app, 4)
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), 15, "the confirm modal")
        await pilot.press("y")
        await until(pilot, lambda: finished(app, "scale"), 30, "the scale to end")
        done = [r for r in audit_records(app) if r["kind"] == "action.finished"]
        assert done and done[0]["result"]["attempts"] == 3  # two 409s, then through
    assert deployment(cluster).spec.replicas == 4


async def test_endless_conflicts_fail_with_a_clear_message(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster, **FAST))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        inject(cluster, "conflicts", count=50)
        await scale_to(pilot, app, 4)
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), 15, "the confirm modal")
        await pilot.press("y")
        await until(pilot, lambda: finished(app, "scale"), 30, "the scale to end")
        failed = [r for r in audit_records(app) if r["kind"] == "action.failed"]
        assert failed and "changed by someone else" in failed[0]["message"]
        await until(pilot, lambda: notified(app, "changed by someone else"), 5,
                    "the conflict on screen")
        clear(cluster)
    assert deployment(cluster).spec.replicas == 3


async def test_console_started_during_an_outage_connects_when_the_api_returns(
        cluster: Drill) -> None:
    inject(cluster, "api-down", seconds=120)
    app = WarroomApp(drill_settings(cluster, **FAST))
    started = time.monotonic()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session.connection is not None
                    and app.session.connection.state in ("reconnecting", "stale"), 15,
                    "the console to report the outage")
        await until(pilot, lambda: notified(app, "cannot load the cluster"), 5,
                    "a notification saying why")
        batches = [await probe_keys(pilot)]
        while len(batches) < 3 and not responsive(batches[-1]):
            batches.append(await probe_keys(pilot))
        clear(cluster)
        await settled(pilot, rates=False, timeout=30)
        # the permission probe failed during the outage: that must not disable the actions
        assert app.session.denied == {}
        assert app.main_screen.check_action("act", ("scale",)) is True
        await cluster_until(lambda: deployment(cluster).spec.replicas == 3)
    assert_responsive(batches, "while the console could not connect")
    assert time.monotonic() - started < 120
