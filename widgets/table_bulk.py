"""Adding and removing many rows of a KeyedTable at once.

DataTable's own ``add_row`` reassigns the cursor (a reactive round) and measures every new
cell on idle, and ``remove_row`` renumbers every row: per row, O(rows) each. A table of 10,000
pods filtered down to 12 would take minutes that way. These methods write DataTable's row
structures directly, in one pass, and ask for one refresh.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, ClassVar

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.coordinate import Coordinate
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
    _dropped: list[object]

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

    def _keep_rows(self, keys: list[str]) -> None:
        """Keep only the rows ``keys``, in their order, and go back to the top (a filter
        narrowing 10,000 rows to 500). DataTable.clear() would first build the line offsets
        of every row it is about to drop (O(rows)); here new row structures are made from the
        kept rows alone, O(kept)."""
        locations = self._row_locations
        kept = sorted(((locations.get(RowKey(key)), RowKey(key)) for key in keys),
                      key=itemgetter(0))
        data, rows = self._data, self.rows
        self._release_later((data, rows))
        self._data = {row_key: data[row_key] for _, row_key in kept}
        self.rows = {row_key: rows[row_key] for _, row_key in kept}
        self._row_locations = TwoWayDict(
            {row_key: index for index, (_, row_key) in enumerate(kept)})
        self._updated_cells.clear()  # type: ignore[attr-defined]
        self._new_rows.clear()  # type: ignore[attr-defined]
        self._clear_caches()  # type: ignore[attr-defined]
        self._update_count += 1
        self._require_update_dimensions = True
        self.cursor_coordinate = Coordinate(0, 0)
        self.hover_coordinate = Coordinate(0, 0)
        self.scroll_to(0, 0, animate=False, immediate=True)  # type: ignore[attr-defined]
        self.check_idle()
        self.refresh(layout=True)

    def _release_later(self, dropped: object) -> None:
        """Hold ``dropped`` (the structures of rows that went) until the next frame is out:
        freeing 10,000 rows' cells takes longer than drawing the 500 that stay."""
        self._dropped.append(dropped)
        if len(self._dropped) == 1:
            self.call_after_refresh(self._dropped.clear)  # type: ignore[attr-defined]

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
