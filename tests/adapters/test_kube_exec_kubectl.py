"""kubectl and the adapter on the same exec-plugin kubeconfig: a failing plugin stops both
with the plugin's own words (no request sent, no RBAC talk), both run it without a terminal,
and both recover once the plugin works again (issue 14 items 1 and 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.errors import Unauthorized
from adapters.kubernetes import KubeClient
from tests.conftest import Drill, Kubectl

REASON = "SSO session expired for profile drill; run aws sso login --profile drill\n"


def test_failing_plugin_stops_kubectl_and_the_adapter_alike(
        drill: Drill, kubectl: Kubectl, tmp_path: Path) -> None:
    path = drill.cluster.write_kubeconfig(tmp_path / "exec.yaml", exec_plugin=True)
    plugin = drill.cluster.exec_plugin
    assert plugin is not None
    ours = Kubectl(kubectl.binary, kubectl.version, path, kubectl.cache_dir)
    plugin.fail(REASON)
    result = ours.run("get", "pods", "-n", "shop", check=False)
    assert result.returncode != 0
    assert "aws sso login --profile drill" in result.stderr  # the plugin's stderr
    assert "forbidden" not in result.stderr.lower()
    kube = KubeClient.connect(str(path))
    with pytest.raises(Unauthorized) as caught:
        kube.list_pods("shop")
    assert "aws sso login --profile drill" in caught.value.message
    assert "not allowed" not in caught.value.message
    runs = plugin.runs()
    # kubectl 1.20 leaves "interactive" out when false (omitempty)
    assert runs and all(not r["interactive"] and not r["stdin_open"] for r in runs)

    plugin.recover()
    listed = ours.run("get", "pods", "-n", "shop", "-o", "name").stdout.split()
    names = {f"pod/{p.name}" for p in kube.list_pods("shop")}
    assert set(listed) == names


def test_401_refreshes_the_plugin_credential_in_kubectl_and_the_adapter_alike(
        drill: Drill, kubectl: Kubectl, tmp_path: Path) -> None:
    def stale_first(name: str) -> tuple[Path, int]:
        """A kubeconfig whose plugin's first token the server has revoked (rotated)."""
        path = drill.cluster.write_kubeconfig(tmp_path / f"{name}.yaml", exec_plugin=True,
                                              exec_ttl=3600)
        plugin = drill.cluster.exec_plugin
        assert plugin is not None
        old = plugin.token
        drill.call(drill.cluster.access.add_token, f"rotated-{old}", "drill-sso", set())
        plugin.rotate_after_next_run(f"rotated-{old}")
        drill.call(drill.cluster.access.revoke, old)
        return path, len(plugin.runs())

    path, before = stale_first("kubectl")
    ours = Kubectl(kubectl.binary, kubectl.version, path, kubectl.cache_dir)
    listed = ours.run("get", "pods", "-n", "shop", "-o", "name").stdout.split()
    assert drill.cluster.exec_plugin is not None
    kubectl_runs = len(drill.cluster.exec_plugin.runs()) - before

    path, before = stale_first("adapter")
    kube = KubeClient.connect(str(path))
    names = {f"pod/{p.name}" for p in kube.list_pods("shop")}
    adapter_runs = len(drill.cluster.exec_plugin.runs()) - before
    assert set(listed) == names
    assert kubectl_runs == adapter_runs == 2  # a 401, one more run, the request succeeds
