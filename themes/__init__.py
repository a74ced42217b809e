"""Themes: the war room's colour palettes (Textual ``Theme`` objects) and its stylesheets.

``THEMES`` holds ``warroom-dark`` (the default), ``warroom-light``, ``warroom-high-contrast``
and ``warroom-colorblind`` (Okabe-Ito: blue for good, vermillion/yellow for bad). Widgets use
only the standard theme variables ($error, $warning, $success, $primary, ...), so every built-in
Textual theme works too, and every status also carries a symbol or word.

``CSS_PATH`` lists the stylesheets an app loads: ``widgets.tcss`` (how the widgets look) and
``warroom.tcss`` (the console's layout; see widgets/layout_hint.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.theme import Theme

HERE = Path(__file__).parent
CSS_PATH: list[Path] = [HERE / "widgets.tcss", HERE / "warroom.tcss"]
DEFAULT_THEME = "warroom-dark"

NARROW_MAX_COLUMNS = 100
"""At or below this width the panes collapse behind tabs (class ``narrow`` on the Screen)."""
HORIZONTAL_BREAKPOINTS: list[tuple[int, str]] = [(0, "narrow"), (NARROW_MAX_COLUMNS + 1, "wide")]
"""Set as ``App.HORIZONTAL_BREAKPOINTS`` so Textual toggles ``narrow`` / ``wide`` on resize."""

THEMES: dict[str, Theme] = {
    theme.name: theme
    for theme in (
        Theme(
            name="warroom-dark",
            primary="#4C9AFF",
            secondary="#2D5B8C",
            accent="#FFB000",
            warning="#FFB000",
            error="#FF3B30",
            success="#30D158",
            foreground="#E6E6E6",
            background="#0B0E13",
            surface="#141922",
            panel="#1E2633",
            dark=True,
        ),
        Theme(
            name="warroom-light",
            primary="#0B5CAD",
            secondary="#3D6FA6",
            accent="#9A4D00",
            warning="#9A4D00",
            error="#C0141E",
            success="#1A7F37",
            foreground="#1B1F24",
            background="#F6F7F9",
            surface="#FFFFFF",
            panel="#DDE3EA",
            dark=False,
        ),
        Theme(
            name="warroom-high-contrast",
            primary="#00FFFF",
            secondary="#FFFFFF",
            accent="#FFFF00",
            warning="#FFFF00",
            error="#FF4040",
            success="#00FF66",
            foreground="#FFFFFF",
            background="#000000",
            surface="#000000",
            panel="#262626",
            dark=True,
            text_alpha=1.0,
        ),
        Theme(
            name="warroom-colorblind",
            primary="#56B4E9",  # Okabe-Ito sky blue
            secondary="#0072B2",  # blue
            accent="#CC79A7",  # reddish purple
            warning="#F0E442",  # yellow
            error="#D55E00",  # vermillion
            success="#56B4E9",  # good is blue, never green
            foreground="#E8E8E8",
            background="#101418",
            surface="#171C22",
            panel="#222A33",
            dark=True,
        ),
    )
}


def register_themes(app: Any, default: str | None = DEFAULT_THEME) -> None:
    """Register every war-room theme on ``app`` and switch to ``default`` (if not None)."""
    for theme in THEMES.values():
        app.register_theme(theme)
    if default is not None:
        app.theme = default
