"""`warroom replay`: an audit log played back on screen shows the same records, in order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from console.cli import main as cli
from console.domain.audit import AuditLog
from console.rehearsal.replay import load_replay
from console.ui import view_model as vm
from console.ui.replay_app import ReplayApp, clock_text
from tests.console.app_harness import until
from widgets.audit_view import AuditView

START = datetime(2024, 11, 9, 10, 0, 0, tzinfo=UTC)
OFFSETS = (0.0, 1.5, 1.5, 4.0, 64.0)
KINDS = ("incident.opened", "action.requested", "action.finished", "runbook.step", "note")
SIZE = (140, 30)


def write_log(path: Path) -> AuditLog:
    times: Iterator[datetime] = (START + timedelta(seconds=o) for o in OFFSETS)
    log = AuditLog(
        path, context="drill", namespace="shop", extra_secrets=(), clock=lambda: next(times)
    )
    for i, kind in enumerate(KINDS):
        log.append(
            kind,
            action=f"a{i}",
            target="deployment/api",
            params={"i": i},
            result={"status": "done"} if kind == "runbook.step" else None,
            message=f"record {i}",
        )
    return log


def header(app: ReplayApp) -> str:
    return str(app.query_one("#replay-header", Static).render())


async def test_replay_shows_the_same_records_in_order(tmp_path: Path) -> None:
    log = write_log(tmp_path / "drill.jsonl")
    records = log.records()
    app = ReplayApp(load_replay(log.path), speed=0)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(AuditView)
        await until(pilot, lambda: len(view.rows) == len(records), message="every record")
        assert view.rows == [vm.audit_row(r) for r in records]
        assert [row.message for row in view.rows] == [f"record {i}" for i in range(5)]
        await until(pilot, lambda: "■ end" in header(app), message="the end in the header")
        assert "record 5/5" in header(app) and "recorded 10:01:04" in header(app)
        assert "speed max" in header(app)
        await pilot.press("q")
    assert app.return_value == 0


async def test_space_pauses_and_plus_minus_change_the_speed(tmp_path: Path) -> None:
    log = write_log(tmp_path / "drill.jsonl")
    app = ReplayApp(load_replay(log.path), speed=2, max_gap_s=30)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(AuditView)
        await until(pilot, lambda: len(view.rows) >= 1, message="the first record")
        assert "speed 2x" in header(app) and "of 00:34" in header(app)  # 64 s gap capped at 30
        await pilot.press("plus")
        assert app.speed == 4 and "speed 4x" in header(app)
        await pilot.press("minus", "minus", "minus", "minus", "minus", "minus")
        assert app.speed == 0.25  # the slowest
        await pilot.press("space")
        assert app.paused and "⏸ paused" in header(app)
        shown, position = app.shown, app.position
        await pilot.pause(0.3)
        assert (app.shown, app.position) == (shown, position)
        await pilot.press("space", *["plus"] * 12)
        assert not app.paused and app.speed == 1024
        await until(pilot, lambda: app.done, message="the replay to finish")
        assert [row.message for row in view.rows] == [f"record {i}" for i in range(5)]
        assert "■ end" in header(app)


def test_clock_text() -> None:
    assert [clock_text(s) for s in (0, 83.9, 3723)] == ["00:00", "01:23", "1:02:03"]


def test_replay_command_runs_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = write_log(tmp_path / "drill.jsonl")
    seen: list[Any] = []

    def run(self: ReplayApp) -> int:
        seen.append((len(self.items), self.speed, self.timeline[-1], self.sub_title))
        return 0

    monkeypatch.setattr(ReplayApp, "run", run)
    assert cli.main(["replay", str(log.path), "--speed", "8", "--max-gap", "10"]) == 0
    assert seen == [(5, 8.0, 14.0, str(log.path))]


def test_replay_command_refuses_what_it_cannot_play(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["replay", str(tmp_path / "missing.jsonl")]) == 2
    assert "no audit log at" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert cli.main(["replay", str(empty)]) == 2
    assert "holds no audit records" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["replay", str(empty), "--speed", "-1"])
