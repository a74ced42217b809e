"""TrendLine: a Sparkline whose bars rise from zero rather than from the data's minimum.

Textual's Sparkline scales between the smallest and largest value, so a healthy error ratio
wobbling between 0.1 % and 0.2 % draws full-height bars. Rates are read against zero: here a
flat series looks flat and only real growth draws tall bars; a scale floor keeps a low series
low.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from textual.app import RenderResult as WidgetRenderResult
from textual.color import Color
from textual.reactive import reactive
from textual.widgets import Sparkline

BARS = "▁▂▃▄▅▆▇█"


class ZeroBars:
    """Rich renderable: one bar per column, height value / max(data), colour blended min→max."""

    def __init__(self, data: Sequence[float], width: int, min_color: Color,
                 max_color: Color, scale_floor: float = 0.0) -> None:
        self.data = list(data)
        self.scale_floor = scale_floor
        self.width = width
        self.min_color = min_color
        self.max_color = max_color

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = self.width or options.max_width
        if not self.data or width <= 0:
            yield Segment(" " * max(width, 0))
            return
        top = max(max(self.data), self.scale_floor)
        count = len(self.data)
        for column in range(width):
            start = column * count // width
            end = max((column + 1) * count // width, start + 1)
            value = max(self.data[start:end])
            ratio = value / top if top > 0 else 0.0
            ratio = min(max(ratio, 0.0), 1.0)
            color = self.min_color.blend(self.max_color, ratio)
            yield Segment(BARS[round(ratio * (len(BARS) - 1))],
                          Style.from_color(color.rich_color))


class TrendLine(Sparkline):
    """A zero-based Sparkline (same component classes and CSS as Sparkline).

    ``scale_floor`` is the least value a full-height bar stands for, so that a low, healthy
    series stays low (e.g. 0.05 for an error ratio: a full bar means at least 5 %).
    """

    scale_floor: reactive[float] = reactive(0.0)

    DEFAULT_CSS = """
    TrendLine { height: 1; }
    """

    def render(self) -> WidgetRenderResult:
        _, base = self.background_colors
        min_color = base + (self.get_component_styles("sparkline--min-color").color
                            if self.min_color is None else self.min_color)
        max_color = base + (self.get_component_styles("sparkline--max-color").color
                            if self.max_color is None else self.max_color)
        return ZeroBars(list(self.data or []), self.size.width, min_color, max_color,
                        self.scale_floor)
