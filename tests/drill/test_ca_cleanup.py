"""The drill cluster's temporary CA directory goes when the cluster stops."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import start_drill


def test_stopping_the_drill_removes_its_ca_directory(tmp_path: Path) -> None:
    drill = start_drill(tmp_path)
    ca_dir = drill.cluster.ca_path.parent
    assert ca_dir.name.startswith("warroom-drill-") and drill.cluster.ca_path.exists()
    drill.thread.stop()
    assert not ca_dir.exists()
