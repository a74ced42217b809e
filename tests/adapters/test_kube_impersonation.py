"""Impersonation (issue 14 item 4): kubeconfig ``as`` / ``as-groups`` / ``as-uid`` are sent on
every request, as kubectl sends them, and the drill checks them as kube-apiserver does."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.errors import AdapterError, Forbidden
from adapters.kube_identity import impersonation_of
from adapters.kubernetes import KubeClient
from tests.conftest import Drill, Kubectl

ALICE = {"as": "alice", "as-groups": ["sre", "oncall"], "as-uid": "u-1001"}
ALICE_SEEN = {"user": "alice", "groups": ["sre", "oncall", "system:authenticated"],
              "uid": "u-1001", "impersonated_by": "drill-admin"}


def impersonating_kubeconfig(drill: Drill, path: Path, token: str | None = None,
                             **as_fields: Any) -> Path:
    config = drill.cluster.kubeconfig(token=token)
    config["users"][0]["user"].update(as_fields or ALICE)
    path.write_text(yaml.safe_dump(config))
    return path


def seen_since(drill: Drill, mark: int) -> list[dict[str, Any]]:
    return drill.call(lambda: list(drill.cluster.access.seen))[mark:]


def mark(drill: Drill) -> int:
    return drill.call(lambda: len(drill.cluster.access.seen))


def identity(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry[k] for k in ("user", "groups", "uid", "impersonated_by")}


def test_every_request_impersonates(drill: Drill, tmp_path: Path) -> None:
    """Lists (``request``), typed calls, watches and access reviews all carry the headers;
    the drill runs them as alice. Before: the drill saw drill-admin."""
    kube = KubeClient.connect(str(impersonating_kubeconfig(drill, tmp_path / "k.yaml")))
    assert kube.impersonation is not None and kube.impersonation.label == (
        "as alice (groups: sre, oncall)")
    start = mark(drill)
    kube.list_pods("shop")
    kube.get_deployment("shop", "api")  # a typed call (AppsV1Api)
    with kube.open_watch("pods", "shop", None, timeout_seconds=1) as watch:
        next(iter(watch))
    assert kube.can_i("get", "pods", "shop").allowed
    seen = seen_since(drill, start)
    assert len(seen) >= 4
    assert all(identity(entry) == ALICE_SEEN for entry in seen), seen


def test_impersonated_user_rules_apply_and_access_reviews_answer_for_them(
        drill_factory: Any, tmp_path: Path) -> None:
    d = drill_factory()
    d.call(d.cluster.access.deny_user, "alice", "patch", "deployments/scale")
    kube = KubeClient.connect(str(impersonating_kubeconfig(d, tmp_path / "k.yaml")))
    review = kube.can_i("patch", "deployments", "shop", "scale")
    assert not review.allowed  # answered for alice; the admin token itself may
    with pytest.raises(Forbidden) as caught:
        kube.scale("shop", "api", 4)
    assert "as alice (groups: sre, oncall)" in caught.value.message


def test_base_identity_needs_the_impersonate_verb(drill_factory: Any, tmp_path: Path) -> None:
    d = drill_factory()
    d.call(d.cluster.access.add_token, "bob-token", "bob", {("impersonate", "groups")})
    path = impersonating_kubeconfig(d, tmp_path / "k.yaml", token="bob-token")
    kube = KubeClient.connect(str(path))
    with pytest.raises(AdapterError) as caught:
        kube.list_pods("shop")
    assert caught.value.message.startswith(
        "The kubeconfig's credentials may not impersonate alice with groups sre, oncall")
    assert 'User \\"bob\\" cannot impersonate resource \\"groups\\"' in caught.value.detail
    # without as-groups bob may impersonate the user alone
    path = impersonating_kubeconfig(d, tmp_path / "k2.yaml", token="bob-token", **{"as": "alice"})
    start = mark(d)
    KubeClient.connect(str(path)).list_pods("shop")
    assert identity(seen_since(d, start)[-1]) == {
        "user": "alice", "groups": ["system:authenticated"], "uid": "",
        "impersonated_by": "bob"}


def test_groups_without_a_user_are_refused_like_kubectl() -> None:
    with pytest.raises(AdapterError, match="without 'as'"):
        impersonation_of({"as-groups": ["sre"]}, "u")
    assert impersonation_of({"token": "x"}, "u") is None


def test_kubectl_and_the_console_act_as_the_same_identity(
        kubectl: Kubectl, drill: Drill, tmp_path: Path) -> None:
    """Same kubeconfig: kubectl (1.20 and the newest) and the console are seen as alice.
    kubectl reads ``as-uid`` from 1.23 on: 1.20 gets a kubeconfig without it."""
    major, minor = (int(p) for p in kubectl.version.split("."))
    fields = dict(ALICE) if (major, minor) >= (1, 23) else {
        k: v for k, v in ALICE.items() if k != "as-uid"}
    expected = {**ALICE_SEEN, "uid": fields.get("as-uid", "")}
    path = impersonating_kubeconfig(drill, tmp_path / "k.yaml", **fields)
    as_alice = dataclasses.replace(kubectl, kubeconfig=path)
    start = mark(drill)
    as_alice.run("get", "pods", "-n", "shop")
    kubectl_seen = {identity(e)["user"]: identity(e) for e in seen_since(drill, start)
                    if e["path"].endswith("/pods")}
    start = mark(drill)
    KubeClient.connect(str(path)).list_pods("shop")
    console_seen = [identity(e) for e in seen_since(drill, start)]
    assert list(kubectl_seen.values()) == [expected]
    assert console_seen == [expected]
    # and both ask the access review as alice
    d_mark = mark(drill)
    assert as_alice.run("auth", "can-i", "get", "pods", "-n", "shop").stdout.strip() == "yes"
    reviews = [identity(e) for e in seen_since(drill, d_mark)
               if e["path"].endswith("selfsubjectaccessreviews")]
    assert reviews and all(r == expected for r in reviews)
