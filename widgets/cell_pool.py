"""One cell object for every row that shows the same text in the same style.

At 10,000 pods most cells repeat: READY "1/1", STATUS "✔ Running", RESTARTS "0", AGE "5m",
REV "3". A table that made a ``Text`` per cell held 70,000 of them (a few hundred bytes each,
and all of them walked by every full garbage collection). Cells are never changed once made
(a changed pod gets new ones), so rows can share them: ``CellPool.share`` hands back the
pooled equal cell. Only plain one-style texts are pooled (a text with spans is the row's
own), and never the first column: a row's name is its own, and a table may tell its rows
apart by that cell (DeploymentList orders its groups so). The pool forgets everything past
``LIMIT`` entries.
"""

from __future__ import annotations

from collections.abc import Hashable

from rich.text import Text

LIMIT = 8192


class CellPool:
    def __init__(self) -> None:
        self._cells: dict[Hashable, Text] = {}
        self._widths: dict[tuple[int, ...], tuple[int, ...]] = {}

    def clear(self) -> None:
        """Forget the pooled cells (the theme changed: new styles)."""
        self._cells.clear()
        self._widths.clear()

    def share(self, cells: tuple[Text, ...]) -> tuple[Text, ...]:
        """``cells`` with each plain cell but the first replaced by the pooled one equal to
        it."""
        pool = self._cells
        shared = list(cells[:1])
        for cell in cells[1:]:
            if type(cell) is not Text or cell.spans:
                shared.append(cell)
                continue
            key = (cell.plain, cell.style, cell.overflow, cell.justify, cell.no_wrap,
                   cell.end)
            known = pool.get(key)
            if known is None:
                if len(pool) >= LIMIT:
                    pool.clear()
                known = pool[key] = cell
            shared.append(known)
        return tuple(shared)

    def share_widths(self, widths: tuple[int, ...]) -> tuple[int, ...]:
        """The pooled tuple equal to ``widths`` (a row's cell widths repeat too)."""
        known = self._widths.get(widths)
        if known is None:
            if len(self._widths) >= LIMIT:
                self._widths.clear()
            known = self._widths[widths] = widths
        return known
