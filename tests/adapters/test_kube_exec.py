"""Exec credential plugins, anonymous requests and in-cluster namespaces against the drill
(issue 14 items 1, 2, 3, 10): real HTTP, the official client, a real plugin process."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.config import incluster_config

from adapters.errors import Forbidden, Unauthorized
from adapters.kubernetes import KubeClient
from drill.exec_plugin import ExecPlugin
from tests.conftest import Drill, wait_for

Factory = Any


def exec_client(d: Drill, tmp_path: Path, **options: Any) -> tuple[KubeClient, ExecPlugin]:
    path = d.cluster.write_kubeconfig(tmp_path / f"exec-{time.monotonic_ns()}.yaml",
                                      exec_plugin=True, **options)
    assert d.cluster.exec_plugin is not None
    return KubeClient.connect(str(path)), d.cluster.exec_plugin


# ---- item 1: a failing plugin is "not logged in", not missing RBAC -----------------------------
def test_failing_plugin_says_not_logged_in_and_a_new_login_recovers(
        drill_factory: Factory, tmp_path: Path) -> None:
    d = drill_factory(anonymous_auth=True)
    kube, plugin = exec_client(d, tmp_path)
    plugin.fail()
    with pytest.raises(Unauthorized) as caught:
        kube.list_pods("shop")
    message = caught.value.message
    assert "Not logged in" in message and "aws sso login" in message
    assert "not allowed" not in message and "cluster admin" not in message
    informer = kube.informer("shop", kinds=("pods",), backoff_initial=0.05, backoff_max=0.2)
    informer.start()
    try:
        status = wait_for(lambda: informer.status if informer.status.error else None,
                          message="an error")
        assert isinstance(status.error, Unauthorized) and "aws sso login" in status.message
        plugin.recover()  # the engineer ran `aws sso login`
        assert informer.wait_synced(20), informer.status
        assert kube.list_pods("shop")
    finally:
        informer.stop(timeout=1.0)


def test_anonymous_403_reads_as_not_authenticated(drill_factory: Factory,
                                                  tmp_path: Path) -> None:
    d = drill_factory(anonymous_auth=True)
    config = d.cluster.kubeconfig()
    config["users"][0]["user"] = {}  # no credentials at all
    path = tmp_path / "anon.yaml"
    path.write_text(yaml.safe_dump(config))
    kube = KubeClient.connect(str(path))
    with pytest.raises(Unauthorized) as caught:
        kube.list_pods("shop")
    assert "system:anonymous" in caught.value.message
    assert "not missing RBAC" in caught.value.message
    assert not isinstance(caught.value, Forbidden)


@pytest.mark.parametrize("anonymous", [True, False])
def test_drill_answers_requests_without_credentials_as_kube_apiserver(
        drill_factory: Factory, anonymous: bool) -> None:
    d = drill_factory(anonymous_auth=anonymous)
    with d.http(token=None) as http:
        pods = http.get("/api/v1/namespaces/shop/pods")
        discovery = http.get("/api")
        version = http.get("/version")
    with d.http(token="not-a-token") as http:
        wrong = http.get("/api/v1/namespaces/shop/pods")
    assert wrong.status_code == 401  # a bad token is never anonymous
    if anonymous:
        assert pods.status_code == 403 and 'User "system:anonymous"' in pods.json()["message"]
        assert discovery.status_code == 403
        assert version.status_code == 200  # system:public-info-viewer
    else:
        assert pods.status_code == discovery.status_code == 401
        assert pods.json()["reason"] == "Unauthorized"


# ---- item 2: plugins run quietly, away from the console's terminal ----------------------------
def test_plugin_runs_without_the_terminal_and_its_stderr_is_captured(
        drill: Drill, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    # the console runs in a terminal: the old client then told the plugin it was interactive,
    # gave it the console's stdin and let its stderr scribble over the screen
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    plugin = exec_client(drill, tmp_path)[1]
    plugin.fail("SSO session expired; run aws sso login --profile drill\n"
                "Authorization: Bearer sekrit-token-1234567890\n")
    kube = KubeClient.connect(str(tmp_path / sorted(p.name for p in tmp_path.glob("*.yaml"))[0]))
    with pytest.raises(Unauthorized) as caught:
        kube.list_pods("shop")
    runs = plugin.runs()
    assert runs and all(r["interactive"] is False for r in runs)
    assert not any(r["stdin_open"] for r in runs)
    out, err = capfd.readouterr()
    assert "SSO session expired" not in out + err  # not on the terminal Textual draws on
    assert "SSO session expired; run aws sso login --profile drill" in caught.value.message
    assert "sekrit-token-1234567890" not in caught.value.message  # redacted


def test_if_available_plugin_prompts_through_the_console_after_a_quiet_failure(
        drill: Drill, tmp_path: Path) -> None:
    kube, plugin = exec_client(drill, tmp_path, interactive_mode="IfAvailable")
    assert kube.credentials is not None
    handed_over: list[bool] = []

    def prompt(run: Any) -> Any:  # what WarroomApp.with_terminal does, minus the terminal
        handed_over.append(True)
        plugin.recover()  # the engineer logs in at the plugin's prompt
        return run()

    kube.credentials.prompt = prompt
    plugin.fail()
    assert kube.list_pods("shop")
    assert handed_over == [True]
    assert [r["interactive"] for r in plugin.runs()] == [False, True]


def test_always_interactive_plugin_without_a_terminal_is_a_clear_error(
        drill: Drill, tmp_path: Path) -> None:
    kube, plugin = exec_client(drill, tmp_path, interactive_mode="Always")
    with pytest.raises(Unauthorized) as caught:
        kube.list_pods("shop")
    assert "needs a terminal" in caught.value.message
    assert plugin.runs() == []


# ---- item 3: refresh -----------------------------------------------------------------------------
def test_short_lived_token_is_cached_until_it_expires(drill: Drill, tmp_path: Path) -> None:
    kube, plugin = exec_client(drill, tmp_path, exec_ttl=60)  # under client's 5 minutes
    for _ in range(6):
        kube.list_pods("shop")
    assert len(plugin.runs()) == 1
    expiry = kube.credentials_expiry
    assert expiry is not None and 50 < (expiry.timestamp() - time.time()) <= 61


def test_expired_token_is_refreshed(drill: Drill, tmp_path: Path) -> None:
    kube, plugin = exec_client(drill, tmp_path, exec_ttl=6)  # refreshed 5 s early: ~1 s
    kube.list_pods("shop")
    time.sleep(2.1)  # the stamp has whole seconds
    kube.list_pods("shop")
    assert len(plugin.runs()) == 2


def test_parallel_requests_share_one_plugin_run(drill: Drill, tmp_path: Path) -> None:
    kube, plugin = exec_client(drill, tmp_path, exec_ttl=120, exec_delay=0.4)
    errors: list[BaseException] = []

    def list_pods() -> None:
        try:
            kube.list_pods("shop")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=list_pods) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    runs = plugin.runs()
    assert len(runs) == 1, runs


def test_401_runs_the_plugin_again_once(drill: Drill, tmp_path: Path) -> None:
    kube, plugin = exec_client(drill, tmp_path, exec_ttl=3600)
    kube.list_pods("shop")
    old = plugin.token
    drill.call(drill.cluster.access.add_token, "rotated-" + old, "drill-sso", set())
    plugin.set_token("rotated-" + old)
    drill.call(drill.cluster.access.revoke, old)  # the server no longer takes the cached one
    assert kube.list_pods("shop")  # 401, plugin again, the same request again
    assert len(plugin.runs()) == 2
    drill.call(drill.cluster.access.revoke, "rotated-" + old)  # now every token is bad
    with pytest.raises(Unauthorized):
        kube.list_pods("shop")
    assert len(plugin.runs()) == 3  # refreshed once, then the 401 is reported


# ---- item 10: POD_NAMESPACE before the service account's namespace file -----------------------
def test_in_cluster_namespace_comes_from_pod_namespace_first(
        drill: Drill, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token, ca, ns_file = tmp_path / "token", tmp_path / "ca.crt", tmp_path / "namespace"
    token.write_text(drill.cluster.token)
    ca.write_bytes(drill.cluster.tls.ca_pem)
    ns_file.write_text("default")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(ca))
    monkeypatch.setattr("adapters.kube_config.SERVICE_ACCOUNT_NAMESPACE", ns_file)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(drill.cluster.port))
    monkeypatch.setenv("POD_NAMESPACE", "shop")
    kube = KubeClient.connect()
    assert kube.namespace == "shop" and kube.list_deployments(kube.namespace)
    monkeypatch.delenv("POD_NAMESPACE")
    assert KubeClient.connect().namespace == "default"
