"""Snapshots of the war-room panes and dialogs (fixed data, pinned terminal sizes).

Update with `pytest tests/widgets --snapshot-update` only when a change is intended.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.widgets.widget_demo import BINDINGS, DIFFS, HEADER, REVISIONS, DemoApp
from themes import THEMES
from widgets.confirm_modal import ConfirmModal
from widgets.help_screen import HelpScreen
from widgets.scale_modal import ScaleModal
from widgets.text_modal import TextModal
from widgets.undo_modal import UndoModal

LOG = "\n".join(
    f"2024-05-01T03:0{n // 6}:{n % 6}0Z ERROR auth: token validation failed (attempt {n})"
    for n in range(40)
)


@pytest.mark.parametrize("theme", sorted(THEMES))
@pytest.mark.parametrize("size", [(160, 48), (80, 24)], ids=["wide", "narrow"])
def test_war_room(snap_compare, theme: str, size: tuple[int, int]) -> None:
    assert snap_compare(DemoApp(theme), terminal_size=size)


def test_war_room_stale_read_only_drill(snap_compare) -> None:
    header = replace(HEADER, production=False, connection="stale", stale_since="03:12:09",
                     drill_time="00:05:00 ×10", read_only=True)
    assert snap_compare(DemoApp(header=header), terminal_size=(120, 30))


def test_confirm_production(snap_compare) -> None:
    modal = ConfirmModal("Roll back shop/api", context="prod-eu-1", namespace="shop",
                         target="deployment/api", change="rollout undo to revision 6",
                         warnings=["deployment is paused: the undo will not roll out"],
                         typed_name="api")
    assert snap_compare(DemoApp(modal=modal), terminal_size=(80, 24), press=["a", "p"])


def test_confirm_plain(snap_compare) -> None:
    modal = ConfirmModal("Restart shop/web", context="staging", namespace="shop",
                         target="deployment/web", change="rollout restart (4 pods)")
    assert snap_compare(DemoApp(modal=modal), terminal_size=(80, 24))


def test_scale_invalid(snap_compare) -> None:
    modal = ScaleModal("shop/api", 4, max_replicas=50)
    assert snap_compare(DemoApp(modal=modal), terminal_size=(80, 24),
                        press=["end", "backspace", "9", "9", "9"])


def test_undo(snap_compare) -> None:
    modal = UndoModal("shop/api", REVISIONS, DIFFS,
                      warnings=["revision 4 was pruned (revisionHistoryLimit: 3)"])
    assert snap_compare(DemoApp(modal=modal), terminal_size=(80, 24))


def test_help(snap_compare) -> None:
    assert snap_compare(DemoApp(modal=HelpScreen(BINDINGS)), terminal_size=(80, 24))


def test_text_modal(snap_compare) -> None:
    modal = TextModal("logs: shop/api-7d9f8c6b5-qq7lm (last 40 lines)", LOG)
    assert snap_compare(DemoApp(modal=modal), terminal_size=(80, 24))
