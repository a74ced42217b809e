"""The `/` filter bar under the tables: what is typed filters the table while typing.

Enter keeps the filter and hands the keys back to the table; Escape clears it. The bar says
what it filters and, when the pattern cannot be used, why (the table then stays as it was).
Posts ``FilterBar.Changed(target, text)`` on every keystroke and ``FilterBar.Closed(target,
kept)`` when it goes away.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label

from widgets.plain_text import plain_text


class FilterBar(Horizontal):
    DEFAULT_CSS = """
    FilterBar {
        height: 1;
        dock: bottom;
        display: none;
    }
    FilterBar.-open {
        display: block;
    }
    FilterBar #filter-prompt {
        width: auto;
        padding: 0 1 0 0;
    }
    FilterBar Input, FilterBar Input:focus {
        width: 1fr;
        height: 1;
        border: none;
        padding: 0;
    }
    FilterBar #filter-note {
        width: auto;
        max-width: 60%;
        padding: 0 0 0 1;
    }
    FilterBar #filter-note.-error {
        color: $error;
    }
    """
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("escape", "close(False)", "Clear filter", show=False),
        Binding("enter", "close(True)", "Keep filter", show=False),
    ]

    class Changed(Message):
        def __init__(self, target: str, text: str) -> None:
            super().__init__()
            self.target = target
            self.text = text

    class Closed(Message):
        def __init__(self, target: str, kept: bool) -> None:
            super().__init__()
            self.target = target
            self.kept = kept

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.target = "pods"

    def compose(self) -> ComposeResult:
        yield Label("/", id="filter-prompt")
        yield Input(placeholder="regex over name, status, node, labels; ! negates",
                    id="filter-input", select_on_focus=False)
        yield Label("", id="filter-note")

    @property
    def text(self) -> str:
        return self.query_one(Input).value

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self, target: str, text: str) -> None:
        """Show the bar for ``target`` ("pods" or "deployments") holding ``text``."""
        self.target = target
        self.query_one("#filter-prompt", Label).update(f"/ {target}:")
        field = self.query_one(Input)
        with field.prevent(Input.Changed):
            field.value = text
        field.cursor_position = len(text)
        self.add_class("-open")
        # focus now, not after the queued messages (Widget.focus defers it): "/" and the
        # key typed right after it may arrive in one read, and that key is the pattern's
        self.screen.set_focus(field)

    def note(self, text: str, *, error: bool = False) -> None:
        """What the filter does now ("12 of 10,000"), or why it could not be used."""
        label = self.query_one("#filter-note", Label)
        label.update(Text(plain_text(text)))
        label.set_class(error, "-error")

    def action_close(self, kept: bool) -> None:
        self.remove_class("-open")
        self.post_message(self.Closed(self.target, kept))

    @on(Input.Changed, "#filter-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self.target, event.value))

    @on(Input.Submitted, "#filter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_close(True)
