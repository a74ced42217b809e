"""The first screen, on screen within a fraction of a second of launch: the workspace's outline
(the status header saying where the console points and "connecting", the three panes and the
audit pane saying "loading…") while the modules of the real one load in a worker thread.

It holds nothing live and offers only `q`; the app replaces it with the `MainScreen` once that
can be built (console/ui/app.py). Built from Textual and light widgets only: importing this
module must not pull in the Kubernetes client, pydantic, httpx or the drill
(tests/console/test_start_screen.py checks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from widgets.pane_deck import Pane, PaneDeck
from widgets.rows import HeaderInfo
from widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from console.domain.settings import ConsoleSettings

LOADING = "loading…"
UNKNOWN = "…"  # what the kubeconfig says is known once it is read (by the connection)


def start_header(settings: ConsoleSettings) -> HeaderInfo:
    """What the header can say before anything is read: what the command line named."""
    return HeaderInfo(context=settings.context or UNKNOWN,
                      namespace=settings.namespace or UNKNOWN, selector=settings.selector,
                      connection="connecting", production=bool(settings.production),
                      read_only=settings.read_only)


class StartScreen(Screen[None]):
    """The workspace's outline while it loads; `q` quits."""

    BINDINGS = [Binding("q", "app.request_quit", "Quit")]

    def __init__(self, settings: ConsoleSettings) -> None:
        super().__init__()
        self.settings = settings
        self.ready = False  # the main screen is built: switch to it when this is on top

    def compose(self) -> ComposeResult:
        yield StatusHeader(start_header(self.settings), id="status-header")
        with PaneDeck(id="main"):
            for title, pane in (("Deployments · Pods", "left"), ("Rates · Verdict", "middle"),
                                ("Runbook", "right")):
                with Pane(title, id=pane):
                    yield Static(LOADING, classes="loading")
        yield Static(LOADING, id="audit", classes="loading")
        yield Footer()

    def on_screen_resume(self, _event: Any) -> None:
        """Back on top (a dialog over it closed): the main screen may be waiting."""
        if self.ready:
            self.app.call_later(self.app.show_main_screen)  # type: ignore[attr-defined]
