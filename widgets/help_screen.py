"""Help: the app's keys and a short how-to for working the war room."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

HOW_TO = """\
1. Read the header first: context, namespace, and ● live. A red PRODUCTION banner means real \
users; ✖ stale means the numbers are old — do not decide on them.
2. Pick a deployment on the left; its pods are listed below it, its error rate and p99 in the \
middle.
3. The advisor's verdict (⚠ ROLL BACK NOW, ▲ MONITOR, ✔ OK, ? UNKNOWN) names the handbook rule \
that fired. It advises; you decide.
4. Work the runbook on the right: space checks a manual step off, Enter runs a step's action.
5. Every action is confirmed first (in production: type the deployment's name) and written to \
the audit log at the bottom, with who did it.
6. Two people on one pane: say the action out loud before confirming it."""


def key_lines(bindings: Sequence[tuple[str, str]]) -> Text:
    """Aligned "key  description" lines."""
    width = max((cell_len(key) for key, _ in bindings), default=0)
    text = Text()
    for index, (key, description) in enumerate(bindings):
        if index:
            text.append("\n")
        text.append(key + " " * (width - cell_len(key)), style="bold")
        text.append(f"  {description}")
    return text


class HelpScreen(ModalScreen[None]):
    """Keys (``bindings`` as (key, description) pairs) and the how-to. Esc, q, ? or F1 close it.

    Ids: ``#dialog``, ``#help-title``, ``#help-keys``, ``#help-howto``.
    """

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #dialog { width: 90; max-width: 100%; height: auto; max-height: 100%; }
    HelpScreen #help-body { height: auto; }
    HelpScreen #help-keys { height: auto; }
    HelpScreen #help-howto { height: auto; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
        Binding("f1", "close", "Close", show=False),
    ]

    def __init__(self, bindings: Sequence[tuple[str, str]], *, title: str = "warroom — help",
                 how_to: str = HOW_TO) -> None:
        super().__init__()
        self.key_bindings = list(bindings)
        self.title_text = title
        self.how_to = how_to

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(self.title_text), id="help-title")
            with VerticalScroll(id="help-body"):
                yield Label("Keys", classes="help-heading")
                yield Static(key_lines(self.key_bindings), id="help-keys")
                yield Label("In the war room", classes="help-heading")
                yield Static(Text(self.how_to), id="help-howto")
            yield Label("Esc close", id="help-close")

    def action_close(self) -> None:
        self.dismiss(None)
