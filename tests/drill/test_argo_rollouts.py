"""The drill's Argo Rollouts: CRD discovery, the canary controller, AnalysisRuns, bad-canary."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drill.scenarios.bad_canary import rollout_object
from tests.conftest import Drill, Kubectl, wait_for
from tests.drill.kube_helpers import make_namespace, unique

GV = "/apis/argoproj.io/v1alpha1"
ROLLOUT = f"{GV}/namespaces/shop/rollouts/checkout"
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def canary(drill_factory: Any) -> Drill:
    return drill_factory(scenario="bad-canary")


def rollout(d: Drill) -> dict[str, Any]:
    with d.http() as http:
        answer = http.get(ROLLOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()


def patch(d: Drill, body: dict[str, Any], sub: str = "/status") -> dict[str, Any]:
    with d.http() as http:
        answer = http.patch(ROLLOUT + sub, json=body, headers=MERGE)
    assert answer.status_code == 200, answer.text
    return answer.json()


def canary_replicas(d: Drill) -> int:
    obj = rollout(d)
    name = f"checkout-{obj['status']['currentPodHash']}"
    with d.http() as http:
        rs = http.get(f"/apis/apps/v1/namespaces/shop/replicasets/{name}").json()
    return int(rs["spec"]["replicas"])


def weight(obj: dict[str, Any]) -> int:
    return int(obj["status"]["canary"]["weights"]["canary"]["weight"])


def at_pause(d: Drill) -> dict[str, Any]:
    def paused() -> dict[str, Any] | None:
        obj = rollout(d)
        status = obj["status"]
        return obj if status.get("phase") == "Paused" and status.get("currentStepIndex") == 1 \
            else None
    return wait_for(paused, message="the canary paused at step 2 (20 %)")


def advance(d: Drill, seconds: float) -> None:
    d.call(d.cluster.clock.advance, seconds)


def test_discovery_serves_rollouts_like_a_crd(canary: Drill) -> None:
    with canary.http() as http:
        groups = http.get("/apis").json()
        group = http.get("/apis/argoproj.io").json()
        resources = http.get(GV).json()
        listed = http.get(f"{GV}/namespaces/shop/rollouts").json()
    assert "argoproj.io" in [g["name"] for g in groups["groups"]]
    assert group["preferredVersion"]["groupVersion"] == "argoproj.io/v1alpha1"
    names = {r["name"]: r for r in resources["resources"]}
    assert {"rollouts", "rollouts/status", "analysisruns"} <= set(names)
    assert names["rollouts"]["kind"] == "Rollout" and "watch" in names["rollouts"]["verbs"]
    assert listed["kind"] == "RolloutList"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["checkout"]


def test_canary_steps_then_abort_returns_traffic_to_stable(canary: Drill) -> None:
    obj = at_pause(canary)
    assert weight(obj) == 20
    assert obj["status"]["pauseConditions"][0]["reason"] == "CanaryPauseStep"
    assert obj["status"]["stableRS"] != obj["status"]["currentPodHash"]
    assert canary_replicas(canary) == 1
    rates = canary.cluster.traffic.current()[("shop", "checkout")]
    assert 0.03 < rates.error_ratio < 0.15  # the canary's 20 % share fails a third

    # the main resource ignores status, as a CRD with the status subresource does
    patch(canary, {"status": {"abort": True}}, sub="")
    assert not rollout(canary)["status"].get("abort")
    patch(canary, {"status": {"abort": True}})

    def aborted() -> dict[str, Any] | None:
        o = rollout(canary)
        return o if o["status"].get("phase") == "Degraded" and weight(o) == 0 else None

    obj = wait_for(aborted, message="the rollout aborted")
    assert obj["status"]["currentStepIndex"] == 0
    assert obj["status"]["message"].startswith("RolloutAborted")
    wait_for(lambda: canary_replicas(canary) == 0, message="the canary scaled down")
    assert canary.call(lambda: canary.cluster.status())["steps"] == ["abort-canary"]

    patch(canary, {"status": {"abort": False}})  # retry: the steps start again
    obj = at_pause(canary)
    assert weight(obj) == 20 and not obj["status"].get("abort")


def test_promote_clears_the_pause_and_analysis_failure_aborts(canary: Drill) -> None:
    at_pause(canary)
    patch(canary, {"status": {"pauseConditions": None}})  # promote, as the plugin sends it

    def analysing() -> dict[str, Any] | None:
        o = rollout(canary)
        return o if o["status"].get("currentStepIndex") == 2 else None

    obj = wait_for(analysing, message="the analysis step")
    run_name = obj["status"]["canary"]["currentStepAnalysisRunStatus"]["name"]
    for _ in range(4):
        advance(canary, 61)
        wait_for(lambda: True)
    with canary.http() as http:
        def failed() -> dict[str, Any] | None:
            run = http.get(f"{GV}/namespaces/shop/analysisruns/{run_name}").json()
            return run if run.get("status", {}).get("phase") == "Failed" else None

        run = wait_for(failed, message="the analysis failed")
    failures = [m for m in run["status"]["metricResults"][0]["measurements"]
                if m["phase"] == "Failed"]
    assert len(failures) == 3  # failureLimit 2: the third failure fails the run
    assert all(0.03 < float(m["value"].strip("[]")) < 0.15 for m in failures)
    assert "failureLimit (2)" in run["status"]["message"]
    obj = wait_for(lambda: (o := rollout(canary))["status"].get("abort") and o,
                   message="the failed analysis aborted the rollout")
    wait_for(lambda: weight(rollout(canary)) == 0, message="traffic back to stable")
    unsafe = wait_for(lambda: canary.call(lambda: canary.cluster.status())["unsafe"])
    assert unsafe[0].startswith("waited-for-analysis")


def test_promote_full_makes_the_canary_stable(canary: Drill) -> None:
    obj = at_pause(canary)
    new_hash = obj["status"]["currentPodHash"]
    patch(canary, {"status": {"promoteFull": True}})

    def healthy() -> dict[str, Any] | None:
        o = rollout(canary)
        return o if o["status"].get("phase") == "Healthy" else None

    obj = wait_for(healthy, message="full promotion")
    assert obj["status"]["stableRS"] == new_hash
    assert obj["status"]["currentStepIndex"] == 6
    assert canary_replicas(canary) == 5


def test_undo_to_the_stable_template_skips_the_steps(canary: Drill) -> None:
    obj = at_pause(canary)
    stable = obj["status"]["stableRS"]
    with canary.http() as http:
        rs = http.get(f"/apis/apps/v1/namespaces/shop/replicasets/checkout-{stable}").json()
    template = rs["spec"]["template"]
    del template["metadata"]["labels"]["rollouts-pod-template-hash"]
    with canary.http() as http:
        answer = http.patch(ROLLOUT, json=[{"op": "replace", "path": "/spec/template",
                                            "value": template}],
                            headers={"Content-Type": "application/json-patch+json"})
    assert answer.status_code == 200, answer.text

    def back() -> dict[str, Any] | None:
        o = rollout(canary)
        return o if o["status"].get("currentPodHash") == stable and \
            o["status"].get("phase") == "Healthy" else None

    obj = wait_for(back, message="the rollback to stable")
    assert weight(obj) == 0 and obj["status"]["stableRS"] == stable
    with canary.http() as http:
        rs = http.get(f"/apis/apps/v1/namespaces/shop/replicasets/checkout-{stable}").json()
    assert rs["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "3"
    status = wait_for(lambda: (s := canary.call(canary.cluster.status))["resolved"] and s,
                      message="the drill resolved")
    assert "rolled back" in status["reason"]


@pytest.mark.kubectl
def test_kubectl_lists_and_patches_rollouts(drill: Drill, kubectl: Kubectl) -> None:
    """kubectl finds the CRD through discovery; its status-subresource merge patch (what the
    plugin's abort sends) aborts the canary (kubectl 1.24+ has --subresource)."""
    ns = make_namespace(drill.api(), unique(f"ro{kubectl.version.replace('.', '')}"))
    body = rollout_object("registry.local/shop/checkout:2.3.0")
    body["metadata"]["namespace"] = ns
    body["spec"]["strategy"]["canary"]["steps"] = [{"setWeight": 20}, {"pause": {}}]
    with drill.http() as http:
        assert http.post(f"{GV}/namespaces/{ns}/rollouts", json=body).status_code == 201
    path = f"{GV}/namespaces/{ns}/rollouts/checkout"

    def phase() -> str:
        with drill.http() as http:
            return http.get(path).json().get("status", {}).get("phase", "")

    wait_for(lambda: phase() == "Healthy", message="the first revision")
    listed = json.loads(kubectl.run("get", "rollouts", "-n", ns, "-o", "json").stdout)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["checkout"]
    if kubectl.version < "1.24":
        return
    kubectl.run("patch", "rollout", "checkout", "-n", ns, "--type=merge", "-p",
                '{"spec":{"template":{"spec":{"containers":[{"name":"checkout",'
                '"image":"registry.local/shop/checkout:2.4.0"}]}}}}')
    wait_for(lambda: phase() == "Paused", message="the canary paused")
    kubectl.run("patch", "rollout", "checkout", "-n", ns, "--subresource=status",
                "--type=merge", "-p", '{"status":{"abort":true}}')
    wait_for(lambda: phase() == "Degraded", message="aborted")
    with drill.http() as http:
        obj = http.get(path).json()
    assert obj["status"]["abort"] is True
    assert obj["status"]["canary"]["weights"]["canary"]["weight"] == 0
