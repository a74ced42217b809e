"""Snapshots of the whole war-room screen on a frozen drill cluster.

Everything on screen is pinned: the drill clock stands still (speed 0) from a fixed start and
seed, so pod names, ages, metrics and sparklines are the same on every run; `frozen=True`
turns off the header clocks and fetches metrics once; `wall_clock` pins the incident id and the
audit record times; the operator is a fixed `Actor`; the incident id's random suffix is pinned;
table columns fit the rows they hold (they shrink back when a wider value goes: KeyedTable)
and input cursors do not blink.
Each snapshot is taken only once the screen holds everything it will ever show.

Update with `pytest tests/console/test_app_snapshots.py --snapshot-update` only when a change
is intended.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from console.domain.actor import Actor
from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import (
    drill_settings,
    repainted,
    settled,
    until,
)
from themes import THEMES
from widgets.confirm_modal import ConfirmModal
from widgets.help_screen import HelpScreen
from widgets.undo_modal import UndoModal

START = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
OPERATOR = Actor(user="oncall", console_id="c-snapshot", host="bastion")
WIDE, NARROW = (160, 48), (80, 24)
COMMON = (120, 40)  # a common terminal: the pod table hides RESTARTS and says so


@pytest.fixture
def frozen_app(drill_factory: Callable[..., Drill], tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Callable[..., WarroomApp]:
    """A console on a private drill cluster whose clock stands still at START."""
    monkeypatch.setenv("WARROOM_STATE_DIR", str(tmp_path / "state"))
    for name in ("SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY", "SUDO_USER"):
        monkeypatch.delenv(name, raising=False)
    # the incident id ends in random hex; pin it (the date part comes from wall_clock)
    monkeypatch.setattr("console.domain.incident.secrets",
                        types.SimpleNamespace(token_hex=lambda n: "0" * (2 * n)))

    def make(**overrides: Any) -> WarroomApp:
        drill = drill_factory(scenario="none", speed=0.0, seed=7, start=START)
        settings = drill_settings(drill, frozen=True, wall_clock=lambda: START, actor=OPERATOR,
                                  **overrides)
        return WarroomApp(settings)

    return make


async def ready(pilot: Pilot[Any]) -> None:
    await settled(pilot, rates=True)
    await repainted(pilot)


def after(*keys: str, screen: type) -> Callable[[Pilot[Any]], Any]:
    """run_before: wait for the full screen, press `keys`, wait for `screen` to be on top."""

    async def run(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press(*keys)
        await until(pilot, lambda: isinstance(pilot.app.screen, screen), message=str(screen))
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False  # a blinking cursor is on or off depending on the moment
        await repainted(pilot)

    return run


@pytest.mark.parametrize(("size", "theme"), [
    (NARROW, "warroom-dark"),
    (COMMON, "warroom-dark"),
    *((WIDE, theme) for theme in sorted(THEMES)),
], ids=["80x24", "120x40", *(f"160x48-{theme}" for theme in sorted(THEMES))])
def test_main_screen(snap_compare: Any, frozen_app: Callable[..., WarroomApp],
                     size: tuple[int, int], theme: str) -> None:
    assert snap_compare(frozen_app(theme=theme), terminal_size=size, run_before=ready)


def test_help_screen(snap_compare: Any, frozen_app: Callable[..., WarroomApp]) -> None:
    assert snap_compare(frozen_app(), terminal_size=WIDE,
                        run_before=after("question_mark", screen=HelpScreen))


def test_confirm_modal_production(snap_compare: Any,
                                  frozen_app: Callable[..., WarroomApp]) -> None:
    """A restart in production: what, where, the warning, and the name to type."""
    assert snap_compare(frozen_app(production=True), terminal_size=WIDE,
                        run_before=after("r", screen=ConfirmModal))


def test_undo_revision_picker(snap_compare: Any, frozen_app: Callable[..., WarroomApp]) -> None:
    assert snap_compare(frozen_app(), terminal_size=WIDE,
                        run_before=after("u", screen=UndoModal))


def test_filtered_pod_table(snap_compare: Any, frozen_app: Callable[..., WarroomApp]) -> None:
    """`/` on the pod table: every workload's pods that match, the bar, the header's count."""

    async def run(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("tab", "slash", *"web|worker")
        await until(pilot, lambda: len(pilot.app.main_screen.live.pods) > 0
                    and pilot.app.query_one("#pods").row_count == 4, message="4 pods")
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False
        pilot.app.main_screen.refresh_header()
        await repainted(pilot)

    assert snap_compare(frozen_app(), terminal_size=WIDE, run_before=run)
