"""The drill answers as kube-apiserver does where clients are easy to get wrong (issue 14):
APF's 429, an admission webhook's 403, a proxy's HTML 502, expiring continue tokens, the
watch-list parameter rules and the bookmark cadence."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from drill.list_limits import CONTINUE_EXPIRED, DEFAULT_BOOKMARK_EVERY
from tests.conftest import Drill, start_drill

PODS = "/api/v1/namespaces/shop/pods"


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    drill = start_drill(tmp_path_factory.mktemp("strict"), bookmark_every=0.3)
    yield drill
    drill.thread.stop()


@pytest.fixture
def faulty(strict: Drill) -> Iterator[Callable[..., None]]:
    def inject(fault: str, **params: object) -> None:
        with strict.http() as http:
            assert http.post("/drill/v1/faults", json={"fault": fault, **params}).is_success

    yield inject
    inject("clear")


def test_throttle_answers_like_priority_and_fairness(strict: Drill, faulty: Callable[..., None]
                                                     ) -> None:
    faulty("throttle", count=1, retry_after=2)
    with strict.http() as http:
        r = http.get(PODS)
        assert r.status_code == 429
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        assert r.text == "Too many requests, please try again later.\n"
        assert r.headers["retry-after"] == "2"
        assert r.headers["x-kubernetes-pf-flowschema-uid"]
        assert r.headers["x-kubernetes-pf-prioritylevel-uid"]
        assert http.get(PODS).status_code == 200  # count=1: the next one goes through


def test_admission_denial_is_a_status_with_the_webhook_message(
        strict: Drill, faulty: Callable[..., None]) -> None:
    faulty("deny", webhook="policy.example.com", message="[prod-freeze] frozen")
    with strict.http() as http:
        r = http.patch("/apis/apps/v1/namespaces/shop/deployments/api",
                       content=b'{"spec":{"replicas":2}}',
                       headers={"Content-Type": "application/merge-patch+json"})
        assert http.get(PODS).status_code == 200  # reads are not admitted: untouched
    assert r.status_code == 403
    assert r.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'admission webhook "policy.example.com" denied the request: '
                   "[prod-freeze] frozen",
        "reason": "Forbidden", "code": 403,
        "details": {"group": "apps", "kind": "deployments", "name": "api"}}


def test_bad_gateway_is_an_html_page(strict: Drill, faulty: Callable[..., None]) -> None:
    faulty("bad-gateway", count=1)
    with strict.http() as http:
        r = http.get(PODS)
    assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
    assert len(r.text) > 10_000 and "<h1>502 Bad Gateway</h1>" in r.text


def test_continue_tokens_expire_with_a_fresh_token(strict: Drill) -> None:
    core = client.CoreV1Api(strict.api())
    first = core.list_namespaced_pod("shop", limit=2)
    token = first.metadata._continue
    assert token and core.list_namespaced_pod("shop", limit=2, _continue=token).items
    strict.cluster.limits.continue_ttl = 0.0
    try:
        time.sleep(0.01)
        with pytest.raises(ApiException) as gone:
            core.list_namespaced_pod("shop", limit=2, _continue=token)
    finally:
        strict.cluster.limits.continue_ttl = 300.0
    status = json.loads(gone.value.body)
    assert gone.value.status == 410 and status["reason"] == "Expired"
    assert status["message"] == CONTINUE_EXPIRED
    fresh = status["metadata"]["continue"]
    assert fresh and fresh != token
    # the fresh token gives the (possibly inconsistent) remainder, as on a real server
    assert core.list_namespaced_pod("shop", limit=2, _continue=fresh).items == \
        core.list_namespaced_pod("shop", limit=2, _continue=token).items


@pytest.mark.parametrize(("query", "message"), [
    ({"sendInitialEvents": "true", "allowWatchBookmarks": "true"},
     'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
     "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"),
    ({"sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan"},
     'ListOptions.meta.k8s.io "" is invalid: allowWatchBookmarks: Forbidden: '
     "sendInitialEvents requires setting allowWatchBookmarks to true"),
    ({"resourceVersionMatch": "NotOlderThan"},
     'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
     "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"),
], ids=["no-match", "no-bookmarks", "match-alone"])
def test_watch_list_options_are_validated(strict: Drill, query: dict[str, str],
                                          message: str) -> None:
    with strict.http() as http:
        r = http.get(PODS, params={"watch": "true", **query})
    assert r.status_code == 422
    body = r.json()
    assert body["reason"] == "Invalid" and body["message"] == message
    assert body["details"]["kind"] == "ListOptions"
    assert body["details"]["group"] == "meta.k8s.io"


def test_watch_list_sends_the_state_then_the_end_bookmark_at_its_version(strict: Drill) -> None:
    core = client.CoreV1Api(strict.api())
    listed = core.list_namespaced_pod("shop")
    names, end = [], None
    with strict.http() as http, http.stream("GET", PODS, params={
            "watch": "true", "sendInitialEvents": "true", "allowWatchBookmarks": "true",
            "resourceVersionMatch": "NotOlderThan", "timeoutSeconds": "5"}) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            event = json.loads(line)
            if event["type"] == "BOOKMARK":
                end = event["object"]["metadata"]
                break
            assert event["type"] == "ADDED"
            names.append(event["object"]["metadata"]["name"])
    assert sorted(names) == sorted(p.metadata.name for p in listed.items)
    assert end is not None and end["annotations"] == {"k8s.io/initial-events-end": "true"}
    # the version of the state sent: no older than the list before it
    assert int(end["resourceVersion"]) >= int(listed.metadata.resource_version)


def test_watch_list_is_refused_where_the_gate_is_off(strict: Drill) -> None:
    """kube-apiserver before 1.32 (the WatchList gate off) refuses sendInitialEvents: 422."""
    strict.cluster.limits.watch_list = False
    try:
        with strict.http() as http:
            r = http.get(PODS, params={
                "watch": "true", "sendInitialEvents": "true", "allowWatchBookmarks": "true",
                "resourceVersionMatch": "NotOlderThan"})
    finally:
        strict.cluster.limits.watch_list = True
    assert r.status_code == 422
    assert r.json()["message"] == (
        'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: '
        "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled")


def test_bookmark_cadence_is_configurable(strict: Drill) -> None:
    assert DEFAULT_BOOKMARK_EVERY == 60.0  # a real server: about one a minute
    rv = client.CoreV1Api(strict.api()).list_namespaced_pod("shop").metadata.resource_version
    bookmarks = 0
    started = time.monotonic()
    with strict.http() as http, http.stream("GET", PODS, params={
            "watch": "true", "allowWatchBookmarks": "true", "resourceVersion": rv,
            "timeoutSeconds": "2"}) as r:
        for line in r.iter_lines():
            if json.loads(line)["type"] == "BOOKMARK":
                bookmarks += 1
                if bookmarks == 3:
                    break
    assert bookmarks == 3 and time.monotonic() - started < 2.0


def test_the_python_client_still_watches(strict: Drill) -> None:
    core = client.CoreV1Api(strict.api())
    events = list(watch.Watch().stream(core.list_namespaced_pod, "shop", timeout_seconds=1))
    assert events and all(e["type"] == "ADDED" for e in events)
