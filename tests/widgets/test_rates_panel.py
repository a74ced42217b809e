"""RatesPanel: unknown is "?" / "n/a", the verdict leads each card with symbol and word."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text

from tests.widgets.widget_demo import RATES, VERDICTS, WidgetApp
from widgets.rates_panel import RatesPanel, millis, percent, times_baseline, verdict_text
from widgets.rows import VerdictRow
from widgets.trend_line import TrendLine, ZeroBars


def card_text(panel: RatesPanel, key: str, selector: str) -> str:
    card = panel.card(key)
    assert card is not None
    return str(card.query_one(selector).render())


async def test_cards_show_figures_and_verdicts() -> None:
    app = WidgetApp(RatesPanel())
    async with app.run_test(size=(80, 40)) as pilot:
        panel = app.query_one(RatesPanel)
        panel.update_rates(RATES, VERDICTS)
        await pilot.pause()
        assert panel.keys == [r.key for r in RATES]
        assert card_text(panel, "shop/api", ".verdict") == "⚠ ROLL BACK NOW"
        assert panel.card("shop/api").query_one(".verdict").has_class("-rollback")
        assert card_text(panel, "shop/api", ".rule") == "performance: p99 > 10x baseline"
        assert "42.3 % of requests failing" in card_text(panel, "shop/api", ".reasons")
        assert card_text(panel, "shop/api", ".errors .value").endswith("42.3 %")
        assert card_text(panel, "shop/api", ".latency .value").endswith("1.84 s")
        assert card_text(panel, "shop/api", ".ratio") == "latency 12.3x baseline · 120.5 req/s"
        assert card_text(panel, "shop/checkout", ".verdict") == "▲ MONITOR"
        assert card_text(panel, "shop/web", ".verdict") == "✔ OK"
        # unknown figures are never shown as 0
        assert card_text(panel, "shop/worker", ".verdict") == "? UNKNOWN"
        assert card_text(panel, "shop/worker", ".errors .value").endswith(" ?")
        assert card_text(panel, "shop/worker", ".latency .value").endswith(" ?")
        assert card_text(panel, "shop/worker", ".ratio") == "latency n/a · ? req/s"
        assert not panel.card("shop/worker").query_one("TrendLine.errors", TrendLine).display
        assert not panel.query_one("#rates-empty").display


async def test_update_in_place_and_remove() -> None:
    app = WidgetApp(RatesPanel())
    async with app.run_test(size=(80, 40)) as pilot:
        panel = app.query_one(RatesPanel)
        panel.update_rates(RATES, VERDICTS)
        await pilot.pause()
        api_card = panel.card("shop/api")
        better = replace(RATES[0], error_ratio=0.004, latency_ratio=1.2)
        panel.update_rates([better, RATES[2]], {"shop/api": VerdictRow("OK", "recovered")})
        await pilot.pause()
        assert panel.card("shop/api") is api_card
        assert panel.keys == ["shop/api", "shop/web"]
        assert card_text(panel, "shop/api", ".verdict") == "✔ OK"
        assert card_text(panel, "shop/web", ".verdict") == "? UNKNOWN"  # no verdict given
        assert len(panel.query(".rate-card")) == 2
        panel.select("shop/web")
        assert panel.card("shop/web").has_class("-selected")
        assert not panel.card("shop/api").has_class("-selected")
        panel.update_rates([])
        await pilot.pause()
        assert panel.query_one("#rates-empty").display


def test_formatting_never_turns_unknown_into_zero() -> None:
    assert percent(None) == "?" and percent(float("nan")) == "?"
    assert percent(0.0) == "0.0 %" and percent(0.0004) == "<0.1 %" and percent(0.423) == "42.3 %"
    assert millis(None) == "?" and millis(230) == "230 ms" and millis(1840) == "1.84 s"
    assert times_baseline(None) == "n/a" and times_baseline(12.34) == "12.3x baseline"
    assert verdict_text(VerdictRow("ROLL BACK NOW", "r")) == "⚠ ROLL BACK NOW"


def test_trend_line_bars_rise_from_zero() -> None:
    from rich.console import Console
    from textual.color import Color

    console = Console(width=10, record=True, file=None)
    bars = ZeroBars([0.002, 0.002, 0.002, 0.002], 4, Color(0, 0, 0), Color(255, 0, 0),
                    scale_floor=0.05)
    with console.capture() as capture:
        console.print(bars)
    assert capture.get().strip() == "▁▁▁▁"  # a flat healthy series stays low
    bars = ZeroBars([0.0, 0.5, 1.0], 3, Color(0, 0, 0), Color(255, 0, 0))
    with console.capture() as capture:
        console.print(bars)
    assert capture.get().strip() == "▁▅█"


async def test_rates_given_before_mount_are_shown() -> None:
    panel = RatesPanel()
    panel.update_rates(RATES, VERDICTS)
    app = WidgetApp(panel)
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.pause()
        assert panel.keys == [r.key for r in RATES]
        assert card_text(panel, "shop/api", ".verdict") == "⚠ ROLL BACK NOW"


async def test_no_data_names_the_series_instead_of_zero() -> None:
    app = WidgetApp(RatesPanel())
    async with app.run_test(size=(80, 40)) as pilot:
        panel = app.query_one(RatesPanel)
        series = 'response_total{direction="inbound",namespace="shop",deployment="worker"}'
        worker = next(r for r in RATES if r.key == "shop/worker")
        panel.update_rates([replace(worker, no_data=series)], VERDICTS)
        await pilot.pause()
        assert card_text(panel, "shop/worker", ".ratio") == f"no data: {series}"
        assert card_text(panel, "shop/worker", ".errors .value").endswith(" ?")
        panel.update_rates([replace(worker, no_data="", request_rate=3.0)], VERDICTS)
        await pilot.pause()
        assert card_text(panel, "shop/worker", ".ratio") == "latency n/a · 3.0 req/s"


async def test_a_wrapped_text_lays_the_screen_out_only_when_its_lines_change() -> None:
    """A layout redoes the whole screen: a restart count that moves on inside a wrapped
    line must not ask for one; more wrapped lines must (the card grows)."""
    app = WidgetApp(RatesPanel())
    async with app.run_test(size=(40, 40)) as pilot:
        panel = app.query_one(RatesPanel)
        api = RATES[0]
        panel.update_rates([replace(api, restarts_last_hour=1000)], VERDICTS)
        await pilot.pause()
        card = panel.card("shop/api")
        ratio = card.query_one(".ratio")
        lines = ratio.size.height
        assert lines >= 2, "the ratio line wraps in a narrow card"
        before = ratio._layout_updates
        panel.update_rates([replace(api, restarts_last_hour=2000)], VERDICTS)
        await pilot.pause()
        assert "2000 restarts in 1h" in card_text(panel, "shop/api", ".ratio")
        assert ratio._layout_updates == before
        long = replace(api, restarts_last_hour=10**40)  # longer: more wrapped lines
        panel.update_rates([long], VERDICTS)
        await pilot.pause()
        assert ratio._layout_updates > before
        assert ratio.size.height > lines
        # the count of wrapped lines the card goes by is the one the screen shows
        shown = Text(card_text(panel, "shop/api", ".ratio"))
        assert card._lines(shown, ratio.content_region.width) == ratio.size.height
