"""Keep Python's garbage collector from freezing the screen.

Measured on the console (tests/console/test_faults_console.py, bench/faults.py): the process
holds ~250k long-lived objects once connected (the Kubernetes client, Textual, the informer
caches; plus the whole drill cluster in `warroom drill`). A full (generation 2) collection
walks all of them: 100-300 ms of CPU, during which no key is handled, and CPython starts one
whenever enough objects survived younger collections, i.e. several times a second while
the screen is busy. Two measures:

- ``settle()`` when the console has connected (collect the young generations, then
  ``gc.freeze()`` the survivors:
  CPython's documented remedy for long-lived start-up objects), and ``settle(final=True)``
  when the first full picture is loaded (freeze the caches too, without another pause): later
  full collections only walk what was allocated since, a few ms.
- ``tick()`` every ``CACHE_EVERY`` (2) seconds releases what two Textual leaks keep alive, so
  the heap (and every full collection with it) does not grow with each key the operator
  presses: Textual's ``StylesCache.get_inner_outer`` is an ``lru_cache`` on a method that
  pins up to 1024 dead widgets' style caches with their rendered strips (issue
  https://github.com/Textualize/textual/issues/6665; cleared, cheap to recompute), and the
  watchers a removed widget registered on a live one (``data_bind``: every Footer rebuild,
  i.e. every screen or focus change, strands its FooterKeys on the Footer) stay until the
  watched value changes (https://github.com/Textualize/textual/issues/6666; pruned with
  Textual's own rule, "the watching node is closing").

From the app's mount (``pause()``) to the final ``settle`` (start-up, then the first list
arriving: thousands of views and table rows, all long-lived) the collector is off: every full
collection would walk the growing heap again, for nothing, since none of it is garbage (measured: ~20 % of the start-up time
with 10,000 pods). ``tick()`` turns it back on if the first picture takes longer than
``LOAD_WITHOUT_GC`` seconds (an unreachable cluster must not mean an unbounded heap).

``close()`` unfreezes (tests run many consoles in one process).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

CACHE_EVERY = 2.0
PRUNE_EVERY = 15  # ticks (30 s) between walks of every widget when nothing moved
LOAD_WITHOUT_GC = 30.0


def _leaky_cache() -> Any:
    try:
        from textual._styles_cache import StylesCache
    except ImportError:  # a Textual without it: nothing to work around
        return None
    return getattr(StylesCache.get_inner_outer, "cache_clear", None)


class GcPacer:
    def __init__(self, app: App[Any] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.app = app
        self.settled = False  # the final freeze happened
        self._frozen = False
        self._cache_clear = _leaky_cache()
        self._paused_at: float | None = None  # when the collector was turned off for loading
        self._ticks = 0
        self._pruned_at: tuple[Any, ...] | None = None  # screens and focus at the last prune

    def pause(self) -> None:
        """The collector off from now until the first full picture (call when the app
        mounts: start-up, like the first list, makes objects that stay, and the full
        collections it would trigger cost ~10 % of the time to the first full frame)."""
        if self._paused_at is None and gc.isenabled():
            self._paused_at = self.clock()
            gc.disable()

    def settle(self, final: bool = False) -> None:
        """Freeze the long-lived objects: first call collects and freezes (one pause, at
        start-up), ``final`` freezes what was loaded since (no pause); later calls do nothing."""
        if self.settled:
            return
        if final:
            self.settled = True
        if not self._frozen:
            self._frozen = True
            self.tick()
            # the young generations only: everything since the pause (start-up's garbage is
            # there) without walking the whole import-time heap again (~150 ms)
            gc.collect(1)
        gc.freeze()
        if final:
            self._resume()
        else:
            self.pause()  # until the first full picture (see the module docstring)

    def refreeze(self) -> None:
        """Freeze long-lived objects made after the final ``settle`` (a late import), with
        no collection; before the final settle it does nothing (that settle freezes them)."""
        if self.settled:
            gc.freeze()

    def _resume(self) -> None:
        if self._paused_at is not None:
            self._paused_at = None
            gc.enable()

    def tick(self) -> None:
        """Release what Textual's leaks keep alive (call periodically, on the UI thread)."""
        if self._paused_at is not None and self.clock() - self._paused_at > LOAD_WITHOUT_GC:
            self._resume()
        if self._cache_clear is not None:
            self._cache_clear()
        if self.app is not None:
            # footers are rebuilt when the screen or the focus changes: walk every widget
            # then, and every PRUNE_EVERY ticks otherwise (an idle console walks nothing)
            app = self.app
            seen = (tuple(map(id, app.screen_stack)), id(app.focused))
            self._ticks += 1
            if seen != self._pruned_at or self._ticks % PRUNE_EVERY == 0:
                self._pruned_at = seen
                prune_closed_watchers(app)

    def close(self) -> None:
        self._resume()
        if self._frozen:
            self._frozen = self.settled = False
            gc.unfreeze()


def prune_closed_watchers(app: App[Any]) -> int:
    """Drop watcher entries whose watching node has closed, on every node of the app's
    screens (what Textual does itself when the watched value changes); returns how many."""
    pruned = 0
    nodes: list[Any] = [app]
    for screen in app.screen_stack:
        nodes.extend(screen.walk_children(with_self=True))
    for node in nodes:
        watchers = getattr(node, "__watchers", None)
        if not watchers:
            continue
        for entries in watchers.values():
            keep = [(who, callback) for who, callback in entries
                    if not (getattr(who, "_closing", False) or getattr(who, "_closed", False))]
            if len(keep) != len(entries):
                pruned += len(entries) - len(keep)
                entries[:] = keep
    return pruned
