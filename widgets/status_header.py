"""The status header: where the console points, whether its data is live, and the clocks.

Two lines at most: a full-width PRODUCTION banner (only for production contexts) above one
status line. Every state carries a symbol or word as well as its colour.
"""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Label, Static

from widgets.plain_text import plain_text
from widgets.rows import HeaderInfo
from widgets.tick_label import TickLabel

SEVERITY_CLASSES = ("critical", "high", "medium", "low")
CONNECTION_SYMBOLS = {"connecting": "◌", "live": "●", "reconnecting": "◌", "stale": "✖"}
CONTEXT_SYMBOLS = {"connected": "●", "connecting": "◌", "reconnecting": "◌", "stale": "✖",
                   "denied": "⊘", "failed": "✖"}


def connection_text(info: HeaderInfo) -> str:
    """"◌ connecting", "● live", "◌ reconnecting", "✖ stale since 03:12:09"."""
    symbol = CONNECTION_SYMBOLS.get(info.connection, "?")
    if info.connection == "stale":
        since = f" since {info.stale_since}" if info.stale_since else ""
        return f"{symbol} stale{since}"
    return f"{symbol} {info.connection}"


def contexts_text(info: HeaderInfo) -> str:
    """Every context of a console on several: "▶web ● connected ▲PROD │ mobile ◌ reconnecting"
    (▶ marks the focused one)."""
    return " │ ".join(
        f"{'▶' if c.focused else ''}{c.name} {CONTEXT_SYMBOLS.get(c.state, '?')} {c.state}"
        + (" ▲PROD" if c.production else "") for c in info.contexts)


class StatusHeader(Widget):
    """Context, namespace, connection state, incident clock, drill time, READ-ONLY, PRODUCTION,
    and the bastion's own health.

    Set ``info`` (a ``HeaderInfo``) to update it.

    Child ids: ``#production-banner``, ``#status-line``, ``#context``, ``#namespace``,
    ``#identity`` (impersonation, when any), ``#connection`` (classes ``-connecting`` /
    ``-live`` / ``-reconnecting`` / ``-stale``), ``#incident-clock``, ``#drill-time``,
    ``#read-only``, ``#credentials``, ``#contexts`` (every context's state, on several
    contexts), ``#severity`` (classes ``-critical`` / ``-high`` / ``-medium`` /
    ``-low``), ``#incident-status`` and ``#resolved-banner`` (resolved but not closed),
    ``#host-warning`` (the audit disk filling, or full: actions refused),
    ``#host`` (the bastion's load, memory and free disk).
    """

    DEFAULT_CSS = """
    StatusHeader {
        height: auto;
    }
    StatusHeader #production-banner {
        width: 1fr;
        height: 1;
        content-align: center middle;
        display: none;
    }
    StatusHeader.-production #production-banner {
        display: block;
    }
    StatusHeader #resolved-banner {
        width: 1fr;
        height: 1;
        content-align: center middle;
        display: none;
    }
    StatusHeader.-resolved #resolved-banner {
        display: block;
    }
    StatusHeader #status-line {
        height: 1;
        width: 1fr;
    }
    StatusHeader #status-line Label {
        width: auto;
        padding: 0 1;
    }
    StatusHeader #status-line .-hidden {
        display: none;
    }
    """

    # repaint=False: the labels that changed repaint themselves, not the whole header
    info: reactive[HeaderInfo | None] = reactive(None, always_update=True, repaint=False)

    def __init__(self, info: HeaderInfo | None = None, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.set_reactive(StatusHeader.info, info)
        self._composed = False
        self._texts: dict[str, str] = {}  # selector -> the text it shows
        self._labels: dict[str, Static] = {}  # selector -> its widget (the clock ticks 1/s)

    def compose(self) -> ComposeResult:
        yield Static("", id="production-banner")
        yield Static("✔ RESOLVED — not closed yet: check off the follow-ups (F), then close "
                     "the incident (I)", id="resolved-banner")
        with Horizontal(id="status-line"):
            yield Label("", id="severity", classes="-hidden")
            yield Label("", id="incident-status", classes="-hidden")
            yield Label("", id="context")
            yield Label("", id="namespace")
            yield Label("", id="identity")
            yield Label("", id="connection")
            yield Label("", id="contexts", classes="-hidden")
            yield Label("", id="host-warning", classes="-hidden")
            yield TickLabel("", id="incident-clock")
            yield TickLabel("", id="drill-time")
            yield Label("READ-ONLY", id="read-only")
            yield Label("", id="credentials", classes="-hidden")
            yield Label("", id="host", classes="-hidden")

    def on_mount(self) -> None:
        self._composed = True
        self._show(self.info)

    def watch_info(self, info: HeaderInfo | None) -> None:
        if self._composed and self.is_attached:
            try:
                self._show(info)
            except NoMatches:  # being torn down (the app is exiting)
                return

    def tick(self, incident_clock: str, drill_time: str | None) -> None:
        """The clocks alone moved (every second): their two labels change, not the header."""
        info = self.info
        if (info is None or bool(info.incident_clock) != bool(incident_clock)
                or (info.drill_time is None) != (drill_time is None)):
            if info is not None:  # a clock appears or goes: the whole header
                self.info = replace(info, incident_clock=incident_clock, drill_time=drill_time)
            return
        self.set_reactive(StatusHeader.info,
                          replace(info, incident_clock=incident_clock, drill_time=drill_time))
        if self._composed and self.is_attached:
            self._clocks(incident_clock, drill_time)

    def _clocks(self, incident_clock: str, drill_time: str | None) -> tuple[Static, Static]:
        """Set the two clock labels' texts (the caller hides a clock that has none)."""
        return (self._update("#incident-clock", f"incident {incident_clock}"),
                self._update("#drill-time", f"DRILL {drill_time}"))

    def _show(self, info: HeaderInfo | None) -> None:
        if info is None:
            self.remove_class("-production")
            self.remove_class("-resolved")
            self._update("#context", "not connected")
            for name in ("severity", "incident-status", "namespace", "identity", "connection",
                         "incident-clock", "drill-time", "read-only", "credentials", "contexts",
                         "host", "host-warning"):
                self._label(f"#{name}").add_class("-hidden")
            return
        self.set_class(info.production, "-production")
        self.set_class(info.status == "resolved", "-resolved")
        severity = self._update("#severity", f"▲ {info.severity.upper()}"
                                if info.severity else "")
        for level in SEVERITY_CLASSES:
            severity.set_class(info.severity == level, f"-{level}")
        severity.set_class(not info.severity, "-hidden")
        status = self._update("#incident-status", info.status or "")
        status.set_class(not info.status, "-hidden")
        self._update("#production-banner",
                     f"▲ PRODUCTION ▲  {info.context} — actions change the live service")
        self._update("#context", f"ctx {info.context}")
        self._update("#namespace", f"ns {info.namespace}"
                     + (f"  -l {info.selector}" if info.selector else "")
                     + (f"  · {info.showing}" if info.showing else ""))
        identity = self._update("#identity", info.identity or "")
        identity.set_class(not info.identity, "-hidden")
        connection = self._update("#connection", connection_text(info))
        for state in CONNECTION_SYMBOLS:
            connection.set_class(info.connection == state, f"-{state}")
        contexts = self._update("#contexts", contexts_text(info))
        contexts.set_class(not info.contexts, "-hidden")
        clock, drill = self._clocks(info.incident_clock, info.drill_time)
        clock.set_class(not info.incident_clock, "-hidden")
        drill.set_class(info.drill_time is None, "-hidden")
        self._label("#read-only").set_class(not info.read_only, "-hidden")
        credentials = self._update("#credentials", f"⚿ {info.credentials}"
                                   if info.credentials else "")
        credentials.set_class(not info.credentials, "-hidden")
        warning = self._update("#host-warning", f"⚠ {info.host_warning}"
                               if info.host_warning else "")
        warning.set_class(not info.host_warning, "-hidden")
        host = self._update("#host", f"bastion {info.host}" if info.host else "")
        host.set_class(not info.host, "-hidden")
        for name in ("namespace", "connection"):
            self._label(f"#{name}").remove_class("-hidden")

    def _label(self, selector: str) -> Static:
        """The child ``selector`` (looked up once: the clocks tick every second)."""
        label = self._labels.get(selector)
        if label is None:
            label = self._labels[selector] = self.query_one(selector, Static)
        return label

    def _update(self, selector: str, text: str) -> Static:
        """Set a label's text only when it changed, and lay the screen out again only when
        its width may have changed: the clocks tick every second at the same width, and a
        layout redoes the whole screen."""
        label = self._label(selector)
        old = self._texts.get(selector)
        if old != text:
            self._texts[selector] = text
            same_width = old is not None and len(old) == len(text) and "[" not in old + text
            # plain text: a context or namespace name is never markup
            label.update(Text(plain_text(text)), layout=not same_width)
        return label
