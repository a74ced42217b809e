"""ScaleModal: whole numbers 0..max only, with a clear inline reason; Enter only when valid."""

from __future__ import annotations

import pytest

from tests.widgets.widget_demo import ModalHost
from widgets.scale_modal import ScaleModal, check_replicas


async def type_value(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("end", *["backspace"] * 4)
    for char in text:
        await pilot.press(char if char != "-" else "minus")
    await pilot.pause()


@pytest.mark.parametrize(("text", "message"), [
    ("abc", "'abc' is not a whole number"),
    ("-1", "must be between 0 and 50"),
    ("999", "must be between 0 and 50"),
    ("2.5", "'2.5' is not a whole number"),
])
async def test_rejects_bad_values_with_the_reason(text: str, message: str) -> None:
    app = ModalHost(ScaleModal("shop/api", 3, max_replicas=50))
    async with app.run_test() as pilot:
        await pilot.pause()
        modal = app.screen
        await type_value(pilot, text)
        assert modal.query_one("#replicas").value == text
        assert str(modal.query_one("#scale-error").render()) == f"✖ {message}"
        assert modal.query_one("#scale").disabled
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [] and app.screen is modal


async def test_accepts_a_valid_count() -> None:
    app = ModalHost(ScaleModal("shop/api", 3, max_replicas=50))
    async with app.run_test() as pilot:
        await pilot.pause()
        modal = app.screen
        assert modal.query_one("#replicas").value == "3"
        await type_value(pilot, "5")
        assert str(modal.query_one("#scale-error").render()) == ""
        assert not modal.query_one("#scale").disabled
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [5]


async def test_zero_is_allowed_with_a_warning_and_escape_cancels() -> None:
    app = ModalHost(ScaleModal("shop/api", 3))
    async with app.run_test() as pilot:
        await pilot.pause()
        await type_value(pilot, "0")
        assert "stops serving" in str(app.screen.query_one("#scale-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]


def test_check_replicas() -> None:
    assert check_replicas(" 7 ", 10) == (7, "")
    assert check_replicas("", 10) == (None, "enter a number of replicas")
    assert check_replicas("11", 10) == (None, "must be between 0 and 10")
