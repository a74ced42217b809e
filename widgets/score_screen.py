"""The drill score: how fast, in the handbook's order, how safely — and every point deducted.

Shown when a drill is resolved (and on demand while it runs). Figures come in as a
``ScoreView``; every verdict carries a word or symbol as well as its colour.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from widgets.plain_text import plain_cell, plain_text
from widgets.rows import ScoreView


def times_text(view: ScoreView) -> Text:
    text = Text()
    for label, value in (
        ("time to detect (first action)", view.time_to_detect),
        ("time to mitigate", view.time_to_mitigate),
        ("time to resolve", view.time_to_resolve),
    ):
        text.append(f"{label:<31}", style="dim")
        text.append(value + "\n", style="bold")
    text.rstrip()
    return text


def checks_text(view: ScoreView) -> Text:
    text = Text()
    if not view.checks:
        text.append("no order rules for this scenario\n", style="dim")
    for check in view.checks:
        text.append("✔ " if check.ok else "✖ ", style="bold")
        text.append(check.rule)
        text.append(f" — {check.detail}", style="dim")
        if check.points:
            text.append(f"  -{check.points}", style="bold")
        text.append("\n")
    for good in view.good:
        text.append(f"★ good: {good}\n")
    text.rstrip()
    return text


def unsafe_text(view: ScoreView) -> Text:
    text = Text()
    if not view.unsafe:
        text.append("✔ none\n")
    for line in view.unsafe:
        text.append("⚠ ", style="bold")
        text.append(line.text)
        if line.when:
            text.append(f" ({line.when})", style="dim")
        text.append(f"  -{line.points}\n", style="bold")
    text.rstrip()
    return text


def deductions_text(view: ScoreView) -> Text:
    text = Text()
    if not view.deductions:
        text.append("none: full marks\n")
    for line in view.deductions:
        text.append(f"-{line.points:<3}", style="bold")
        text.append(f" {line.category:<7}", style="dim")
        text.append(f" {line.text}\n")
    text.rstrip()
    return text


class ScoreScreen(ModalScreen[None]):
    """A drill's ``ScoreView``: total, times, handbook order, unsafe actions, deductions.

    Esc, Enter or S close it; q quits the console (the app's ``request_quit``, as on the main
    screen), so a drill ends with one q whether or not its score is showing. Ids: ``#dialog``, ``#score-title``, ``#score-total``,
    ``#score-times``, ``#score-checks``, ``#score-unsafe``, ``#score-deductions``,
    ``#score-report``, ``#score-keys``.
    """

    DEFAULT_CSS = """
    ScoreScreen { align: center middle; }
    ScoreScreen #dialog { width: 110; max-width: 100%; height: auto; max-height: 100%; }
    ScoreScreen #score-body { height: auto; }
    ScoreScreen #score-body Static { height: auto; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "app.request_quit", "Quit"),
        Binding("enter", "close", "Close", show=False),
        Binding("S", "close", "Close", show=False),
    ]

    def __init__(self, view: ScoreView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        view = self.view
        heading = "Drill over" if view.final else "Score so far"
        with Vertical(id="dialog"):
            yield Label(Text(plain_text(f"{heading}: {view.scenario}")), id="score-title")
            yield Static(
                Text(f"{view.total}/100 · {view.outcome}", style="bold"),
                id="score-total",
                classes=self._total_class(),
            )
            with VerticalScroll(id="score-body"):
                yield Label("Times", classes="score-heading")
                yield Static(times_text(view), id="score-times")
                yield Label("Handbook order", classes="score-heading")
                yield Static(plain_cell(checks_text(view)), id="score-checks")
                yield Label("Unsafe actions", classes="score-heading")
                yield Static(plain_cell(unsafe_text(view)), id="score-unsafe")
                yield Label("Deductions", classes="score-heading")
                yield Static(plain_cell(deductions_text(view)), id="score-deductions")
            report = f"report: {view.report_path}" if view.report_path else ""
            yield Label(Text(plain_text(report)), id="score-report")
            yield Label("esc/enter close · q quit", id="score-keys")

    def _total_class(self) -> str:
        if self.view.outcome == "clean":
            return "-clean"
        return "-unsafe" if self.view.outcome.startswith("resolved") else "-unresolved"

    def action_close(self) -> None:
        self.dismiss(None)
