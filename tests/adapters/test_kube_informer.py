"""The informer against the drill cluster: sync, batched deltas, resume, 410 relist, outages."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from adapters.errors import Unauthorized, Unreachable
from adapters.informer import Informer
from adapters.informer_deltas import ADDED, DELETED, MODIFIED, Delta
from adapters.informer_status import WatchStatus
from adapters.kube_views import DeploymentView, PodView, RevisionView
from adapters.kubernetes import KubeClient
from tests.conftest import Drill, wait_for
from tests.drill.kube_helpers import deployment_settled, make_deployment, make_namespace, unique


class Recorder:
    """Collects what an informer delivers (from its threads)."""

    def __init__(self) -> None:
        self.batches: list[list[Delta]] = []
        self.statuses: list[WatchStatus] = []
        self.lock = threading.Lock()

    def deltas(self, batch: list[Delta]) -> None:
        with self.lock:
            self.batches.append(batch)

    def status(self, status: WatchStatus) -> None:
        with self.lock:
            self.statuses.append(status)

    def all(self) -> list[Delta]:
        with self.lock:
            return [d for batch in self.batches for d in batch]

    def states(self) -> list[str]:
        with self.lock:
            return [s.state for s in self.statuses]

    def seen(self, kind: str, key: str, type_: str | None = None) -> list[Delta]:
        return [d for d in self.all() if d.kind == kind and d.key == key
                and (type_ is None or d.type == type_)]


@pytest.fixture(scope="module")
def kube(drill: Drill) -> KubeClient:
    return KubeClient.connect(str(drill.kubeconfig))


@pytest.fixture
def ns(drill: Drill) -> str:
    return make_namespace(drill.api(), unique("inf"))


@pytest.fixture
def started() -> Iterator[list[Informer]]:
    informers: list[Informer] = []
    yield informers
    for informer in informers:
        informer.stop()


def start(started: list[Informer], kube: KubeClient, namespace: str | None,
          recorder: Recorder | None = None, **kwargs: Any) -> Informer:
    kwargs.setdefault("flush_interval", 0.05)
    informer = kube.informer(namespace, on_deltas=recorder.deltas if recorder else None,
                             on_status=recorder.status if recorder else None, **kwargs)
    started.append(informer.start())
    assert informer.wait_synced(20), "informer did not sync"
    return informer


def settle(drill: Drill, namespace: str, name: str) -> None:
    wait_for(lambda: deployment_settled(drill.api(), namespace, name), message="settled")


def drop_every_watch(drill: Drill, informer: Informer) -> None:
    """Drop the open watch streams mid-flight until every kind has had to reopen one.

    (A watch the server has answered but not yet registered escapes one close_watches.)"""
    before = {kind: stats.watches for kind, stats in informer.stats.items()}

    def dropped() -> bool:
        drill.call(drill.cluster.store.close_watches)
        return all(informer.stats[k].watches > n or informer.stats[k].errors
                   for k, n in before.items())

    wait_for(dropped, message="every watch dropped and reopened")


def delete_behind_its_back(drill: Drill, key: str) -> None:
    """Atomically on the drill loop: every watch dropped, the pod ``key`` deleted, the
    history compacted: resuming answers 410, and only a relist shows the deletion."""
    store = drill.cluster.store
    namespace, _, name = key.partition("/")

    def expire_history() -> None:
        store.close_watches()
        store.delete("pods", namespace, name)
        store.compact()

    drill.call(expire_history)


def listed_pods(drill: Drill, namespace: str) -> set[str]:
    return {f"{namespace}/{p.metadata.name}"
            for p in client.CoreV1Api(drill.api()).list_namespaced_pod(namespace).items}


def test_sync_then_batched_deltas(drill: Drill, kube: KubeClient, ns: str,
                                  started: list[Informer]) -> None:
    make_deployment(drill.api(), ns, "a", replicas=3)
    settle(drill, ns, "a")
    rec = Recorder()
    informer = start(started, kube, ns, rec)
    assert informer.synced
    wait_for(lambda: informer.status.live, message="live")
    assert set(informer.items("pods")) == listed_pods(drill, ns)
    wait_for(lambda: len(rec.seen("deployments", f"{ns}/a", ADDED)) == 1, message="initial delta")
    initial = rec.batches[0]
    assert len(initial) > 1, "the initial sync arrives batched"
    assert "live" in rec.states()

    dep = informer.get("deployments", f"{ns}/a")
    assert isinstance(dep, DeploymentView) and dep.rollout == "complete" and dep.available == 3
    pods = informer.pods()
    assert len(pods) == 3
    assert all(p.revision == "1" and p.deployment == "a" for p in pods)  # RS revision, not hash
    assert {p.key for p in pods} == set(informer.items("pods"))
    rs = list(informer.items("replicasets").values())
    assert len(rs) == 1 and isinstance(rs[0], RevisionView) and rs[0].revision == 1

    client.AppsV1Api(drill.api()).patch_namespaced_deployment_scale("a", ns,
                                                                    {"spec": {"replicas": 5}})
    settle(drill, ns, "a")
    wait_for(lambda: len(informer.pods()) == 5, message="5 cached pods")
    new_pods = {d.key for d in rec.all() if d.kind == "pods" and d.type == ADDED}
    assert len(new_pods) == 5
    assert rec.seen("deployments", f"{ns}/a", MODIFIED)
    wait_for(lambda: any(d.kind == "events" for d in rec.all()), message="events")
    assert all(isinstance(d.view, PodView) for d in rec.all() if d.kind == "pods")
    assert all(d.at > 0 for d in rec.all())


def test_rollback_updates_pod_revisions(drill: Drill, kube: KubeClient, ns: str,
                                        started: list[Informer]) -> None:
    make_deployment(drill.api(), ns, "r", replicas=2, image="registry.local/demo:1.0")
    settle(drill, ns, "r")
    rec = Recorder()
    informer = start(started, kube, ns, rec)
    client.AppsV1Api(drill.api()).patch_namespaced_deployment("r", ns, {"spec": {"template": {
        "spec": {"containers": [{"name": "app", "image": "registry.local/demo:2.0"}]}}}})
    settle(drill, ns, "r")
    wait_for(lambda: {p.revision for p in informer.pods()} == {"2"}, message="revision 2 pods")
    kube.undo(ns, "r")
    settle(drill, ns, "r")
    # the old RS is reused with revision 3: its pods' revision follows
    wait_for(lambda: {p.revision for p in informer.pods()} == {"3"}
             and len(informer.pods()) == 2, message="revision 3 pods")
    wait_for(lambda: informer.get("deployments", f"{ns}/r").revision == 3,  # type: ignore[union-attr]
             message="deployment revision 3")


def test_dropped_watch_resumes_without_relist(drill: Drill, kube: KubeClient, ns: str,
                                              started: list[Informer]) -> None:
    make_deployment(drill.api(), ns, "d", replicas=1)
    settle(drill, ns, "d")
    rec = Recorder()
    informer = start(started, kube, ns, rec)
    wait_for(lambda: all(s.watches == 1 for s in informer.stats.values()), message="watching")
    drop_every_watch(drill, informer)
    client.AppsV1Api(drill.api()).patch_namespaced_deployment_scale("d", ns,
                                                                    {"spec": {"replicas": 3}})
    settle(drill, ns, "d")
    wait_for(lambda: len(informer.pods()) == 3, message="changes after the drop arrive")
    for kind, stats in informer.stats.items():
        assert stats.lists == 1, f"{kind} relisted after a plain drop"
        assert stats.resumes >= 1 and stats.relists_after_410 == 0
    assert set(informer.items("pods")) == listed_pods(drill, ns)
    assert "reconnecting" not in rec.states()  # a clean end of stream is not an outage


def test_410_gone_relists(drill: Drill, kube: KubeClient, ns: str,
                          started: list[Informer]) -> None:
    make_deployment(drill.api(), ns, "g", replicas=2)
    settle(drill, ns, "g")
    bare = client.CoreV1Api(drill.api()).create_namespaced_pod(ns, {
        "metadata": {"name": "bare", "labels": {"app": "bare"}},
        "spec": {"containers": [{"name": "c", "image": "registry.local/demo:1.0"}]}})
    assert bare.metadata.name == "bare"
    rec = Recorder()
    informer = start(started, kube, ns, rec)
    # delivered, not just cached: a still-pending ADDED would coalesce with the DELETED
    wait_for(lambda: rec.seen("pods", f"{ns}/bare", ADDED), message="bare pod delivered")
    other = make_namespace(drill.api(), unique("other"))
    store = drill.cluster.store

    def expire_history() -> None:
        # atomically on the drill loop: streams dropped, then our pod deleted behind our
        # back and a change elsewhere (so our last RV is older than the newest), then the
        # history compacted: resuming gets 410 and only a relist can reveal the deletion
        store.close_watches()
        store.delete("pods", ns, "bare")
        store.create("pods", {"metadata": {"name": "x", "namespace": other},
                              "spec": {"containers": [{"name": "c", "image": "i"}]}})
        store.compact()

    drill.call(expire_history)
    wait_for(lambda: informer.stats["pods"].relists_after_410 >= 1, message="410 seen")
    wait_for(lambda: informer.stats["pods"].lists >= 2, message="relisted")
    wait_for(lambda: rec.seen("pods", f"{ns}/bare", DELETED), message="DELETED from the relist")
    assert informer.get("pods", f"{ns}/bare") is None
    client.AppsV1Api(drill.api()).patch_namespaced_deployment_scale("g", ns,
                                                                    {"spec": {"replicas": 3}})
    settle(drill, ns, "g")
    wait_for(lambda: set(informer.items("pods")) == listed_pods(drill, ns),
             message="cache matches the server after the relist")
    assert informer.status.live


def test_all_namespaces_with_label_selector(drill: Drill, kube: KubeClient,
                                            started: list[Informer]) -> None:
    informer = start(started, kube, None, kinds=("pods", "deployments"),
                     label_selector="app=api")
    pods = informer.pods()
    expected = client.CoreV1Api(drill.api()).list_pod_for_all_namespaces(
        label_selector="app=api").items
    assert {p.key for p in pods} == {f"{p.metadata.namespace}/{p.metadata.name}" for p in expected}
    assert pods and all(p.deployment == "api" for p in pods)
    assert [d.key for d in informer.deployments()] == ["shop/api"]
    assert "replicasets" not in informer.stats


def test_pull_mode_drain(drill: Drill, kube: KubeClient, ns: str,
                         started: list[Informer]) -> None:
    make_deployment(drill.api(), ns, "p", replicas=2)
    settle(drill, ns, "p")
    informer = start(started, kube, ns, None, kinds=("pods",))
    drained = informer.drain()
    assert {d.key for d in drained} == listed_pods(drill, ns)
    assert informer.drain() == []
    client.AppsV1Api(drill.api()).patch_namespaced_deployment_scale("p", ns,
                                                                    {"spec": {"replicas": 3}})
    wait_for(lambda: any(d.type == ADDED for d in informer.drain()), message="new pod drained")


def test_unreachable_goes_reconnecting_then_stale(drill_factory: Any,
                                                  started: list[Informer]) -> None:
    d = drill_factory()
    kube = KubeClient.connect(str(d.kubeconfig))
    rec = Recorder()
    informer = start(started, kube, "shop", rec, backoff_initial=0.05, backoff_max=0.3,
                     stale_after=1.0)
    cached = set(informer.items("pods"))
    assert cached
    wait_for(lambda: informer.status.live, message="live")
    d.thread.stop()  # (may itself take a second or more: the status can already be stale)
    wait_for(lambda: "reconnecting" in rec.states(), message="reconnecting")
    status = next(s for s in rec.statuses if s.state == "reconnecting")
    assert status.message.startswith("reconnecting: ")
    assert isinstance(status.error, Unreachable) and status.since is not None
    stale = wait_for(lambda: informer.status if informer.status.state == "stale" else None,
                     message="stale")
    assert stale.message.startswith(f"stale since {stale.since.astimezone():%H:%M:%S}: ")
    assert "Cannot reach the API server" in stale.message
    assert set(informer.items("pods")) == cached  # the cache is kept while down
    assert any(s.errors >= 2 for s in informer.stats.values())  # it keeps retrying
    assert rec.states().index("reconnecting") < rec.states().index("stale")


def test_revoked_token_reported(drill: Drill, tmp_path: Path, started: list[Informer]) -> None:
    token = unique("tok")
    drill.call(drill.cluster.access.add_token, token, "watcher", set())
    path = drill.cluster.write_kubeconfig(tmp_path / "w.yaml", token=token)
    kube = KubeClient.connect(str(path))
    informer = start(started, kube, "auth", kinds=("pods",), backoff_initial=0.05,
                     backoff_max=0.2)
    drill.call(drill.cluster.access.revoke, token)
    drop_every_watch(drill, informer)
    status = wait_for(lambda: informer.status if informer.status.state != "live" else None,
                      message="not live")
    assert isinstance(status.error, Unauthorized)
    assert "credentials" in status.message


def test_stop_is_prompt(drill: Drill, kube: KubeClient, started: list[Informer]) -> None:
    informer = kube.informer("shop").start()
    assert informer.wait_synced(20)
    begun = time.monotonic()
    informer.stop()
    assert time.monotonic() - begun < 2.0
    assert informer.status.state == "stopped"
    assert not [t for t in threading.enumerate() if t.name.startswith("informer-")
                and t.is_alive() and t in informer._threads]


def test_paged_first_list_hands_over_each_page(drill: Drill, kube: KubeClient, ns: str,
                                               started: list[Informer]) -> None:
    make_deployment(drill.api(), ns, "p", replicas=7)
    settle(drill, ns, "p")
    rec = Recorder()
    listed: list[int] = []
    list_objects = kube.list_objects

    def counting(kind: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        page = list_objects(kind, *args, **kwargs)
        if kind == "pods":
            listed.append(len(page.get("items") or []))
        return page

    paged = KubeClient.connect(str(drill.kubeconfig))
    paged.list_objects = counting  # type: ignore[method-assign]
    informer = start(started, paged, ns, rec, kinds=("pods",), page_size=3, watch_list=False)
    assert listed == [3, 3, 1]
    assert set(informer.items("pods")) == listed_pods(drill, ns)
    wait_for(lambda: {d.key for d in rec.all() if d.type == ADDED} == listed_pods(drill, ns),
             message="every listed pod delivered as ADDED")
    assert informer.stats["pods"].lists == 1


def test_paged_relist_replaces_the_cache(drill: Drill, kube: KubeClient, ns: str,
                                         started: list[Informer]) -> None:
    make_deployment(drill.api(), ns, "q", replicas=4)
    settle(drill, ns, "q")
    rec = Recorder()
    informer = start(started, kube, ns, rec, kinds=("pods",), page_size=2, watch_list=False)
    victim = sorted(informer.items("pods"))[0]
    wait_for(lambda: rec.seen("pods", victim, ADDED), message="victim delivered")
    delete_behind_its_back(drill, victim)
    wait_for(lambda: rec.seen("pods", victim, DELETED), message="DELETED from the paged relist")
    assert informer.stats["pods"].relists_after_410 >= 1
    wait_for(lambda: set(informer.items("pods")) == listed_pods(drill, ns),
             message="cache matches the server after the relist")


def counting_lists(drill: Drill) -> tuple[KubeClient, list[str]]:
    """A client that records the kinds it LISTs."""
    listed: list[str] = []
    counted = KubeClient.connect(str(drill.kubeconfig))
    list_objects = counted.list_objects

    def counting(kind: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        listed.append(kind)
        return list_objects(kind, *args, **kwargs)

    counted.list_objects = counting  # type: ignore[method-assign]
    return counted, listed


def test_watch_list_syncs_without_a_list(drill: Drill, ns: str,
                                         started: list[Informer]) -> None:
    """Where the server has WatchList the state comes as the watch's first events: no LIST;
    the same watch then carries the changes."""
    make_deployment(drill.api(), ns, "w", replicas=3)
    settle(drill, ns, "w")
    counted, listed = counting_lists(drill)
    rec = Recorder()
    informer = start(started, counted, ns, rec)
    assert listed == []
    assert all(stats.watch_lists == 1 and stats.lists == 1 for stats in informer.stats.values())
    assert set(informer.items("pods")) == listed_pods(drill, ns)
    wait_for(lambda: {d.key for d in rec.all() if d.kind == "pods" and d.type == ADDED}
             == listed_pods(drill, ns), message="every pod delivered as ADDED")
    assert all(p.revision == "1" for p in informer.pods())
    client.AppsV1Api(drill.api()).patch_namespaced_deployment_scale("w", ns,
                                                                    {"spec": {"replicas": 4}})
    settle(drill, ns, "w")
    wait_for(lambda: set(informer.items("pods")) == listed_pods(drill, ns), message="4 pods")
    assert informer.stats["pods"].watches == 1 and listed == []


def test_watch_list_refused_falls_back_to_list(drill_factory: Any,
                                               started: list[Informer]) -> None:
    """A server without WatchList (422, as before 1.32): the informer lists, and does not
    ask again on the next sync."""
    old = drill_factory()
    old.cluster.limits.watch_list = False
    counted, listed = counting_lists(old)
    informer = start(started, counted, "shop", kinds=("pods", "deployments"))
    assert sorted(listed) == ["deployments", "pods"]
    assert set(informer.items("pods")) == listed_pods(old, "shop")
    assert all(stats.watch_lists == 0 and stats.lists == 1 for stats in informer.stats.values())
    assert informer._no_watch_list == {"pods", "deployments"}


def test_watch_list_relist_after_410_replaces_the_cache(drill: Drill, kube: KubeClient,
                                                        ns: str,
                                                        started: list[Informer]) -> None:
    make_deployment(drill.api(), ns, "g", replicas=3)
    settle(drill, ns, "g")
    rec = Recorder()
    informer = start(started, kube, ns, rec, kinds=("pods",))
    victim = sorted(informer.items("pods"))[0]
    # delivered, not just cached: a still-pending ADDED would coalesce with the DELETED
    wait_for(lambda: rec.seen("pods", victim, ADDED), message="victim delivered")
    delete_behind_its_back(drill, victim)
    wait_for(lambda: rec.seen("pods", victim, DELETED), message="DELETED from the relist")
    wait_for(lambda: set(informer.items("pods")) == listed_pods(drill, ns),
             message="cache matches the server after the relist")
    assert informer.stats["pods"].watch_lists >= 1
