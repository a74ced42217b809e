"""The scenario picker: which handbook incident to rehearse, before the drill cluster starts.

One row per scenario (name, difficulty, paired runbook, one-line brief); the highlighted one is
described below the table (title, handbook section, default speed). The screen's result is the
chosen scenario's name, or ``None`` when the operator leaves with Esc.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from widgets.rows import ScenarioRow

DIFFICULTY_MARKS = {"easy": "● easy", "medium": "●● medium", "hard": "●●● hard"}


def difficulty_text(difficulty: str) -> str:
    """The level as dots and word ("●● medium"), never colour alone."""
    return DIFFICULTY_MARKS.get(difficulty, f"? {difficulty}")


def describe(row: ScenarioRow) -> Text:
    """The highlighted scenario in full: title, brief, handbook section, runbook, speed."""
    text = Text()
    text.append(row.title or row.name, style="bold")
    text.append(f"  ({row.name})\n")
    text.append(row.brief + "\n")
    if row.handbook:
        text.append("handbook: ", style="dim")
        text.append(row.handbook + "\n")
    text.append("runbook: ", style="dim")
    text.append((row.runbook or "none") + "\n")
    text.append("default speed: ", style="dim")
    text.append(
        f"{row.speed:g}x" + (" (a drill minute per real second)" if row.speed == 60 else "")
    )
    return text


class ScenarioPicker(Screen[str | None]):
    """Choose a drill scenario (``rows``); Enter picks the highlighted one, Esc leaves.

    Ids: ``#picker-title``, ``#scenarios`` (a ``DataTable`` keyed by scenario name),
    ``#scenario-detail``, ``#picker-keys``.
    """

    DEFAULT_CSS = """
    ScenarioPicker { align: center middle; }
    ScenarioPicker #dialog { width: 100%; max-width: 140; height: auto; max-height: 100%; }
    ScenarioPicker #scenarios { height: auto; max-height: 20; }
    ScenarioPicker #scenario-detail { height: auto; }
    """

    BINDINGS = [
        Binding("escape", "leave", "Quit"),
        Binding("q", "leave", "Quit", show=False),
    ]

    def __init__(
        self,
        rows: Sequence[ScenarioRow],
        *,
        selected: str | None = None,
        title: str = "warroom drill — choose a scenario to rehearse",
    ) -> None:
        super().__init__()
        self.rows = list(rows)
        self.selected = selected
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(self.title_text), id="picker-title")
            yield DataTable(id="scenarios", cursor_type="row", zebra_stripes=True)
            yield Static("", id="scenario-detail")
            yield Label("↑↓ choose · Enter start the drill · Esc quit", id="picker-keys")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("SCENARIO", key="name")
        table.add_column("DIFFICULTY", key="difficulty")
        table.add_column("RUNBOOK", key="runbook")
        table.add_column("BRIEF", key="brief")
        for row in self.rows:
            table.add_row(
                Text(row.name),
                Text(difficulty_text(row.difficulty)),
                Text(row.runbook or "—"),
                Text(row.brief),
                key=row.name,
            )
        names = [row.name for row in self.rows]
        if self.selected in names:
            table.move_cursor(row=names.index(self.selected))
        table.focus()
        self._show(self.highlighted)

    @property
    def highlighted(self) -> str | None:
        """The name of the scenario under the cursor."""
        table = self.query_one(DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row].name

    def _show(self, name: str | None) -> None:
        row = next((r for r in self.rows if r.name == name), None)
        self.query_one("#scenario-detail", Static).update(describe(row) if row else "")

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show(event.row_key.value)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(event.row_key.value)

    def action_leave(self) -> None:
        self.dismiss(None)
