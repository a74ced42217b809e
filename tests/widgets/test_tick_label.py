"""TickLabel (the header's clocks) draws its line as a Label would: the same characters in
the same styles, padding included; and ``StatusHeader.tick`` moves the clocks alone."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.style import Style
from textual.geometry import Region
from textual.widgets import Label

from tests.widgets.widget_demo import HEADER, WidgetApp
from widgets.status_header import StatusHeader
from widgets.tick_label import TickLabel

TEXTS = ["DRILL 12:00:00", "DRILL 12:00:01 ×60", "DRILL 12:00:02 ⏸ PAUSED", "DRILL 全角 12:00",
         "DRILL 12:59:59 ×600"]


def characters(lines: Any) -> list[tuple[str, Style | None]]:
    return [(char, segment.style) for line in lines for segment in line
            for char in segment.text]


def drawn(label: Label, draw_as: type[Label]) -> list[tuple[str, Style | None]]:
    """The label's whole region, padding included, drawn by ``draw_as``'s line method."""
    label._styles_cache.clear()
    real = type(label)
    label.__class__ = draw_as  # the same widget, state and styles, drawn the Label way
    try:
        label._render_cache = type(label._render_cache)(label.size, [])
        label.refresh()
        return characters(label.render_lines(Region(0, 0, *label.outer_size)))
    finally:
        label.__class__ = real
        label._styles_cache.clear()


async def test_clock_labels_draw_as_labels_do() -> None:
    app = WidgetApp(StatusHeader(replace(HEADER, drill_time="12:00:00")))
    async with app.run_test(size=(160, 4)) as pilot:
        header = app.query_one(StatusHeader)
        await pilot.pause()
        compared = 0
        for text in TEXTS:
            header.tick(f"00:00:{compared:02d}", text.removeprefix("DRILL "))
            await pilot.pause()
            for selector in ("#drill-time", "#incident-clock"):
                label = header.query_one(selector, TickLabel)
                quick, slow = drawn(label, TickLabel), drawn(label, Label)
                assert quick == slow, (selector, text)
                assert "".join(char for char, _ in quick).strip() == str(label.render())
                compared += 1
        drill = header.query_one("#drill-time", TickLabel)
        assert str(drill.render()) == TEXTS[-1]
        assert drill.outer_size.width == len(TEXTS[-1]) + 2  # its width followed the text
        # the drill time is bold on its own background; the incident clock is not
        styles = {style for _, style in drawn(drill, TickLabel) if style is not None}
        assert any(style.bold for style in styles)
        assert compared == 2 * len(TEXTS)


async def test_tick_moves_the_clocks_alone_and_shows_a_new_one() -> None:
    app = WidgetApp(StatusHeader(HEADER))
    async with app.run_test(size=(160, 4)) as pilot:
        header = app.query_one(StatusHeader)
        await pilot.pause()
        context = header.query_one("#context", Label)
        shown_before = context.render()
        header.tick("00:17:43", None)
        await pilot.pause()
        assert str(header.query_one("#incident-clock", Label).render()) == "incident 00:17:43"
        assert header.info is not None and header.info.incident_clock == "00:17:43"
        assert context.render() is shown_before  # not redrawn: nothing else changed
        assert not header.query_one("#drill-time").display
        header.tick("00:17:44", "03:00:00")  # a drill clock appears: the whole header
        await pilot.pause()
        drill = header.query_one("#drill-time", Label)
        assert drill.display and str(drill.render()) == "DRILL 03:00:00"
        assert drill.outer_size.width == len("DRILL 03:00:00") + 2  # padding 0 1
        header.tick("00:17:45", "03:00:01 ⏸ PAUSED")  # wider: laid out again
        await pilot.pause()
        assert drill.outer_size.width == len("DRILL 03:00:01 ⏸ PAUSED") + 2
        header.tick("", None)  # frozen: both go
        await pilot.pause()
        assert not header.query_one("#incident-clock").display
        assert not drill.display
