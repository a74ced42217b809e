"""TooSmall: a full-screen notice instead of a broken layout when the terminal is too small.

Mount it once on a screen (anywhere: it docks over everything). It follows the screen's size
by itself (the screen's layout-refresh signal fires on every resize) and shows
"terminal too small: need at least 80x24, have WxH" while the terminal is below the minimum;
otherwise it takes no room. Keys keep working underneath (q still quits).
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Static

MIN_WIDTH = 80
MIN_HEIGHT = 24


def too_small_message(size: Size, min_width: int = MIN_WIDTH,
                      min_height: int = MIN_HEIGHT) -> str | None:
    """The notice for a terminal of ``size``, or None when it is big enough."""
    if size.width >= min_width and size.height >= min_height:
        return None
    return (f"terminal too small: need at least {min_width}x{min_height}, "
            f"have {size.width}x{size.height}")


class TooSmall(Static):
    """Shown (class ``-shown``) while the screen is smaller than ``min_width`` x
    ``min_height``; ``message`` holds the notice (None when hidden)."""

    DEFAULT_CSS = """
    TooSmall {
        dock: top;
        width: 100%;
        height: 100%;
        content-align: center middle;
        text-align: center;
        text-style: bold;
        background: $error 20%;
        color: $text;
        display: none;
    }
    TooSmall.-shown { display: block; }
    """

    def __init__(self, *, min_width: int = MIN_WIDTH, min_height: int = MIN_HEIGHT,
                 id: str | None = "too-small") -> None:
        super().__init__("", id=id)
        self.min_width = min_width
        self.min_height = min_height
        self.message: str | None = None

    def on_mount(self) -> None:
        self.screen.screen_layout_refresh_signal.subscribe(self, self._screen_changed)
        self.fit(self.screen.size)

    def _screen_changed(self, screen: Screen[object]) -> None:
        self.fit(screen.size)

    def fit(self, size: Size) -> None:
        """Show or hide the notice for a screen of ``size``."""
        message = too_small_message(size, self.min_width, self.min_height)
        if message == self.message:
            return
        self.message = message
        if message is not None:
            self.update(Text(f"{message}\n\nenlarge the window or reduce the font size · "
                             "q quits", justify="center"))
        self.set_class(message is not None, "-shown")
