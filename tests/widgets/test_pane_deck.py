"""PaneDeck and the layout: side by side when wide, tabs and one pane when narrow."""

from __future__ import annotations

from textual.widgets import Tabs

from tests.widgets.widget_demo import DemoApp
from widgets.pane_deck import PaneDeck


async def test_wide_shows_every_pane_side_by_side() -> None:
    app = DemoApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert app.screen.has_class("wide")
        assert not app.query_one("#pane-tabs", Tabs).display
        regions = [app.query_one(f"#{pane}").region for pane in ("left", "middle", "right")]
        assert all(region.width > 30 for region in regions)
        assert regions[0].right <= regions[1].x and regions[1].right <= regions[2].x
        audit = app.query_one("#audit").region
        assert audit.y >= regions[0].bottom and 8 <= audit.height <= 14


async def test_narrow_collapses_into_tabs() -> None:
    app = DemoApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        deck = app.query_one(PaneDeck)
        assert app.screen.has_class("narrow")
        assert app.query_one("#pane-tabs", Tabs).display
        assert deck.active == "left"
        assert [app.query_one(f"#{p}").display for p in ("left", "middle", "right")] == \
            [True, False, False]
        deck.show("middle")
        await pilot.pause()
        assert [app.query_one(f"#{p}").display for p in ("left", "middle", "right")] == \
            [False, True, False]
        assert app.query_one("#pane-tabs", Tabs).active == "middle-tab"
        deck.next_pane()
        await pilot.pause()
        assert deck.active == "right"
        assert app.focused is not None and app.focused.display
        # widening the terminal brings every pane back without rebuilding anything
        checklist = app.query_one("#checklist")
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert all(app.query_one(f"#{p}").display for p in ("left", "middle", "right"))
        assert app.query_one("#checklist") is checklist


async def test_tab_click_switches_pane() -> None:
    app = DemoApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.click("#right-tab")
        await pilot.pause()
        assert app.query_one(PaneDeck).active == "right"
        assert app.query_one("#right").display
