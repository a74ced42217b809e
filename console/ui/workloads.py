"""The workloads pane on one context or several: which context's data is on screen.

Each context (`ClusterLink`) has its own `LiveData`. On one context there is one, and nothing
here changes how it works. On several (`--context a,b`) the deployment list is grouped by
context, a header row per context (its name, connection state and production mark; ▶ on the
focused one), and the focused context's `LiveData` fills the pod table and the rates panel.
Moving the cursor into another context's group, ``c`` (next context) or the palette's
``ctx: NAME`` focuses that context: the pods, rates, keys, header and actions are then its.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.informer_deltas import Delta
from console.ui.cluster_link import ClusterLink
from console.ui.live_data import LiveData
from widgets.deployment_list import DeploymentList
from widgets.rows import ContextState, DeploymentRow
from widgets.status_header import CONTEXT_SYMBOLS

if TYPE_CHECKING:
    from console.ui.main_screen import MainScreen


class Workloads:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.session = screen.session
        several = self.session.several
        self.lives = [LiveData(screen, link, group=index if several else None)
                      for index, link in enumerate(self.session.links)]
        for live in self.lives:
            live.shown = live.link is self.session.focused

    @property
    def focused(self) -> LiveData:
        """The focused context's live data (the only one, on one context)."""
        return self.of(self.session.focused)

    def of(self, link: ClusterLink) -> LiveData:
        return next(live for live in self.lives if live.link is link)

    # ---- data in ---------------------------------------------------------------------------
    def arrived(self, link: ClusterLink, batch: list[Delta]) -> None:
        """On an informer's flush thread: ``link``'s deltas to its live data."""
        self.of(link).arrived(batch)

    def wake(self) -> None:
        for live in self.lives:
            live.wake()

    def polling(self) -> list[LiveData]:
        """The live data whose context has a metrics client (its poller runs in a worker)."""
        return [live for live in self.lives if live.link.metrics is not None]

    # ---- the grouped list ------------------------------------------------------------------
    def context_states(self) -> tuple[ContextState, ...]:
        """Every context's state for the header (none on one context: the header's own
        connection word says it)."""
        if not self.session.several:
            return ()
        return tuple(ContextState(link.context, link.state, link.production,
                                  link is self.session.focused) for link in self.session.links)

    def refresh_headings(self) -> None:
        """The context header rows of the grouped deployment list (updated when changed)."""
        if not self.session.several or not self.screen.is_attached:
            return
        rows = []
        for live in self.lives:
            link = live.link
            mark = "▶" if link is self.session.focused else " "
            heading = (f"{mark} {link.context}  {CONTEXT_SYMBOLS.get(link.state, '?')} "
                       f"{link.state}" + ("  ▲ PRODUCTION" if link.production else ""))
            rows.append(DeploymentRow(key=live.prefix, namespace="", name=link.context,
                                      ready=None, desired=None, updated=None, available=None,
                                      revision=None, images=(), rollout="complete",
                                      group=live.group, heading=heading))
        self.screen.query_one(DeploymentList).apply_deltas(rows)

    def select(self, table_key: str) -> None:
        """The deployment list's cursor moved to ``table_key``: focus its context (a header
        row or a deployment of another context) and show the deployment's pods."""
        live = self._owner(table_key)
        if live is None:
            return
        if live is not self.focused:
            self.focus(live.link, move_cursor=False)
        key = live.own_key(table_key)
        if key:
            live.select(key)

    def _owner(self, table_key: str) -> LiveData | None:
        if not self.session.several:
            return self.lives[0]
        return next((live for live in self.lives if table_key.startswith(live.prefix)), None)

    # ---- focus -----------------------------------------------------------------------------
    def focus(self, link: ClusterLink, *, move_cursor: bool = True) -> None:
        """Make ``link`` the focused context: its pods, rates, keys and header."""
        if link is not self.session.focused:
            self.focused.shown = False
            self.session.focused = link
            live = self.focused
            live.shown = True
            live.show()
            live.refresh_rates()
            self.refresh_headings()
            self.screen.refresh_header()
            self.screen.refresh_bindings()  # its RBAC answers grey out its keys
        if move_cursor:
            live = self.focused
            self.screen.query_one(DeploymentList).move_to(live.prefix + (live.selected or ""))

    def focus_index(self, index: int) -> None:
        links = self.session.links
        if 0 <= index < len(links):
            self.focus(links[index])
            self.screen.app.notify(f"context {links[index].context}", title="focused")

    def cycle(self) -> None:
        """The next context (``c``)."""
        links = self.session.links
        self.focus_index((links.index(self.session.focused) + 1) % len(links))

    def palette(self) -> list[tuple[str, str, str, str, tuple[object, ...]]]:
        """The palette's ``ctx: NAME`` entries, as k9s's ``:ctx`` (several contexts only)."""
        if not self.session.several:
            return []
        return [(f"ctx: {link.context}",
                 f"focus context {link.context}: its pods, rates, keys and actions",
                 f"focus_context({index})", "focus_context", (index,))
                for index, link in enumerate(self.session.links)]
