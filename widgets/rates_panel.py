"""The rates panel: error ratio, p99 latency, memory and the advisor's verdict per deployment.

Memory is the working set of the deployment's largest container, with the pods' limit when
they declare one and, while it climbs, when it will reach it ("full in 12m").

Unknown figures read "?" or "n/a", never 0; a deployment the metrics have no series for says
which series were looked for ("no data: istio_requests_total{...}"). The verdict leads each
card, with its symbol and word as well as its colour: ⚠ ROLL BACK NOW, ▲ MONITOR, ✔ OK,
? UNKNOWN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Static

from widgets.plain_text import plain_text
from widgets.rows import RateRow, VerdictRow
from widgets.trend_line import TrendLine

VERDICT_STYLES = {
    "ROLL BACK NOW": ("⚠", "-rollback"),
    "MONITOR": ("▲", "-monitor"),
    "OK": ("✔", "-ok"),
    "UNKNOWN": ("?", "-unknown"),
}
NO_VERDICT = VerdictRow("UNKNOWN", "no verdict yet")
ERROR_SCALE_FLOOR = 0.05  # a full error bar means at least 5 % of requests failing
LATENCY_SCALE_FLOOR = 2.0  # a full p99 bar means at least 2x the baseline (when known)


def percent(ratio: float | None) -> str:
    """0.423 → "42.3 %"; unknown → "?"."""
    if ratio is None or not math.isfinite(ratio):
        return "?"
    value = ratio * 100
    if 0 < value < 0.1:
        return "<0.1 %"
    return f"{value:.1f} %"


def millis(ms: float | None) -> str:
    """1840 → "1.84 s"; 230 → "230 ms"; unknown → "?"."""
    if ms is None or not math.isfinite(ms):
        return "?"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:.0f} ms"


def times_baseline(ratio: float | None) -> str:
    """12.34 → "12.3x baseline"; unknown → "n/a"."""
    if ratio is None or not math.isfinite(ratio):
        return "n/a"
    return f"{ratio:.1f}x baseline"


def per_second(rate: float | None) -> str:
    if rate is None or not math.isfinite(rate):
        return "? req/s"
    return f"{rate:.1f} req/s"


def mebibytes(value: float | None) -> str:
    """412.3 MiB in bytes → "412 MiB"; unknown → "?"."""
    if value is None or not math.isfinite(value):
        return "?"
    mib = value / 2**20
    return f"{mib / 1024:.1f} GiB" if mib >= 1024 else f"{mib:.0f} MiB"


def memory_line(row: RateRow) -> str:
    """"limit 512 MiB · full in 12m" (or "no limit"), for a deployment with memory data."""
    limit = f"limit {mebibytes(row.memory_limit)}" if row.memory_limit else "no limit"
    if row.memory_full_in == "now":
        return f"memory {limit} · at the limit"
    if row.memory_full_in:
        return f"memory {limit} · full in {row.memory_full_in}"
    return f"memory {limit}"


def verdict_text(verdict: VerdictRow) -> str:
    """"⚠ ROLL BACK NOW"."""
    symbol, _ = VERDICT_STYLES.get(verdict.level, ("?", "-unknown"))
    return f"{symbol} {verdict.level}"


def finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


class RateCard(Vertical):
    """One deployment's card in the RatesPanel (not used on its own)."""

    DEFAULT_CSS = """
    RateCard { height: auto; }
    RateCard .verdict { width: 1fr; }
    RateCard .rule { height: auto; }
    RateCard .reasons { height: auto; }
    RateCard .title, RateCard .ratio, RateCard .memory-note { width: 1fr; height: auto; }
    RateCard .figure { height: 1; }
    RateCard .figure Label { width: 18; }
    RateCard .figure TrendLine { width: 1fr; }
    """

    def __init__(self, row: RateRow, verdict: VerdictRow) -> None:
        super().__init__(classes="rate-card")
        self.row = row
        self.verdict = verdict
        self._composed = False
        self._texts: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Label("", classes="title")
        yield Label("", classes="verdict")
        yield Static("", classes="rule", markup=False)
        yield Static("", classes="reasons", markup=False)
        with Horizontal(classes="figure errors"):
            yield Label("", classes="value")
            yield TrendLine([], classes="errors")
        with Horizontal(classes="figure latency"):
            yield Label("", classes="value")
            yield TrendLine([], classes="latency")
        with Horizontal(classes="figure memory"):
            yield Label("", classes="value")
            yield TrendLine([], classes="memory")
        yield Label("", classes="ratio")
        yield Label("", classes="memory-note")

    def on_mount(self) -> None:
        self._composed = True
        self.show(self.row, self.verdict)

    def show(self, row: RateRow, verdict: VerdictRow) -> None:
        self.row, self.verdict = row, verdict
        if not self._composed or not self.app.is_running:  # not composed yet, or torn down
            return
        self._put(".title", f"{row.deployment} · {row.namespace}")
        level = self._put(".verdict", verdict_text(verdict))
        _, level_class = VERDICT_STYLES.get(verdict.level, ("?", "-unknown"))
        for _symbol, name in VERDICT_STYLES.values():
            level.set_class(name == level_class, name)
        self._put(".rule", verdict.rule)
        reasons = self._put(".reasons", "\n".join(f"  · {reason}" for reason in verdict.reasons))
        reasons.display = bool(verdict.reasons)
        self._put(".errors .value", f"errors {percent(row.error_ratio):>9}")
        self._put(".latency .value", f"p99    {millis(row.p99_ms):>9}")
        baseline = None
        if row.p99_ms is not None and row.latency_ratio and math.isfinite(row.latency_ratio):
            baseline = row.p99_ms / row.latency_ratio
        floors = {"errors": ERROR_SCALE_FLOOR,
                  "latency": LATENCY_SCALE_FLOOR * baseline if baseline else 0.0,
                  "memory": row.memory_limit or 0.0}  # a full bar: at the limit
        has_memory = row.memory_bytes is not None or bool(row.memory_history)
        self.query_one(".figure.memory").display = has_memory
        self._put(".memory .value", f"mem    {mebibytes(row.memory_bytes):>9}")
        note = self._put(".memory-note", memory_line(row) if has_memory else "")
        note.display = has_memory
        for name, history in (("errors", row.error_history), ("latency", row.p99_history),
                              ("memory", row.memory_history)):
            trend = self.query_one(f"TrendLine.{name}", TrendLine)
            trend.scale_floor = floors[name]
            trend.data = finite(history)
            trend.display = bool(trend.data)
        restarts = (f" · {row.restarts_last_hour} restarts in 1h"
                    if row.restarts_last_hour else "")
        ratio = f"latency {times_baseline(row.latency_ratio)} · {per_second(row.request_rate)}"
        if row.no_data:  # an empty answer is not "0 % errors": say what was looked for
            ratio = f"no data: {row.no_data}"
        self._put(".ratio", ratio + restarts)

    def _put(self, selector: str, text: str) -> Static:
        """Set a text only when it changed, and lay the screen out again only when its shape
        changed (another number of lines, once wrapped to the card's width): the reasons and
        the restart count change with every crash-looping pod, and a layout redoes the whole
        screen (~25 ms with 10,000 pods)."""
        widget = self.query_one(selector, Static)
        old = self._texts.get(selector)
        if old != text:
            self._texts[selector] = text
            room = widget.content_region.width
            shown = Text(plain_text(text))  # never markup
            same_shape = (old is not None and room > 0
                          and self._lines(Text(plain_text(old)), room)
                          == self._lines(shown, room))
            widget.update(shown, layout=not same_shape)
        return widget

    def _lines(self, text: Text, room: int) -> int:
        """How many lines ``text`` takes ``room`` cells wide (wrapped as the widget wraps)."""
        if all(cell_len(line) < room for line in text.plain.split("\n")):
            return text.plain.count("\n") + 1
        return len(text.wrap(self.app.console, room))


class RatesPanel(VerticalScroll):
    """One card per deployment: verdict and rule, error ratio and p99 with sparklines.

    ``update_rates(rows, verdicts)`` updates the cards in place by ``RateRow.key``;
    ``verdicts`` maps the same keys to the advisor's ``VerdictRow`` (missing → UNKNOWN).
    ``select(key)`` marks one card ``-selected`` and scrolls it into view.
    """

    DEFAULT_CSS = """
    RatesPanel { height: 1fr; }
    RatesPanel > #rates-empty { height: auto; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._cards: dict[str, RateCard] = {}
        self._selected: str | None = None
        self._composed = False
        self._pending: tuple[list[RateRow], dict[str, VerdictRow]] | None = None

    def compose(self) -> ComposeResult:
        yield Label("no traffic data yet", id="rates-empty")

    def on_mount(self) -> None:
        self._composed = True
        if self._pending is not None:
            self.update_rates(*self._pending)
            self._pending = None

    @property
    def keys(self) -> list[str]:
        return list(self._cards)

    def card(self, key: str) -> RateCard | None:
        return self._cards.get(key)

    def update_rates(self, rows: Sequence[RateRow],
                     verdicts: Mapping[str, VerdictRow] | None = None) -> None:
        verdicts = dict(verdicts or {})
        if not self._composed:
            self._pending = (list(rows), verdicts)
            return
        wanted = [row.key for row in rows]
        for key in [k for k in self._cards if k not in wanted]:
            self._cards.pop(key).remove()
        previous: RateCard | None = None
        for row in rows:
            verdict = verdicts.get(row.key, NO_VERDICT)
            card = self._cards.get(row.key)
            if card is None:
                card = RateCard(row, verdict)
                card.set_class(row.key == self._selected, "-selected")
                self._cards[row.key] = card
                if previous is None:
                    self.mount(card, before=0)
                else:
                    self.mount(card, after=previous)
            elif card.row != row or card.verdict != verdict:
                card.show(row, verdict)
            previous = card
        self.query_one("#rates-empty").display = not self._cards

    def select(self, key: str | None) -> None:
        self._selected = key
        for card_key, card in self._cards.items():
            card.set_class(card_key == key, "-selected")
        if key in self._cards:
            self.scroll_to_widget(self._cards[key], animate=False)
