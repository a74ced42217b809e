"""The informer's LIST, page by page, the next page asked for while this one is used.

With a page size, ``list_pages`` asks for the next page as soon as this one's continue token
is known, so the server prepares it while the caller turns this one into views: the caller
never holds more than two pages of raw JSON, whatever the size of the list.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

Page = dict[str, Any]


def list_pages(fetch: Callable[[str | None], Page], paged: bool, stop: threading.Event,
               name: str) -> Iterator[Page]:
    """The pages of one LIST: ``fetch(continue_token)`` gets one (None: the first). Without
    ``paged`` (no page size) the first answer is the whole list. Stops early once ``stop`` is
    set. ``name`` names the look-ahead thread. Drop each page as soon as it is used: this
    generator keeps no reference to a page it has handed over while it fetches the next."""
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
                page = following.result()


__all__ = ["Page", "list_pages"]
