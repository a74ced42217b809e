"""Fill in a runbook's variables before its action steps can run.

One field per variable, with its description, and its example or default as the
placeholder (a blank field takes the default). ``check`` (given by the screen) returns a
message per field; Enter on the last field or "Use these values" submits, and a field with a
problem shows why under it. Esc or "Skip" closes the form without values (None). ``note``
says why the form is open again (a step was run without the values).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from widgets.plain_text import plain_text


@dataclass(frozen=True)
class FormField:
    name: str
    description: str
    example: str | None = None
    default: str | None = None
    value: str = ""


class VariablesForm(ModalScreen[dict[str, str] | None]):
    """The values typed (by variable name), or None when skipped."""

    DEFAULT_CSS = """
    VariablesForm { align: center middle; }
    VariablesForm #dialog { width: 76; max-width: 100%; height: auto; max-height: 100%; }
    VariablesForm #fields { height: auto; max-height: 12; }
    VariablesForm .var-label, VariablesForm .var-error, VariablesForm #form-error,
    VariablesForm #form-note { width: 1fr; height: auto; }
    VariablesForm #buttons { height: auto; align-horizontal: right; }
    """

    BINDINGS = [Binding("escape", "skip", "Skip")]

    def __init__(self, title: str, fields: Sequence[FormField],
                 check: Callable[[dict[str, str]], dict[str, str]], *, note: str = "") -> None:
        super().__init__()
        self.note = note
        self.form_title = title
        self.fields = list(fields)
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(plain_text(self.form_title)), id="form-title")
            if self.note:
                yield Label(Text(plain_text(f"⚠ {self.note}")), id="form-note")
            yield Label("Its action steps run once these are set (kept in the incident).",
                        id="form-hint")
            with VerticalScroll(id="fields"):
                for item in self.fields:
                    yield Label(Text(plain_text(f"{item.name}: {item.description}")),
                                classes="var-label")
                    hint = (f"default: {item.default}" if item.default
                            else f"e.g. {item.example}" if item.example else "")
                    yield Input(item.value, placeholder=plain_text(hint), id=f"var-{item.name}")
                    yield Label("", id=f"err-{item.name}", classes="var-error")
            yield Label("", id="form-error")
            with Horizontal(id="buttons"):
                yield Button("Use these values", id="use", variant="primary")
                yield Button("Skip", id="skip")
            yield Label("Enter next field / use · Esc skip (action steps stay refused)",
                        id="form-keys")

    def on_mount(self) -> None:
        empty = next((f for f in self.fields if not f.value), self.fields[0] if self.fields
                     else None)
        if empty is not None:
            self.query_one(f"#var-{empty.name}", Input).focus()

    @property
    def values(self) -> dict[str, str]:
        return {f.name: self.query_one(f"#var-{f.name}", Input).value for f in self.fields}

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        names = [f"var-{f.name}" for f in self.fields]
        index = names.index(event.input.id) if event.input.id in names else len(names) - 1
        if index + 1 < len(names):
            self.query_one(f"#{names[index + 1]}", Input).focus()
        else:
            self.submit()

    @on(Button.Pressed, "#use")
    def _use(self) -> None:
        self.submit()

    @on(Button.Pressed, "#skip")
    def _skip(self) -> None:
        self.action_skip()

    def submit(self) -> None:
        """Check the values; close with them, or show each field's problem."""
        values = self.values
        errors = self.check(values)
        for item in self.fields:
            label = self.query_one(f"#err-{item.name}", Label)
            why = errors.get(item.name, "")
            label.update(Text(plain_text(f"✖ {why}")) if why else "")
            label.set_class(bool(why), "-invalid")
        general = errors.get("", "")
        self.query_one("#form-error", Label).update(Text(plain_text(f"✖ {general}"))
                                                    if general else "")
        if errors:
            first = next((f.name for f in self.fields if f.name in errors), None)
            if first is not None:
                self.query_one(f"#var-{first}", Input).focus()
            self.app.bell()
            return
        self.dismiss(values)

    def action_skip(self) -> None:
        self.dismiss(None)


__all__ = ["FormField", "VariablesForm"]
