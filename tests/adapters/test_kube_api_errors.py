"""Real clusters' errors through the official client (issue 14 items 6, 7, 8, 11).

A private drill cluster answers with the faults a real one sends during an incident: API
Priority and Fairness throttling (429 with Retry-After, plain text), an admission webhook's
403, an HTML 502 from a proxy, continue tokens that expire. Everything over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from adapters.errors import AdapterError, Forbidden, PolicyDenied
from adapters.informer import Informer
from adapters.kube_retry import retry_notices
from adapters.kubernetes import KubeClient
from tests.conftest import Drill, Kubectl, start_drill, wait_for
from tests.drill.kube_helpers import deployment_settled, make_deployment, make_namespace, unique


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    drill = start_drill(tmp_path_factory.mktemp("errors"))
    yield drill
    drill.thread.stop()


@pytest.fixture
def kube(private: Drill) -> Iterator[KubeClient]:
    kube = KubeClient.connect(str(private.kubeconfig))
    yield kube
    inject(private, "clear")
    kube.close()


def inject(drill: Drill, fault: str, **params: Any) -> dict[str, Any]:
    with drill.http() as http:
        response = http.post("/drill/v1/faults", json={"fault": fault, **params})
    assert response.status_code == 200, response.text
    return response.json()


def counters(drill: Drill) -> dict[str, int]:
    with drill.http() as http:
        return dict(http.get("/drill/v1/faults").json()["counters"])


def replicas(drill: Drill, namespace: str, name: str) -> int:
    return int(client.AppsV1Api(drill.api()).read_namespaced_deployment(name, namespace)
               .spec.replicas)


# ---- 6. throttling ---------------------------------------------------------------------------
def test_throttled_scale_is_retried_as_the_server_asks_and_succeeds(private: Drill,
                                                                   kube: KubeClient) -> None:
    before = counters(private).get("throttle", 0)
    inject(private, "throttle", verb="patch", count=2, retry_after=1)
    notices: list[str] = []
    with retry_notices(notices.append):
        result = kube.scale("shop", "api", 4)
    assert result.ok and result.details["to"] == 4
    assert notices == ["throttled by the API server, retrying in 1 s (attempt 2 of 5)",
                       "throttled by the API server, retrying in 1 s (attempt 3 of 5)"]
    assert counters(private)["throttle"] - before == 2
    assert replicas(private, "shop", "api") == 4


def test_throttling_that_never_stops_gives_up_with_one_clear_sentence(
        private: Drill, kube: KubeClient) -> None:
    before = counters(private).get("throttle", 0)
    inject(private, "throttle", verb="patch", retry_after=0)
    with pytest.raises(AdapterError) as failed:
        kube.restart("shop", "web")
    message = failed.value.message
    assert "throttling requests (HTTP 429 Too Many Requests)" in message
    assert "Too many requests, please try again later" in message
    assert message.endswith("Gave up after 5 attempts.")
    assert ".." not in message and ". ." not in message
    assert "HTTP 429: HTTP 429" not in message
    assert counters(private)["throttle"] - before == 5


# ---- 7. policy denials are not RBAC ----------------------------------------------------------
def test_admission_denial_shows_the_webhook_and_its_message(private: Drill,
                                                            kube: KubeClient) -> None:
    inject(private, "deny", webhook="validation.gatekeeper.sh",
           message="[prod-freeze] changes to production are frozen during the incident")
    with pytest.raises(PolicyDenied) as denied:
        kube.scale("shop", "api", 6)
    message = denied.value.message
    assert 'admission webhook "validation.gatekeeper.sh"' in message
    assert "[prod-freeze] changes to production are frozen during the incident" in message
    assert "not allowed" not in message and "cluster admin" not in message
    assert denied.value.denied_by == 'admission webhook "validation.gatekeeper.sh"'
    assert ".." not in message
    # RBAC allows it: only admission says no, so `auth can-i` says yes
    assert kube.can_i("patch", "deployments", "shop", subresource="scale").allowed


def test_rbac_denial_keeps_the_rbac_wording(private: Drill, kube: KubeClient) -> None:
    inject(private, "forbid", verb="patch", resource="deployments")
    with pytest.raises(Forbidden) as denied:
        kube.restart("shop", "api")
    assert not isinstance(denied.value, PolicyDenied)
    assert "You are not allowed to patch deployments in namespace shop" in denied.value.message


# ---- 8. non-JSON error bodies ----------------------------------------------------------------
def test_html_502_from_a_proxy_is_summarised(private: Drill, kube: KubeClient) -> None:
    inject(private, "bad-gateway")
    with pytest.raises(AdapterError) as failed:
        kube.list_pods("shop")
    message = failed.value.message
    assert len(message) < 300, message
    assert "HTTP 502 Bad Gateway" in message
    assert "invalid response from an upstream server" in message
    assert "<" not in message and "gtag" not in message and "{" not in message
    assert message.count("HTTP 502") == 1
    assert failed.value.detail is not None and len(failed.value.detail) < 2200


# ---- 11. expired continue tokens -------------------------------------------------------------
def test_expired_continue_token_falls_back_to_one_full_list(private: Drill,
                                                            kube: KubeClient) -> None:
    ns = make_namespace(private.api(), unique("cont"))
    make_deployment(private.api(), ns, "paged", replicas=5)
    wait_for(lambda: deployment_settled(private.api(), ns, "paged"), message="settled")
    inject(private, "expire-continue", ttl=0)  # every continuation has expired
    calls: list[tuple[Any, Any]] = []
    list_objects = kube.list_objects

    def counting(kind: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append((kwargs.get("limit"), kwargs.get("continue_token")))
        return list_objects(kind, *args, **kwargs)

    kube.list_objects = counting  # type: ignore[method-assign]
    informer: Informer = kube.informer(ns, kinds=("pods",), page_size=2, backoff_initial=0.5,
                                       watch_list=False)  # the paged LIST, not a watch-list
    informer.start()
    try:
        assert informer.wait_synced(10), "the informer never finished its list"
        stats = informer.stats["pods"]
        assert stats.errors == 0 and stats.lists == 1 and stats.continue_expired == 1
        # first page, its expired continuation, then one unpaged list: no retry storm
        assert [limit for limit, _ in calls] == [2, 2, None]
        listed = {f"{ns}/{p.metadata.name}"
                  for p in client.CoreV1Api(private.api()).list_namespaced_pod(ns).items}
        assert set(informer.items("pods")) == listed and len(listed) == 5
    finally:
        informer.stop()


# ---- kubectl parity: the same throttled PATCH goes through for both ---------------------------
@pytest.mark.kubectl
def test_throttled_scale_succeeds_like_kubectl(drill: Drill, kubectl: Kubectl,
                                               tmp_path: Path) -> None:
    ns = make_namespace(drill.api(), unique("apf"))
    for name in ("theirs", "ours"):
        make_deployment(drill.api(), ns, name, replicas=1)
    kube = KubeClient.connect(str(drill.kubeconfig))
    try:
        inject(drill, "throttle", verb="patch", count=2, retry_after=1)
        out = kubectl.run("scale", "deployment/theirs", "-n", ns, "--replicas=3").stdout
        assert "scaled" in out
        inject(drill, "throttle", verb="patch", count=2, retry_after=1)
        assert kube.scale(ns, "ours", 3).ok
        assert counters(drill)["throttle"] >= 4
    finally:
        inject(drill, "clear")
        kube.close()
    assert replicas(drill, ns, "theirs") == replicas(drill, ns, "ours") == 3
