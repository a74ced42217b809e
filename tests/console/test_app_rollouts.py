"""Argo Rollouts in the console, driven by keys against the drill's bad-canary Rollout.

The Rollout is listed as a workload with its step, weight and analysis (values shown); each
action key goes through the confirm modal, runs the plugin's patch and leaves its audit
records; the Rollout's state is read back from the cluster.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from console.domain.actor import Actor
from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import (
    audit_records,
    cluster_until,
    drill_settings,
    finished,
    settled,
    until,
)
from widgets.confirm_modal import ConfirmModal
from widgets.deployment_list import DeploymentList
from widgets.rollout_panel import RolloutPanel
from widgets.score_screen import ScoreScreen
from widgets.undo_modal import UndoModal

SIZE = (160, 48)
KEY = "shop/checkout"
ROLLOUT = "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout"
ACTION_RECORDS = ["action.requested", "action.started", "action.finished"]


def rollout(drill: Drill) -> dict[str, Any]:
    with drill.http() as http:
        return http.get(ROLLOUT).json()


def status(drill: Drill) -> dict[str, Any]:
    return rollout(drill).get("status") or {}


def weight(drill: Drill) -> int:
    return int(status(drill)["canary"]["weights"]["canary"]["weight"])


async def select_rollout(pilot: Pilot[Any], app: WarroomApp) -> None:
    """Connected, the Rollout listed and paused at 20 %, and selected with the arrow keys."""
    await until(pilot, lambda: app.session.runner is not None, message="the console")
    live = app.main_screen.live
    await until(pilot, lambda: (v := live.rollouts.get(KEY)) is not None
                and v.phase == "Paused" and v.weight == 20, 30, "the canary paused at 20 %")
    app.query_one(DeploymentList).focus()
    for _ in range(10):
        if live.selected == KEY:
            break
        await pilot.press("down")
        await pilot.pause()
    assert live.selected == KEY


async def act(pilot: Pilot[Any], app: WarroomApp, key: str, action: str,
              title: str | None = None) -> ConfirmModal:
    before = len(audit_records(app))
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, ConfirmModal),
                message=f"the confirm modal {[str(n.message) for n in app._notifications]}")
    modal = app.screen
    assert isinstance(modal, ConfirmModal)
    if title is not None:
        assert modal.title_text == title
    await pilot.press("y")
    await until(pilot, lambda: finished(app, action) and len(audit_records(app)) >= before + 3,
                30, f"{action} to finish")
    await until(pilot, lambda: app.main_screen.ops.running is None, message="the status line")
    kinds = [r["kind"] for r in audit_records(app) if r.get("action") == action]
    assert kinds[-3:] == ACTION_RECORDS
    return modal


async def test_rollout_listed_with_step_weight_and_panel(
        drill_factory: Callable[..., Drill], state_dir: Path) -> None:
    drill = drill_factory(scenario="bad-canary")
    app = WarroomApp(drill_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await select_rollout(pilot, app)
        panel = app.query_one(RolloutPanel)
        await until(pilot, lambda: "step 1/6 · canary weight 20 %" in panel.text,
                    message="the rollout panel")
        assert panel.display
        assert panel.text.startswith("Rollout checkout · canary · Paused")
        assert "paused: CanaryPauseStep" in panel.text
        row = app.query_one(DeploymentList).row_for(KEY)
        assert row is not None and row.rollout == "paused" and row.desired == 5
        assert row.name == "checkout (Rollout)"
        # the analysis: promote past the pause, let it measure; the values are on screen
        await act(pilot, app, "m", "rollout-promote", "promote rollout/checkout")
        await cluster_until(lambda: status(drill).get("currentStepIndex") == 2,
                            message="the analysis step")
        for _ in range(3):
            drill.call(drill.cluster.clock.advance, 61)
            await pilot.pause(0.3)
        await until(pilot, lambda: "error-rate: Failed" in panel.text, 30,
                    "the failed analysis on screen")
        assert "needs result[0] < 0.05" in panel.text
        # the measured value (the drill's traffic decides its digits) is on screen, failing
        measured = re.search(r"error-rate measured \[([0-9.]+)\]", panel.text)
        assert measured is not None and float(measured.group(1)) >= 0.05
        assert f"✖[{measured.group(1)}" in panel.text
        assert "ROLL BACK NOW: analysis checkout-" in panel.text
        await cluster_until(lambda: weight(drill) == 0, message="the analysis aborted it")


async def test_abort_retry_pause_resume_through_the_keys(
        drill_factory: Callable[..., Drill], state_dir: Path) -> None:
    drill = drill_factory(scenario="bad-canary")
    app = WarroomApp(drill_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await select_rollout(pilot, app)
        modal = await act(pilot, app, "a", "rollout-abort", "abort rollout/checkout")
        assert any("traffic 100 % stable" in value for _, value in modal.facts)
        await cluster_until(lambda: status(drill).get("abort") is True and weight(drill) == 0,
                            message="aborted")
        finished_record = [r for r in audit_records(app) if r.get("action") == "rollout-abort"
                           and r["kind"] == "action.finished"][-1]
        assert finished_record["target"] == "rollout/checkout"
        assert finished_record["result"]["patches"] == 'status {"status":{"abort":true}}'
        await until(pilot, lambda: app.main_screen.live.rollouts[KEY].abort, message="abort seen")
        # the drill is resolved by the abort: its score screen comes up; back to work
        await until(pilot, lambda: isinstance(app.screen, ScoreScreen), message="the score")
        await pilot.press("escape")
        await act(pilot, app, "T", "rollout-retry", "retry rollout/checkout")
        await cluster_until(lambda: not status(drill).get("abort") and weight(drill) == 20,
                            message="retried")
        await act(pilot, app, "w", "rollout-pause", "pause rollout/checkout")
        assert rollout(drill)["spec"]["paused"] is True
        await act(pilot, app, "W", "rollout-resume", "resume rollout/checkout")
        assert rollout(drill)["spec"]["paused"] is False


async def test_promote_full_and_undo_to_a_revision(
        drill_factory: Callable[..., Drill], state_dir: Path) -> None:
    drill = drill_factory(scenario="bad-canary")
    app = WarroomApp(drill_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await select_rollout(pilot, app)
        await pilot.press("U")
        await until(pilot, lambda: isinstance(app.screen, UndoModal), message="the revisions")
        await pilot.press("enter")  # the newest older revision: 1, the stable 2.3.0
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), message="confirm")
        assert app.screen.title_text == "undo rollout/checkout to revision 1"  # type: ignore[attr-defined]
        await pilot.press("y")
        await until(pilot, lambda: finished(app, "rollout-undo"), 30, "the undo")
        await cluster_until(lambda: status(drill).get("phase") == "Healthy"
                            and status(drill)["stableRS"] == status(drill)["currentPodHash"],
                            message="back on stable")
        image = rollout(drill)["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image.endswith(":2.3.0")
        await until(pilot, lambda: isinstance(app.screen, ScoreScreen), message="the score")
        await pilot.press("escape")
        # now a release to promote fully: set the image through the API, then O
        with drill.http() as http:
            http.patch(ROLLOUT, json={"spec": {"template": {"spec": {"containers": [
                {"name": "checkout", "image": "registry.local/shop/checkout:2.5.0"}]}}}},
                headers={"Content-Type": "application/merge-patch+json"})
        await until(pilot, lambda: app.main_screen.live.rollouts[KEY].canary_running, 30,
                    "the new canary")
        await act(pilot, app, "M", "rollout-promote-full", "promote --full rollout/checkout")
        await cluster_until(lambda: status(drill).get("phase") == "Healthy"
                            and status(drill)["stableRS"] == status(drill)["currentPodHash"],
                            message="fully promoted")


async def test_rollout_keys_are_refused_without_rbac(
        drill_factory: Callable[..., Drill], state_dir: Path) -> None:
    """The pre-check asks RBAC for rollouts/status: a user who may not patch it is refused,
    with the refusal on record, and the Rollout is unchanged."""
    drill = drill_factory(scenario="bad-canary")
    token = "viewer-token"
    drill.call(drill.cluster.access.add_token, token, "viewer",
               {("patch", "rollouts/status"), ("patch", "rollouts")})
    kubeconfig = drill.cluster.write_kubeconfig(drill.kubeconfig.parent / "viewer.yaml",
                                                token=token)
    app = WarroomApp(drill_settings(drill, kubeconfig=str(kubeconfig)))
    async with app.run_test(size=SIZE) as pilot:
        await select_rollout(pilot, app)
        await until(pilot, lambda: "rollout-abort" in app.session.denied, 30, "the RBAC probe")
        assert "patch rollouts/status" in app.session.denied["rollout-abort"]
        app.main_screen.ops.start("rollout-abort")
        await until(pilot, lambda: finished(app, "rollout-abort"), 30, "the refusal")
        assert [r["kind"] for r in audit_records(app)
                if r.get("action") == "rollout-abort"] == ["action.refused"]
    assert not status(drill).get("abort")


async def test_rollout_abort_needs_a_second_person(
        drill_factory: Callable[..., Drill], state_dir: Path) -> None:
    """With --two-person alice's abort is only proposed; bob approves it and it runs."""
    drill = drill_factory(scenario="bad-canary")
    alice = replace(Actor.current(), user="alice", uid=1001, ssh_client="10.0.0.5 50000 22",
                    tty="/dev/pts/1", console_id="console-a", sudo_user=None)
    bob = replace(Actor.current(), user="bob", uid=1002, ssh_client="10.0.0.9 50001 22",
                  tty="/dev/pts/2", console_id="console-b", sudo_user=None)
    first = WarroomApp(drill_settings(drill, actor=alice, metrics=None, two_person=True))
    async with first.run_test(size=SIZE) as pilot_a:
        await select_rollout(pilot_a, first)
        await pilot_a.press("a")
        await until(pilot_a, lambda: isinstance(first.screen, ConfirmModal), message="confirm")
        await pilot_a.press("y")
        await until(pilot_a, lambda: first.session.checklist.incident.pending_proposals(),
                    message="a pending proposal")
        assert not status(drill).get("abort")
        incident_id = first.session.checklist.incident.read().id
        second = WarroomApp(drill_settings(drill, actor=bob, metrics=None, two_person=True,
                                           resume=incident_id))
        async with second.run_test(size=SIZE) as pilot_b:
            await until(pilot_b, lambda: second.session.runner is not None, message="bob")
            await until(pilot_b, lambda: second.session.argo_served, message="bob's rollouts")
            await pilot_b.press("A")
            await until(pilot_b, lambda: isinstance(second.screen, ConfirmModal),
                        message="bob's approval modal")
            await pilot_b.press("y")
            await cluster_until(lambda: status(drill).get("abort") is True, message="aborted")
            await until(pilot_b, lambda: finished(second, "rollout-abort"), 30, "the abort")
    done = [r for r in audit_records(first)
            if r["kind"] == "action.finished" and r["action"] == "rollout-abort"]
    assert done and done[0]["params"]["proposed_by"].startswith("alice")
    assert done[0]["params"]["approved_by"].startswith("bob")


async def test_no_rollout_keys_on_a_cluster_without_argo(
        drill_factory: Callable[..., Drill], state_dir: Path) -> None:
    drill = drill_factory(argo_crds=False)
    app = WarroomApp(drill_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        assert app.session.argo is None and not app.main_screen.live.rollouts
        assert not any(name.startswith("rollout-") for name in app.session.denied)
        assert app.main_screen.check_action("act", ("rollout-abort",)) is False
        assert not app.query_one(RolloutPanel).display
