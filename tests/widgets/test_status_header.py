"""StatusHeader: connection state by symbol and word, PRODUCTION banner, READ-ONLY."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Label

from tests.widgets.widget_demo import HEADER, WidgetApp
from widgets.rows import ContextState
from widgets.status_header import StatusHeader, connection_text


def text(header: StatusHeader, selector: str) -> str:
    return str(header.query_one(selector, Label).render())


async def test_production_live_header() -> None:
    app = WidgetApp(StatusHeader(HEADER))
    async with app.run_test() as pilot:
        await pilot.pause()
        header = app.query_one(StatusHeader)
        assert header.has_class("-production")
        assert header.query_one("#production-banner").display
        assert "PRODUCTION" in str(header.query_one("#production-banner").render())
        assert text(header, "#context") == "ctx prod-eu-1"
        assert text(header, "#namespace") == "ns shop"
        assert text(header, "#connection") == "● live"
        assert text(header, "#incident-clock") == "incident 00:17:42"
        assert not header.query_one("#read-only").display
        assert not header.query_one("#drill-time").display
        assert header.size.height == 2


async def test_stale_drill_read_only_not_production() -> None:
    app = WidgetApp(StatusHeader(HEADER))
    async with app.run_test() as pilot:
        header = app.query_one(StatusHeader)
        header.info = replace(HEADER, production=False, connection="stale",
                              stale_since="03:12:09", drill_time="00:05:00", read_only=True)
        await pilot.pause()
        assert not header.has_class("-production")
        assert not header.query_one("#production-banner").display
        connection = header.query_one("#connection", Label)
        assert str(connection.render()) == "✖ stale since 03:12:09"
        assert connection.has_class("-stale") and not connection.has_class("-live")
        assert header.query_one("#read-only").display
        assert text(header, "#drill-time") == "DRILL 00:05:00"
        assert header.size.height == 1


def test_connection_text() -> None:
    assert connection_text(replace(HEADER, connection="reconnecting")) == "◌ reconnecting"
    assert connection_text(replace(HEADER, connection="stale")) == "✖ stale"


async def test_every_context_of_several_with_its_state() -> None:
    contexts = (ContextState("web-prod", "connected", production=True, focused=True),
                ContextState("mobile", "reconnecting"))
    app = WidgetApp(StatusHeader(HEADER))
    async with app.run_test() as pilot:
        header = app.query_one(StatusHeader)
        await pilot.pause()
        assert not header.query_one("#contexts").display  # one context: not shown
        header.info = replace(HEADER, contexts=contexts)
        await pilot.pause()
        assert header.query_one("#contexts").display
        assert text(header, "#contexts") == (
            "▶web-prod ● connected ▲PROD │ mobile ◌ reconnecting")
        header.info = replace(HEADER, contexts=(contexts[0], replace(contexts[1],
                                                                     state="denied")))
        await pilot.pause()
        assert text(header, "#contexts").endswith("mobile ⊘ denied")
