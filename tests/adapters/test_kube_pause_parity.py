"""`kubectl rollout pause/resume` (oldest and newest kubectl) next to our pause and resume on
identical deployments of the drill cluster: the same object state, the same refusals, and
kubectl's `get` / `rollout status` read our paused object as they read theirs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client

from adapters.errors import Invalid
from adapters.kubernetes import KubeClient
from tests.conftest import Drill, Kubectl, wait_for
from tests.drill.kube_helpers import deployment_settled, make_deployment, make_namespace, unique

pytestmark = pytest.mark.kubectl
NEW_IMAGE = "registry.local/demo:2.0"


def settle(drill: Drill, namespace: str, name: str) -> None:
    wait_for(lambda: deployment_settled(drill.api(), namespace, name), message="settled")


def raw(drill: Drill, namespace: str, name: str) -> dict[str, Any]:
    apps = client.AppsV1Api(drill.api())
    response = apps.read_namespaced_deployment(name, namespace, _preload_content=False)
    return json.loads(response.data)


def observed(drill: Drill, namespace: str, name: str) -> dict[str, Any]:
    """The deployment once its controller has seen its latest spec."""
    return wait_for(lambda: (d := raw(drill, namespace, name))["status"].get(
        "observedGeneration") == d["metadata"]["generation"] and d, message=f"{name} observed")


def state(obj: dict[str, Any]) -> tuple[Any, ...]:
    """What pause and resume decide: spec.paused as stored (absent vs true), the
    generation, the Progressing condition and the rollout's numbers."""
    status = obj["status"]
    progressing = next((c for c in status.get("conditions", []) if c["type"] == "Progressing"),
                       {})
    return (obj["spec"].get("paused", "absent"), obj["metadata"]["generation"],
            progressing.get("status"), progressing.get("reason"),
            status.get("updatedReplicas", 0), status.get("replicas", 0),
            obj["metadata"]["annotations"].get("deployment.kubernetes.io/revision"))


def set_image(drill: Drill, namespace: str, name: str) -> None:
    client.AppsV1Api(drill.api()).patch_namespaced_deployment(name, namespace, {
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": NEW_IMAGE}]}}}})


def test_pause_and_resume_match_kubectl(drill: Drill, kubectl: Kubectl) -> None:
    ns = make_namespace(drill.api(), unique(f"pause{kubectl.version.replace('.', '')}"))
    for name in ("theirs", "ours"):
        make_deployment(drill.api(), ns, name, replicas=2)
        settle(drill, ns, name)
    kube = KubeClient.connect(str(drill.kubeconfig))

    assert kubectl.run("rollout", "pause", "deployment/theirs", "-n", ns).stdout.strip() == (
        "deployment.apps/theirs paused")
    assert kube.pause(ns, "ours").message == "deployment.apps/ours paused"
    theirs, ours = observed(drill, ns, "theirs"), observed(drill, ns, "ours")
    assert state(theirs) == state(ours)
    assert state(ours)[:4] == (True, 2, "Unknown", "DeploymentPaused")

    # pausing twice: kubectl's refusal, word for word, and nothing sent
    again = kubectl.run("rollout", "pause", "deployment/theirs", "-n", ns, check=False)
    assert again.returncode == 1
    with pytest.raises(Invalid) as refused:
        kube.pause(ns, "ours")
    assert 'deployments.apps "theirs" is already paused' in again.stderr
    assert refused.value.message == 'deployments.apps "ours" is already paused'
    assert raw(drill, ns, "ours")["metadata"]["generation"] == 2

    # while paused a template change does not roll out; kubectl get and rollout status read
    # our paused object as they read theirs
    for name in ("theirs", "ours"):
        set_image(drill, ns, name)
    theirs, ours = observed(drill, ns, "theirs"), observed(drill, ns, "ours")
    assert state(theirs) == state(ours)
    assert state(ours)[:5] == (True, 3, "Unknown", "DeploymentPaused", 0)
    for name in ("theirs", "ours"):
        rss = client.AppsV1Api(drill.api()).list_namespaced_replica_set(
            ns, label_selector=f"app={name}").items
        assert len(rss) == 1  # no new ReplicaSet while paused
        got = kubectl.run("get", "deployment", name, "-n", ns).stdout.splitlines()
        assert got[1].split()[:4] == [name, "2/2", "0", "2"]  # READY, UP-TO-DATE, AVAILABLE
        waiting = kubectl.run("rollout", "status", f"deployment/{name}", "-n", ns,
                              "--timeout=2s", check=False)
        assert waiting.returncode != 0  # a paused rollout does not finish
        assert (f'Waiting for deployment "{name}" rollout to finish: 0 out of 2 new replicas '
                "have been updated...") in waiting.stdout
    first = next(iter(kube.rollout_status(ns, "ours", timeout=1)))
    assert (first.state, first.message) == (
        "paused", 'Waiting for deployment "ours" rollout to finish: 0 out of 2 new replicas '
        "have been updated...")

    # resume: spec.paused is gone (kubectl's patch is {"spec":{"paused":null}}) and the
    # rollout that waited runs to the end
    assert kubectl.run("rollout", "resume", "deployment/theirs", "-n", ns).stdout.strip() == (
        "deployment.apps/theirs resumed")
    assert kube.resume(ns, "ours").message == "deployment.apps/ours resumed"
    for name in ("theirs", "ours"):
        settle(drill, ns, name)
    theirs, ours = observed(drill, ns, "theirs"), observed(drill, ns, "ours")
    assert state(theirs) == state(ours)
    assert state(ours) == ("absent", 4, "True", "NewReplicaSetAvailable", 2, 2, "2")
    done = kubectl.run("rollout", "status", "deployment/ours", "-n", ns, "--timeout=30s")
    assert 'deployment "ours" successfully rolled out' in done.stdout

    # resuming what is not paused: kubectl's refusal
    again = kubectl.run("rollout", "resume", "deployment/theirs", "-n", ns, check=False)
    assert again.returncode == 1
    with pytest.raises(Invalid) as refused:
        kube.resume(ns, "ours")
    assert 'deployments.apps "theirs" is not paused' in again.stderr
    assert refused.value.message == 'deployments.apps "ours" is not paused'


def test_kubectl_refuses_undo_and_restart_of_our_paused_deployment(
        drill: Drill, kubectl: Kubectl) -> None:
    """kubectl's own client-side checks see our pause: undo and restart refused."""
    ns = make_namespace(drill.api(), unique(f"pausedundo{kubectl.version.replace('.', '')}"))
    make_deployment(drill.api(), ns, "p", replicas=1)
    settle(drill, ns, "p")
    set_image(drill, ns, "p")
    settle(drill, ns, "p")
    kube = KubeClient.connect(str(drill.kubeconfig))
    kube.pause(ns, "p")
    undo = kubectl.run("rollout", "undo", "deployment/p", "-n", ns, check=False)
    assert undo.returncode != 0 and "you cannot rollback a paused deployment" in undo.stderr
    restart = kubectl.run("rollout", "restart", "deployment/p", "-n", ns, check=False)
    assert restart.returncode != 0 and "can't restart paused deployment" in restart.stderr
    with pytest.raises(Invalid) as ours:
        kube.undo(ns, "p")
    assert "you cannot rollback a paused deployment" in ours.value.message
    assert raw(drill, ns, "p")["spec"]["template"]["spec"]["containers"][0]["image"] == NEW_IMAGE
