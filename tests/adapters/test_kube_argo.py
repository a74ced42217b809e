"""Argo Rollouts through the adapter: the plugin's exact patches, and their effect on the
drill's Rollout objects.

The `kubectl-argo-rollouts` plugin is not packaged on PyPI, npm or Debian, so parity is
asserted on the patch bodies: the literals below are the plugin's own constants
(argoproj/argo-rollouts, pkg/kubectl-argo-rollouts/cmd/{abort,retry,promote,pause,resume,undo}).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.argo_views import analysis_run_view, rollout_view
from adapters.errors import Invalid
from adapters.kube_argo import patches_for, undo_patch
from adapters.kubernetes import KubeClient
from tests.conftest import Drill, wait_for

# the plugin's constants, verbatim
ABORT = '{"status":{"abort":true}}'
RETRY = '{"status":{"abort":false}}'
UNPAUSE = '{"spec":{"paused":false}}'
CLEAR_PAUSE = '{"status":{"pauseConditions":null}}'
UNPAUSE_AND_CLEAR = '{"spec":{"paused":false},"status":{"pauseConditions":null}}'
PROMOTE_FULL = '{"status":{"promoteFull":true}}'
CLEAR_WITH_STEP = '{"status":{"pauseConditions":null, "currentStepIndex":%d}}'
UNPAUSE_CLEAR_WITH_STEP = '{"spec":{"paused":false},"status":{"pauseConditions":null, "currentStepIndex":%d}}'  # noqa: E501
PAUSE = '{"spec":{"paused":true}}'


def canary(index: int | None = 1, paused: bool = False, conditions: bool = True,
           stable: str = "s", current: str = "c") -> dict[str, Any]:
    status: dict[str, Any] = {"stableRS": stable, "currentPodHash": current}
    if index is not None:
        status["currentStepIndex"] = index
    if conditions:
        status["pauseConditions"] = [{"reason": "CanaryPauseStep", "startTime": "x"}]
    return {"spec": {"paused": paused, "strategy": {"canary": {"steps": [{}, {}, {}]}}},
            "status": status}


def test_patches_are_the_plugins() -> None:
    assert patches_for("abort", canary()).status == json.loads(ABORT)
    assert patches_for("abort", canary()).unified == json.loads(ABORT)
    assert patches_for("retry", canary()).status == json.loads(RETRY)
    assert patches_for("pause", canary()).spec == json.loads(PAUSE)
    assert patches_for("resume", canary()).spec == json.loads(UNPAUSE)
    # promote with pause conditions: clear them (and unpause when paused)
    p = patches_for("promote", canary(paused=True))
    assert (p.spec, p.status, p.unified) == (json.loads(UNPAUSE), json.loads(CLEAR_PAUSE),
                                             json.loads(UNPAUSE_AND_CLEAR))
    assert patches_for("promote", canary()).spec is None
    # promote without pause conditions (analysis running): the next step, capped at the count
    p = patches_for("promote", canary(index=1, conditions=False))
    assert p.status == json.loads(CLEAR_WITH_STEP % 2)
    assert p.unified == json.loads(UNPAUSE_CLEAR_WITH_STEP % 2)
    assert patches_for("promote", canary(index=3, conditions=False)).status == \
        json.loads(CLEAR_WITH_STEP % 3)
    assert patches_for("promote", canary(index=None, conditions=False)).status == \
        json.loads(CLEAR_WITH_STEP % 1)
    assert patches_for("promote-full", canary()).status == json.loads(PROMOTE_FULL)
    assert patches_for("promote-full", canary(stable="s", current="s")).status is None
    with pytest.raises(Invalid):
        patches_for("launch", canary())


def test_undo_patch_replaces_the_template_without_the_hash_label() -> None:
    template = {"metadata": {"labels": {"app": "x", "rollouts-pod-template-hash": "abc"}},
                "spec": {"containers": [{"name": "x", "image": "x:1"}]}}
    assert undo_patch(template) == [{"op": "replace", "path": "/spec/template", "value": {
        "metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "x",
                                                                       "image": "x:1"}]}}}]
    assert "rollouts-pod-template-hash" in template["metadata"]["labels"]  # not mutated


@pytest.fixture
def kube(drill_factory: Any) -> tuple[Drill, KubeClient]:
    drill = drill_factory(scenario="bad-canary")
    return drill, KubeClient.connect(str(drill.kubeconfig))


def paused_at_step_one(kube: KubeClient) -> Any:
    def paused() -> Any:
        view = kube.argo.view("shop", "checkout")
        return view if view.phase == "Paused" and view.step_index == 1 else None
    return wait_for(paused, message="the canary paused at 20 %")


def test_actions_change_the_rollout_as_the_plugin_would(kube: tuple[Drill, KubeClient]) -> None:
    _drill, client = kube
    assert client.argo.served()
    view = paused_at_step_one(client)
    assert (view.weight, view.step_text, view.pause_reasons) == (20, "step 1/6",
                                                                  ("CanaryPauseStep",))
    result = client.argo.act("abort", "shop", "checkout")
    assert result.details["patches"] == "status " + ABORT
    view = wait_for(lambda: (v := client.argo.view("shop", "checkout")).phase == "Degraded"
                    and v, message="aborted")
    assert view.abort and view.weight == 0 and view.step_index == 0
    client.argo.act("retry", "shop", "checkout")
    view = paused_at_step_one(client)
    assert not view.abort and view.weight == 20
    client.argo.act("pause", "shop", "checkout")
    assert client.argo.view("shop", "checkout").paused
    client.argo.act("resume", "shop", "checkout")
    assert not client.argo.view("shop", "checkout").paused
    result = client.argo.act("promote", "shop", "checkout")
    assert result.details["patches"] == "status " + CLEAR_PAUSE
    wait_for(lambda: client.argo.view("shop", "checkout").step_index == 2,
             message="the analysis step")
    result = client.argo.act("promote-full", "shop", "checkout")
    assert result.details["patches"] == "status " + PROMOTE_FULL
    view = wait_for(lambda: (v := client.argo.view("shop", "checkout")).phase == "Healthy"
                    and v, message="fully promoted")
    assert view.stable_hash == view.current_hash and view.weight == 0
    assert not client.argo.act("promote-full", "shop", "checkout").details["changed"]


def test_undo_to_a_revision_and_its_analysis_views(kube: tuple[Drill, KubeClient]) -> None:
    drill, client = kube
    paused_at_step_one(client)
    with pytest.raises(Invalid, match="unable to find specified revision 9"):
        client.argo.undo("shop", "checkout", 9)
    result = client.argo.undo("shop", "checkout", 1)
    assert result.details["to_revision"] == 1 and result.details["from_revision"] == 2
    view = wait_for(lambda: (v := client.argo.view("shop", "checkout")).phase == "Healthy"
                    and v, message="rolled back")
    assert view.images == ("registry.local/shop/checkout:2.3.0",) and view.revision == 3
    assert client.argo.undo("shop", "checkout", 3).details["skipped"]
    listed = client.list_objects("analysisruns", "shop")
    assert listed["items"] == []  # undone before its analysis step
    rollout = rollout_view(client.argo.get("shop", "checkout"))
    assert rollout.state == "complete" and not rollout.canary_running
    run = analysis_run_view({"metadata": {"name": "r", "namespace": "shop", "ownerReferences": [
        {"kind": "Rollout", "name": "checkout", "controller": True}]},
        "spec": {"metrics": [{"name": "m", "successCondition": "result[0] < 0.05"}]},
        "status": {"phase": "Failed", "metricResults": [{"name": "m", "phase": "Failed",
                   "measurements": [{"phase": "Failed", "value": "[0.07]"}]}]}})
    assert run.rollout == "checkout" and run.metrics[0].measurements[0].value == "[0.07]"
    assert run.metrics[0].success_condition == "result[0] < 0.05"
    assert drill.cluster.scenario.name == "bad-canary"


def test_a_cluster_without_argo_rollouts(drill_factory: Any) -> None:
    """Discovery without argoproj.io: not served, and its paths answer 404 as on a cluster
    where the CRDs are not installed."""
    drill = drill_factory(argo_crds=False)
    client = KubeClient.connect(str(drill.kubeconfig))
    assert not client.argo.served()
    with drill.http() as http:
        groups = [g["name"] for g in http.get("/apis").json()["groups"]]
        assert "argoproj.io" not in groups and "apps" in groups
        assert http.get("/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts").status_code \
            == 404
