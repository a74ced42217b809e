"""Proxies (issue 14 item 5): a kubeconfig's proxy-url carries every request as kubectl does --
SOCKS5 and HTTP CONNECT, whatever NO_PROXY says -- and a proxy that is down is named."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from adapters.errors import AdapterError, Unreachable
from adapters.kubernetes import KubeClient
from tests.conftest import Drill, Kubectl
from tests.proxies import Proxy, closed_port, running_proxy


def proxied_kubeconfig(drill: Drill, path: Path, proxy_url: str) -> Path:
    config = drill.cluster.kubeconfig()
    config["clusters"][0]["cluster"]["proxy-url"] = proxy_url
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(params=["socks5", "http"])
def proxy(request: pytest.FixtureRequest) -> Iterator[Proxy]:
    with running_proxy(request.param) as running:
        yield running


def test_requests_typed_calls_and_watches_go_through_the_proxy(
        proxy: Proxy, drill: Drill, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: socks5 raised ModuleNotFoundError (no PySocks) and NO_PROXY skipped the proxy."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # kubectl ignores it for proxy-url
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    kube = KubeClient.connect(str(proxied_kubeconfig(drill, tmp_path / "k.yaml", proxy.url)))
    assert {p.name for p in kube.list_pods("shop")}
    assert kube.get_deployment("shop", "api").name == "api"
    with kube.open_watch("pods", "shop", None, timeout_seconds=1) as watch:
        assert next(iter(watch))["type"] == "ADDED"
    kube.close()
    assert proxy.targets and all(t == f"127.0.0.1:{drill.cluster.port}" for t in proxy.targets)


@pytest.mark.parametrize("kind", ["socks5", "http"])
def test_a_proxy_that_is_down_is_named_in_the_error(kind: str, drill: Drill,
                                                    tmp_path: Path) -> None:
    url = f"{kind}://user:secret@127.0.0.1:{closed_port()}"
    kube = KubeClient.connect(str(proxied_kubeconfig(drill, tmp_path / "k.yaml", url)),
                              request_timeout=5)
    with pytest.raises(Unreachable) as caught:
        kube.list_pods("shop")
    message = caught.value.message
    assert f"through the proxy {kind}://127.0.0.1:" in message
    assert "Is the proxy or SSH tunnel up?" in message and "secret" not in message


def test_socks_without_pysocks_is_a_clear_error(drill: Drill, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: ModuleNotFoundError escaped KubeClient.connect and ended the app."""
    monkeypatch.setitem(sys.modules, "socks", None)
    monkeypatch.setitem(sys.modules, "urllib3.contrib.socks", None)
    path = proxied_kubeconfig(drill, tmp_path / "k.yaml", "socks5://127.0.0.1:1080")
    with pytest.raises(AdapterError, match="needs the PySocks package"):
        KubeClient.connect(str(path))


def test_unsupported_proxy_scheme(drill: Drill, tmp_path: Path) -> None:
    path = proxied_kubeconfig(drill, tmp_path / "k.yaml", "ftp://127.0.0.1:21")
    with pytest.raises(AdapterError, match="proxy-url 'ftp://127.0.0.1:21' is not supported"):
        KubeClient.connect(str(path))


def test_kubectl_goes_through_the_same_proxy(proxy: Proxy, kubectl: Kubectl, drill: Drill,
                                             tmp_path: Path) -> None:
    """Parity: kubectl with the same kubeconfig reaches the drill through the proxy too."""
    major, minor = (int(p) for p in kubectl.version.split("."))
    if proxy.kind == "socks5" and (major, minor) < (1, 24):
        pytest.skip(f"kubectl {kubectl.version} has no socks5 proxy-url (from 1.24)")
    path = proxied_kubeconfig(drill, tmp_path / "k.yaml", proxy.url)
    out = dataclasses.replace(kubectl, kubeconfig=path).run("get", "deploy", "api", "-n", "shop")
    assert "api" in out.stdout
    kubectl_targets = list(proxy.targets)
    KubeClient.connect(str(path)).list_pods("shop")
    assert kubectl_targets and set(kubectl_targets) == set(proxy.targets) == {
        f"127.0.0.1:{drill.cluster.port}"}
