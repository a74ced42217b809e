"""Our actions next to real kubectl's on identical deployments: same results, same words."""

from __future__ import annotations

import pytest
from kubernetes import client

from adapters.errors import Invalid
from adapters.kubernetes import KubeClient
from tests.conftest import Drill, Kubectl, wait_for
from tests.drill.kube_helpers import deployment_settled, make_deployment, make_namespace, unique

pytestmark = pytest.mark.kubectl


def settle(drill: Drill, namespace: str, name: str) -> None:
    wait_for(lambda: deployment_settled(drill.api(), namespace, name), message="settled")


def with_history(drill: Drill, namespace: str, name: str) -> None:
    make_deployment(drill.api(), namespace, name, replicas=1, image="registry.local/demo:1.0",
                    cause="deploy 1.0")
    settle(drill, namespace, name)
    for version in ("2.0", "3.0"):
        client.AppsV1Api(drill.api()).patch_namespaced_deployment(name, namespace, {
            "metadata": {"annotations": {"kubernetes.io/change-cause": f"deploy {version}"}},
            "spec": {"template": {"spec": {"containers": [
                {"name": "app", "image": f"registry.local/demo:{version}"}]}}}})
        settle(drill, namespace, name)


def state(drill: Drill, namespace: str, name: str) -> tuple[object, ...]:
    d = client.AppsV1Api(drill.api()).read_namespaced_deployment(name, namespace)
    annotations = dict(d.metadata.annotations or {})
    labels = dict(d.spec.template.metadata.labels or {})
    labels.pop("app", None)
    return (d.spec.template.spec.containers[0].image, annotations, labels)


def test_undo_matches_kubectl(drill: Drill, kubectl: Kubectl) -> None:
    ns = make_namespace(drill.api(), unique("parity"))
    with_history(drill, ns, "theirs")
    with_history(drill, ns, "ours")
    kube = KubeClient.connect(str(drill.kubeconfig))

    out = kubectl.run("rollout", "undo", "deployment/theirs", "-n", ns).stdout
    assert "rolled back" in out
    kube.undo(ns, "ours")
    settle(drill, ns, "theirs")
    settle(drill, ns, "ours")
    assert state(drill, ns, "theirs") == state(drill, ns, "ours")
    assert [(h.revision, h.change_cause) for h in kube.history(ns, "theirs")] == [
        (h.revision, h.change_cause) for h in kube.history(ns, "ours")]

    out = kubectl.run("rollout", "undo", "deployment/theirs", "-n", ns, "--to-revision=1").stdout
    kube.undo(ns, "ours", to_revision=1)
    settle(drill, ns, "theirs")
    settle(drill, ns, "ours")
    assert state(drill, ns, "theirs") == state(drill, ns, "ours")

    current = kube.get_deployment(ns, "ours").revision
    theirs = kubectl.run("rollout", "undo", "deployment/theirs", "-n", ns,
                         f"--to-revision={current}").stdout
    ours = kube.undo(ns, "ours", to_revision=current)
    assert ours.message in theirs  # "skipped rollback (current template already matches ...)"


def test_history_and_refusals_match_kubectl(drill: Drill, kubectl: Kubectl) -> None:
    ns = make_namespace(drill.api(), unique("parity"))
    with_history(drill, ns, "h")
    kube = KubeClient.connect(str(drill.kubeconfig))
    printed = kubectl.run("rollout", "history", "deployment/h", "-n", ns).stdout
    rows = [line.split(None, 1) for line in printed.splitlines()[2:] if line.strip()]
    assert [(int(r[0]), r[1].strip()) for r in rows] == [
        (h.revision, h.change_cause) for h in kube.history(ns, "h")]

    make_deployment(drill.api(), ns, "single", replicas=1)
    settle(drill, ns, "single")
    failed = kubectl.run("rollout", "undo", "deployment/single", "-n", ns, check=False)
    assert failed.returncode != 0
    with pytest.raises(Invalid) as error:
        kube.undo(ns, "single")
    assert 'no rollout history found for deployment "single"' in failed.stderr
    assert 'no rollout history found for deployment "single"' in error.value.message


def test_restart_and_status_match_kubectl(drill: Drill, kubectl: Kubectl) -> None:
    ns = make_namespace(drill.api(), unique("parity"))
    for name in ("theirs", "ours"):
        make_deployment(drill.api(), ns, name, replicas=2)
        settle(drill, ns, name)
    kube = KubeClient.connect(str(drill.kubeconfig))
    kubectl.run("rollout", "restart", "deployment/theirs", "-n", ns)
    kube.restart(ns, "ours")
    apps = client.AppsV1Api(drill.api())
    theirs = apps.read_namespaced_deployment("theirs", ns).spec.template.metadata.annotations
    ours = apps.read_namespaced_deployment("ours", ns).spec.template.metadata.annotations
    assert set(theirs) == set(ours) == {"kubectl.kubernetes.io/restartedAt"}
    assert len(theirs["kubectl.kubernetes.io/restartedAt"]) == len(
        ours["kubectl.kubernetes.io/restartedAt"])  # same RFC3339 shape
    printed = kubectl.run("rollout", "status", "deployment/theirs", "-n", ns,
                          "--timeout=60s").stdout.strip().splitlines()
    final = list(kube.rollout_status(ns, "ours", timeout=60))[-1]
    assert printed[-1] == final.message.replace('"ours"', '"theirs"')
