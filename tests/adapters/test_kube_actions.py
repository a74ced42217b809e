"""Actions against the drill cluster over real HTTP: kubectl semantics and every error path."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from adapters.errors import (
    AdapterError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Timeout,
    Unauthorized,
    Unreachable,
)
from adapters.kube_rollouts import RolloutSnapshot
from adapters.kubernetes import KubeClient
from tests.conftest import Drill, wait_for
from tests.drill.kube_helpers import (
    deployment_settled,
    make_deployment,
    make_namespace,
    unique,
)


@pytest.fixture(scope="module")
def kube(drill: Drill) -> Iterator[KubeClient]:
    with KubeClient.connect(str(drill.kubeconfig)) as k:
        yield k


@pytest.fixture
def ns(drill: Drill) -> str:
    return make_namespace(drill.api(), unique("act"))


def settle(drill: Drill, namespace: str, name: str) -> None:
    wait_for(lambda: deployment_settled(drill.api(), namespace, name),
             message=f"{namespace}/{name} settled")


def set_image(drill: Drill, namespace: str, name: str, image: str, cause: str) -> None:
    client.AppsV1Api(drill.api()).patch_namespaced_deployment(name, namespace, {
        "metadata": {"annotations": {"kubernetes.io/change-cause": cause}},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}})


def three_revisions(drill: Drill, namespace: str, name: str = "app") -> None:
    """Revisions 1 (demo:1.0), 2 (demo:2.0), 3 (demo:3.0), each rolled out."""
    make_deployment(drill.api(), namespace, name, replicas=2, image="registry.local/demo:1.0",
                    cause="deploy 1.0")
    settle(drill, namespace, name)
    for version in ("2.0", "3.0"):
        set_image(drill, namespace, name, f"registry.local/demo:{version}", f"deploy {version}")
        settle(drill, namespace, name)


def restricted(drill: Drill, tmp_path: Path, denied: set[tuple[str, str]]) -> tuple[KubeClient, str]:
    token = unique("tok")
    drill.call(drill.cluster.access.add_token, token, unique("user"), denied)
    path = drill.cluster.write_kubeconfig(tmp_path / f"{token}.yaml", token=token)
    return KubeClient.connect(str(path)), token


# ---- scale ----------------------------------------------------------------------------
def test_scale(drill: Drill, kube: KubeClient, ns: str) -> None:
    make_deployment(drill.api(), ns, "s", replicas=1)
    result = kube.scale(ns, "s", 3)
    assert result.ok and result.details["from"] == 1 and result.details["to"] == 3
    assert result.message == "deployment.apps/s scaled from 1 to 3 replicas"
    assert result.duration_s > 0
    settle(drill, ns, "s")
    assert len(kube.list_pods(ns, "app=s")) == 3
    assert kube.get_deployment(ns, "s").desired == 3
    again = kube.scale(ns, "s", 3)
    assert again.ok and not again.details["changed"]
    assert kube.scale(ns, "s", 0).details["to"] == 0


@pytest.mark.parametrize("bad", [-1, "3", 2.5, True, None])
def test_scale_rejects_bad_replicas(kube: KubeClient, bad: Any) -> None:
    with pytest.raises(Invalid) as error:
        kube.scale("shop", "api", bad)
    assert ">= 0" in error.value.message


def test_scale_missing_deployment(kube: KubeClient) -> None:
    with pytest.raises(NotFound) as error:
        kube.scale("shop", "nope", 2)
    assert '"nope"' in error.value.message and "shop" in error.value.message


# ---- restart --------------------------------------------------------------------------
def test_restart_stamps_template_and_rolls_out(drill: Drill, kube: KubeClient, ns: str) -> None:
    make_deployment(drill.api(), ns, "r", replicas=2)
    settle(drill, ns, "r")
    before = {p.name for p in kube.list_pods(ns, "app=r")}
    result = kube.restart(ns, "r")
    assert result.ok and result.message == "deployment.apps/r restarted"
    stamp = result.details["restartedAt"]
    dep = client.AppsV1Api(drill.api()).read_namespaced_deployment("r", ns)
    assert dep.spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"] == stamp
    assert stamp[:4].isdigit() and "T" in stamp and (stamp.endswith("Z") or "+" in stamp
                                                     or stamp[-6] == "-")
    settle(drill, ns, "r")
    assert kube.get_deployment(ns, "r").revision == 2
    wait_for(lambda: not before & {p.name for p in kube.list_pods(ns, "app=r")},
             message="all pods replaced")


def test_restart_refuses_paused(drill: Drill, kube: KubeClient, ns: str) -> None:
    make_deployment(drill.api(), ns, "p", replicas=1)
    client.AppsV1Api(drill.api()).patch_namespaced_deployment("p", ns, {"spec": {"paused": True}})
    with pytest.raises(Invalid) as error:
        kube.restart(ns, "p")
    assert "paused" in error.value.message and "resume" in error.value.message


# ---- history / diff / undo ------------------------------------------------------------
def test_history_and_template_diff(drill: Drill, kube: KubeClient, ns: str) -> None:
    three_revisions(drill, ns)
    history = kube.history(ns, "app")
    assert [(h.revision, h.change_cause, h.images) for h in history] == [
        (1, "deploy 1.0", ("registry.local/demo:1.0",)),
        (2, "deploy 2.0", ("registry.local/demo:2.0",)),
        (3, "deploy 3.0", ("registry.local/demo:3.0",)),
    ]
    assert [h.current for h in history] == [False, False, True]
    assert all(h.name == f"app-{h.template_hash}" and h.deployment == "app" for h in history)
    assert history[-1].replicas == 2 and history[0].replicas == 0

    diff = kube.template_diff(ns, "app")  # previous revision
    assert (diff.current_revision, diff.target_revision, diff.identical) == (3, 2, False)
    assert [(c.container, c.current, c.target) for c in diff.of("image")] == [
        ("app", "registry.local/demo:3.0", "registry.local/demo:2.0")]
    assert [(c.current, c.target) for c in diff.of("change-cause")] == [("deploy 3.0", "deploy 2.0")]
    assert diff.lines()[0] == "image app: registry.local/demo:3.0 -> registry.local/demo:2.0"
    assert diff.target_replicaset == history[1].name

    client.AppsV1Api(drill.api()).patch_namespaced_deployment("app", ns, {"spec": {"template": {
        "spec": {"containers": [{"name": "app", "env": [{"name": "MODE", "value": "safe"}]}]}}}})
    settle(drill, ns, "app")
    env = kube.template_diff(ns, "app", 1).of("env")
    assert [(c.container, c.name, c.current, c.target) for c in env] == [
        ("app", "MODE", "safe", None)]
    assert kube.template_diff(ns, "app", kube.get_deployment(ns, "app").revision).identical


def test_undo_to_previous_revision_like_kubectl(drill: Drill, kube: KubeClient, ns: str) -> None:
    three_revisions(drill, ns)
    rs_of_2 = kube.history(ns, "app")[1].name
    result = kube.undo(ns, "app")
    assert result.ok and result.message == "deployment.apps/app rolled back to revision 2"
    assert result.details["attempts"] == 1 and result.details["replicaset"] == rs_of_2
    settle(drill, ns, "app")
    dep = client.AppsV1Api(drill.api()).read_namespaced_deployment("app", ns)
    assert dep.spec.template.spec.containers[0].image == "registry.local/demo:2.0"
    # the annotations come from the RS, as kubectl copies them; the controller bumps revision
    assert dep.metadata.annotations["kubernetes.io/change-cause"] == "deploy 2.0"
    assert dep.metadata.annotations["deployment.kubernetes.io/revision"] == "4"
    assert "pod-template-hash" not in (dep.spec.template.metadata.labels or {})
    history = kube.history(ns, "app")
    assert [h.revision for h in history] == [1, 3, 4]
    assert next(h for h in history if h.revision == 4).name == rs_of_2  # old RS reused
    # undo again goes back to 3 (the second-highest revision now)
    assert kube.undo(ns, "app").details["to_revision"] == 3


def test_undo_to_revision_and_skip(drill: Drill, kube: KubeClient, ns: str) -> None:
    three_revisions(drill, ns)
    result = kube.undo(ns, "app", to_revision=1)
    assert result.details["to_revision"] == 1 and result.details["changed"]
    settle(drill, ns, "app")
    assert kube.get_deployment(ns, "app").images == ("registry.local/demo:1.0",)
    current = kube.get_deployment(ns, "app").revision
    skipped = kube.undo(ns, "app", to_revision=current)
    assert skipped.ok and not skipped.details["changed"] and skipped.details["skipped"]
    assert skipped.message == (f"skipped rollback (current template already matches revision "
                               f"{current})")


def test_undo_refusals(drill: Drill, kube: KubeClient, ns: str) -> None:
    make_deployment(drill.api(), ns, "one", replicas=1)
    settle(drill, ns, "one")
    with pytest.raises(Invalid) as no_history:
        kube.undo(ns, "one")
    assert 'no rollout history found for deployment "one"' in no_history.value.message
    with pytest.raises(NotFound) as unknown:
        kube.undo(ns, "one", to_revision=42)
    assert "unable to find specified revision 42" in unknown.value.message
    assert "known revisions: 1" in unknown.value.message
    with pytest.raises(NotFound):
        kube.undo(ns, "one", to_revision=-1)
    with pytest.raises(NotFound):
        kube.undo(ns, "missing")
    set_image(drill, ns, "one", "registry.local/demo:2.0", "two")
    settle(drill, ns, "one")
    client.AppsV1Api(drill.api()).patch_namespaced_deployment("one", ns, {"spec": {"paused": True}})
    with pytest.raises(Invalid) as paused:
        kube.undo(ns, "one")
    assert "you cannot rollback a paused deployment" in paused.value.message


def test_undo_conflict_is_retried_on_fresh_state(drill: Drill, ns: str) -> None:
    three_revisions(drill, ns)
    kube = KubeClient.connect(str(drill.kubeconfig))
    races: list[str] = []

    def someone_else_writes_first(verb: str, resource: str, namespace: str, name: str) -> None:
        if not races:  # between our read and our patch, the deployment changes once
            races.append(name)

            def touch(obj: dict[str, Any]) -> None:
                obj["metadata"].setdefault("labels", {})["touched"] = "yes"

            drill.call(drill.cluster.store.mutate, "deployments", namespace, name, touch)

    kube.before_write = someone_else_writes_first
    result = kube.undo(ns, "app")
    assert races == ["app"]
    assert result.ok and result.details["attempts"] == 2 and result.details["to_revision"] == 2
    dep = client.AppsV1Api(drill.api()).read_namespaced_deployment("app", ns)
    assert dep.metadata.labels["touched"] == "yes"  # the other writer's change survives
    assert dep.spec.template.spec.containers[0].image == "registry.local/demo:2.0"


def test_conflict_gives_up_after_a_few_attempts(drill: Drill, ns: str) -> None:
    three_revisions(drill, ns)
    kube = KubeClient.connect(str(drill.kubeconfig))
    count = []

    def always_race(verb: str, resource: str, namespace: str, name: str) -> None:
        count.append(1)

        def touch(obj: dict[str, Any]) -> None:
            obj["metadata"].setdefault("labels", {})["n"] = str(len(count))

        drill.call(drill.cluster.store.mutate, "deployments", namespace, name, touch)

    kube.before_write = always_race
    with pytest.raises(Conflict) as error:
        kube.undo(ns, "app")
    assert len(count) == 5 and "changed by someone else" in error.value.message


# ---- rollout status -------------------------------------------------------------------
def test_rollout_status_follows_progress_to_completion(drill: Drill, kube: KubeClient,
                                                       ns: str) -> None:
    make_deployment(drill.api(), ns, "w", replicas=3)
    settle(drill, ns, "w")
    kube.restart(ns, "w")
    snapshots = list(kube.rollout_status(ns, "w", timeout=60))
    assert all(isinstance(s, RolloutSnapshot) for s in snapshots)
    final = snapshots[-1]
    assert final.done and final.ok and final.state == "complete"
    assert final.message == 'deployment "w" successfully rolled out'
    waiting = [s.message for s in snapshots if not s.done]
    assert waiting and all(m.startswith(('Waiting for deployment "w" rollout to finish: ',
                                         "Waiting for deployment spec update")) for m in waiting)
    assert any("updated replicas are available" in m or "new replicas have been updated" in m
               or "old replicas are pending termination" in m for m in waiting)
    assert [s.elapsed_s for s in snapshots] == sorted(s.elapsed_s for s in snapshots)
    # a finished rollout answers at once
    assert [s.state for s in kube.rollout_status(ns, "w", timeout=5)] == ["complete"]


def unavailable_deployment(drill: Drill, namespace: str, name: str, deadline: int) -> None:
    """Pods become ready but never available (minReadySeconds: 1 h), so the rollout cannot
    progress and the drill's deployment controller marks it ProgressDeadlineExceeded."""
    body = {
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"replicas": 2, "minReadySeconds": 3600, "progressDeadlineSeconds": deadline,
                 "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "app",
                                                       "image": "registry.local/demo:1.0"}]}}},
    }
    client.AppsV1Api(drill.api()).create_namespaced_deployment(namespace, body)


def test_rollout_status_reports_stall(drill: Drill, kube: KubeClient, ns: str) -> None:
    unavailable_deployment(drill, ns, "stuck", deadline=2)
    snapshots = list(kube.rollout_status(ns, "stuck", timeout=60))
    final = snapshots[-1]
    assert (final.state, final.done, final.ok) == ("stalled", True, False)
    assert final.message == 'deployment "stuck" exceeded its progress deadline'
    view = kube.get_deployment(ns, "stuck")
    assert view.rollout == "stalled"
    condition = view.condition("Progressing")
    assert condition is not None and condition.reason == "ProgressDeadlineExceeded"


def test_rollout_status_times_out(drill: Drill, kube: KubeClient, ns: str) -> None:
    unavailable_deployment(drill, ns, "slow", deadline=36000)
    snapshots = list(kube.rollout_status(ns, "slow", timeout=1.5))
    final = snapshots[-1]
    assert (final.state, final.done) == ("timeout", True)
    assert final.message.startswith('timed out after 1.5s waiting for deployment "slow"')
    assert 1.0 <= final.elapsed_s < 10


def test_rollout_status_missing_deployment(kube: KubeClient) -> None:
    with pytest.raises(NotFound):
        list(kube.rollout_status("shop", "nope", timeout=1))


# ---- pods -----------------------------------------------------------------------------
def test_delete_pod(drill: Drill, kube: KubeClient, ns: str) -> None:
    make_deployment(drill.api(), ns, "d", replicas=2)
    settle(drill, ns, "d")
    victim = kube.list_pods(ns, "app=d")[0].name
    result = kube.delete_pod(ns, victim)
    assert result.ok and result.message == f'pod "{victim}" deleted'
    wait_for(lambda: victim not in {p.name for p in kube.list_pods(ns, "app=d")},
             message="pod gone")
    settle(drill, ns, "d")
    with pytest.raises(NotFound) as error:
        kube.delete_pod(ns, victim)
    assert victim in error.value.message
    with pytest.raises(Invalid):
        kube.delete_pod(ns, victim, grace_period_seconds=-3)


def test_pod_logs(drill: Drill, kube: KubeClient, ns: str) -> None:
    make_deployment(drill.api(), ns, "l", replicas=1)
    settle(drill, ns, "l")
    pod = kube.list_pods(ns, "app=l")[0]
    text = kube.pod_logs(ns, pod.name)
    assert isinstance(text, str) and text.strip()
    tail = kube.pod_logs(ns, pod.name, container="app", tail=2)
    assert 1 <= len(tail.strip().splitlines()) <= 2
    with pytest.raises(Invalid):
        kube.pod_logs(ns, pod.name, container="nope")
    with pytest.raises(Invalid):
        kube.pod_logs(ns, pod.name, tail=-1)
    with pytest.raises(NotFound):
        kube.pod_logs(ns, "no-such-pod")


def test_list_events(drill: Drill, kube: KubeClient, ns: str) -> None:
    make_deployment(drill.api(), ns, "e", replicas=1)
    settle(drill, ns, "e")
    events = kube.list_events(ns)
    assert any(e.reason == "ScalingReplicaSet" and e.object == "deployment/e" for e in events)
    about = kube.list_events(ns, involved_name="e", involved_kind="Deployment")
    assert about and all(e.involved_name == "e" for e in about)


# ---- RBAC and credentials -------------------------------------------------------------
def test_can_i(drill: Drill, kube: KubeClient, tmp_path: Path) -> None:
    assert kube.can_i("patch", "deployments", "shop")
    assert kube.can_i("patch", "deployments", "shop", subresource="scale").allowed
    limited, _ = restricted(drill, tmp_path, {("patch", "deployments")})
    review = limited.can_i("patch", "deployments", "shop")
    assert not review and review.verb == "patch" and review.resource == "deployments"
    assert not limited.can_i("patch", "deployments/scale", "shop")
    assert limited.can_i("get", "pods", "shop")
    assert limited.can_i("delete", "pods", "shop")


def test_forbidden_actions_name_verb_and_resource(drill: Drill, kube: KubeClient, ns: str,
                                                  tmp_path: Path) -> None:
    make_deployment(drill.api(), ns, "f", replicas=1)
    settle(drill, ns, "f")
    limited, _ = restricted(drill, tmp_path, {("patch", "deployments"), ("delete", "pods")})
    with pytest.raises(Forbidden) as restart:
        limited.restart(ns, "f")
    assert f"not allowed to patch deployments in namespace {ns}" in restart.value.message
    with pytest.raises(Forbidden) as scale:
        limited.scale(ns, "f", 2)
    assert f"not allowed to patch deployments/scale in namespace {ns}" in scale.value.message
    set_image(drill, ns, "f", "registry.local/demo:2.0", "two")
    settle(drill, ns, "f")
    with pytest.raises(Forbidden):
        limited.undo(ns, "f")
    with pytest.raises(Forbidden) as delete:
        limited.delete_pod(ns, kube.list_pods(ns, "app=f")[0].name)
    assert f"not allowed to delete pods in namespace {ns}" in delete.value.message
    assert kube.get_deployment(ns, "f").desired == 1  # nothing happened
    assert limited.get_deployment(ns, "f").name == "f"  # reads still work


def test_bad_token_is_unauthorized(drill: Drill, tmp_path: Path) -> None:
    path = drill.cluster.write_kubeconfig(tmp_path / "bad.yaml", token="not-a-token")
    kube = KubeClient.connect(str(path))
    with pytest.raises(Unauthorized) as error:
        kube.list_pods("shop")
    assert "credentials" in error.value.message and error.value.detail


def test_revoked_token_is_unauthorized(drill: Drill, tmp_path: Path) -> None:
    limited, token = restricted(drill, tmp_path, set())
    assert limited.get_deployment("shop", "api").name == "api"
    drill.call(drill.cluster.access.revoke, token)
    with pytest.raises(Unauthorized):
        limited.scale("shop", "api", 3)


def test_unreachable_server(drill_factory: Any) -> None:
    d = drill_factory()
    kube = KubeClient.connect(str(d.kubeconfig))
    assert kube.get_deployment("shop", "api").name == "api"
    d.thread.stop()
    for action in (lambda: kube.scale("shop", "api", 4), lambda: kube.list_pods("shop"),
                   lambda: kube.undo("shop", "api"), lambda: kube.can_i("get", "pods", "shop")):
        with pytest.raises(Unreachable) as error:
            action()
        assert "Cannot reach the API server" in error.value.message
        assert d.cluster.url in error.value.message


def test_silent_server_times_out(tmp_path: Path) -> None:
    with socket.socket() as listener:  # accepts connections (backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        cfg = {"apiVersion": "v1", "kind": "Config",
               "clusters": [{"name": "silent", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
               "users": [{"name": "u", "user": {"token": "t"}}],
               "contexts": [{"name": "silent", "context": {"cluster": "silent", "user": "u"}}],
               "current-context": "silent"}
        path = tmp_path / "silent.yaml"
        path.write_text(yaml.safe_dump(cfg))
        kube = KubeClient.connect(str(path), request_timeout=0.5)
        with pytest.raises(Timeout) as error:
            kube.get_deployment("shop", "api")
        assert "did not answer in time" in error.value.message
        assert isinstance(error.value, AdapterError)
