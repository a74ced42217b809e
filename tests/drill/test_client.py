"""The official kubernetes Python client against the drill cluster, over real HTTP."""

from __future__ import annotations

import json

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from tests.conftest import Drill, wait_for

from .kube_helpers import deployment_settled, make_deployment, make_namespace, pods_of, unique


def test_version_and_discovery(drill: Drill) -> None:
    info = client.VersionApi(drill.api()).get_code()
    assert info.major == "1" and info.git_version.startswith("v1.")
    groups = client.ApisApi(drill.api()).get_api_versions()
    assert {g.name for g in groups.groups} >= {"apps", "authorization.k8s.io"}
    resources = client.AppsV1Api(drill.api()).get_api_resources()
    scale = next(r for r in resources.resources if r.name == "deployments/scale")
    assert (scale.group, scale.version, scale.kind) == ("autoscaling", "v1", "Scale")


def test_list_with_selectors_and_pages(drill: Drill) -> None:
    core = client.CoreV1Api(drill.api())
    pods = core.list_namespaced_pod("shop", label_selector="app=api").items
    assert pods and all(p.metadata.labels["app"] == "api" for p in pods)
    not_api = core.list_namespaced_pod("shop", label_selector="app!=api").items
    assert not_api and all(p.metadata.labels["app"] != "api" for p in not_api)
    in_set = core.list_namespaced_pod("shop", label_selector="app in (api,web)").items
    assert {p.metadata.labels["app"] for p in in_set} == {"api", "web"}
    one = core.list_namespaced_pod("shop", field_selector=f"metadata.name={pods[0].metadata.name}")
    assert [p.metadata.name for p in one.items] == [pods[0].metadata.name]
    everything = core.list_pod_for_all_namespaces().items
    seen: list[str] = []
    token = None
    while True:
        page = core.list_pod_for_all_namespaces(limit=3, _continue=token)
        seen += [p.metadata.name for p in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert sorted(seen) == sorted(p.metadata.name for p in everything)
    with pytest.raises(ApiException) as bad:
        core.list_namespaced_pod("shop", label_selector="app in (")
    assert bad.value.status == 400


def test_errors_are_status_objects(drill: Drill) -> None:
    apps = client.AppsV1Api(drill.api())
    with pytest.raises(ApiException) as missing:
        apps.read_namespaced_deployment("nope", "shop")
    status = json.loads(missing.value.body)
    assert missing.value.status == 404
    assert status["kind"] == "Status" and status["reason"] == "NotFound"
    assert status["message"] == 'deployments.apps "nope" not found'


def test_update_with_stale_resource_version_conflicts(drill: Drill) -> None:
    api = drill.api()
    ns = make_namespace(api, unique("conflict"))
    make_deployment(api, ns, "c", replicas=1)
    apps = client.AppsV1Api(api)
    stale = apps.read_namespaced_deployment("c", ns)
    apps.patch_namespaced_deployment("c", ns, {"metadata": {"labels": {"touched": "yes"}}})
    stale.spec.replicas = 3
    with pytest.raises(ApiException) as conflict:
        apps.replace_namespaced_deployment("c", ns, stale)
    assert conflict.value.status == 409
    assert "the object has been modified" in json.loads(conflict.value.body)["message"]
    # read-modify-write as client-go's RetryOnConflict does: the deployment controller may
    # write the status (a new resourceVersion) between the read and the replace
    for attempt in range(5):
        fresh = apps.read_namespaced_deployment("c", ns)
        fresh.spec.replicas = 3
        try:
            replaced = apps.replace_namespaced_deployment("c", ns, fresh)
            break
        except ApiException as again:
            if again.status != 409 or attempt == 4:
                raise
    assert replaced.spec.replicas == 3


def test_three_patch_types(drill: Drill) -> None:
    api = drill.api()
    ns = make_namespace(api, unique("patch"))
    make_deployment(api, ns, "p", replicas=1)
    apps = client.AppsV1Api(api)
    # strategic merge (dict body): containers merge by name, so the port survives
    apps.patch_namespaced_deployment("p", ns, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "env": [{"name": "MODE", "value": "safe"}]}]}}}})
    d = apps.read_namespaced_deployment("p", ns)
    container = d.spec.template.spec.containers[0]
    assert container.env[0].value == "safe" and container.ports[0].container_port == 8080
    # json patch (list body)
    apps.patch_namespaced_deployment("p", ns, [
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "x:9"}])
    assert apps.read_namespaced_deployment("p", ns).spec.template.spec.containers[0].image == "x:9"
    # merge patch through raw HTTP: null deletes a key
    url = f"/apis/apps/v1/namespaces/{ns}/deployments/p"
    r = drill.http().patch(url, content=json.dumps({"metadata": {"labels": {"app": None, "k": "v"}}}),
                           headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200, r.text
    assert r.json()["metadata"]["labels"] == {"k": "v"}
    r = drill.http().patch(url, content="{}",
                           headers={"Content-Type": "application/apply-patch+yaml"})
    assert r.status_code == 415


def test_scale_subresource(drill: Drill) -> None:
    api = drill.api()
    ns = make_namespace(api, unique("scale"))
    make_deployment(api, ns, "s", replicas=1)
    apps = client.AppsV1Api(api)
    scale = apps.patch_namespaced_deployment_scale("s", ns, {"spec": {"replicas": 4}})
    assert scale.spec.replicas == 4 and scale.status.selector == "app=s"
    wait_for(lambda: deployment_settled(api, ns, "s"), message="4 ready")
    assert len(pods_of(api, ns, "s")) == 4
    with pytest.raises(ApiException) as bad:
        apps.patch_namespaced_deployment_scale("s", ns, {"spec": {"replicas": "five"}})
    assert bad.value.status == 422
    with pytest.raises(ApiException) as negative:
        apps.patch_namespaced_deployment_scale("s", ns, {"spec": {"replicas": -1}})
    assert negative.value.status == 422
    assert apps.read_namespaced_deployment_scale("s", ns).spec.replicas == 4


def test_dry_run_does_not_persist(drill: Drill) -> None:
    api = drill.api()
    ns = make_namespace(api, unique("dry"))
    make_deployment(api, ns, "d", replicas=1)
    apps = client.AppsV1Api(api)
    apps.patch_namespaced_deployment("d", ns, {"spec": {"replicas": 7}}, dry_run="All")
    assert apps.read_namespaced_deployment("d", ns).spec.replicas == 1


def test_watch_streams_changes_and_resumes(drill: Drill) -> None:
    api = drill.api()
    ns = make_namespace(api, unique("watch"))
    core = client.CoreV1Api(api)
    listing = core.list_namespaced_pod(ns)
    make_deployment(api, ns, "w", replicas=2)
    names: set[str] = set()
    last_rv = listing.metadata.resource_version
    for event in watch.Watch().stream(core.list_namespaced_pod, ns,
                                      resource_version=last_rv, timeout_seconds=10):
        names.add(event["object"].metadata.name)
        last_rv = event["object"].metadata.resource_version
        if len(names) >= 2:
            break
    assert len(names) == 2
    # resume from the last seen resourceVersion: only later events arrive
    client.AppsV1Api(api).patch_namespaced_deployment_scale("w", ns, {"spec": {"replicas": 3}})
    later = []
    for event in watch.Watch().stream(core.list_namespaced_pod, ns,
                                      resource_version=last_rv, timeout_seconds=10):
        assert int(event["object"].metadata.resource_version) > int(last_rv)
        later.append(event)
        if event["type"] == "ADDED":
            break
    assert later[-1]["object"].metadata.name not in names


def test_watch_too_old_resource_version_is_410(drill: Drill) -> None:
    api = drill.api()
    core = client.CoreV1Api(api)
    drill.call(drill.cluster.store.compact)
    ns = make_namespace(api, unique("gone"))
    with pytest.raises(ApiException) as gone:
        for _ in watch.Watch().stream(core.list_namespaced_pod, ns, resource_version="1",
                                      timeout_seconds=5):
            pass
    assert gone.value.status == 410
    # the client's remedy: relist, then watch from the list's resourceVersion
    fresh = core.list_namespaced_pod(ns).metadata.resource_version
    make_deployment(api, ns, "g", replicas=1)
    event = next(iter(watch.Watch().stream(core.list_namespaced_pod, ns,
                                           resource_version=fresh, timeout_seconds=10)))
    assert event["type"] == "ADDED"


def test_watch_bookmarks_and_watch_list(drill: Drill) -> None:
    url = "/api/v1/namespaces/shop/pods"
    params = {"watch": "true", "sendInitialEvents": "true", "allowWatchBookmarks": "true",
              "resourceVersionMatch": "NotOlderThan", "timeoutSeconds": "2"}
    events = []
    with drill.http().stream("GET", url, params=params) as r:
        assert r.headers["content-type"].startswith("application/json")
        for line in r.iter_lines():
            events.append(json.loads(line))
            if events[-1]["type"] == "BOOKMARK":
                break
    assert events[-1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true"
    added = [e for e in events if e["type"] == "ADDED"]
    assert len(added) == len(client.CoreV1Api(drill.api()).list_namespaced_pod("shop").items)


def test_table_output(drill: Drill) -> None:
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    r = drill.http().get("/apis/apps/v1/namespaces/shop/deployments",
                         headers={"Accept": accept})
    table = r.json()
    assert table["kind"] == "Table"
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names[:5] == ["Name", "Ready", "Up-to-date", "Available", "Age"]
    assert {row["cells"][0] for row in table["rows"]} == {"api", "web", "worker"}
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_unauthorized_and_forbidden(drill: Drill) -> None:
    r = drill.http(token=None).get("/api/v1/namespaces/shop/pods")
    assert r.status_code == 401 and r.json()["reason"] == "Unauthorized"
    token = unique("ro")
    drill.call(drill.cluster.access.add_token, token, "ro", {("delete", "pods")})
    r = drill.http(token=token).delete("/api/v1/namespaces/shop/pods/whatever")
    assert r.status_code == 403
    assert r.json()["message"].startswith('pods is forbidden: User "ro" cannot delete')


def test_self_subject_access_review_json(drill: Drill) -> None:
    review = client.AuthorizationV1Api(drill.api()).create_self_subject_access_review({
        "spec": {"resourceAttributes": {"verb": "delete", "resource": "pods", "namespace": "shop"}}})
    assert review.status.allowed is True


def test_events_for_describe(drill: Drill) -> None:
    api = drill.api()
    ns = make_namespace(api, unique("ev"))
    d = make_deployment(api, ns, "e", replicas=1)
    wait_for(lambda: deployment_settled(api, ns, "e"), message="settled")
    selector = (f"involvedObject.name=e,involvedObject.namespace={ns},"
                f"involvedObject.kind=Deployment,involvedObject.uid={d.metadata.uid}")
    events = client.CoreV1Api(api).list_namespaced_event(ns, field_selector=selector).items
    assert any(e.reason == "ScalingReplicaSet" for e in events)


def test_logs_previous_without_restart_is_400(drill: Drill) -> None:
    core = client.CoreV1Api(drill.api())
    pod = core.list_namespaced_pod("shop", label_selector="app=web").items[0]
    assert core.read_namespaced_pod_log(pod.metadata.name, "shop").strip()
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log(pod.metadata.name, "shop", previous=True)
    assert err.value.status == 400


def test_continue_resumes_after_the_last_listed_key(drill: Drill) -> None:
    """A page starts after the last object of the previous one, whatever was deleted
    meanwhile (an offset would skip "c" once "a" has gone)."""
    core = client.CoreV1Api(drill.api())
    ns = make_namespace(drill.api(), unique("pages"))
    for name in ("a", "b", "c", "d"):
        core.create_namespaced_pod(ns, {"metadata": {"name": name},
                                        "spec": {"containers": [{"name": "c", "image": "i"}]}})
    first = core.list_namespaced_pod(ns, limit=2)
    assert [p.metadata.name for p in first.items] == ["a", "b"]
    core.delete_namespaced_pod("a", ns, grace_period_seconds=0)
    wait_for(lambda: len(core.list_namespaced_pod(ns).items) == 3, message="a deleted")
    rest = core.list_namespaced_pod(ns, limit=2, _continue=first.metadata._continue)
    assert [p.metadata.name for p in rest.items] == ["c", "d"]
    assert not rest.metadata._continue
    with pytest.raises(ApiException) as bad:
        core.list_namespaced_pod(ns, limit=2, _continue="not-a-token")
    assert bad.value.status == 400
