"""The selected Argo Rollout's canary: strategy, step, weight, and its analysis with values.

Hidden unless the workload under the cursor is a Rollout. Its lines come from the cluster
(names, messages, measured values): shown as plain text, control characters visible.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from widgets.plain_text import plain_text

LEVEL_MARKS = {"ROLL BACK NOW": ("⚠", "-rollback"), "MONITOR": ("▲", "-monitor"),
               "OK": ("✔", "-ok"), "UNKNOWN": ("?", "-unknown")}


@dataclass(frozen=True)
class RolloutDetail:
    """What the panel shows: a title line, detail lines and the advisor's word on the
    analysis (level and reason; empty when there is no analysis)."""

    title: str
    lines: tuple[str, ...] = ()
    level: str = ""
    advice: str = ""


class RolloutPanel(Static):
    DEFAULT_CSS = """
    RolloutPanel { height: auto; max-height: 12; padding: 0 1; }
    RolloutPanel.-rollback { border-left: thick $error; }
    RolloutPanel.-monitor { border-left: thick $warning; }
    RolloutPanel.-ok { border-left: thick $success; }
    RolloutPanel.-unknown { border-left: thick $secondary; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.detail: RolloutDetail | None = None
        self.display = False

    def show(self, detail: RolloutDetail | None) -> None:
        """Show ``detail`` (None: hide the panel)."""
        if detail == self.detail:
            return
        self.detail = detail
        self.display = detail is not None
        for _, css in LEVEL_MARKS.values():
            self.remove_class(css)
        if detail is None:
            self.update("")
            return
        text = Text(plain_text(detail.title), style="bold")
        for line in detail.lines:
            text.append("\n" + plain_text(line))
        if detail.level:
            mark, css = LEVEL_MARKS.get(detail.level, ("?", "-unknown"))
            self.add_class(css)
            text.append(f"\n{mark} {detail.level}: ", style="bold")
            text.append(plain_text(detail.advice))
        self.update(text)

    @property
    def text(self) -> str:
        """What the panel shows, as plain text (tests and the screen reader)."""
        if self.detail is None:
            return ""
        lines = [self.detail.title, *self.detail.lines]
        if self.detail.level:
            lines.append(f"{self.detail.level}: {self.detail.advice}")
        return "\n".join(lines)
