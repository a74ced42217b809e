"""A scrollable text viewer for pod logs and events; Esc closes it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Log

from widgets.plain_text import plain_text


class TextModal(ModalScreen[None]):
    """Plain text (never parsed as markup; control characters shown, not sent: see
    widgets/plain_text.py) in a ``Log``: ``append(text)`` adds more lines.

    Ids: ``#dialog``, ``#text-title``, ``#text-body`` (the Log), ``#text-keys``.
    """

    DEFAULT_CSS = """
    TextModal { align: center middle; }
    TextModal #dialog { width: 100%; height: 100%; }
    TextModal #text-body { height: 1fr; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, title: str, text: str = "", *, max_lines: int | None = 20000) -> None:
        super().__init__()
        self.title_text = title
        self._initial = text
        self.max_lines = max_lines

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(plain_text(self.title_text)), id="text-title")
            yield Log(max_lines=self.max_lines, id="text-body")
            yield Label("↑↓ PgUp PgDn scroll · Esc close", id="text-keys")

    def on_mount(self) -> None:
        log = self.query_one(Log)
        if self._initial:
            log.write(plain_text(self._initial), scroll_end=False)
            log.scroll_home(animate=False)
        log.focus()

    def append(self, text: str) -> None:
        """Add text at the end (e.g. a followed log); follows it only if already at the end."""
        log = self.query_one(Log)
        text = plain_text(text)
        at_end = log.max_scroll_y == 0 or log.scroll_y >= log.max_scroll_y
        log.write(text if text.endswith("\n") else text + "\n", scroll_end=at_end)

    def action_close(self) -> None:
        self.dismiss(None)
