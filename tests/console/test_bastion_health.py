"""The bastion's own health in the header (psutil), the low audit disk warning, and mutations
refused once the audit log can no longer be written (the state directory on a tiny tmpfs)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from console.domain.audit_disk import FULL_BYTES
from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import (
    action_kinds,
    drill_settings,
    fingerprint,
    settled,
    until,
)
from widgets.status_header import StatusHeader

SIZE = (160, 48)
HOST = re.compile(r"^load (?P<load>[0-9.]+) mem (?P<mem>[0-9]+)% disk (?P<free>[0-9.]+) "
                  r"(?P<unit>B|KiB|MiB|GiB|TiB) free$")
UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def header_text(app: WarroomApp, widget_id: str) -> str:
    label = app.query_one(StatusHeader).query_one(f"#{widget_id}")
    return "" if label.has_class("-hidden") else str(label.render())


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (mounted as root; skipped where mounting is not permitted)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs",
                           str(mount)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_header_shows_the_bastion_from_psutil(cluster: Drill, state_dir: Path) -> None:
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        text = await until(pilot, lambda: header_text(app, "host"), message="the bastion")
        assert text.startswith("bastion ")
        match = HOST.match(text.removeprefix("bastion "))
        assert match, text
        # the same readings, taken here: load and memory move a little between two reads
        load = psutil.getloadavg()[0]
        assert abs(float(match["load"]) - load) < max(1.0, load * 0.5)
        assert abs(int(match["mem"]) - psutil.virtual_memory().percent) < 10
        where = state_dir if state_dir.exists() else state_dir.parent
        free = psutil.disk_usage(str(where)).free
        shown = float(match["free"]) * UNITS[match["unit"]]
        assert abs(shown - free) <= max(0.06 * free, 64 * 2**20)
        assert header_text(app, "host-warning") == ""  # the test machine's disk is not full


async def test_low_audit_disk_warns_then_refuses_mutations(
    cluster: Drill, tiny_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tiny_disk / "state"
    monkeypatch.setenv("WARROOM_STATE_DIR", str(state))
    before = fingerprint(cluster)
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        warning = await until(pilot, lambda: header_text(app, "host-warning"), 20,
                              "the low-disk warning")
        assert warning.startswith("⚠ audit disk low: ") and "free" in warning
        # fill the disk: the audit log can no longer take an action's records
        filler = tiny_disk / "filler"
        with open(filler, "wb") as out:
            while psutil.disk_usage(str(tiny_disk)).free >= FULL_BYTES // 2:
                try:
                    out.write(b"\0" * 16384)
                    out.flush()
                except OSError:
                    break
        await until(pilot, lambda: "actions refused" in header_text(app, "host-warning"), 20,
                    "the refusal in the header")
        await pilot.press("r")
        await until(pilot, lambda: any("the audit log cannot be written" in str(n.message)
                                       for n in app._notifications), 20, "the refusal notified")
        assert len(app.screen_stack) == 1  # never asked to confirm
        assert "action.requested" not in action_kinds(app, "restart")
        os.remove(filler)
    assert fingerprint(cluster) == before
