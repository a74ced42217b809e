"""Views of Kubernetes objects: kubectl's STATUS / READY / RESTARTS, ages, rollout states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes import client

from adapters.informer_deltas import ADDED, DELETED, MODIFIED, Delta
from adapters.informer_deltas import PendingDeltas as _Pending
from adapters.kube_time import human_duration, parse_time
from adapters.kube_views import (
    deployment_view,
    event_view,
    pod_view,
    revision_view,
    rollout_state,
)

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


def stamp(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(
    *statuses: dict[str, Any],
    phase: str = "Running",
    deleting: bool = False,
    init: list[dict[str, Any]] | None = None,
    reason: str | None = None,
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": "api-7d9f-x2k4q",
        "namespace": "shop",
        "creationTimestamp": stamp(300),
        "resourceVersion": "42",
        "labels": {"app": "api", "pod-template-hash": "7d9f"},
        "ownerReferences": [
            {
                "kind": "ReplicaSet",
                "name": "api-7d9f",
                "controller": True,
                "uid": "u1",
                "apiVersion": "apps/v1",
            }
        ],
    }
    if deleting:
        meta["deletionTimestamp"] = stamp(1)
    status: dict[str, Any] = {
        "phase": phase,
        "containerStatuses": list(statuses),
        "podIP": "10.0.0.5",
        "conditions": conditions or [],
    }
    if reason:
        status["reason"] = reason
    spec: dict[str, Any] = {
        "nodeName": "node-1",
        "containers": [{"name": s["name"], "image": "img"} for s in statuses],
    }
    if init is not None:
        spec["initContainers"] = [{"name": s["name"], "image": "init"} for s in init]
        status["initContainerStatuses"] = init
    return {"metadata": meta, "spec": spec, "status": status}


def running(
    name: str = "app", ready: bool = True, restarts: int = 0, last_finished: str | None = None
) -> dict[str, Any]:
    cs: dict[str, Any] = {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "image": "img",
        "imageID": "",
        "state": {"running": {}},
    }
    if last_finished:
        cs["lastState"] = {
            "terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": last_finished}
        }
    return cs


def test_running_pod() -> None:
    view = pod_view(pod(running()), now=NOW)
    assert (view.status, view.ready, view.restarts, view.age) == ("Running", "1/1", 0, "5m")
    assert (view.node, view.ip, view.pod_template_hash, view.revision) == (
        "node-1",
        "10.0.0.5",
        "7d9f",
        "7d9f",
    )
    assert (view.replicaset, view.deployment, view.key) == (
        "api-7d9f",
        "api",
        "shop/api-7d9f-x2k4q",
    )
    assert view.restarts_text() == "0"


def test_crashloop_and_oomkilled() -> None:
    crash = running(ready=False, restarts=4, last_finished=stamp(30))
    crash["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
    view = pod_view(pod(crash), now=NOW)
    assert (view.status, view.ready, view.restarts) == ("CrashLoopBackOff", "0/1", 4)
    assert view.last_restart == parse_time(stamp(30))
    assert view.restarts_text().startswith("4 (")
    # measured on the cluster's clock when given (a drill's runs hours ahead of this one)
    assert view.restarts_text(NOW) == "4 (30s ago)"
    assert view.restarts_text(NOW + timedelta(hours=3)) == "4 (3h ago)"
    oom = running(ready=False, restarts=1)
    oom["state"] = {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}
    assert pod_view(pod(oom), now=NOW).status == "OOMKilled"
    exit_code = running(ready=False)
    exit_code["state"] = {"terminated": {"exitCode": 3}}
    assert pod_view(pod(exit_code), now=NOW).status == "ExitCode:3"


def test_last_container_wins_and_ready_counts() -> None:
    waiting = running("b", ready=False)
    waiting["state"] = {"waiting": {"reason": "ContainerCreating"}}
    view = pod_view(pod(running("a"), waiting), now=NOW)
    assert (view.status, view.ready) == ("ContainerCreating", "1/2")


def test_terminating_pending_and_reason() -> None:
    assert pod_view(pod(running(), deleting=True), now=NOW).status == "Terminating"
    assert (
        pod_view(pod(running(), phase="Succeeded", deleting=True), now=NOW).status != "Terminating"
    )
    assert pod_view(pod(phase="Pending"), now=NOW).status == "Pending"
    assert pod_view(pod(running(), phase="Failed", reason="Evicted"), now=NOW).status == "Evicted"


def test_init_containers() -> None:
    waiting_init = {
        "name": "migrate",
        "ready": False,
        "restartCount": 0,
        "image": "init",
        "imageID": "",
        "state": {"waiting": {"reason": "PodInitializing"}},
    }
    app = running(ready=False)
    app["state"] = {"waiting": {"reason": "PodInitializing"}}
    assert pod_view(pod(app, phase="Pending", init=[waiting_init]), now=NOW).status == "Init:0/1"
    failed = dict(waiting_init, state={"terminated": {"exitCode": 1, "reason": "Error"}})
    assert pod_view(pod(app, phase="Pending", init=[failed]), now=NOW).status == "Init:Error"
    done = dict(waiting_init, state={"terminated": {"exitCode": 0, "reason": "Completed"}})
    assert pod_view(pod(running(), init=[done]), now=NOW).status == "Running"


def test_completed_with_running_container() -> None:
    finished = running("a", ready=False)
    finished["state"] = {"terminated": {"exitCode": 0, "reason": "Completed"}}
    view = pod_view(
        pod(running("b"), finished, conditions=[{"type": "Ready", "status": "True"}]), now=NOW
    )
    assert view.status == "Running"


def test_model_objects_are_accepted() -> None:
    model = client.V1Pod(
        metadata=client.V1ObjectMeta(
            name="p",
            namespace="ns",
            labels={"pod-template-hash": "h"},
            creation_timestamp=NOW - timedelta(hours=3),
        ),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="i:1")]),
        status=client.V1PodStatus(
            phase="Running",
            container_statuses=[
                client.V1ContainerStatus(
                    name="c",
                    image="i:1",
                    image_id="",
                    ready=True,
                    restart_count=2,
                    state=client.V1ContainerState(running=client.V1ContainerStateRunning()),
                )
            ],
        ),
    )
    view = pod_view(model, now=NOW)
    assert (view.name, view.status, view.ready, view.restarts, view.age) == (
        "p",
        "Running",
        "1/1",
        2,
        "3h",
    )
    assert view.images == ("i:1",)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (119, "119s"),
        (120, "2m"),
        (303, "5m3s"),
        (600, "10m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 300, "3h5m"),
        (20 * 3600, "20h"),
        (76 * 3600, "3d4h"),
        (100 * 86400, "100d"),
        (2 * 365 * 86400 + 30 * 86400, "2y30d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def deployment(
    generation: int = 2,
    observed: int = 2,
    replicas: int = 3,
    updated: int = 3,
    current: int = 3,
    available: int = 3,
    paused: bool = False,
    progressing_reason: str = "NewReplicaSetAvailable",
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "api",
            "namespace": "shop",
            "generation": generation,
            "resourceVersion": "9",
            "uid": "d1",
            "creationTimestamp": stamp(86400),
            "annotations": {
                "deployment.kubernetes.io/revision": "4",
                "kubernetes.io/change-cause": "deploy 1.7",
            },
        },
        "spec": {
            "replicas": replicas,
            "paused": paused,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "api", "image": "api:1.7"}]},
            },
        },
        "status": {
            "observedGeneration": observed,
            "replicas": current,
            "updatedReplicas": updated,
            "readyReplicas": available,
            "availableReplicas": available,
            "conditions": [
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": progressing_reason,
                    "message": "m",
                }
            ],
        },
    }


def test_rollout_states_follow_kubectl() -> None:
    assert rollout_state(deployment()) == (
        "complete",
        'deployment "api" successfully rolled out',
        True,
    )
    assert rollout_state(deployment(generation=3)) == (
        "progressing",
        "Waiting for deployment spec update to be observed...",
        False,
    )
    assert rollout_state(deployment(updated=1))[1] == (
        'Waiting for deployment "api" rollout to finish: 1 out of 3 new replicas have been '
        "updated..."
    )
    assert rollout_state(deployment(current=5))[1] == (
        'Waiting for deployment "api" rollout to finish: 2 old replicas are pending termination...'
    )
    assert rollout_state(deployment(available=1))[1] == (
        'Waiting for deployment "api" rollout to finish: 1 of 3 updated replicas are available...'
    )
    stalled = rollout_state(deployment(available=1, progressing_reason="ProgressDeadlineExceeded"))
    assert stalled == ("stalled", 'deployment "api" exceeded its progress deadline', True)
    assert rollout_state(deployment(updated=1, paused=True))[0] == "paused"


def test_deployment_view() -> None:
    view = deployment_view(deployment(available=2), now=NOW)
    assert (view.desired, view.updated, view.ready, view.available, view.current) == (3, 3, 2, 2, 3)
    assert (view.revision, view.images, view.rollout, view.age) == (
        4,
        ("api:1.7",),
        "progressing",
        "24h",
    )
    assert (view.generation, view.observed_generation, view.resource_version) == (2, 2, "9")
    assert view.selector == "app=api" and view.change_cause == "deploy 1.7"
    assert view.condition("Progressing") is not None and view.ready_text == "2/3"


def test_revision_and_event_views() -> None:
    rs = {
        "metadata": {
            "name": "api-5f6",
            "namespace": "shop",
            "labels": {"pod-template-hash": "5f6"},
            "annotations": {
                "deployment.kubernetes.io/revision": "3",
                "kubernetes.io/change-cause": "deploy 1.6",
            },
            "ownerReferences": [
                {"kind": "Deployment", "name": "api", "controller": True, "uid": "d1"}
            ],
        },
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": [{"name": "api", "image": "api:1.6"}]}},
        },
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    view = revision_view(rs, current_revision=3)
    assert (
        view.revision,
        view.change_cause,
        view.images,
        view.template_hash,
        view.name,
        view.replicas,
        view.deployment,
        view.current,
        view.ready_replicas,
    ) == (3, "deploy 1.6", ("api:1.6",), "5f6", "api-5f6", 2, "api", True, 1)
    event = {
        "metadata": {"name": "api.17", "namespace": "shop"},
        "type": "Warning",
        "reason": "BackOff",
        "message": "Back-off restarting failed container\n",
        "involvedObject": {"kind": "Pod", "name": "api-x"},
        "source": {"component": "kubelet", "host": "node-1"},
        "count": 5,
        "firstTimestamp": stamp(600),
        "lastTimestamp": stamp(60),
    }
    ev = event_view(event, now=NOW)
    assert (ev.object, ev.reason, ev.count, ev.age, ev.source, ev.warning) == (
        "pod/api-x",
        "BackOff",
        5,
        "60s",
        "kubelet, node-1",
        True,
    )
    assert ev.message == "Back-off restarting failed container"


def test_pending_deltas_coalesce() -> None:
    view = pod_view(pod(running()), now=NOW)
    pending = _Pending()
    pending.add(Delta("pods", ADDED, "a", view))
    pending.add(Delta("pods", MODIFIED, "a", view))
    pending.add(Delta("pods", MODIFIED, "b", view))
    pending.add(Delta("pods", DELETED, "b", view))
    pending.add(Delta("pods", ADDED, "c", view))
    pending.add(Delta("pods", DELETED, "c", view))
    pending.add(Delta("pods", DELETED, "d", view))
    pending.add(Delta("pods", ADDED, "d", view))
    assert [(d.key, d.type) for d in pending.take()] == [
        ("a", ADDED),
        ("b", DELETED),
        ("d", MODIFIED),
    ]


def test_last_termination_and_memory_limit_as_describe_shows_them() -> None:
    from adapters.pod_resources import last_termination, memory_limit

    status = {"containerStatuses": [
        {"name": "a", "lastState": {"terminated": {"reason": "Error", "exitCode": 1,
                                                   "finishedAt": stamp(600)}}},
        {"name": "b", "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137,
                                                   "finishedAt": stamp(60)}}},
        {"name": "c", "lastState": {}},
    ]}
    reason, finished = last_termination(status)
    assert reason == "OOMKilled" and finished == parse_time(stamp(60))
    assert last_termination({}) == ("", None)
    spec = {"containers": [{"resources": {"limits": {"memory": "512Mi"}}},
                           {"resources": {"limits": {"memory": "1G"}}},
                           {"resources": {"requests": {"memory": "2Gi"}}}]}
    assert memory_limit(spec) == 10**9
    assert memory_limit({"containers": [{"name": "x"}]}) is None
    assert memory_limit({"containers": [{"resources": {"limits": {"memory": "lots"}}}]}) is None
