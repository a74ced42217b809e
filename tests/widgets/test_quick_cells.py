"""QuickCells draws a table's text cells as DataTable would: the same characters in the same
styles, for every cell on screen -- cursor row, hover, zebra stripes, styled statuses, names
cut in the middle, statuses cut with "…", wide characters, a narrow pane."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from rich.style import Style
from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from tests.widgets.widget_demo import DEPLOYMENTS, PODS, WidgetApp
from widgets.deployment_list import DeploymentList
from widgets.pod_table import PodTable
from widgets.quick_cells import cell_line

LONG = replace(PODS[0], key="shop/payments-reconciler-7d9f8c6b5-qq7lm",
               name="payments-reconciler-7d9f8c6b5-qq7lm", status="CreateContainerConfigError",
               restarts="12 (3m ago)", last_exit="OOM 12m")
WIDE = replace(PODS[1], key="shop/ｗｅｂ-全角-0", name="ｗｅｂ-全角-0")


def characters(lines: Any) -> list[tuple[str, Style | None]]:
    return [(char, segment.style) for line in lines for segment in line
            for char in segment.text]


def every_cell(table: DataTable[Any]) -> list[tuple[int, int, bool, bool]]:
    cursor, hover = table.cursor_coordinate, Coordinate(1, 2)
    return [(row, column, Coordinate(row, column).row == cursor.row,
             Coordinate(row, column) == hover)
            for row in range(min(table.row_count, 12)) for column in range(len(table.columns))]


def drawn_both_ways(table: DataTable[Any]) -> tuple[list[Any], list[Any], int]:
    """Every cell as QuickCells draws it and as DataTable draws it; and how many cells
    QuickCells drew itself."""
    quick, plain, own = [], [], 0
    for row, column, cursor, hover in every_cell(table):
        width = list(table.columns.values())[column].get_render_width(table)
        base = Style(bgcolor="#101010") if row % 2 else Style()
        table._cell_render_cache.clear()
        quick.append(characters(table._render_cell(row, column, base, width, cursor, hover)))
        own += table._quick_cell(table._data[table._row_locations.get_key(row)].get(
            table._column_locations.get_key(column)), row, column, base, width, cursor,
            hover) is not None
        table._cell_render_cache.clear()
        plain.append(characters(DataTable._render_cell(table, row, column, base, width,
                                                        cursor, hover)))
    return quick, plain, own


@pytest.mark.parametrize("width", [160, 52, 34])
async def test_pod_cells_are_drawn_as_datatable_draws_them(width: int) -> None:
    app = WidgetApp(PodTable(id="pods"))
    async with app.run_test(size=(width, 20)) as pilot:
        table = app.query_one(PodTable)
        table.apply_deltas([*PODS, LONG, WIDE], [])
        await pilot.pause()
        table.move_cursor(row=2)
        await pilot.pause()
        quick, plain, own = drawn_both_ways(table)
        assert quick == plain
        assert own == len(quick)  # every body cell was drawn by QuickCells, none fell back


async def test_deployment_cells_are_drawn_as_datatable_draws_them() -> None:
    app = WidgetApp(DeploymentList(id="deployments"))
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(DeploymentList)
        table.apply(DEPLOYMENTS)
        await pilot.pause()
        quick, plain, _ = drawn_both_ways(table)
        assert quick == plain


def test_cells_it_does_not_draw_are_left_to_datatable() -> None:
    style = Style()
    for cell in (Text("two\nlines"), Text("right", justify="right"),
                 Text("folded", overflow="fold"), "a str"):
        assert cell_line(cell, 4, 1, style, style, None) is None, cell
