"""DeploymentList: updated by key from full snapshots, rollout state with a symbol."""

from __future__ import annotations

from dataclasses import replace

from tests.widgets.test_pod_table import screen_lines
from tests.widgets.widget_demo import DEPLOYMENTS, WidgetApp
from widgets.deployment_list import DeploymentList
from widgets.rows import DeploymentRow


async def test_apply_updates_in_place_adds_and_removes_by_key() -> None:
    app = WidgetApp(DeploymentList())
    async with app.run_test() as pilot:
        table = app.query_one(DeploymentList)
        table.apply(DEPLOYMENTS)
        await pilot.pause()
        assert table.keys == ["shop/api", "shop/checkout", "shop/web", "shop/worker"]
        assert str(table.get_cell("shop/api", "rollout")) == "✖ stalled"
        assert str(table.get_cell("shop/worker", "rollout")) == "⏸ paused at 2/2 new pods"
        assert str(table.get_cell("shop/web", "rollout")) == "✔ complete"
        assert str(table.get_cell("shop/checkout", "rollout")) == "⟳ progressing"
        table.move_to("shop/web")
        await pilot.pause()

        api = replace(DEPLOYMENTS[0], ready=4, available=4, updated=4, rollout="complete",
                      revision=8)
        cart = replace(DEPLOYMENTS[1], key="shop/cart", name="cart")
        table.apply([api, cart, DEPLOYMENTS[2]])  # checkout and worker are gone
        await pilot.pause()

        assert table.keys == ["shop/api", "shop/cart", "shop/web"]
        assert str(table.get_cell("shop/api", "ready")) == "4/4"
        assert str(table.get_cell("shop/api", "revision")) == "8"
        assert str(table.get_cell("shop/api", "rollout")) == "✔ complete"
        assert table.cursor_key == "shop/web"


async def test_unknown_counts_read_as_question_marks() -> None:
    app = WidgetApp(DeploymentList(show_namespace=True))
    async with app.run_test() as pilot:
        table = app.query_one(DeploymentList)
        table.apply([replace(DEPLOYMENTS[0], ready=None, desired=None, revision=None)])
        await pilot.pause()
        assert str(table.get_cell("shop/api", "ready")) == "?/?"
        assert str(table.get_cell("shop/api", "revision")) == "?"
        assert str(table.get_cell("shop/api", "name")) == "shop/api"


async def test_highlight_and_enter_post_selected() -> None:
    app = WidgetApp(DeploymentList())
    async with app.run_test() as pilot:
        table = app.query_one(DeploymentList)
        table.apply(DEPLOYMENTS)
        await pilot.pause()
        table.focus()
        await pilot.press("down", "enter")
        await pilot.pause()
        selected = app.of_type(DeploymentList.Selected)
        assert [(m.key, m.activated) for m in selected] == [
            ("shop/api", False), ("shop/checkout", False), ("shop/checkout", True)]
        assert selected[-1].control is table


async def test_grouped_rows_sit_under_their_context_header() -> None:
    """Several contexts: each group's header row first, then its deployments by name, groups
    in their order whatever the names (b-context's "api" after a-context's "worker")."""
    app = WidgetApp(DeploymentList())
    async with app.run_test() as pilot:
        table = app.query_one(DeploymentList)

        def heading(group: int, text: str) -> DeploymentRow:
            return replace(DEPLOYMENTS[0], key=f"{group}|", name=text, group=group,
                           heading=f"▶ {text}")

        def row(group: int, index: int) -> DeploymentRow:
            base = DEPLOYMENTS[index]
            return replace(base, key=f"{group}|{base.key}", group=group)

        table.apply([row(1, 0), heading(1, "zeta"), row(0, 3), row(0, 0), heading(0, "mobile"),
                     row(1, 2)])
        await pilot.pause()
        assert table.keys == ["0|", "0|shop/api", "0|shop/worker",
                              "1|", "1|shop/api", "1|shop/web"]
        assert str(table.get_cell("1|", "name")) == "▶ zeta"
        assert str(table.get_cell("1|", "rollout")) == ""
        table.apply_deltas([row(0, 1)])  # a new deployment lands in its group
        await pilot.pause()
        assert table.keys.index("0|shop/checkout") < table.keys.index("1|")


async def test_a_paused_rollout_says_how_far_it_got_and_squeezes_in_a_narrow_pane() -> None:
    paused = replace(DEPLOYMENTS[0], rollout="paused", updated=2, desired=5, ready=5)
    app = WidgetApp(DeploymentList())
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(DeploymentList)
        table.apply([paused])
        await pilot.pause()
        assert str(table.get_cell("shop/api", "rollout")) == "⏸ paused at 2/5 new pods"
        table.styles.width = 40  # a narrow left pane: the cell ends in "…", not cut off
        await pilot.pause()
        await pilot.pause()
        line = screen_lines(app)[table.region.y + 1][:40].rstrip()
        assert "⏸ paused" in line and line.endswith("…"), line
