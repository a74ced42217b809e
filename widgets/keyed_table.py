"""KeyedTable: a DataTable updated in place, row by row, by a stable key.

Live data arrives as upserts and deletes. Rebuilding the table on every event makes it flicker
and throws the cursor around; instead changed cells are updated with ``update_cell``, new rows
added with ``add_row(key=)`` and gone rows removed, and the cursor stays on the same row (by
key) whatever moved around it.

Cells are Rich ``Text`` whose colours come from the subclass's component classes, styled in
``themes/``; when the theme changes, every row is re-styled.

Columns fit what they hold now, not what passed through them: each column keeps a count of
its cells per width (``ColumnWidths``), so when the last of its widest cells goes away (a pod
leaves CrashLoopBackOff, a row is removed) the column shrinks back, in O(1) per cell change.
Columns also fit the pane (``widgets/column_fit.py``): when they are wider than the table,
the columns a subclass names in ``SQUEEZE`` shrink with an ellipsis and those in
``DROP_ORDER`` are hidden, the first column's header counting them -- never cut at the edge.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar, Generic, Protocol, TypeVar

from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.widgets import DataTable
from textual.widgets.data_table import (
    CellDoesNotExist,
    ColumnKey,
    RowDoesNotExist,
    RowKey,
)

from widgets.cell_pool import CellPool
from widgets.column_fit import ColumnNeed, fit_columns, hidden_label
from widgets.plain_text import plain_cell
from widgets.quick_cells import QuickCells
from widgets.table_bulk import BulkRows
from widgets.table_sort import TableSort


def same_text(a: Text, b: Text) -> bool:
    """Text equality including the base style (``Text.__eq__`` ignores it)."""
    return a.plain == b.plain and a.style == b.style and a.spans == b.spans


AFRESH_AT = 1000  # rows going at once, and more than half the table: clear and re-add the rest


class ColumnWidths:
    """How many cells of one column have each width; ``widest`` is the largest in use."""

    def __init__(self, floor: int = 0) -> None:
        self.floor = floor  # the header label's width: a column is never narrower
        self._counts: Counter[int] = Counter()
        self.widest = floor

    def set_floor(self, floor: int) -> None:
        """The header label's width changed (a sort arrow came or went)."""
        self.floor = floor
        self.widest = max(max(self._counts, default=0), floor)

    def add(self, width: int) -> None:
        self._counts[width] += 1
        if width > self.widest:
            self.widest = width

    def remove_many(self, widths: Counter[int]) -> None:
        """``remove`` for many cells at once (rows leaving in bulk)."""
        counts = self._counts
        for width, n in widths.items():
            left = counts[width] - n
            if left > 0:
                counts[width] = left
            else:
                del counts[width]
        if self.widest not in counts:
            self.widest = max(max(counts, default=0), self.floor)

    def remove(self, width: int) -> None:
        left = self._counts[width] - 1
        if left > 0:
            self._counts[width] = left
            return
        del self._counts[width]
        if width >= self.widest:  # the widest cell went: look among the widths still held
            self.widest = max(max(self._counts, default=0), self.floor)


class Keyed(Protocol):
    @property
    def key(self) -> str: ...


RowT = TypeVar("RowT", bound=Keyed)


class KeyedTable(TableSort, BulkRows, QuickCells, DataTable[Text], Generic[RowT]):
    """A row-cursor DataTable of frozen rows with a ``key``; subclasses say how rows look.

    Subclasses set ``COLUMNS`` ((column key, label) pairs) and ``SORT_COLUMN``, implement
    ``_cells``, and ``_row_highlighted`` to post their own message; ``SQUEEZE`` and
    ``DROP_ORDER`` say how the columns give way in a narrow pane.
    """

    COLUMNS: ClassVar[Sequence[tuple[str, str]]] = ()
    SORT_COLUMN: ClassVar[str] = "name"  # rows are kept in the order of this column's text
    SQUEEZE: ClassVar[Mapping[str, int]] = {}  # column: narrowest width, cells end in "…"
    DROP_ORDER: ClassVar[Sequence[str]] = ()  # hidden in this order when squeezing is not enough

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled,
                         cursor_type="row", zebra_stripes=True)
        self._rows: dict[str, RowT] = {}
        self._shown: dict[str, tuple[Text, ...]] = {}
        self._cell_widths: dict[str, tuple[int, ...]] = {}  # of the cells in _shown
        self._pending: list[tuple[list[RowT], list[str]]] = []
        self._columns_ready = False
        self._last_highlighted: str | None = None
        self._widths: dict[str, ColumnWidths] = {}
        self._dirty: set[tuple[RowKey, ColumnKey]] = set()  # cells written, caches not yet
        self._revealed_top = 0
        self._hidden: tuple[str, ...] = ()  # columns left out to fit the pane
        self.sort_column = self.SORT_COLUMN
        self.sort_reverse = False
        self._label_widths: dict[str, int] = {}
        self._dropped: list[object] = []  # rows that went, freed after the next frame
        self._pool = CellPool()  # rows showing the same text share one cell
        self._direct_cells = isinstance(getattr(self, "_data", None), dict) and all(
            hasattr(self, name) for name in (*self._CELL_CACHES, "_row_locations", "rows",
                                             "_update_count", "_highlight_cursor",
                                             "_updated_cells", "_new_rows", "_clear_caches",
                                             "_column_locations", "_show_hover_cursor",
                                             "_pseudo_class_state",
                                             "_get_styles_to_render_cell"))

    # ---- subclass hooks ----------------------------------------------------------------
    def _cells(self, row: RowT) -> tuple[Text, ...]:
        raise NotImplementedError

    def _row_highlighted(self, key: str, activated: bool) -> None:
        """Called once per change of the row under the cursor, and on Enter (activated)."""

    def _rows_revealed(self) -> None:
        """Called when scrolling brought other rows on screen (``visible_keys`` changed)."""

    # ---- public ------------------------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        """Row keys in display order."""
        return [row.key.value for row in self.ordered_rows if row.key.value is not None]

    def row_for(self, key: str) -> RowT | None:
        """The row currently shown for ``key``."""
        return self._rows.get(key)

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:
            return None

    def visible_keys(self) -> list[str]:
        """Keys of the rows on screen now (rows are one line high)."""
        top = int(self.scroll_offset.y)
        header = self.header_height if self.show_header else 0
        shown = max(0, self.scrollable_content_region.height - header)
        return [row.key.value for row in self.ordered_rows[top:top + shown]
                if row.key.value is not None]

    def move_to(self, key: str) -> bool:
        """Put the cursor on the row ``key``; False when there is no such row."""
        try:
            index = self.get_row_index(key)
        except RowDoesNotExist:
            return False
        if index != self.cursor_row:
            self.move_cursor(row=index)
        return True

    def sync(self, rows: Iterable[RowT]) -> None:
        """Show exactly ``rows``: changed rows are updated, new added, missing removed."""
        rows = list(rows)
        present = {row.key for row in rows}
        if (self._direct_cells and self._columns_ready and len(self._rows) >= AFRESH_AT
                and 2 * len(present) < len(self._rows)):
            # most rows go (a filter narrowing 50,000 to 500): name the few that stay
            # rather than list the many that leave
            self._apply(rows, (), staying=present)
            return
        self._apply(rows, [key for key in self._rows if key not in present])

    # ---- updating ----------------------------------------------------------------------
    def _apply(self, upserts: Iterable[RowT], deletes: Iterable[str],
               staying: set[str] | None = None) -> None:
        """Add or update ``upserts`` and remove ``deletes``; or, given ``staying``, keep
        only the rows of those keys that are shown (and then the upserts)."""
        upserts, deletes = list(upserts), list(deletes)
        if not self._columns_ready:
            self._pending.append((upserts, deletes))
            return
        keep = self.cursor_key
        added: list[tuple[str, tuple[Text, ...]]] = []
        gone = [] if staying is not None else [
            key for key in dict.fromkeys(deletes) if key in self._rows]
        if staying is not None:
            self._start_afresh([key for key in staying if key in self._rows])
        elif (self._direct_cells and len(gone) >= AFRESH_AT
                and 2 * len(gone) > len(self._rows)):
            leaving = set(gone)  # most rows go (a watch deleting most pods)
            self._start_afresh([key for key in self._rows if key not in leaving])
        elif gone:
            for key in gone:
                del self._rows[key]
                del self._shown[key]
            self._uncount([self._cell_widths.pop(key) for key in gone])
            self._remove_rows(gone)
        for row in upserts:
            key = row.key
            if key in self._rows:
                if self._rows[key] != row:
                    self._rows[key] = row
                    self._update_row(key, self._fitted_cells(row))
            else:
                self._rows[key] = row
                cells = self._fitted_cells(row)
                self._shown[key] = cells
                self._cell_widths[key] = widths = self._pool.share_widths(
                    tuple(cell.cell_len for cell in cells))
                self._count(widths)
                added.append((key, cells))
        if added:
            self._add_rows(added)
            self._resort()
        self._evict_dirty()
        self._fit_columns()
        if keep is not None and keep in self._rows:
            self.move_to(keep)
        self._announce_cursor()

    def _start_afresh(self, staying: list[str]) -> None:
        """Keep only the rows ``staying``, in new structures: the work is in the rows that
        stay, not in the (many more) that go, whose cells are let go of only after the next
        frame (``BulkRows._release_later``). The view goes back to the top; ``_apply`` puts
        the cursor back on its row."""
        rows, shown, widths = self._rows, self._shown, self._cell_widths
        self._release_later((rows, shown, widths))
        self._rows = {key: rows[key] for key in staying}
        self._shown = {key: shown[key] for key in staying}
        self._cell_widths = {key: widths[key] for key in staying}
        for column, _ in self.COLUMNS:
            self._widths[column] = ColumnWidths(self._widths[column].floor)
        for cell_widths in self._cell_widths.values():
            self._count(cell_widths)
        self._dirty.clear()
        self._keep_rows(staying)

    def _announce_cursor(self) -> None:
        """Tell the subclass when the row under the cursor is a different row than before."""
        current = self.cursor_key
        if current is not None and current != self._last_highlighted:
            self._last_highlighted = current
            self._row_highlighted(current, False)

    def _update_row(self, key: str, cells: tuple[Text, ...]) -> None:
        old = self._shown.get(key, ())
        old_widths = self._cell_widths.get(key, ())
        new_widths = []
        for index, ((column, _), cell) in enumerate(zip(self.COLUMNS, cells, strict=True)):
            if index >= len(old) or not same_text(old[index], cell):
                widths = self._widths[column]
                if index < len(old_widths):
                    widths.remove(old_widths[index])
                width = cell.cell_len
                widths.add(width)
                new_widths.append(width)
                if column not in self._hidden:
                    self._set_cell(key, column, cell)
            else:
                new_widths.append(old_widths[index])
        self._shown[key] = cells
        self._cell_widths[key] = self._pool.share_widths(tuple(new_widths))

    def _fitted_cells(self, row: RowT) -> tuple[Text, ...]:
        """The row's cells; one squeezed into a narrower column ends in "…" (unless the
        subclass chose another overflow, e.g. ``MiddleEllipsis``)."""
        cells = self._cells(row)
        for cell in cells:
            plain_cell(cell)  # names, statuses, images come from the cluster
            if cell.overflow is None:
                cell.overflow = "ellipsis"
        return self._pool.share(cells)

    def _shown_cells(self, cells: tuple[Text, ...]) -> tuple[Text, ...]:
        if not self._hidden:
            return cells
        return tuple(cell for (column, _), cell in zip(self.COLUMNS, cells, strict=True)
                     if column not in self._hidden)

    def _count(self, widths: tuple[int, ...]) -> None:
        for (column, _), width in zip(self.COLUMNS, widths, strict=True):
            self._widths[column].add(width)

    def _uncount(self, rows: list[tuple[int, ...]]) -> None:
        """Take the widths of rows' cells out of their columns' counts, in bulk."""
        for index, (column, _) in enumerate(self.COLUMNS):
            self._widths[column].remove_many(Counter(widths[index] for widths in rows))

    def _fit_columns(self) -> None:
        """Make each column as wide as its widest cell now (narrower too) or as the pane
        leaves room for (``widgets/column_fit.py``), then lay out."""
        if not self._columns_ready:
            return
        needs = [ColumnNeed(column, label, self._widths[column].widest,
                            min(self._widths[column].widest,
                                self.SQUEEZE.get(column, self._widths[column].widest)))
                 for column, label in self.COLUMNS]
        fit = fit_columns(needs, self._available_width(), 2 * self.cell_padding,
                          self.DROP_ORDER)
        if fit.hidden != self._hidden:
            self._show_columns(fit.hidden)
        changed = self._mark_hidden(len(fit.hidden))
        # (without direct cell access, DataTable's update_cell(update_width=True) sizes them)
        for column, width in fit.widths.items() if self._direct_cells else ():
            known = self.columns.get(ColumnKey(column))
            if known is not None and known.content_width != width:
                known.content_width = width
                changed = True
        if changed:
            self._clear_cell_caches()
            self._require_update_dimensions = True  # virtual width, on idle (no O(rows) work)
            self.check_idle()
            self.refresh()

    def _available_width(self) -> int | None:
        """Columns' room: the table's width less a vertical scrollbar when the rows need one
        (None before the table is laid out)."""
        width, height = self.container_size
        if width <= 0:
            return None
        header = self.header_height if self.show_header else 0
        if len(self._rows) + header > height and self.styles.overflow_y != "hidden":
            width -= self.styles.scrollbar_size_vertical
        return width

    def _show_columns(self, hidden: tuple[str, ...]) -> None:
        """Rebuild the table with every column but ``hidden`` (on a resize across a width
        where a column comes or goes: O(rows), not per update)."""
        keep = self.cursor_key
        self._hidden = hidden
        self.clear(columns=True)
        self._dirty.clear()
        for column, label in self.COLUMNS:
            if column not in hidden:
                self.add_column(Text(self.sort_label(column, label), overflow="ellipsis"),
                                key=column)
        if self._shown:
            self._add_rows(list(self._shown.items()))
            self._resort()
        if keep is not None:
            self.move_to(keep)

    def _mark_hidden(self, hidden: int) -> bool:
        """Put the count of hidden columns in the first column's header; True if changed."""
        column, label = self.COLUMNS[0]
        known = self.columns.get(ColumnKey(column))
        wanted = hidden_label(self.sort_label(column, label), hidden)
        if known is None or known.label.plain == wanted:
            return False
        known.label = Text(wanted, overflow="ellipsis")
        return True

    # DataTable.update_cell bumps a counter that keys all its caches, so after any update it
    # rebuilds the row order and line offsets of every row (O(rows)) and re-renders every
    # visible cell. Cells that keep their column width are written here instead: the row
    # order and offsets stay cached, rendered cells are dropped, and only a changed row that
    # is on screen is repainted. Falls back to update_cell if DataTable's internals differ.
    _CELL_CACHES = ("_row_render_cache", "_cell_render_cache", "_row_renderable_cache",
                    "_line_cache")

    def _set_cell(self, key: str, column: str, cell: Text) -> None:
        if not self._direct_cells:
            self.update_cell(key, column, cell, update_width=self._widens(column, cell))
            return
        row_key = RowKey(key)
        column_key = ColumnKey(column)
        self._data[row_key][column_key] = cell
        self._dirty.add((row_key, column_key))
        index = self._row_locations.get(row_key)
        if index is None:
            return
        top = self.scroll_offset.y
        if top <= index < top + self.scrollable_content_region.height:  # rows are 1 line
            self.refresh_row(index)

    def _clear_cell_caches(self) -> None:
        self._dirty.clear()
        for cache in self._CELL_CACHES:
            getattr(self, cache).clear()

    def _evict_dirty(self) -> None:
        """Drop the cached renderings of the cells written since the last call (and of the
        lines that hold them), keeping every other row's: the cursor row or a scrolled-back
        row need not be rendered again because some other pod changed."""
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, set()
        rows = {row_key for row_key, _ in dirty}
        indexes = {self._row_locations.get(row_key) for row_key in rows}
        header = self.header_height if self.show_header else 0
        lines = {index + header for index in indexes if index is not None}
        try:
            evictions = (
                (self._cell_render_cache, lambda k: (k[0], k[1]) in dirty),
                (self._row_render_cache, lambda k: k[0] in rows),
                (self._row_renderable_cache, lambda k: k[1] in indexes),
                (self._line_cache, lambda k: k[0] in lines),
            )
            for cache, stale in evictions:
                for cache_key in [k for k in cache.keys() if stale(k)]:
                    cache.discard(cache_key)
        except (AttributeError, IndexError, TypeError):  # another DataTable: drop them all
            self._clear_cell_caches()

    def _widens(self, column: str, cell: Text) -> bool:
        """Whether ``cell`` is wider than its column (the fallback path through update_cell,
        where columns only grow: on a narrower value DataTable re-measures every cell of the
        column, O(rows) per update)."""
        known = self.columns.get(ColumnKey(column))
        return known is None or cell.cell_len > known.content_width

    def restyle(self) -> None:
        """Rebuild every row's cells (the theme changed)."""
        self._pool.clear()
        for key, row in self._rows.items():
            self._update_row(key, self._fitted_cells(row))
        self._clear_cell_caches()
        self._fit_columns()

    def component_style(self, component: str) -> Style:
        """The partial Rich style of one of this table's component classes."""
        return self.get_component_rich_style(component, partial=True)

    # ---- lifecycle and events ------------------------------------------------------------
    def on_mount(self) -> None:
        for column, label in self.COLUMNS:
            self.add_column(Text(self.sort_label(column, label), overflow="ellipsis"),
                            key=column)
            self._label_widths[column] = self.columns[ColumnKey(column)].content_width
            self._widths[column] = ColumnWidths(self._label_widths[column])
        self._columns_ready = True
        # The signal comes before the new theme's styles reach this widget: restyle after.
        self.app.theme_changed_signal.subscribe(
            self, lambda _theme: self.call_after_refresh(self.restyle))
        pending, self._pending = self._pending, []
        for upserts, deletes in pending:
            self._apply(upserts, deletes)

    def on_resize(self, _event: events.Resize) -> None:
        self._fit_columns()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if int(new_value) != self._revealed_top:
            self._revealed_top = int(new_value)
            self._rows_revealed()

    @on(DataTable.RowHighlighted)
    def _on_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is not self:
            return
        event.stop()
        # Messages are handled after a whole batch: announce where the cursor is now.
        self._announce_cursor()

    @on(DataTable.RowSelected)
    def _on_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is not self:
            return
        event.stop()
        if event.row_key.value is not None:
            self._row_highlighted(event.row_key.value, True)
