"""Checklist: progress, status symbols, the current step and its explanation, intents."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import ListItem, ListView

from tests.widgets.widget_demo import STEPS, WidgetApp
from widgets.checklist import Checklist, progress_text, step_symbol


def label_text(item: ListItem) -> str:
    return str(item.query_one("Label").render())


async def test_shows_progress_symbols_and_the_current_step() -> None:
    app = WidgetApp(Checklist())
    async with app.run_test(size=(80, 30)) as pilot:
        checklist = app.query_one(Checklist)
        checklist.set_steps("production-bug", STEPS, "undo")
        await pilot.pause()
        assert str(checklist.query_one("#checklist-progress").render()) == \
            "4/9 · 1 failed · 1 blocked"
        items = list(checklist.query_one(ListView).query(ListItem))
        assert len(items) == 9
        assert label_text(items[0]).startswith(" ☑ 1. Assess impact")
        assert label_text(items[3]).startswith("›▶ 4. Roll back api")
        assert "⛔" in label_text(items[5]) and "blocked" in label_text(items[5])
        assert label_text(items[6]).startswith(" ⤼ 7.")
        assert label_text(items[7]).startswith(" ✖ 8.") and "failed" in label_text(items[7])
        assert label_text(items[8]).startswith(" ☐ 9.")
        assert items[3].has_class("-current") and items[3].has_class("-running")
        assert checklist.highlighted_key == "undo"
        explain = str(checklist.query_one("#checklist-explain").render())
        assert "RUNNING" in explain and "does not revert replicas" in explain


async def test_space_and_enter_post_intents_for_the_highlighted_step() -> None:
    app = WidgetApp(Checklist())
    async with app.run_test(size=(80, 30)) as pilot:
        checklist = app.query_one(Checklist)
        checklist.set_steps("production-bug", STEPS, "undo")
        await pilot.pause()
        checklist.query_one(ListView).focus()
        await pilot.press("down", "space", "enter", "r")
        await pilot.pause()
        assert [m.key for m in app.of_type(Checklist.StepToggled)] == ["verify"]
        assert [m.key for m in app.of_type(Checklist.StepRun)] == ["verify", "verify"]
        explain = str(checklist.query_one("#checklist-explain").render())
        assert "Verify /healthz" in explain


async def test_updates_in_place_and_follows_the_current_step() -> None:
    app = WidgetApp(Checklist())
    async with app.run_test(size=(80, 30)) as pilot:
        checklist = app.query_one(Checklist)
        checklist.set_steps("production-bug", STEPS, "undo")
        await pilot.pause()
        items_before = list(checklist.query(ListItem))
        steps = [replace(s, status="done") if s.key == "undo" else s for s in STEPS]
        checklist.set_steps("production-bug", steps, "verify")
        await pilot.pause()
        assert list(checklist.query(ListItem)) == items_before  # same widgets, updated
        assert checklist.highlighted_key == "verify"
        assert items_before[3].has_class("-done") and not items_before[3].has_class("-current")
        assert str(checklist.query_one("#checklist-progress").render()).startswith("5/9")
        # same current step: the user's cursor is left where it is
        checklist.query_one(ListView).index = 0
        checklist.set_steps("production-bug", steps, "verify")
        await pilot.pause()
        assert checklist.highlighted_key == "assess"
        # a different runbook replaces the steps
        checklist.set_steps("memory-leak", STEPS[:2], None)
        await pilot.pause()
        assert len(checklist.query(ListItem)) == 2
        assert checklist.highlighted_key == "assess"


def test_progress_and_symbols() -> None:
    assert progress_text([]) == "0/0"
    assert progress_text(STEPS[:3]) == "3/3"
    assert step_symbol("blocked") == "⛔"  # two cells wide already
    assert step_symbol("pending") == "☐ "


async def test_steps_given_before_mount_are_shown() -> None:
    checklist = Checklist()
    checklist.set_steps("production-bug", STEPS, "undo")
    app = WidgetApp(checklist)
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        assert len(checklist.query(ListItem)) == 9
        assert checklist.highlighted_key == "undo"
