"""Two small dialogs for the incident commands: pick one of a few options, or fill in fields.

``ChoiceModal`` dismisses with the chosen option's value (None on Esc); ``FormModal`` with a
dict of field name -> text (None on Esc). Both show their texts as plain text, never markup.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from widgets.plain_text import plain_text


class ChoiceModal(ModalScreen[str | None]):
    """Options as (value, label); Enter (or a click) chooses, Esc cancels."""

    DEFAULT_CSS = """
    ChoiceModal { align: center middle; }
    ChoiceModal #dialog { width: 72; max-width: 100%; height: auto; max-height: 90%; }
    ChoiceModal OptionList { height: auto; max-height: 16; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, options: list[tuple[str, str]], *, hint: str = "",
                 current: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.options = options
        self.hint = hint
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(plain_text(self.title_text)), id="choice-title")
            if self.hint:
                yield Label(Text(plain_text(self.hint)), id="choice-hint")
            yield OptionList(*(Option(Text(plain_text(label)), id=value)
                               for value, label in self.options), id="choices")
            yield Label("↑↓ choose · Enter select · Esc cancel", id="choice-keys")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        values = [value for value, _label in self.options]
        if self.current in values:
            options.highlighted = values.index(self.current)
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class FormModal(ModalScreen[dict[str, str] | None]):
    """Fields as (name, label, placeholder); Enter in the last field submits, Esc cancels.

    ``required`` names fields that must not be empty: Enter then says so in ``#form-error``.
    """

    DEFAULT_CSS = """
    FormModal { align: center middle; }
    FormModal #dialog { width: 80; max-width: 100%; height: auto; }
    FormModal #form-error { height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, fields: list[tuple[str, str, str]], *, hint: str = "",
                 required: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.hint = hint
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(plain_text(self.title_text)), id="form-title")
            if self.hint:
                yield Label(Text(plain_text(self.hint)), id="form-hint")
            for name, label, placeholder in self.fields:
                yield Label(Text(plain_text(label)))
                yield Input(placeholder=placeholder, id=f"field-{name}")
            yield Label("", id="form-error")
            yield Label("Enter next/submit · Esc cancel", id="form-keys")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    @property
    def values(self) -> dict[str, str]:
        return {name: self.query_one(f"#field-{name}", Input).value
                for name, _label, _placeholder in self.fields}

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
            return
        values = self.values
        missing = [name for name in self.required if not values[name].strip()]
        if missing:
            self.query_one("#form-error", Label).update(
                Text(f"{', '.join(missing)}: required"))
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)
