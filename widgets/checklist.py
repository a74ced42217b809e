"""The runbook checklist: steps with their status, progress, and why the current step matters.

Space (or x) checks a manual step off, Enter (or r) runs the step's action: the widget only
posts ``StepToggled`` / ``StepRun``; the runbook engine decides and sends back new rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label, ListItem, ListView, Static

from widgets.plain_text import plain_text
from widgets.rows import StepRow

STEP_SYMBOLS = {
    "pending": "☐",
    "running": "▶",
    "done": "☑",
    "failed": "✖",
    "skipped": "⤼",
    "blocked": "⛔",
}
COMPLETED = ("done", "skipped")


def step_symbol(status: str) -> str:
    """The status symbol padded to two cells, so titles line up whatever the symbol's width."""
    symbol = STEP_SYMBOLS.get(status, "?")
    return symbol + " " * (2 - cell_len(symbol))


def progress_text(rows: Sequence[StepRow]) -> str:
    """"3/9" plus any failed or blocked steps: "3/9 · 1 failed"."""
    done = sum(row.status in COMPLETED for row in rows)
    text = f"{done}/{len(rows)}"
    for status in ("failed", "blocked"):
        n = sum(row.status == status for row in rows)
        if n:
            text += f" · {n} {status}"
    return text


def step_line(number: int, row: StepRow, current: bool) -> Text:
    marker = "›" if current else " "
    line = Text(f"{marker}{step_symbol(row.status)}{number}. {plain_text(row.title)}")
    if row.kind and row.kind != "manual":
        line.append(f"  [{plain_text(row.kind)}]", style="dim")
    if row.status not in ("pending", "done"):
        line.append(f"  {row.status}")
    if row.detail:
        line.append(f" — {plain_text(row.detail)}", style="italic")
    return line


class Checklist(Vertical):
    """Runbook title, progress "3/9", the steps, and the highlighted step's explanation.

    ``set_steps(title, rows, current_key)`` shows the runbook; when ``current_key`` changes,
    the cursor follows it. Posts ``Checklist.StepToggled(key)`` (space / x) and
    ``Checklist.StepRun(key)`` (Enter / r).

    Child ids: ``#checklist-title``, ``#checklist-progress``, ``#checklist-steps`` (a
    ListView whose items have classes ``-pending`` … ``-blocked`` and ``-current``),
    ``#checklist-explain``.
    """

    DEFAULT_CSS = """
    Checklist { height: 1fr; }
    Checklist #checklist-heading { height: auto; }
    Checklist #checklist-title { width: 1fr; }
    Checklist #checklist-steps { height: 1fr; }
    Checklist #checklist-explain-box { height: auto; max-height: 40%; }
    Checklist #checklist-explain { height: auto; }
    """

    BINDINGS = [
        Binding("space", "toggle", "Check off step"),
        Binding("x", "toggle", "Check off step", show=False),
        Binding("r", "run", "Run step"),
    ]

    class StepToggled(Message):
        """The user checked off (or un-checked) a step."""

        def __init__(self, checklist: Checklist, key: str) -> None:
            super().__init__()
            self.checklist = checklist
            self.key = key

        @property
        def control(self) -> Checklist:
            return self.checklist

    class StepRun(Message):
        """The user asked to run a step's action."""

        def __init__(self, checklist: Checklist, key: str) -> None:
            super().__init__()
            self.checklist = checklist
            self.key = key

        @property
        def control(self) -> Checklist:
            return self.checklist

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.runbook_title = ""
        self._rows: list[StepRow] = []
        # the ListItems and their Labels as built: a ListItem's children are mounted later,
        # so querying them right after a rebuild would fail
        self._items: list[tuple[ListItem, Label]] = []
        self._current: str | None = None
        self._composed = False
        self._pending: tuple[str, list[StepRow], str | None] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="checklist-heading"):
            yield Label("no runbook", id="checklist-title")
            yield Label("", id="checklist-progress")
        yield ListView(id="checklist-steps")
        with VerticalScroll(id="checklist-explain-box"):
            yield Static("", id="checklist-explain", markup=False)

    def on_mount(self) -> None:
        self._composed = True
        if self._pending is not None:
            self.set_steps(*self._pending)
            self._pending = None

    @property
    def rows(self) -> list[StepRow]:
        return list(self._rows)

    @property
    def current_key(self) -> str | None:
        return self._current

    @property
    def highlighted_key(self) -> str | None:
        """The key of the step under the cursor."""
        if not self._composed:
            return None
        index = self.query_one(ListView).index
        if index is None or not 0 <= index < len(self._rows):
            return None
        return self._rows[index].key

    def set_steps(self, title: str, rows: Sequence[StepRow], current_key: str | None) -> None:
        rows = list(rows)
        if not self._composed:
            self._pending = (title, rows, current_key)
            return
        list_view = self.query_one(ListView)
        follow = current_key != self._current or not self._rows
        same_steps = [r.key for r in rows] == [r.key for r in self._rows]
        self.runbook_title, self._rows, self._current = title, rows, current_key
        self.query_one("#checklist-title", Label).update(Text(plain_text(title or "no runbook")))
        self.query_one("#checklist-progress", Label).update(progress_text(rows))
        if same_steps and len(self._items) == len(rows):
            for number, ((item, label), row) in enumerate(zip(self._items, rows, strict=True), 1):
                self._style_item(item, label, number, row)
            if follow:
                self._follow_current()
            self._explain()
            return
        list_view.clear()
        self._items = []
        for number, row in enumerate(rows, 1):
            label = Label("")
            item = ListItem(label)
            self._style_item(item, label, number, row)
            self._items.append((item, label))
        list_view.extend([item for item, _label in self._items])
        self.call_after_refresh(self._follow_current)

    def _style_item(self, item: Widget, label: Label, number: int, row: StepRow) -> None:
        current = row.key == self._current
        label.update(step_line(number, row, current))
        for status in STEP_SYMBOLS:
            item.set_class(row.status == status, f"-{status}")
        item.set_class(current, "-current")

    def _follow_current(self) -> None:
        list_view = self.query_one(ListView)
        keys = [row.key for row in self._rows]
        if self._current in keys:
            list_view.index = keys.index(self._current)
        elif keys and list_view.index is None:
            list_view.index = 0
        self._explain()

    def _explain(self) -> None:
        key = self.highlighted_key
        row = next((r for r in self._rows if r.key == key), None)
        explain = self.query_one("#checklist-explain", Static)
        if row is None:
            explain.update("")
            return
        text = Text()
        text.append(f"{STEP_SYMBOLS.get(row.status, '?')} {row.status.upper()}", style="bold")
        text.append(f"  {plain_text(row.title)}")
        if row.detail:
            text.append(f"\n{plain_text(row.detail)}")
        if row.explain:
            text.append(f"\n{plain_text(row.explain)}")
        explain.update(text)

    @on(ListView.Highlighted, "#checklist-steps")
    def _on_highlighted(self, event: ListView.Highlighted) -> None:
        event.stop()
        self._explain()

    @on(ListView.Selected, "#checklist-steps")
    def _on_selected(self, event: ListView.Selected) -> None:
        event.stop()
        self.action_run()

    def action_toggle(self) -> None:
        key = self.highlighted_key
        if key is not None:
            self.post_message(self.StepToggled(self, key))

    def action_run(self) -> None:
        key = self.highlighted_key
        if key is not None:
            self.post_message(self.StepRun(self, key))
