"""Scenarios played by a running drill cluster, observed over HTTP like an operator would."""

from __future__ import annotations

import pytest
from kubernetes import client

from tests.conftest import KUBECTLS, Drill, Kubectl, wait_for

ERROR_RATIO = ('sum by (namespace, deployment) (rate(http_requests_total{namespace="shop",'
               'deployment="api",code=~"5.."}[1m])) / sum by (namespace, deployment) '
               '(rate(http_requests_total{namespace="shop",deployment="api"}[1m]))')


def error_ratio(drill: Drill) -> float | None:
    r = drill.http().get("/api/v1/query", params={"query": ERROR_RATIO})
    r.raise_for_status()
    result = r.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def status(drill: Drill) -> dict:
    r = drill.http().get("/drill/v1/status")
    r.raise_for_status()
    return r.json()


def newest_kubectl(drill: Drill, tmp_path) -> Kubectl:
    if not KUBECTLS:
        pytest.skip("no kubectl binary found")
    version, binary = KUBECTLS[-1]
    return Kubectl(binary, version, drill.kubeconfig, tmp_path / "cache")


def api_pods(drill: Drill) -> list:
    return [p for p in client.CoreV1Api(drill.api()).list_namespaced_pod(
        "shop", label_selector="app=api").items if not p.metadata.deletion_timestamp]


def test_memory_leak_oomkills_until_undo(drill_factory, tmp_path) -> None:
    drill = drill_factory(scenario="memory-leak", speed=3600)
    bad = drill.cluster.scenario.bad_image

    def restarts() -> int:
        return sum(cs.restart_count for p in api_pods(drill)
                   for cs in (p.status.container_statuses or []))

    first = wait_for(lambda: restarts() or None, timeout=60, message="first OOM restart")
    wait_for(lambda: restarts() > first, timeout=60, message="restarts climbing")
    oom = [p for p in api_pods(drill) for cs in (p.status.container_statuses or [])
           if cs.last_state and cs.last_state.terminated
           and cs.last_state.terminated.reason == "OOMKilled"]
    assert oom, "OOMKilled shows as the last termination reason"
    assert all(p.spec.containers[0].image == bad for p in oom)
    assert status(drill)["resolved"] is False

    kubectl = newest_kubectl(drill, tmp_path)
    kubectl.run("rollout", "undo", "deployment/api", "-n", "shop")
    wait_for(lambda: status(drill)["resolved"], timeout=60, message="scenario resolved by undo")
    survivors = {p.metadata.name for p in api_pods(drill)}
    assert all(p.spec.containers[0].image != bad for p in api_pods(drill))
    # three more drill hours: the good revision's pods do not restart
    drill.call(drill.cluster.clock.advance, 3 * 3600)
    drill.call(drill.cluster.tick)
    after = api_pods(drill)
    assert {p.metadata.name for p in after} == survivors
    assert sum(cs.restart_count for p in after for cs in p.status.container_statuses) == 0


def test_bad_deploy_auth_error_ratio_falls_after_undo(drill_factory, tmp_path) -> None:
    drill = drill_factory(scenario="bad-deploy-auth", speed=600)
    wait_for(lambda: (error_ratio(drill) or 0) > 0.5, timeout=60,
             message="error ratio above 0.5 under the bad revision")
    assert status(drill)["resolved"] is False
    kubectl = newest_kubectl(drill, tmp_path)
    kubectl.run("rollout", "undo", "deployment/api", "-n", "shop")
    wait_for(lambda: (ratio := error_ratio(drill)) is not None and ratio < 0.01, timeout=60,
             message="error ratio under 0.01 after undo")
    assert status(drill)["resolved"] is True
