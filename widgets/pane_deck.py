"""PaneDeck: panes side by side on a wide terminal, behind tabs on a narrow one.

A TabbedContent hides its inactive panes with inline styles that CSS cannot undo, so it cannot
also be the wide layout; rebuilding the screen when the terminal crosses the breakpoint would
throw away the live tables. A PaneDeck keeps every pane mounted and lets CSS decide: when an
ancestor (normally the Screen, through ``HORIZONTAL_BREAKPOINTS``) has class ``narrow``, the
tab bar shows and only the active pane is displayed.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Tab, Tabs


class Pane(Vertical):
    """One pane of a PaneDeck; ``pane_title`` labels its tab. Needs an ``id``."""

    def __init__(self, pane_title: str, *children: Widget, id: str,
                 classes: str | None = None) -> None:
        super().__init__(*children, id=id, classes=classes)
        self.pane_title = pane_title
        self.border_title = pane_title


class PaneDeck(Widget):
    """Side-by-side panes; one at a time behind tabs (``#pane-tabs``) under ``.narrow``.

    Compose it with ``with PaneDeck(id="main"): with Pane("Pods", id="left"): ...`` or
    ``PaneDeck(Pane(...), ...)``. ``active`` is the id of the pane shown when narrow (class
    ``-active``).
    """

    SCOPED_CSS = False  # the narrow rules match an ancestor's class
    DEFAULT_CSS = """
    PaneDeck { layout: horizontal; height: 1fr; }
    PaneDeck > #pane-tabs { dock: top; display: none; }
    PaneDeck > Pane { width: 1fr; height: 1fr; }
    .narrow PaneDeck > #pane-tabs { display: block; }
    .narrow PaneDeck > Pane { display: none; }
    .narrow PaneDeck > Pane.-active { display: block; }
    """

    active: reactive[str] = reactive("", init=False)

    def __init__(self, *panes: Pane, active: str | None = None, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._panes: list[Pane] = list(panes)
        self._initial = active

    def compose_add_child(self, widget: Widget) -> None:
        if not isinstance(widget, Pane):
            raise TypeError(f"PaneDeck holds Pane widgets, not {type(widget).__name__}")
        self._panes.append(widget)

    def compose(self) -> ComposeResult:
        yield Tabs(*(Tab(pane.pane_title, id=f"{pane.id}-tab") for pane in self._panes),
                   id="pane-tabs")
        yield from self._panes

    def on_mount(self) -> None:
        first = self._panes[0].id if self._panes else ""
        self.active = self._initial or first or ""

    @property
    def pane_ids(self) -> list[str]:
        return [pane.id for pane in self._panes if pane.id]

    def watch_active(self, old: str, new: str) -> None:
        for pane in self._panes:
            pane.set_class(pane.id == new, "-active")
        tabs = self.query_one("#pane-tabs", Tabs)
        if new and tabs.active != f"{new}-tab":
            tabs.active = f"{new}-tab"
        self._refocus()

    def show(self, pane_id: str) -> None:
        """Make ``pane_id`` active and focus the first thing in it that takes focus."""
        self.active = pane_id
        self._focus_in(pane_id)

    def next_pane(self, step: int = 1) -> None:
        """Cycle the active pane (for a key binding on narrow terminals)."""
        ids = self.pane_ids
        if ids:
            index = ids.index(self.active) if self.active in ids else 0
            self.show(ids[(index + step) % len(ids)])

    def _focus_in(self, pane_id: str) -> None:
        pane = next((p for p in self._panes if p.id == pane_id), None)
        if pane is None:
            return
        self.call_after_refresh(self._focus_first, pane)

    def _focus_first(self, pane: Pane) -> None:
        for widget in pane.query("*"):
            if widget.focusable:
                widget.focus()
                return

    def _refocus(self) -> None:
        """Keep focus out of panes that the narrow layout just hid."""
        focused = self.screen.focused if self.is_attached else None
        if focused is None:
            return
        ancestors = focused.ancestors
        for pane in self._panes:
            if pane.id != self.active and pane in ancestors:
                if any(node.has_class("narrow") for node in self.ancestors_with_self):
                    self._focus_in(self.active)
                return

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tabs.id != "pane-tabs" or event.tabs.parent is not self:
            return
        event.stop()
        if event.tab.id:
            self.active = event.tab.id.removesuffix("-tab")
