"""Adding and removing many rows of a KeyedTable at once.

DataTable's own ``add_row`` reassigns the cursor (a reactive round) and measures every new
cell on idle, and ``remove_row`` renumbers every row: per row, O(rows) each. A table of 10,000
pods filtered down to 12 would take minutes that way. These methods write DataTable's row
structures directly, in one pass, and ask for one refresh.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.widgets.data_table import CellKey, ColumnKey, Row, RowKey


class BulkRows:
    """Mixed into KeyedTable (whose attributes and DataTable's it uses)."""

    COLUMNS: ClassVar[Any]
    _direct_cells: bool
    _hidden: tuple[str, ...]
    _data: Any
    rows: Any
    _row_locations: Any
    _update_count: int
    _require_update_dimensions: bool

    def _add_rows(self, added: list[tuple[str, tuple[Text, ...]]]) -> None:
        """Append rows (sorted afterwards). DataTable.add_row costs, per row, a cursor
        reassignment (a reactive round) and, on idle, a measurement of every new cell; here
        the rows go in at once and the columns are sized from ``ColumnWidths``."""
        if not self._direct_cells:
            for key, cells in added:
                self.add_row(*self._shown_cells(cells), key=key)
            return
        columns = [ColumnKey(column) for column, _ in self.COLUMNS if column not in self._hidden]
        had_rows = bool(self.rows)
        for key, cells in added:
            row_key = RowKey(key)
            self._row_locations[row_key] = len(self.rows)
            self._data[row_key] = dict(zip(columns, self._shown_cells(cells), strict=True))
            self.rows[row_key] = Row(row_key, 1)
        self._update_count += 1
        self._require_update_dimensions = True  # the virtual size, on idle (no measuring)
        self.cursor_coordinate = self.cursor_coordinate
        if not had_rows and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self.check_idle()
        self.refresh()

    def _remove_rows(self, keys: list[str]) -> None:
        """Remove rows at once: DataTable.remove_row renumbers every row per call, O(rows)
        each -- a filter narrowing 10,000 rows to 12 would take minutes that way."""
        if not self._direct_cells or len(keys) < 16:
            for key in keys:
                self.remove_row(key)
            return
        updated = getattr(self, "_updated_cells", None)
        for key in keys:
            row_key = RowKey(key)
            cells = self._data.pop(row_key, None)
            if updated and cells:
                updated.difference_update(CellKey(row_key, column) for column in cells)
            self.rows.pop(row_key, None)
        locations = self._row_locations
        kept = sorted((locations.get(row_key), row_key) for row_key in list(locations)
                      if row_key in self._data)
        self._row_locations = type(locations)(
            {row_key: index for index, (_, row_key) in enumerate(kept)})
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.check_idle()
        self.refresh(layout=True)
