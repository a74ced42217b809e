"""The drill's PromQL: label_replace and group_left/group_right, as the kube-prometheus
workload joins use them (compared with what Prometheus answers, see test_prometheus_presets)."""

from __future__ import annotations

import pytest

from drill.promql import PromQLError, query
from tests.drill.test_promql import T0, FakeTraffic, key


def gauge(value: float) -> list:
    return [(T0 + s, value) for s in range(0, 61, 15)]


@pytest.fixture
def owners() -> FakeTraffic:
    return FakeTraffic(
        {
            key("container_memory_working_set_bytes", namespace="shop", pod="api-7d-a",
                container="api", image="api:1"): gauge(100.0),
            key("container_memory_working_set_bytes", namespace="shop", pod="api-7d-b",
                container="api", image="api:1"): gauge(50.0),
            key("container_memory_working_set_bytes", namespace="shop", pod="api-7d-b",
                container="", image=""): gauge(999.0),  # the pod cgroup: not a container
            key("container_memory_working_set_bytes", namespace="shop", pod="web-5-a",
                container="web", image="web:1"): gauge(7.0),
            key("kube_pod_owner", namespace="shop", pod="api-7d-a", owner_kind="ReplicaSet",
                owner_name="api-7d"): gauge(1.0),
            key("kube_pod_owner", namespace="shop", pod="api-7d-b", owner_kind="ReplicaSet",
                owner_name="api-7d"): gauge(1.0),
            key("kube_pod_owner", namespace="shop", pod="web-5-a", owner_kind="ReplicaSet",
                owner_name="web-5"): gauge(1.0),
            key("kube_replicaset_owner", namespace="shop", replicaset="api-7d",
                owner_kind="Deployment", owner_name="api"): gauge(1.0),
            key("kube_replicaset_owner", namespace="shop", replicaset="web-5",
                owner_kind="Deployment", owner_name="web"): gauge(1.0),
        },
        now=T0 + 60,
    )


def values(result: dict) -> dict[tuple, float]:
    return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in result["result"]}


def test_label_replace_copies_expands_and_removes(owners: FakeTraffic) -> None:
    got = values(query(owners, 'label_replace(kube_pod_owner{pod="api-7d-a"}, "replicaset", '
                               '"rs-$1", "owner_name", "(.*)")'))
    (labels,) = got
    assert dict(labels)["replicaset"] == "rs-api-7d"
    assert dict(labels)["__name__"] == "kube_pod_owner"  # the name stays, as in Prometheus
    unmatched = values(query(owners, 'label_replace(kube_pod_owner{pod="api-7d-a"}, "x", "$1", '
                                     '"owner_name", "web-(.*)")'))
    assert "x" not in dict(next(iter(unmatched)))
    removed = values(query(owners, 'label_replace(kube_pod_owner{pod="api-7d-a"}, "pod", "", '
                                   '"pod", ".*")'))
    assert "pod" not in dict(next(iter(removed)))
    braces = values(query(owners, 'label_replace(kube_pod_owner{pod="api-7d-a"}, "x", '
                                  '"${1}x$1x", "owner_name", "(api)-.*")'))
    assert dict(next(iter(braces)))["x"] == "apix"  # $1x names group "1x": empty, as in Go


def test_label_replace_refuses_duplicate_label_sets(owners: FakeTraffic) -> None:
    with pytest.raises(PromQLError, match="same labelset"):
        query(owners, 'label_replace(kube_pod_owner, "pod", "", "pod", ".*")')


WORKLOAD_MEMORY = (
    'sum by (namespace, deployment) ('
    ' container_memory_working_set_bytes{container!="", image!=""}'
    ' * on (namespace, pod) group_left (deployment) max by (namespace, pod, deployment) ('
    '  label_replace('
    '   label_replace(kube_pod_owner{owner_kind="ReplicaSet"}, "replicaset", "$1", "owner_name",'
    '    "(.*)")'
    '   * on (namespace, replicaset) group_left (owner_name)'
    '   max by (namespace, replicaset, owner_name) (kube_replicaset_owner{owner_kind="Deployment"}),'
    '   "deployment", "$1", "owner_name", "(.*)")))'
)


def test_group_left_joins_pods_to_their_deployment(owners: FakeTraffic) -> None:
    got = values(query(owners, WORKLOAD_MEMORY))
    assert got == {(("deployment", "api"), ("namespace", "shop")): 150.0,
                   (("deployment", "web"), ("namespace", "shop")): 7.0}


def test_group_right_mirrors_group_left(owners: FakeTraffic) -> None:
    left = values(query(owners, 'kube_pod_owner * on (namespace, owner_name) group_left '
                                '(replicaset) label_replace(kube_replicaset_owner, "owner_name", '
                                '"$1", "replicaset", "(.*)")'))
    right = values(query(owners, 'label_replace(kube_replicaset_owner, "owner_name", "$1", '
                                 '"replicaset", "(.*)") * on (namespace, owner_name) '
                                 'group_right (replicaset) kube_pod_owner'))
    assert left == right and len(left) == 3
    assert all(dict(labels)["replicaset"] in ("api-7d", "web-5") for labels in left)


def test_many_to_many_and_unexplicit_many_to_one_are_errors(owners: FakeTraffic) -> None:
    with pytest.raises(PromQLError, match="many-to-one matching must be explicit"):
        query(owners, 'kube_pod_owner * on (namespace, owner_name) label_replace('
                      'kube_replicaset_owner, "owner_name", "$1", "replicaset", "(.*)")')
    with pytest.raises(PromQLError, match="duplicate series"):
        query(owners, 'kube_replicaset_owner * on (namespace) group_left kube_pod_owner')
