"""ConfirmModal: Confirm stays disabled until the typed name matches; Enter/y, Esc/n."""

from __future__ import annotations

from textual.widgets import Button, Input

from tests.widgets.widget_demo import ModalHost
from widgets.confirm_modal import ConfirmModal


def production_modal() -> ConfirmModal:
    return ConfirmModal("Roll back shop/api", context="prod-eu-1", namespace="shop",
                        target="deployment/api", change="rollout undo to revision 6",
                        warnings=["deployment is paused: the undo will not roll out"],
                        typed_name="api")


async def test_confirm_disabled_until_the_typed_name_matches() -> None:
    app = ModalHost(production_modal())
    async with app.run_test() as pilot:
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        confirm = modal.query_one("#confirm", Button)
        assert confirm.disabled
        assert modal.focused is modal.query_one("#typed-name", Input)
        await pilot.press("a", "p")
        assert confirm.disabled
        await pilot.press("enter")  # not allowed yet: nothing happens
        await pilot.pause()
        assert app.results == [] and app.screen is modal
        await pilot.press("p")
        assert confirm.disabled  # "app" is not "api"
        await pilot.press("backspace", "i")
        await pilot.pause()
        assert not confirm.disabled
        assert "matches" in str(modal.query_one("#typed-hint").render())
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [True]


async def test_escape_cancels_even_while_typing() -> None:
    app = ModalHost(production_modal())
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("a", "n", "escape")  # "n" is typed into the name, not a cancel
        await pilot.pause()
        assert app.results == [False]


async def test_without_a_typed_name_y_confirms_and_n_cancels() -> None:
    for key, expected in (("y", True), ("enter", True), ("n", False), ("escape", False)):
        app = ModalHost(ConfirmModal("Scale shop/web", context="staging", namespace="shop",
                                     target="deployment/web", change="replicas 4 → 6"))
        async with app.run_test() as pilot:
            await pilot.pause()
            assert not app.screen.query_one("#confirm", Button).disabled
            assert not app.screen.query("#typed-name")
            await pilot.press(key)
            await pilot.pause()
            assert app.results == [expected], key


async def test_warnings_and_facts_are_shown() -> None:
    app = ModalHost(production_modal())
    async with app.run_test() as pilot:
        await pilot.pause()
        modal = app.screen
        warnings = [str(w.render()) for w in modal.query(".warning")]
        assert warnings == ["⚠ deployment is paused: the undo will not roll out"]
        values = [str(v.render()) for v in modal.query(".fact-value")]
        assert values == ["prod-eu-1", "shop", "deployment/api", "rollout undo to revision 6"]
