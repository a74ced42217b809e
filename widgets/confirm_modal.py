"""The confirmation dialog every action goes through.

It says exactly what is about to happen and where (context, namespace, target, change). In
production (``typed_name`` given) the operator types the deployment's name before Confirm is
enabled, so a stray Enter in a shared tmux pane cannot roll back the wrong thing.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from widgets.plain_text import plain_text


class ConfirmModal(ModalScreen[bool]):
    """Confirm (True) or cancel (False) one action.

    Enter / y confirm when allowed; Esc / n cancel. With ``typed_name``, Confirm stays
    disabled until the Input (``#typed-name``) holds exactly that name.

    Ids: ``#dialog``, ``#confirm-title``, ``#facts``, ``#warnings`` (Statics of class
    ``warning``), ``#typed-prompt``, ``#typed-name``, ``#typed-hint``, ``#confirm``, ``#cancel``.
    """

    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal #dialog {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
    }
    ConfirmModal #facts {
        grid-size: 2;
        grid-columns: auto 1fr;
        grid-gutter: 0 1;
        height: auto;
    }
    ConfirmModal #facts Label { height: auto; }
    ConfirmModal #warnings { height: auto; }
    ConfirmModal #warnings Static { height: auto; }
    ConfirmModal #buttons { height: auto; align-horizontal: right; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("n", "cancel", "Cancel", show=False),
        Binding("y", "confirm", "Confirm", show=False),
        Binding("enter", "confirm", "Confirm", show=False),
    ]

    def __init__(self, title: str, *, context: str, namespace: str, target: str, change: str,
                 warnings: Sequence[str] = (), typed_name: str | None = None,
                 details: Sequence[tuple[str, str]] = (),
                 confirm_label: str = "Confirm") -> None:
        super().__init__()
        # all of it may come from outside (a proposer's label, a runbook's step): plain text
        self.title_text = plain_text(title)
        self.facts: list[tuple[str, str]] = [
            (key, plain_text(value)) for key, value in (
                ("context", context), ("namespace", namespace), ("target", target),
                ("change", change), *details)
        ]
        self.warnings = [plain_text(warning) for warning in warnings]
        self.typed_name = typed_name
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(self.title_text), id="confirm-title")
            with Grid(id="facts"):
                for key, value in self.facts:
                    yield Label(key, classes="fact-key")
                    yield Label(Text(value), classes="fact-value")
            with Vertical(id="warnings"):
                for warning in self.warnings:
                    yield Static(Text(f"⚠ {warning}"), classes="warning")
            if self.typed_name is not None:
                yield Label(Text(plain_text(f"PRODUCTION — type {self.typed_name} to confirm:")),
                            id="typed-prompt")
                yield Input(placeholder=plain_text(self.typed_name), id="typed-name")
                yield Label("✖ name does not match yet", id="typed-hint")
            with Horizontal(id="buttons"):
                yield Button(self.confirm_label, id="confirm", variant="error",
                             disabled=self.typed_name is not None)
                yield Button("Cancel", id="cancel")
            yield Label("Enter/y confirm · Esc/n cancel", id="confirm-keys")

    def on_mount(self) -> None:
        self.query_one("#warnings").display = bool(self.warnings)
        if self.typed_name is not None:
            self.query_one("#typed-name", Input).focus()
        else:
            self.query_one("#confirm", Button).focus()

    @property
    def allowed(self) -> bool:
        """Whether confirming is allowed now."""
        if self.typed_name is None:
            return True
        return self.query_one("#typed-name", Input).value.strip() == self.typed_name

    @on(Input.Changed, "#typed-name")
    def _typed(self, event: Input.Changed) -> None:
        allowed = self.allowed
        self.query_one("#confirm", Button).disabled = not allowed
        hint = self.query_one("#typed-hint", Label)
        hint.update("✔ name matches" if allowed else "✖ name does not match yet")
        hint.set_class(allowed, "-match")

    @on(Input.Submitted, "#typed-name")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    @on(Button.Pressed, "#confirm")
    def _confirm_pressed(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_confirm(self) -> None:
        if self.allowed:
            self.dismiss(True)
        else:
            self.query_one("#typed-name", Input).focus()
            self.app.bell()

    def action_cancel(self) -> None:
        self.dismiss(False)
