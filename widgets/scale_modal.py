"""Ask for a new replica count, validated as it is typed."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from widgets.plain_text import plain_text


def check_replicas(text: str, max_replicas: int) -> tuple[int | None, str]:
    """(replicas, "") when ``text`` is a whole number in 0..max_replicas, else (None, why)."""
    value = text.strip()
    if not value:
        return None, "enter a number of replicas"
    digits = value[1:] if value.startswith("-") else value
    if value.startswith("-") and digits.isascii() and digits.isdigit():
        return None, f"must be between 0 and {max_replicas}"  # negative
    # plain ASCII digits only: int() would also take "+5", "1_0" and other scripts' digits
    if not (value.isascii() and value.isdigit()):
        shown = value if len(value) <= 20 else value[:20] + "…"
        return None, f"'{shown}' is not a whole number"
    significant = value.lstrip("0") or "0"  # a 5000-digit paste is simply out of range
    replicas = int(significant, 10) if len(significant) <= 7 else max_replicas + 1
    if not 0 <= replicas <= max_replicas:
        return None, f"must be between 0 and {max_replicas}"
    return replicas, ""


class ScaleModal(ModalScreen[int | None]):
    """The new replica count (int) or None when cancelled.

    The Input (``#replicas``) starts at the current count; a bad value shows its reason in
    ``#scale-error`` and Enter does nothing until it is fixed. Esc cancels.
    """

    DEFAULT_CSS = """
    ScaleModal { align: center middle; }
    ScaleModal #dialog { width: 60; max-width: 100%; height: auto; }
    ScaleModal #scale-error { height: auto; }
    ScaleModal #buttons { height: auto; align-horizontal: right; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, target: str, current: int, *, max_replicas: int = 50) -> None:
        super().__init__()
        self.target = target
        self.current = current
        self.max_replicas = max_replicas

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(plain_text(f"Scale {self.target}")), id="scale-title")
            yield Label(f"now {self.current} replicas · new count (0..{self.max_replicas}):",
                        id="scale-prompt")
            yield Input(str(self.current), id="replicas")
            yield Label("", id="scale-error")
            with Horizontal(id="buttons"):
                yield Button("Scale", id="scale", variant="primary")
                yield Button("Cancel", id="cancel")
            yield Label("Enter scale · Esc cancel", id="scale-keys")

    def on_mount(self) -> None:
        self._check()
        self.query_one("#replicas", Input).focus()

    @property
    def value(self) -> int | None:
        """The valid replica count typed so far, or None."""
        return check_replicas(self.query_one("#replicas", Input).value, self.max_replicas)[0]

    def _check(self) -> int | None:
        replicas, why = check_replicas(self.query_one("#replicas", Input).value,
                                       self.max_replicas)
        error = self.query_one("#scale-error", Label)
        if replicas is None:
            error.update(Text(f"✖ {why}"))
        elif replicas == 0:
            error.update("⚠ 0 replicas: the deployment stops serving")
        else:
            error.update("")
        error.set_class(replicas is None, "-invalid")
        error.set_class(replicas == 0, "-warning")
        self.query_one("#scale", Button).disabled = replicas is None
        return replicas

    @on(Input.Changed, "#replicas")
    def _changed(self) -> None:
        self._check()

    @on(Input.Submitted, "#replicas")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    @on(Button.Pressed, "#scale")
    def _scale_pressed(self) -> None:
        self._submit()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def _submit(self) -> None:
        replicas = self._check()
        if replicas is None:
            self.app.bell()
            return
        self.dismiss(replicas)

    def action_cancel(self) -> None:
        self.dismiss(None)
