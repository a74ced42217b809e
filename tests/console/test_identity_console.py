"""The console under a kubeconfig that impersonates (issue 14 item 4): the header says whom the
cluster sees, the action runs as that user and its audit records name them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from textual.widgets import Label

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
from widgets.confirm_modal import ConfirmModal

SIZE = (160, 48)


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state"
    monkeypatch.setenv("WARROOM_STATE_DIR", str(path))
    return path


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
