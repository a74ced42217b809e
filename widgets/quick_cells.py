"""Drawing a table's one-line text cells without Rich's general layout machinery.

DataTable draws every cell through ``console.render_lines(Styled(Padding(cell)))``: a
wrap, a padding pass and a line split per cell, about 50 us each. A filter that puts 500
other pods in the table redraws every visible cell (48 rows x 7 columns) at once, and that
dominated the keystroke. For the cells a ``KeyedTable`` holds -- one line of plain ``Text``,
left-aligned, ending in "…" or cut in the middle (``MiddleEllipsis``) when too long -- the
same segments are made here directly; any other cell (a header, a label, a wrapping or
justified text, a fixed row) is left to DataTable. tests/widgets/test_quick_cells.py
checks both ways give the same characters in the same styles.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from widgets.column_fit import MiddleEllipsis

_PLAIN_JUSTIFY = (None, "default", "left")


def fitted(cell: Text, width: int) -> Text | None:
    """``cell`` as it shows in ``width`` cells (cut as its overflow says); None when this
    module does not draw it."""
    if cell.cell_len <= width:
        return cell
    if isinstance(cell, MiddleEllipsis):
        if width < 3 or len(cell.plain) != cell.cell_len:
            return None
        keep = width - 1
        head = keep // 2
        short = cell[:head]
        short.append("…")
        short.append_text(cell[len(cell.plain) - (keep - head):])
        return short
    if cell.overflow not in ("ellipsis", "crop"):
        return None
    short = cell.copy()
    short.truncate(width, overflow=cell.overflow)
    return short


def cell_line(cell: Any, width: int, padding: int, pre: Style, post: Style,
              console: Any) -> list[Segment] | None:
    """One line of ``width`` cells: ``cell`` padded by ``padding`` on each side, under the
    cell's row style ``pre`` and over its cursor style ``post`` (as ``Styled`` combines
    them); None when the cell is not one this module draws."""
    inner = width - 2 * padding
    if (type(cell) not in (Text, MiddleEllipsis) or inner < 1
            or cell.justify not in _PLAIN_JUSTIFY or "\n" in cell.plain
            or "\t" in cell.plain):
        return None
    text = fitted(cell, inner)
    if text is None:
        return None
    blank = pre + post if post else pre
    line = [Segment(" " * padding, blank)] if padding else []
    used = 0
    # Text.render leaves a text without spans unstyled (its own style is applied by the
    # line-joining that Text.__rich_console__ does)
    segments = (text.render(console, end="") if text.spans else
                (Segment(text.plain, console.get_style(text.style, default=Style.null())),))
    for segment in segments:
        style = pre + segment.style if segment.style else pre
        line.append(Segment(segment.text, style + post if post else style))
        used += segment.cell_length
    if used < inner:
        line.append(Segment(" " * (inner - used), blank))
    if padding:
        line.append(Segment(" " * padding, blank))
    return line


class QuickCells:
    """Mixed into KeyedTable before DataTable: ``_render_cell`` draws its body cells with
    ``cell_line`` (cached as DataTable caches them), anything else as DataTable does."""

    _direct_cells: bool
    _data: Any
    rows: Any
    _row_locations: Any
    _column_locations: Any
    _cell_render_cache: Any
    _update_count: int
    _show_hover_cursor: bool
    _pseudo_class_state: Any
    fixed_rows: int
    fixed_columns: int
    cell_padding: int
    show_cursor: bool
    cursor_foreground_priority: str
    cursor_background_priority: str
    app: Any

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> Any:
        drawn = None
        if (row_index >= self.fixed_rows and column_index >= self.fixed_columns
                and self._direct_cells):
            row_key = self._row_locations.get_key(row_index)
            column_key = self._column_locations.get_key(column_index)
            cache_key = (row_key, column_key, base_style, cursor, hover,
                         self._show_hover_cursor, self._update_count,
                         self._pseudo_class_state)
            drawn = self._cell_render_cache.get(cache_key)
            if drawn is not None:
                return drawn
            row = self.rows.get(row_key)
            cells = self._data.get(row_key)
            if row is not None and row.height == 1 and cells is not None:
                drawn = self._quick_cell(cells.get(column_key), row_index, column_index,
                                         base_style, width, cursor, hover)
            if drawn is not None:
                self._cell_render_cache[cache_key] = drawn
                return drawn
        return super()._render_cell(  # type: ignore[misc]
            row_index, column_index, base_style, width, cursor, hover)

    def _quick_cell(self, cell: Any, row_index: int, column_index: int, base_style: Style,
                    width: int, cursor: bool, hover: bool) -> list[list[Segment]] | None:
        component, post = self._get_styles_to_render_cell(  # type: ignore[attr-defined]
            False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css")
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index})
        line = cell_line(cell, width, self.cell_padding, pre + component, post,
                         self.app.console)
        return None if line is None else [line]
