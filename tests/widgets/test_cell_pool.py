"""Rows showing the same text share one cell object; a changed row gets its own again, and
the rows it shared with keep theirs; a theme change makes new (re-styled) cells."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text

from tests.widgets.widget_demo import WidgetApp
from widgets.cell_pool import LIMIT, CellPool
from widgets.pod_table import PodTable
from widgets.rows import PodRow


def pods(n: int) -> list[PodRow]:
    return [PodRow(key=f"shop/api-{i:03d}", name=f"api-{i:03d}", ready="1/1",
                   status="Running", restarts=0, age="5m", revision="3") for i in range(n)]


async def test_rows_share_equal_cells_and_a_change_stays_in_its_row() -> None:
    app = WidgetApp(PodTable(id="pods"))
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(PodTable)
        rows = pods(50)
        table.apply_deltas(rows, [])
        await pilot.pause()
        first, other = rows[0].key, rows[7].key
        assert table.get_cell(first, "status") is table.get_cell(other, "status")
        assert table.get_cell(first, "name") is not table.get_cell(other, "name")
        ready_cells = {id(table.get_cell(row.key, "ready")) for row in rows}
        assert len(ready_cells) == 1

        table.apply_deltas([replace(rows[0], status="CrashLoopBackOff", ready="0/1")], [])
        await pilot.pause()
        assert str(table.get_cell(first, "status")) == "✖ CrashLoopBackOff"
        assert str(table.get_cell(other, "status")) == "✔ Running"  # not changed with it
        assert str(table.get_cell(other, "ready")) == "1/1"

        before = table.get_cell(other, "status")
        app.theme = "warroom-light" if app.theme != "warroom-light" else "warroom-dark"
        await pilot.pause()
        await pilot.pause()
        after = table.get_cell(other, "status")
        assert after is not before and after.style != before.style  # re-styled, not reused
        assert table.get_cell(rows[3].key, "status") is after


def test_the_pool_is_bounded_and_leaves_texts_with_spans_alone() -> None:
    pool = CellPool()
    name, spanned = Text("api"), Text.assemble(("a", "bold"), "b")
    assert pool.share((name, spanned))[1] is spanned
    assert pool.share((name, Text("x")))[1] is pool.share((name, Text("x")))[1]
    assert pool.share((Text("api"),))[0] is not name  # the first column is the row's own
    for i in range(LIMIT + 10):
        pool.share((name, Text(str(i))))
    assert len(pool._cells) <= LIMIT
    assert pool.share_widths((1, 2)) is pool.share_widths((1, 2))
