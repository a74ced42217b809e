"""Sorting a KeyedTable by any of its columns: `o` cycles the column, `O` reverses.

Rows are ordered by typed values (``SORT_KEYS``: "10m" after "9m", 12 restarts after 9),
ties by key; the sorted column's header shows ▲ or ▼ (the default order, by the first column
ascending, shows none). The cursor stays on the same row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from rich.text import Text
from textual.widgets.data_table import ColumnKey, RowKey

try:  # the row order DataTable keeps (sorting by a row's typed values needs it)
    from textual._two_way_dict import TwoWayDict
except ImportError:  # pragma: no cover - another Textual: sorting falls back to cell text
    TwoWayDict = None  # type: ignore[assignment,misc]


class TableSort:
    """Mixed into KeyedTable (whose attributes it uses)."""

    COLUMNS: ClassVar[Any]
    SORT_COLUMN: ClassVar[str]
    # the columns `o` can sort by, each with the sort key of a row
    SORT_KEYS: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}
    sort_column: str
    sort_reverse: bool

    def sortable(self) -> list[str]:
        return [column for column, _ in self.COLUMNS
                if column in self.SORT_KEYS or column == self.SORT_COLUMN]

    def cycle_sort(self) -> None:
        """Sort by the next sortable column (ascending)."""
        columns = self.sortable()
        index = columns.index(self.sort_column) if self.sort_column in columns else -1
        self.sort_by(columns[(index + 1) % len(columns)], False)

    def reverse_sort(self) -> None:
        self.sort_by(self.sort_column, not self.sort_reverse)

    def sort_by(self, column: str, reverse: bool = False) -> None:
        """Order the rows by ``column``; its header shows the direction (▲ ascending)."""
        if column not in self.sortable():
            raise ValueError(f"cannot sort by {column!r}")
        self.sort_column, self.sort_reverse = column, reverse
        keep = self.cursor_key
        if self._columns_ready:
            self._relabel()
            self._resort()
            if keep is not None:
                self.move_to(keep)

    def sort_label(self, column: str, label: str) -> str:
        """A column's header: with ▲/▼ when the rows are sorted by it (not by default)."""
        if column != self.sort_column or (column == self.SORT_COLUMN
                                          and not self.sort_reverse):
            return label
        return f"{label} {'▼' if self.sort_reverse else '▲'}"

    def _relabel(self) -> None:
        first = self.COLUMNS[0][0]
        for column, label in self.COLUMNS:
            text = self.sort_label(column, label)
            widths = self._widths.get(column)
            if widths is not None:
                widths.set_floor(max(len(text), self._label_widths.get(column, 0)))
            known = self.columns.get(ColumnKey(column))
            if known is not None and column != first:
                known.label = Text(text, overflow="ellipsis")
        self._mark_hidden(len(self._hidden))
        self._clear_cell_caches()
        self._fit_columns()
        self._require_update_dimensions = True
        self.refresh()

    def _resort(self) -> None:
        column = self.sort_column
        key_of = self.SORT_KEYS.get(column)
        if key_of is None or not self._direct_cells or TwoWayDict is None:
            if column in self._hidden:
                column = self.SORT_COLUMN
            self.sort(column, key=lambda cell: cell.plain, reverse=self.sort_reverse)
            return
        rows = self._rows

        def row_key(key: RowKey) -> Any:
            row = rows.get(key.value or "")
            return (key_of(row), key.value) if row is not None else ((), key.value)

        ordered = sorted(self._data, key=row_key, reverse=self.sort_reverse)
        self._row_locations = TwoWayDict({key: index for index, key in enumerate(ordered)})
        self._update_count += 1
        self.refresh()

