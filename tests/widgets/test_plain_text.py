"""Control characters in outside text are shown, never sent to the terminal; nothing outside
is read as markup.

The widgets are read back from what Textual would write for the whole screen (every segment
of every line), so a control character that reached a widget's output is caught wherever it
came from.
"""

from __future__ import annotations

import re

from rich.text import Text

from tests.widgets.widget_demo import WidgetApp
from widgets.audit_view import AuditView
from widgets.checklist import Checklist
from widgets.confirm_modal import ConfirmModal
from widgets.plain_text import has_controls, plain_cell, plain_text, visible_controls
from widgets.pod_table import PodTable
from widgets.rows import AuditRow, HeaderInfo, PodRow, StepRow
from widgets.status_header import StatusHeader
from widgets.text_modal import TextModal

HOSTILE = "a\x1b]2;PWNED\x07b\x1b]52;c;cHduZWQ=\x07c\x9b2Jd\x00e\x7ff\rg"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def rendered(app: WidgetApp) -> str:
    return "\n".join("".join(segment.text for segment in strip)
                     for strip in app.screen._compositor.render_strips())


def test_every_control_but_tab_and_newline_becomes_one_visible_character() -> None:
    controls = "".join(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)))
    shown = visible_controls(controls)
    assert len(shown) == len(controls)
    assert not has_controls(shown)
    assert shown[0x09] == "\t" and shown[0x0A] == "\n"
    assert visible_controls("\x1b]2;x\x07") == "␛]2;x␇"
    assert visible_controls("\x00\x7f\x9b") == "␀␡\ufffd"
    assert visible_controls("plain [b]text[/b] ünïcode") == "plain [b]text[/b] ünïcode"


def test_plain_text_turns_windows_line_ends_into_newlines() -> None:
    assert plain_text("one\r\ntwo\rthree") == "one\ntwo␍three"


def test_plain_cell_keeps_the_styles_in_place() -> None:
    text = Text("x\x1by")
    text.append("\x9bz", style="bold")
    assert plain_cell(text) is text
    assert text.plain == "x␛y\ufffdz"
    assert [(s.start, s.end, str(s.style)) for s in text.spans] == [(3, 5, "bold")]


async def test_audit_rows_show_escapes_as_text() -> None:
    app = WidgetApp(AuditView())
    async with app.run_test(size=(120, 12)) as pilot:
        view = app.query_one(AuditView)
        view.append(AuditRow("03:02:11", f"eve{HOSTILE}", f"note{HOSTILE}", HOSTILE,
                             f"[/] {HOSTILE}", ok=False))
        await pilot.pause()
        assert "␛]2;PWNED␇" in view.lines[0].text
        assert CONTROL.findall(rendered(app)) == []


async def test_pod_cells_from_the_cluster_show_escapes_as_text() -> None:
    app = WidgetApp(PodTable())
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(PodTable)
        table.apply_deltas([PodRow("shop/api-1", "api-1", "1/1", f"Crash{HOSTILE}", 0, "1m",
                                   f"r{HOSTILE}", "node-a")])
        await pilot.pause()
        assert "Crasha␛]2;PWNED" in rendered(app)
        assert CONTROL.findall(rendered(app)) == []


async def test_runbook_steps_show_escapes_and_markup_as_text() -> None:
    app = WidgetApp(Checklist())
    async with app.run_test(size=(120, 20)) as pilot:
        checklist = app.query_one(Checklist)
        checklist.set_steps(f"[/] book {HOSTILE}", [
            StepRow("s1", f"[/] step {HOSTILE}", "shell", "failed", f"out {HOSTILE}",
                    f"why {HOSTILE}")], "s1")
        await pilot.pause(0.1)
        shown = rendered(app)
        assert "[/] step a␛]2;PWNED" in shown and "[/] book a␛]2;PWNED" in shown
        assert CONTROL.findall(shown) == []


async def test_a_context_name_is_never_markup_or_escapes() -> None:
    """The header shows the kubeconfig's context and namespace names as they are."""
    info = HeaderInfo(context=f"[/]prod{HOSTILE}", namespace="shop[b]", connection="live")
    app = WidgetApp(StatusHeader(info))
    async with app.run_test(size=(160, 6)) as pilot:
        await pilot.pause()
        shown = rendered(app)
        assert "ctx [/]proda␛]2;PWNED" in shown and "ns shop[b]" in shown
        assert CONTROL.findall(shown) == []


async def test_modals_show_outside_text_as_text() -> None:
    app = WidgetApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(ConfirmModal(f"[/] {HOSTILE}", context=f"c{HOSTILE}",
                                           namespace="n", target="t",
                                           change=f"proposed by [@click=app.quit]x[/]{HOSTILE}",
                                           warnings=[f"w{HOSTILE}"], typed_name="api"))
        await pilot.pause()
        shown = rendered(app)
        assert "[@click=app.quit]x[/]a␛]2;PWNED␇b" in shown  # the facts wrap in their column
        assert CONTROL.findall(shown) == []
        app.pop_screen()
        modal = TextModal(f"logs {HOSTILE}", f"line {HOSTILE}\r\nnext")
        await app.push_screen(modal)
        modal.append(f"more {HOSTILE}")
        await pilot.pause()
        shown = rendered(app)
        assert "line a␛]2;PWNED" in shown and "more a␛]2;PWNED" in shown
        assert CONTROL.findall(shown) == []
