"""PodTable: batched deltas by key, cells updated in place, the cursor stays on its pod."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.widgets.widget_demo import PODS, DemoApp, WidgetApp, pod
from widgets.pod_table import PodTable, status_kind, status_text


async def test_apply_deltas_updates_a_cell_in_place_and_keeps_the_cursor() -> None:
    app = WidgetApp(PodTable(id="pods"))
    async with app.run_test() as pilot:
        table = app.query_one(PodTable)
        table.apply_deltas(PODS, [])
        await pilot.pause()
        assert table.row_count == len(PODS)
        target = "shop/api-7d9f8c6b5-x2x9k"
        assert table.move_to(target)
        await pilot.pause()
        row_key_before = table.coordinate_to_cell_key(table.cursor_coordinate).row_key

        crashed = replace(table.row_for(target), status="CrashLoopBackOff", restarts=4,
                          ready="0/1")
        table.apply_deltas([crashed], [])
        await pilot.pause()

        assert table.row_count == len(PODS)  # updated, not re-added
        assert str(table.get_cell(target, "status")) == "✖ CrashLoopBackOff"
        assert str(table.get_cell(target, "restarts")) == "4"
        assert table.cursor_key == target
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key is row_key_before


async def test_deleting_rows_above_the_cursor_keeps_it_on_the_same_pod() -> None:
    app = WidgetApp(PodTable())
    async with app.run_test() as pilot:
        table = app.query_one(PodTable)
        table.apply_deltas(PODS, [])
        await pilot.pause()
        table.move_to("shop/api-7d9f8c6b5-z8m2p")
        await pilot.pause()
        index_before = table.cursor_row
        table.apply_deltas(
            [pod("api-0aaaaaaaa-new01", "0/1", "Pending", 0, "1s", "8")],
            ["shop/api-6c4b9d7f8-h4k2n", "shop/api-7d9f8c6b5-p0nd1"],
        )
        await pilot.pause()
        assert table.cursor_key == "shop/api-7d9f8c6b5-z8m2p"
        assert table.cursor_row == index_before - 1  # two gone above, one new above
        assert table.keys == sorted(table.keys, key=lambda k: k.split("/")[1])


async def test_deleting_the_pod_under_the_cursor_moves_to_a_neighbour() -> None:
    app = WidgetApp(PodTable())
    async with app.run_test() as pilot:
        table = app.query_one(PodTable)
        table.apply_deltas(PODS, [])
        await pilot.pause()
        table.move_to("shop/api-7d9f8c6b5-qq7lm")
        await pilot.pause()
        table.apply_deltas([], ["shop/api-7d9f8c6b5-qq7lm", "shop/not-there"])
        await pilot.pause()
        assert "shop/api-7d9f8c6b5-qq7lm" not in table.keys
        assert table.cursor_key == "shop/api-7d9f8c6b5-x2x9k"


async def test_cursor_moves_post_pod_selected_once_per_pod() -> None:
    app = WidgetApp(PodTable())
    async with app.run_test() as pilot:
        table = app.query_one(PodTable)
        table.apply_deltas(PODS, [])
        await pilot.pause()
        table.focus()
        await pilot.press("down", "down")
        await pilot.pause()
        keys = [m.key for m in app.of_type(PodTable.PodSelected)]
        assert keys == [table.keys[0], table.keys[1], table.keys[2]]
        # an update of the highlighted pod does not re-announce it
        table.apply_deltas([replace(table.row_for(table.keys[2]), age="7m")], [])
        await pilot.pause()
        assert len(app.of_type(PodTable.PodSelected)) == 3
        await pilot.press("enter")
        await pilot.pause()
        last = app.of_type(PodTable.PodSelected)[-1]
        assert last.activated and last.key == table.keys[2]
        assert last.control is table


async def test_sync_removes_pods_missing_from_a_relist() -> None:
    app = WidgetApp(PodTable())
    async with app.run_test() as pilot:
        table = app.query_one(PodTable)
        table.apply_deltas(PODS, [])
        await pilot.pause()
        table.sync(PODS[:2])
        await pilot.pause()
        assert sorted(table.keys) == sorted(p.key for p in PODS[:2])


async def test_rows_given_before_mount_are_shown() -> None:
    table = PodTable()
    table.apply_deltas(PODS[:3])
    app = WidgetApp(table)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert table.row_count == 3


async def test_status_colour_follows_the_theme() -> None:
    app = WidgetApp(PodTable())
    async with app.run_test() as pilot:
        table = app.query_one(PodTable)
        table.apply_deltas(PODS, [])
        await pilot.pause()
        key = "shop/api-7d9f8c6b5-qq7lm"
        dark = table.get_cell(key, "status").style
        app.theme = "warroom-colorblind"
        await pilot.pause()
        await pilot.pause()
        blind = table.get_cell(key, "status").style
        assert dark != blind
        red, green, blue = blind.color.triplet
        assert abs(red - 0xD5) <= 2 and abs(green - 0x5E) <= 2 and blue <= 2  # vermillion
        assert str(table.get_cell(key, "status")) == "✖ CrashLoopBackOff"


def test_every_status_has_a_symbol() -> None:
    assert status_text("CrashLoopBackOff") == "✖ CrashLoopBackOff"
    assert status_text("OOMKilled") == "✖ OOMKilled"
    assert status_text("Pending") == "… Pending"
    assert status_text("Running") == "✔ Running"
    assert status_text("Terminating") == "↓ Terminating"
    assert status_text("Init:0/1") == "… Init:0/1"
    assert status_text("Init:CrashLoopBackOff") == "✖ Init:CrashLoopBackOff"
    assert status_kind("SomethingNew") == "unknown"
    assert status_text("SomethingNew") == "? SomethingNew"


def column_width(table: PodTable, column: str) -> int:
    return next(c.content_width for c in table.columns.values() if c.key.value == column)


async def test_columns_shrink_back_when_their_widest_cell_goes() -> None:
    app = WidgetApp(PodTable())
    async with app.run_test() as pilot:
        table = app.query_one(PodTable)
        running = [pod(f"api-7d9f8c6b5-run0{i}", "1/1", "Running", 0, "6m", "7")
                   for i in range(3)]
        table.apply_deltas(running, [])
        await pilot.pause()
        narrow = column_width(table, "status")
        assert narrow == len("✔ Running")
        crashed = replace(running[1], status="CrashLoopBackOff")
        table.apply_deltas([crashed, replace(running[2], status="CrashLoopBackOff")], [])
        await pilot.pause()
        assert column_width(table, "status") == len("✖ CrashLoopBackOff")
        table.apply_deltas([running[1]], [])  # one crash-looping pod left: still wide
        await pilot.pause()
        assert column_width(table, "status") == len("✖ CrashLoopBackOff")
        table.apply_deltas([], [running[2].key])  # the last one goes with its row
        await pilot.pause()
        assert column_width(table, "status") == narrow
        assert table.virtual_size.width == sum(c.get_render_width(table)
                                               for c in table.columns.values())
        table.apply_deltas([], [row.key for row in running[:2]])
        await pilot.pause()
        assert column_width(table, "status") == len("STATUS")  # the header's width at least


async def test_visible_keys_are_the_rows_on_screen_and_scrolling_reveals_others() -> None:
    revealed: list[PodTable.RowsRevealed] = []

    class Watching(WidgetApp):
        def on_pod_table_rows_revealed(self, message: PodTable.RowsRevealed) -> None:
            revealed.append(message)

    app = Watching(PodTable())
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(PodTable)
        rows = [pod(f"api-7d9f8c6b5-n{i:03d}", "1/1", "Running", 0, "6m", "7")
                for i in range(100)]
        table.apply_deltas(rows, [])
        await pilot.pause()
        shown = table.visible_keys()
        assert shown and len(shown) < 12
        assert shown == [row.key for row in rows[:len(shown)]]
        table.scroll_to(y=50, animate=False)
        await pilot.pause()
        assert table.visible_keys()[0] == rows[50].key
        assert revealed


def screen_lines(app: WidgetApp | DemoApp) -> list[str]:
    """The screen as drawn, one string per line."""
    return ["".join(segment.text for segment in strip)
            for strip in app.screen._compositor.render_strips()]


def shows(shown: str, full: str) -> bool:
    """Whether a cell on screen is its full text or the text cut with an explicit "…"."""
    if shown == full:
        return True
    head, ellipsis, tail = shown.partition("…")
    return bool(ellipsis) and full.startswith(head) and full.endswith(tail) and (
        len(head) + len(tail) < len(full))


@pytest.mark.parametrize("width", sorted({*range(80, 251, 10), 101, 120}))
async def test_columns_fit_the_pane_at_every_width(width: int) -> None:
    """No column is cut at the pane's edge: each one shown holds its whole text or ends in an
    ellipsis, and hidden columns are counted in the header."""
    app = DemoApp()
    async with app.run_test(size=(width, 40)) as pilot:
        await pilot.pause()
        await pilot.pause()
        table = app.query_one(PodTable)
        columns = table.ordered_columns
        widths = [column.get_render_width(table) for column in columns]
        assert sum(widths) <= table.scrollable_content_region.width
        assert not table.show_horizontal_scrollbar
        lines = screen_lines(app)
        region = table.region
        header = lines[region.y]
        hidden = len(PodTable.COLUMNS) - len(columns)
        x = region.x
        for column, render_width in zip(columns, widths, strict=True):
            inner = slice(x + table.cell_padding, x + render_width - table.cell_padding)
            label = dict(PodTable.COLUMNS)[column.key.value]
            if column is columns[0] and hidden:
                label += f" (+{hidden} col{'s' if hidden > 1 else ''})"
            assert header[inner].rstrip() == label
            for y, key in enumerate(table.keys, start=region.y + 1):
                full = table.get_cell(key, column.key).plain
                assert shows(lines[y][inner].rstrip(), full), (width, lines[y], full)
            x += render_width
        if width >= 120:
            assert [c.key.value for c in columns][-1] == "revision"  # REV stays longest


async def test_most_rows_going_at_once_leaves_the_rest_in_order_with_the_cursor() -> None:
    """A filter narrowing thousands of rows to a few hundred clears the table and puts the
    rest back (keyed_table.AFRESH_AT): same rows, same order, cursor on its pod, columns
    as wide as what is left."""
    from widgets.keyed_table import AFRESH_AT

    app = WidgetApp(PodTable())
    async with app.run_test() as pilot:
        table = app.query_one(PodTable)
        many = [pod(f"api-7d9f8c6b5-{i:05d}", "1/1", "Running", 0, "6m", "7")
                for i in range(2 * AFRESH_AT)]
        wide = replace(many[-1], status="CrashLoopBackOff")  # only a leaving row is this wide
        table.apply_deltas([*many[:-1], wide], [])
        await pilot.pause()
        assert column_width(table, "status") == len("✖ CrashLoopBackOff")
        staying = many[::7]
        table.move_to(staying[5].key)
        await pilot.pause()
        table.sync([*staying, many[1]])  # one row updated on the way
        await pilot.pause()
        assert table.keys == sorted(row.key for row in [*staying, many[1]])
        assert table.row_count == len(staying) + 1
        assert table.cursor_key == staying[5].key
        assert column_width(table, "status") == len("✔ Running")
        assert str(table.get_cell(staying[3].key, "status")) == "✔ Running"
        table.apply_deltas([replace(staying[3], restarts=9)], [])  # still updated in place
        await pilot.pause()
        assert str(table.get_cell(staying[3].key, "restarts")) == "9"
