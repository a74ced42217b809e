"""The informer's WatchList: one watch that starts with the current state (KEP-3157).

A watch opened with ``sendInitialEvents=true`` (with ``resourceVersionMatch=NotOlderThan``
and bookmarks allowed) sends every object that exists as an ADDED event, then a BOOKMARK
annotated ``k8s.io/initial-events-end: "true"``, then goes on as an ordinary watch. It
replaces the LIST and the WATCH that follows it: no pages to ask for one after the other, no
list held whole in memory, and the first objects can be shown while the rest stream in.

Servers without it (kube-apiserver before the WatchList gate, or with it off) refuse the
request with 422 Invalid ("sendInitialEvents is forbidden ..." or "resourceVersionMatch is
forbidden for watch"); the informer then lists as before, as client-go's reflector does.

``InitialEvents`` gathers the initial ADDED events into pages, as the LIST's pages were: on
a first sync (an empty cache) each page is handed over at once, on a relist they replace the
cache only once the end bookmark says the state is complete.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .informer_deltas import View

INITIAL_EVENTS_END = "k8s.io/initial-events-end"
PAGE = 500  # initial objects turned into views (and handed over) at a time


def ends_initial_events(event: Mapping[str, Any]) -> bool:
    """Whether ``event`` is the bookmark that closes a watch-list's initial events."""
    if event.get("type") != "BOOKMARK":
        return False
    meta = (event.get("object") or {}).get("metadata") or {}
    return (meta.get("annotations") or {}).get(INITIAL_EVENTS_END) == "true"


class InitialEvents:
    """The objects a watch-list sends before its end bookmark, turned into views by page."""

    def __init__(self, build_page: Callable[[list[Mapping[str, Any]]], dict[str, View]],
                 add_page: Callable[[dict[str, View]], None],
                 replace: Callable[[dict[str, View]], None], *, progressive: bool,
                 page: int = PAGE) -> None:
        self._build_page = build_page
        self._add_page = add_page
        self._replace = replace
        self.progressive = progressive  # an empty cache: hand each page over at once
        self._page = page
        self._pending: list[Mapping[str, Any]] = []
        self._fresh: dict[str, View] = {}

    def add(self, obj: Mapping[str, Any]) -> None:
        self._pending.append(obj)
        if len(self._pending) >= self._page:
            self._flush()

    def finish(self) -> None:
        """The end bookmark: the state is complete."""
        self._flush()
        if not self.progressive:
            self._replace(self._fresh)
            self._fresh = {}

    def _flush(self) -> None:
        if not self._pending:
            return
        views = self._build_page(self._pending)
        self._pending = []
        if self.progressive:
            self._add_page(views)
        else:
            self._fresh.update(views)


__all__ = ["INITIAL_EVENTS_END", "InitialEvents", "ends_initial_events"]
