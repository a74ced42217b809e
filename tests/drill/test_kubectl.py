"""Real kubectl (oldest and newest on the machine) against the drill cluster.

Each test asserts on the cluster state that results, not only on kubectl's exit code.
"""

from __future__ import annotations

import json
import queue
import threading

import pytest
from kubernetes import client

from tests.conftest import Drill, Kubectl, wait_for

from .kube_helpers import (
    deployment_settled,
    image_of,
    make_deployment,
    make_namespace,
    pods_of,
    revision,
    unique,
)

pytestmark = pytest.mark.kubectl


@pytest.fixture
def ns(drill: Drill, kubectl: Kubectl) -> str:
    return make_namespace(drill.api(), unique(f"k{kubectl.version.replace('.', '')}"))


def _settled(drill: Drill, ns: str, name: str) -> None:
    api = drill.api()
    wait_for(lambda: deployment_settled(api, ns, name), message=f"{ns}/{name} settled")


def test_get_pods_shows_server_side_columns(drill: Drill, kubectl: Kubectl) -> None:
    out = kubectl.run("get", "pods", "-n", "shop").stdout
    header = out.splitlines()[0].split()
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    api_pods = pods_of(drill.api(), "shop", "api")
    assert api_pods, "seeded shop/api pods"
    for pod in api_pods:
        line = next(line for line in out.splitlines() if line.startswith(pod.metadata.name))
        assert "Running" in line and "1/1" in line


def test_get_deploy_wide(drill: Drill, kubectl: Kubectl) -> None:
    out = kubectl.run("get", "deploy", "-n", "shop", "-o", "wide").stdout
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert "IMAGES" in lines[0] and "SELECTOR" in lines[0]
    api_line = next(line for line in lines if line.startswith("api "))
    d = client.AppsV1Api(drill.api()).read_namespaced_deployment("api", "shop")
    assert f"{d.status.ready_replicas}/{d.spec.replicas}" in api_line
    assert d.spec.template.spec.containers[0].image in api_line
    assert "app=api" in api_line


def test_get_json_is_plain_object(drill: Drill, kubectl: Kubectl) -> None:
    data = json.loads(kubectl.run("get", "deploy", "api", "-n", "shop", "-o", "json").stdout)
    assert data["kind"] == "Deployment" and data["metadata"]["name"] == "api"


def test_get_pods_watch_sees_a_change(drill: Drill, kubectl: Kubectl, ns: str) -> None:
    api = drill.api()
    make_deployment(api, ns, "w", replicas=1)
    _settled(drill, ns, "w")
    existing = {p.metadata.name for p in pods_of(api, ns, "w")}
    proc = kubectl.popen("get", "pods", "-n", ns, "-w")
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        assert "STATUS" in lines.get(timeout=30)
        assert lines.get(timeout=30).split()[0] in existing
        client.AppsV1Api(api).patch_namespaced_deployment_scale("w", ns, {"spec": {"replicas": 2}})
        new_pod_lines = []
        while not new_pod_lines:
            line = lines.get(timeout=30)
            if line.split()[0] not in existing:
                new_pod_lines.append(line)
        assert new_pod_lines[0].startswith("w-")
    finally:
        proc.kill()
        proc.communicate()


def test_describe_deployment(drill: Drill, kubectl: Kubectl) -> None:
    out = kubectl.run("describe", "deployment", "api", "-n", "shop").stdout
    assert "Name:" in out and "api" in out
    assert "Replicas:" in out and "desired" in out
    assert "NewReplicaSet:" in out
    d = client.AppsV1Api(drill.api()).read_namespaced_deployment("api", "shop")
    assert d.spec.template.spec.containers[0].image in out


def test_scale_creates_ready_pods(drill: Drill, kubectl: Kubectl, ns: str) -> None:
    api = drill.api()
    make_deployment(api, ns, "s", replicas=2)
    _settled(drill, ns, "s")
    kubectl.run("scale", "deployment/s", "--replicas=5", "-n", ns)
    wait_for(lambda: deployment_settled(api, ns, "s"), message="scaled to 5")
    pods = pods_of(api, ns, "s")
    assert len(pods) == 5
    assert all(any(c.type == "Ready" and c.status == "True" for c in p.status.conditions)
               for p in pods)


def test_rollout_status_returns_on_completion(drill: Drill, kubectl: Kubectl, ns: str) -> None:
    api = drill.api()
    make_deployment(api, ns, "rs", replicas=3)
    _settled(drill, ns, "rs")
    kubectl.run("set", "image", "deployment/rs", "app=registry.local/demo:2.0", "-n", ns)
    out = kubectl.run("rollout", "status", "deployment/rs", "-n", ns, "--timeout=60s").stdout
    assert "successfully rolled out" in out
    assert deployment_settled(api, ns, "rs")
    assert all(p.spec.containers[0].image.endswith(":2.0") for p in pods_of(api, ns, "rs")
               if not p.metadata.deletion_timestamp)


def test_rollout_history_lists_revisions(drill: Drill, kubectl: Kubectl, ns: str) -> None:
    api = drill.api()
    make_deployment(api, ns, "h", replicas=1, cause="first")
    _settled(drill, ns, "h")
    apps = client.AppsV1Api(api)
    apps.patch_namespaced_deployment("h", ns, {
        "metadata": {"annotations": {"kubernetes.io/change-cause": "second"}},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.local/demo:2.0"}]}}}})
    _settled(drill, ns, "h")
    out = kubectl.run("rollout", "history", "deployment/h", "-n", ns).stdout
    rows = [line.split(None, 1) for line in out.splitlines() if line[:1].isdigit()]
    assert [r[0] for r in rows] == ["1", "2"]
    assert rows[0][1].strip() == "first" and rows[1][1].strip() == "second"


def test_rollout_restart_replaces_pods(drill: Drill, kubectl: Kubectl, ns: str) -> None:
    api = drill.api()
    make_deployment(api, ns, "r", replicas=2)
    _settled(drill, ns, "r")
    before = {p.metadata.name for p in pods_of(api, ns, "r")}
    kubectl.run("rollout", "restart", "deployment/r", "-n", ns)
    d = client.AppsV1Api(api).read_namespaced_deployment("r", ns)
    assert "kubectl.kubernetes.io/restartedAt" in d.spec.template.metadata.annotations
    wait_for(lambda: deployment_settled(api, ns, "r")
             and not before & {p.metadata.name for p in pods_of(api, ns, "r")},
             message="old pods replaced")
    assert revision(api, ns, "r") == "2"
    rss = client.AppsV1Api(api).list_namespaced_replica_set(ns, label_selector="app=r").items
    assert len(rss) == 2


def test_rollout_undo_and_to_revision(drill: Drill, kubectl: Kubectl, ns: str) -> None:
    api = drill.api()
    apps = client.AppsV1Api(api)
    make_deployment(api, ns, "u", replicas=2, image="registry.local/demo:1.0")
    _settled(drill, ns, "u")
    for tag in ("2.0", "3.0"):
        apps.patch_namespaced_deployment("u", ns, {"spec": {"template": {"spec": {
            "containers": [{"name": "app", "image": f"registry.local/demo:{tag}"}]}}}})
        _settled(drill, ns, "u")
    kubectl.run("rollout", "undo", "deployment/u", "-n", ns)
    wait_for(lambda: image_of(api, ns, "u").endswith(":2.0"), message="undo to 2.0")
    _settled(drill, ns, "u")
    assert revision(api, ns, "u") == "4"
    assert all(p.spec.containers[0].image.endswith(":2.0") for p in pods_of(api, ns, "u")
               if not p.metadata.deletion_timestamp)
    kubectl.run("rollout", "undo", "deployment/u", "-n", ns, "--to-revision=1")
    wait_for(lambda: image_of(api, ns, "u").endswith(":1.0"), message="undo to revision 1")
    _settled(drill, ns, "u")
    assert revision(api, ns, "u") == "5"
    missing = kubectl.run("rollout", "undo", "deployment/u", "-n", ns, "--to-revision=42",
                          check=False)
    assert missing.returncode != 0 and "42" in missing.stderr


def test_delete_pod_is_replaced(drill: Drill, kubectl: Kubectl, ns: str) -> None:
    api = drill.api()
    make_deployment(api, ns, "d", replicas=2)
    _settled(drill, ns, "d")
    victim = pods_of(api, ns, "d")[0].metadata.name
    kubectl.run("delete", "pod", victim, "-n", ns, "--wait=true", timeout=60)
    wait_for(lambda: victim not in {p.metadata.name for p in pods_of(api, ns, "d")},
             message="pod gone")
    wait_for(lambda: deployment_settled(api, ns, "d"), message="replacement ready")
    assert len(pods_of(api, ns, "d")) == 2


def test_logs(drill: Drill, kubectl: Kubectl) -> None:
    pod = pods_of(drill.api(), "shop", "api")[0].metadata.name
    out = kubectl.run("logs", pod, "-n", "shop", "-c", "api").stdout
    assert out.strip(), "logs are not empty"
    tail = kubectl.run("logs", pod, "-n", "shop", "-c", "api", "--tail=2").stdout
    assert len(tail.strip().splitlines()) == 2


def test_auth_can_i(drill: Drill, kubectl: Kubectl) -> None:
    result = kubectl.run("auth", "can-i", "patch", "deployments", "-n", "shop")
    assert result.stdout.strip() == "yes"


def test_auth_can_i_denied_for_restricted_token(drill: Drill, kubectl: Kubectl, tmp_path) -> None:
    token = unique("viewer-token")
    drill.call(drill.cluster.access.add_token, token, "viewer", {("patch", "deployments")})
    kubeconfig = drill.call(lambda: drill.cluster.write_kubeconfig(tmp_path / "viewer.yaml",
                                                                   token=token))
    viewer = Kubectl(kubectl.binary, kubectl.version, kubeconfig, kubectl.cache_dir)
    denied = viewer.run("auth", "can-i", "patch", "deployments", "-n", "shop", check=False)
    assert denied.stdout.strip() == "no" and denied.returncode == 1
    assert viewer.run("auth", "can-i", "get", "pods", "-n", "shop").stdout.strip() == "yes"
    refused = viewer.run("scale", "deployment/api", "--replicas=9", "-n", "shop", check=False)
    assert refused.returncode != 0 and "forbidden" in refused.stderr.lower()
    assert client.AppsV1Api(drill.api()).read_namespaced_deployment("api", "shop").spec.replicas != 9


def test_no_token_is_unauthorized(drill: Drill, kubectl: Kubectl, tmp_path) -> None:
    kubeconfig = drill.call(lambda: drill.cluster.write_kubeconfig(tmp_path / "bad.yaml",
                                                                   token="wrong"))
    anon = Kubectl(kubectl.binary, kubectl.version, kubeconfig, kubectl.cache_dir)
    result = anon.run("get", "pods", "-n", "shop", check=False)
    assert result.returncode != 0
    assert "Unauthorized" in result.stderr or "credentials" in result.stderr
