"""PodIndex: pods by deployment, with the advisor's counts kept up to date per delta."""

from __future__ import annotations

from dataclasses import replace

from adapters.kube_views import PodView, pod_view
from console.domain.pod_index import PodCounts, PodIndex
from console.ui import view_model as vm


def pod(name: str, deployment: str = "api", status: str = "Running", ready: str = "1/1",
        namespace: str = "shop", deleting: bool = False) -> PodView:
    return PodView(name=name, namespace=namespace, ready=ready, status=status, restarts=0,
                   age="1m", deployment=deployment, deleting=deleting)


def scanned(index: PodIndex, key: str) -> PodCounts:
    """What the counts must be: a scan of every pod, as the console did before."""
    return vm.count_pods(p for p in index.values() if f"{p.namespace}/{p.deployment}" == key)


def test_counts_follow_upserts_and_deletes() -> None:
    index = PodIndex()
    for i in range(4):
        index.upsert(pod(f"api-{i}"))
    index.upsert(pod("web-0", deployment="web"))
    assert index.counts("shop/api") == PodCounts(total=4, crashing=0, ready=4)
    index.upsert(pod("api-1", status="CrashLoopBackOff", ready="0/1"))
    index.upsert(pod("api-2", status="OOMKilled", ready="0/1"))
    assert index.counts("shop/api") == PodCounts(total=4, crashing=2, ready=2)
    index.upsert(pod("api-2"))  # recovered
    index.delete("api-missing")  # unknown keys are ignored
    index.delete("shop/api-3")
    assert index.counts("shop/api") == PodCounts(total=3, crashing=1, ready=2)
    assert index.counts("shop/api") == scanned(index, "shop/api")
    assert index.counts("shop/web") == PodCounts(total=1, crashing=0, ready=1)
    assert sorted(p.name for p in index.of_deployment("shop/api")) == ["api-0", "api-1",
                                                                        "api-2"]
    assert len(index) == 4 and "shop/web-0" in index and index["shop/web-0"].name == "web-0"


def test_a_pod_moving_between_deployments_and_terminating_pods() -> None:
    index = PodIndex()
    index.upsert(pod("p", deployment="old", status="Error", ready="0/1"))
    index.upsert(replace(index["shop/p"], deployment="new"))  # its ReplicaSet was adopted
    assert index.counts("shop/old") == PodCounts()
    assert index.of_deployment("shop/old") == []
    assert index.counts("shop/new") == PodCounts(total=1, crashing=1, ready=0)
    index.upsert(pod("p", deployment="new", status="Error", deleting=True))
    assert index.counts("shop/new") == PodCounts()  # terminating pods are not counted
    assert [p.name for p in index.of_deployment("shop/new")] == ["p"]  # but still shown
    index.delete("shop/p")
    assert index.counts("shop/new") == PodCounts() and len(index) == 0


def test_signals_from_counts_match_signals_from_pods() -> None:
    pods = [pod("a"), pod("b", status="CrashLoopBackOff", ready="0/1"), pod("c", ready="0/1"),
            pod("d", status="Error", deleting=True)]
    index = PodIndex()
    for p in pods:
        index.upsert(p)
    assert vm.signals(None, index.counts("shop/api"), None) == vm.signals(None, pods, None)


def test_views_from_json_are_indexed_by_their_deployment() -> None:
    view = pod_view({"metadata": {"name": "api-7d9f8c6b5-x", "namespace": "shop",
                                  "labels": {"pod-template-hash": "7d9f8c6b5"},
                                  "ownerReferences": [{"kind": "ReplicaSet", "controller": True,
                                                       "name": "api-7d9f8c6b5"}]},
                     "status": {"phase": "Running"}})
    index = PodIndex()
    index.upsert(view)
    assert index.counts("shop/api").total == 1
