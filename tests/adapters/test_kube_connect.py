"""Connecting like kubectl: kubeconfig files, contexts, namespaces, production marks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.errors import AdapterError
from adapters.kube_config import is_production, list_contexts
from adapters.kubernetes import KubeClient
from tests.conftest import Drill


def write(path: Path, data: Any) -> str:
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return str(path)


def config_for(drill: Drill, context: str, namespace: str) -> dict[str, Any]:
    return drill.cluster.kubeconfig(context=context, namespace=namespace)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No $KUBECONFIG, an empty $HOME and no in-cluster environment."""
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_connect_with_kubeconfig_uses_context_namespace(drill: Drill) -> None:
    kube = KubeClient.connect(str(drill.kubeconfig))
    assert (kube.context, kube.namespace, kube.production) == ("drill", "shop", False)
    assert kube.server == drill.cluster.url
    names = {d.name for d in kube.list_deployments("shop")}
    assert {"api", "web", "worker"} <= names
    assert KubeClient.connect(str(drill.kubeconfig), namespace="auth").namespace == "auth"


def test_kubeconfig_env_merges_several_files(
    drill: Drill, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write(clean_env / "a.yaml", config_for(drill, "staging", "auth"))
    second_cfg = config_for(drill, "prod-eu", "shop")
    second_cfg["current-context"] = "prod-eu"  # ignored: the first file's current-context wins
    second = write(clean_env / "b.yaml", second_cfg)
    missing = str(clean_env / "missing.yaml")  # kubectl skips missing files in $KUBECONFIG
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([first, missing, second]))

    contexts = {c.name: c for c in list_contexts()}
    assert set(contexts) == {"staging", "prod-eu"}
    assert contexts["staging"].current and not contexts["prod-eu"].current
    assert contexts["prod-eu"].production and not contexts["staging"].production
    assert contexts["staging"].namespace == "auth"

    kube = KubeClient.connect()
    assert (kube.context, kube.namespace, kube.production) == ("staging", "auth", False)
    prod = KubeClient.connect(context="prod-eu")
    assert (prod.context, prod.namespace, prod.production) == ("prod-eu", "shop", True)
    assert [d.name for d in prod.list_deployments("auth")] == ["login"]
    # the explicit flag overrides the name patterns, both ways
    assert KubeClient.connect(context="staging", production=True).production
    assert not KubeClient.connect(context="prod-eu", production=False).production


def test_explicit_kubeconfig_list_merges(drill: Drill, tmp_path: Path) -> None:
    a = write(tmp_path / "a.yaml", config_for(drill, "one", "shop"))
    b = write(tmp_path / "b.yaml", config_for(drill, "two", "auth"))
    kube = KubeClient.connect([a, b], context="two")
    assert (kube.context, kube.namespace) == ("two", "auth")


def test_context_without_namespace_defaults(drill: Drill, tmp_path: Path) -> None:
    cfg = config_for(drill, "bare", "shop")
    del cfg["contexts"][0]["context"]["namespace"]
    kube = KubeClient.connect(write(tmp_path / "k.yaml", cfg))
    assert kube.namespace == "default"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AdapterError) as error:
        KubeClient.connect(str(tmp_path / "nope.yaml"))
    assert "does not exist" in error.value.message and "nope.yaml" in error.value.message


def test_invalid_yaml(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", "apiVersion: v1\nclusters: [\n  - name: x\n  oops: ]:")
    with pytest.raises(AdapterError) as error:
        KubeClient.connect(path)
    assert "not valid YAML" in error.value.message and "bad.yaml" in error.value.message


def test_not_a_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(AdapterError) as error:
        KubeClient.connect(write(tmp_path / "list.yaml", "- a\n- b\n"))
    assert "not a kubeconfig" in error.value.message


def test_unknown_context_lists_known_ones(drill: Drill) -> None:
    with pytest.raises(AdapterError) as error:
        KubeClient.connect(str(drill.kubeconfig), context="nowhere")
    assert "'nowhere'" in error.value.message and "known contexts: drill" in error.value.message


def test_no_current_context(drill: Drill, tmp_path: Path) -> None:
    cfg = config_for(drill, "x", "shop")
    cfg["current-context"] = ""
    with pytest.raises(AdapterError) as error:
        KubeClient.connect(write(tmp_path / "k.yaml", cfg))
    assert "--context" in error.value.message


def test_no_kubeconfig_at_all(clean_env: Path) -> None:
    with pytest.raises(AdapterError) as error:
        KubeClient.connect()
    assert "No kubeconfig found" in error.value.message
    assert list_contexts() == []


def test_in_cluster_fallback_is_tried(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "1")
    with pytest.raises(AdapterError) as error:  # no service account token in this sandbox
        KubeClient.connect()
    assert "in-cluster" in error.value.message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("prod", True),
        ("production", True),
        ("prd", True),
        ("gke_acme_europe-west1_prod-eu", True),
        ("shop-prod2", True),
        ("PROD", True),
        ("eks-prd-1", True),
        ("arn:aws:eks:eu:1:cluster/production", True),
        ("product-dev", False),
        ("reproduce", False),
        ("staging", False),
        ("drill", False),
    ],
)
def test_production_patterns(name: str, expected: bool) -> None:
    assert is_production(name) is expected


def test_custom_production_patterns(drill: Drill) -> None:
    kube = KubeClient.connect(str(drill.kubeconfig), production_patterns=("dri+ll",))
    assert kube.production
