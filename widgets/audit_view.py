"""The audit view: the incident's audit trail as it is written, newest at the bottom.

Only a view of what the audit log (console/domain/audit.py) has already written; it keeps the last
``max_lines`` rows and follows new rows unless the reader has scrolled up.
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widgets import RichLog

from widgets.plain_text import plain_text
from widgets.rows import AuditRow

RESULT_SYMBOLS = {True: "✔", False: "✖", None: "·"}


class AuditView(RichLog):
    """A scrolling audit log: ``append(row)`` adds one line (time actor kind target ✔/✖ message).

    Scrollback is capped at ``max_lines`` lines (default 5000).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "audit-view--time",
        "audit-view--actor",
        "audit-view--kind",
        "audit-view--target",
        "audit-view--ok",
        "audit-view--failed",
        "audit-view--info",
    }

    def __init__(self, *, max_lines: int = 5000, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(max_lines=max_lines, wrap=True, markup=False, highlight=False,
                         auto_scroll=True, name=name, id=id, classes=classes)
        self._kept: deque[AuditRow] = deque(maxlen=max_lines)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(
            self, lambda _theme: self.call_after_refresh(self._rewrite))

    @property
    def rows(self) -> list[AuditRow]:
        """The rows still in the scrollback, oldest first."""
        return list(self._kept)

    def append(self, row: AuditRow) -> None:
        self._kept.append(row)
        at_end = self.max_scroll_y == 0 or self.scroll_y >= self.max_scroll_y
        self.write(self.line(row), scroll_end=at_end, expand=True, shrink=True)

    def extend(self, rows: list[AuditRow]) -> None:
        for row in rows:
            self.append(row)

    def line(self, row: AuditRow) -> Text:
        """One audit row as a line of text (control characters in it shown, not sent)."""
        style = self._style
        result = {True: "ok", False: "failed", None: "info"}[row.ok]
        text = Text(no_wrap=False, end="")
        text.append(plain_text(row.time), style=style("time"))
        text.append(" ")
        text.append(plain_text(row.actor), style=style("actor"))
        text.append(" ")
        text.append(plain_text(row.kind), style=style("kind"))
        text.append(" ")
        text.append(plain_text(row.target), style=style("target"))
        text.append(" ")
        text.append(RESULT_SYMBOLS[row.ok], style=style(result))
        text.append(" ")
        text.append(plain_text(row.message), style=style(result) if row.ok is False else "")
        return text

    def _style(self, name: str) -> Style | str:
        if not self.is_attached:
            return ""
        return self.get_component_rich_style(f"audit-view--{name}", partial=True)

    def _rewrite(self) -> None:
        """Re-render the kept rows in the new theme's colours."""
        rows = list(self._kept)
        self.clear()
        for row in rows:
            self.write(self.line(row), scroll_end=True, expand=True, shrink=True)
