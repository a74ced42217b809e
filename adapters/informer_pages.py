"""The informer's LIST, page by page, the next page asked for while this one is used.

With a page size, ``list_pages`` asks for the next page as soon as this one's continue token
is known, so the server prepares it while the caller turns this one into views: the caller
never holds more than two pages of raw JSON, whatever the size of the list.

A continue token lives only until the server compacts the list's resourceVersion (5-15
minutes on a real cluster); continuing after that answers 410 Expired. Then, like client-go's
pager (``FullListIfExpired``), the list starts over once, unpaged, at once (no back-off: a
paged list that took longer than a token's life would only expire again): ``RESTARTED``
tells the caller to drop what it gathered, and the whole list follows as one page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .errors import Gone

Page = dict[str, Any]
RESTARTED: Page = {"metadata": {}, "items": [], "restarted": True}  # compared by identity


def list_pages(fetch: Callable[[str | None], Page], paged: bool, stop: threading.Event,
               name: str, full: Callable[[], Page] | None = None) -> Iterator[Page]:
    """The pages of one LIST: ``fetch(continue_token)`` gets one (None: the first). Without
    ``paged`` (no page size) the first answer is the whole list. Stops early once ``stop`` is
    set. ``name`` names the look-ahead thread. Drop each page as soon as it is used: this
    generator keeps no reference to a page it has handed over while it fetches the next.
    ``full()`` lists everything unpaged: after an expired continue token this generator
    yields ``RESTARTED`` and then that one page (without ``full``, the 410 is raised)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=name) as ahead:
        page: Page | None = fetch(None)
        while page is not None:
            token = (page.get("metadata") or {}).get("continue") or None
            more = bool(token and paged and not stop.is_set())
            following = ahead.submit(fetch, token) if more else None
            handed, page = page, None
            yield handed
            del handed
            if following is not None:
                try:
                    page = following.result()
                except Gone:
                    if full is None:
                        raise
                    yield RESTARTED
                    yield full()
                    return


__all__ = ["RESTARTED", "Page", "list_pages"]
