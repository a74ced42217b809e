"""The console under kubeconfigs from the field (issue 14): one that impersonates (item 4: the
header says whom the cluster sees, the action runs as that user and its audit records name
them) and one whose proxy is down or needs a missing package (item 5: a message, not an exit)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.widgets import Label, Static

from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import (
    audit_records,
    deployment,
    drill_settings,
    finished,
    settled,
    until,
)
from tests.proxies import closed_port
from widgets.confirm_modal import ConfirmModal
from widgets.pod_table import PodTable

SIZE = (160, 48)


async def test_header_and_audit_name_the_impersonated_user(
        drill_factory: Callable[..., Drill], state_dir: Path, tmp_path: Path) -> None:
    cluster = drill_factory()
    config = cluster.cluster.kubeconfig()
    config["users"][0]["user"].update({"as": "alice", "as-groups": ["sre"]})
    kubeconfig = tmp_path / "break-glass.yaml"
    kubeconfig.write_text(yaml.safe_dump(config))
    app = WarroomApp(drill_settings(cluster, kubeconfig=str(kubeconfig)))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        label = app.screen.query_one("#identity", Label)
        assert str(label.render()) == "as alice (groups: sre)" and label.display
        start = cluster.call(lambda: len(cluster.cluster.access.seen))
        await pilot.press("plus")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), message="confirm")
        await pilot.press("y")
        await until(pilot, lambda: finished(app, "scale"), 30, "scale to finish")
    assert deployment(cluster).spec.replicas == 4
    patches = [e for e in cluster.call(lambda: list(cluster.cluster.access.seen))[start:]
               if e["method"] == "PATCH"]
    assert patches and all(e["user"] == "alice" and e["impersonated_by"] == "drill-admin"
                           for e in patches)
    records = [r for r in audit_records(app) if r.get("action") == "scale"]
    assert [r["kind"] for r in records][-1] == "action.finished"
    for record in records:
        assert record["identity"] == {"user": "alice", "groups": ["sre"],
                                      "kubeconfig_user": "drill-admin"}


def _proxied(cluster: Drill, path: Path, url: str) -> str:
    config = cluster.cluster.kubeconfig()
    config["clusters"][0]["cluster"]["proxy-url"] = url
    path.write_text(yaml.safe_dump(config))
    return str(path)


def _notified(app: WarroomApp, text: str) -> bool:
    return any(text in str(n.message) for n in app._notifications)


async def test_a_proxy_that_is_down_is_a_message_not_an_exit(
        drill_factory: Callable[..., Drill], state_dir: Path, tmp_path: Path) -> None:
    cluster = drill_factory()
    url = f"socks5://127.0.0.1:{closed_port()}"
    app = WarroomApp(drill_settings(cluster, kubeconfig=_proxied(cluster, tmp_path / "k.yaml",
                                                                 url)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _notified(app, f"through the proxy {url}"), 20,
                    "the proxy failure to be shown")
        assert app.is_running


async def test_socks_without_pysocks_is_a_banner_not_an_exit(
        drill_factory: Callable[..., Drill], state_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: ModuleNotFoundError: socks from the connect worker."""
    cluster = drill_factory()
    monkeypatch.setitem(sys.modules, "socks", None)
    monkeypatch.setitem(sys.modules, "urllib3.contrib.socks", None)
    path = _proxied(cluster, tmp_path / "k.yaml", "socks5://127.0.0.1:1080")
    app = WarroomApp(drill_settings(cluster, kubeconfig=path))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _notified(app, "needs the PySocks package"), 20,
                    "the banner")
        status = str(app.screen.query_one("#action-status", Static).render())
        assert "needs the PySocks package" in status
        assert app.is_running


async def test_new_pods_age_on_the_servers_clock(
        drill_factory: Callable[..., Drill], state_dir: Path) -> None:
    """Item 9: the API server's clock runs 5 s ahead of this machine's (a bastion behind it);
    the console connects by kubeconfig (no drill clock handed in), so only the Date headers
    tell. Before: new pods showed AGE ``<invalid>``."""
    cluster = drill_factory(speed=1.0, clock_skew=5.0)
    settings = dataclasses.replace(drill_settings(cluster), cluster_clock=None, drill=None)
    app = WarroomApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        before = set(app.query_one(PodTable).keys)

        def change(obj: dict[str, Any]) -> None:
            obj["spec"]["replicas"] = 5

        cluster.call(cluster.cluster.store.mutate, "deployments", "shop", "api", change)
        await until(pilot, lambda: len(app.query_one(PodTable).keys) == 5, 20, "5 api pods")
        await pilot.pause(1.2)  # an age tick
        table = app.query_one(PodTable)
        ages = {key: row.age for key in table.keys
                if key not in before and (row := table.row_for(key)) is not None}
        assert ages and all(age in ("0s", "1s", "2s", "3s") for age in ages.values()), ages
