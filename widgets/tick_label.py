"""TickLabel: a one-line Label for text that changes every second (the header's clocks).

A Label draws its text through Textual's visual pipeline (content, wrap, alignment): a few
tenths of a millisecond a change, for a clock every second. This one draws its one line,
left-aligned, straight from the text and the widget's style. It is still a Label: its CSS,
``update`` and ``render()`` are a Label's (tests/widgets/test_tick_label.py draws both ways).
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.visual import VisualType
from textual.widgets import Label

OFFSET = Style.from_meta({"offset": (0, 0)})


class TickLabel(Label):
    """A Label whose one line of plain text is drawn directly (set it with ``update``)."""

    def __init__(self, text: str = "", *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(text, id=id, classes=classes, markup=False)
        self._plain = text

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        self._plain = str(content)
        super().update(content, layout=layout)

    def render_line(self, y: int) -> Strip:
        if y != 0 or "\n" in self._plain:
            return super().render_line(y)
        style = self.visual_style.rich_style
        text = Segment(self._plain, style + OFFSET)  # where a click lands, as a Label marks it
        return Strip([text]).adjust_cell_length(self.size.width, style)
