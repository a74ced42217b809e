"""HelpScreen lists the bindings and the how-to; TextModal shows text literally."""

from __future__ import annotations

from textual.widgets import Log

from tests.widgets.widget_demo import BINDINGS, ModalHost
from widgets.help_screen import HelpScreen, key_lines
from widgets.text_modal import TextModal


async def test_help_lists_bindings_and_closes_on_escape() -> None:
    app = ModalHost(HelpScreen(BINDINGS))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        keys = str(app.screen.query_one("#help-keys").render())
        assert "\nu       rollout undo (pick a revision)\n" in keys
        assert "ROLL BACK NOW" in str(app.screen.query_one("#help-howto").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]


def test_key_lines_align() -> None:
    assert key_lines([("a", "one"), ("ctrl+p", "two")]).plain == "a       one\nctrl+p  two"


async def test_text_modal_shows_text_literally_and_appends() -> None:
    modal = TextModal("logs: api-7d9f8c6b5-qq7lm", "line [bold]1[/]\nline 2\n")
    app = ModalHost(modal)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        log = modal.query_one(Log)
        modal.append("line 3")
        await pilot.pause()
        assert list(log.lines)[:3] == ["line [bold]1[/]", "line 2", "line 3"]
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
