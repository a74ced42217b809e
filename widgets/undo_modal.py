"""Pick the revision ``kubectl rollout undo`` should go back to, seeing what would change.

The previous revision is offered first; the current one is listed but cannot be picked. A fixed
note says plainly what undo does not put back, because at 3 a.m. "we rolled back" is easily
heard as "everything is as it was".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from widgets.plain_text import plain_text
from widgets.rows import RevisionRow

UNDO_NOTE = (
    "Undo restores the pod template of the chosen revision (images, env, command, "
    "change-cause) and starts a new rollout. It does NOT revert: the replica count, "
    "HPA settings, ConfigMaps or Secrets the pods read, or data changes such as database "
    "migrations."
)


def default_revision(revisions: Sequence[RevisionRow]) -> int | None:
    """The revision undo goes to by default: the newest one older than the current one."""
    current = max((r.revision for r in revisions if r.current), default=None)
    candidates = [r.revision for r in revisions if not r.current]
    if current is not None:
        older = [r for r in candidates if r < current]
        if older:
            return max(older)
    return max(candidates, default=None)


def revision_prompt(row: RevisionRow) -> Text:
    images = ", ".join(row.images) if row.images else "?"
    text = Text(f"rev {row.revision:<4} {plain_text(images)}")
    if row.change_cause:  # an annotation: anybody who can edit the deployment wrote it
        text.append(f"  {plain_text(row.change_cause)}", style="italic")
    if row.current:
        text.append("  (current — running now)")
    return text


class UndoModal(ModalScreen[int | None]):
    """The chosen revision (int) or None when cancelled.

    ``revisions`` are listed newest first; ``diffs`` maps a revision to the text of what would
    change (images/env/change-cause); ``warnings`` are shown in warning style (paused
    deployment, pruned revision). Enter on a revision or the Roll back button chooses it. With
    ``resume_first`` (a paused deployment, which kubectl will not roll back) the choice is
    "resume and roll back", one audited sequence, and the button says so.

    Ids: ``#revisions`` (OptionList, option ids ``rev-N``), ``#diff``, ``#undo-note``,
    ``#warnings``, ``#undo``, ``#cancel``.
    """

    DEFAULT_CSS = """
    UndoModal { align: center middle; }
    UndoModal #dialog { width: 90; max-width: 100%; height: auto; max-height: 100%; }
    UndoModal #revisions { height: auto; max-height: 8; }
    UndoModal #diff-box { height: auto; max-height: 10; }
    UndoModal #diff { height: auto; }
    UndoModal #undo-note { height: auto; }
    UndoModal #warnings { height: auto; }
    UndoModal #warnings Static { height: auto; }
    UndoModal #buttons { height: auto; align-horizontal: right; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, target: str, revisions: Sequence[RevisionRow],
                 diffs: Mapping[int, str] | None = None, warnings: Sequence[str] = (),
                 *, resume_first: bool = False) -> None:
        super().__init__()
        self.resume_first = resume_first
        self.verb = "Resume and roll back" if resume_first else "Roll back"
        self.target = target
        self.revisions = sorted(revisions, key=lambda r: r.revision, reverse=True)
        self.diffs = dict(diffs or {})
        self.warnings = list(warnings)
        self.default = default_revision(self.revisions)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            how = "rollout resume + undo" if self.resume_first else "rollout undo"
            yield Label(Text(plain_text(f"{self.verb} {self.target} ({how})")), id="undo-title")
            yield OptionList(
                *(Option(revision_prompt(r), id=f"rev-{r.revision}", disabled=r.current)
                  for r in self.revisions),
                id="revisions",
            )
            with VerticalScroll(id="diff-box"):
                yield Static("", id="diff", markup=False)
            yield Static(UNDO_NOTE, id="undo-note", markup=False)
            with Vertical(id="warnings"):
                for warning in self.warnings:
                    yield Static(Text(plain_text(f"⚠ {warning}")), classes="warning")
            with Horizontal(id="buttons"):
                yield Button(self.verb, id="undo", variant="error")
                yield Button("Cancel", id="cancel")
            yield Label(f"↑↓ choose · Enter {self.verb.lower()} · Esc cancel", id="undo-keys")

    def on_mount(self) -> None:
        self.query_one("#warnings").display = bool(self.warnings)
        options = self.query_one("#revisions", OptionList)
        if self.default is not None:
            options.highlighted = options.get_option_index(f"rev-{self.default}")
        options.focus()
        self._show(self.default)

    @property
    def chosen(self) -> int | None:
        """The highlighted, selectable revision."""
        options = self.query_one("#revisions", OptionList)
        option = options.highlighted_option
        if option is None or option.disabled or option.id is None:
            return None
        return int(option.id.removeprefix("rev-"))

    def _show(self, revision: int | None) -> None:
        diff = self.query_one("#diff", Static)
        button = self.query_one("#undo", Button)
        if revision is None:
            diff.update("No earlier revision to roll back to (history may have been pruned).")
            button.label = self.verb
            button.disabled = True
            return
        diff.update(plain_text(self.diffs.get(revision) or f"rev {revision}: no diff available"))
        button.label = f"{self.verb} to rev {revision}"
        button.disabled = False

    @on(OptionList.OptionHighlighted, "#revisions")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(self.chosen)

    @on(OptionList.OptionSelected, "#revisions")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._submit()

    @on(Button.Pressed, "#undo")
    def _undo_pressed(self) -> None:
        self._submit()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def _submit(self) -> None:
        revision = self.chosen
        if revision is None:
            self.app.bell()
            return
        self.dismiss(revision)

    def action_cancel(self) -> None:
        self.dismiss(None)
