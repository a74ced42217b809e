"""Keep Python's garbage collector from freezing the screen.

Measured on the console (tests/console/test_faults_console.py, bench/faults.py): the process
holds ~250k long-lived objects once connected (the Kubernetes client, Textual, the informer
caches; plus the whole drill cluster in `warroom drill`). A full (generation 2) collection
walks all of them: 100-300 ms of CPU, during which no key is handled, and CPython starts one
whenever enough objects survived younger collections, i.e. several times a second while
the screen is busy. Two measures:

- ``settle()`` once the first full picture is loaded: collect, then ``gc.freeze()`` the
  survivors (CPython's documented remedy for long-lived start-up objects): later full
  collections only walk what was allocated since, a few ms.
- ``tick()`` every ``CACHE_EVERY`` (2) seconds: empty Textual's ``StylesCache.get_inner_outer``
  cache. It is an ``lru_cache`` on a method, so it keeps up to 1024 dead widgets' style
  caches (and all their rendered strips) alive — every modal opened adds some — and the
  heap, and with it every full collection, grows as the incident goes on
  (https://github.com/Textualize/textual/issues/6665). The values are cheap to recompute.

``close()`` unfreezes (tests run many consoles in one process).
"""

from __future__ import annotations

import gc
from typing import Any

CACHE_EVERY = 2.0


def _leaky_cache() -> Any:
    try:
        from textual._styles_cache import StylesCache
    except ImportError:  # a Textual without it: nothing to work around
        return None
    return getattr(StylesCache.get_inner_outer, "cache_clear", None)


class GcPacer:
    def __init__(self) -> None:
        self.settled = False
        self._cache_clear = _leaky_cache()

    def settle(self) -> None:
        """Collect once and freeze what survives (idempotent)."""
        if self.settled:
            return
        self.settled = True
        self.tick()
        gc.collect()
        gc.freeze()

    def tick(self) -> None:
        """Release what Textual's method cache keeps alive (call periodically)."""
        if self._cache_clear is not None:
            self._cache_clear()

    def close(self) -> None:
        if self.settled:
            self.settled = False
            gc.unfreeze()
