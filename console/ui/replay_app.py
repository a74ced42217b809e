"""`warroom replay AUDIT.jsonl`: an incident's audit log played back on screen, at any speed.

For post-mortems and training: the records appear in the audit view in file order (the hash
chain's), spaced as they were recorded divided by the speed (long idle stretches capped with
``max_gap_s``; speed 0 shows everything at once). The header shows where the replay is: the
records shown, the recorded time of the latest, the replay clock and the speed. Space pauses,
+ and - double or halve the speed, q quits.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from console.rehearsal.replay import ReplayClock, ReplayEntry
from console.ui import view_model as vm
from themes import CSS_PATH, DEFAULT_THEME, THEMES, register_themes
from widgets.audit_view import AuditView

TICK = 0.05  # seconds between replay steps on screen
MIN_SPEED, MAX_SPEED = 0.25, 1024.0


def clock_text(seconds: float) -> str:
    """Replay clock: "01:23" or "1:02:03"."""
    whole = int(max(0.0, seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class ReplayApp(App[int]):
    """Plays ``items`` (``console.rehearsal.replay.load_replay``) into an ``AuditView`` at ``speed``.

    Ids: ``#replay-header`` (a ``Static``), ``#replay-audit`` (the ``AuditView``).
    """

    TITLE = "warroom replay"
    CSS_PATH = CSS_PATH
    CSS = "#replay-audit { height: 1fr; }"
    BINDINGS = [
        Binding("space", "toggle_pause", "Pause/play"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("q", "quit_replay", "Quit"),
    ]

    def __init__(
        self,
        items: Sequence[ReplayEntry],
        *,
        speed: float = 1.0,
        max_gap_s: float | None = None,
        title: str | None = None,
        theme: str | None = None,
    ) -> None:
        super().__init__()
        if speed < 0:
            raise ValueError("speed must be >= 0 (0 = as fast as possible)")
        self.items = list(items)
        self.speed = speed
        self.wanted_theme = theme
        if title:
            self.sub_title = title
        gaps = ReplayClock(self.items, speed=1.0, max_gap_s=max_gap_s).gaps()
        self.timeline = list(accumulate(gaps))  # replay seconds (recorded scale) of each record
        self.position = 0.0
        self.shown = 0
        self.paused = False
        self._last_tick: float | None = None
        self._header = Static("", id="replay-header")
        self._view = AuditView(id="replay-audit", max_lines=max(5000, len(self.items)))

    @property
    def duration_s(self) -> float:
        """The whole replay in recorded seconds (gaps capped)."""
        return self.timeline[-1] if self.timeline else 0.0

    @property
    def done(self) -> bool:
        return self.shown >= len(self.items)

    def compose(self) -> ComposeResult:
        yield self._header
        yield self._view
        yield Footer()

    def on_mount(self) -> None:
        theme = self.wanted_theme or DEFAULT_THEME
        register_themes(self, theme if theme in THEMES else DEFAULT_THEME)
        if theme not in THEMES:
            self.theme = theme
        self.set_interval(TICK, self._tick)
        self._tick()

    # ---- playing -----------------------------------------------------------------------------
    def _tick(self) -> None:
        if not self._view.is_attached:
            return  # shutting down
        now = time.monotonic()
        if self._last_tick is not None and not self.paused:
            self.position += (now - self._last_tick) * self.speed
        self._last_tick = now
        if self.paused:
            self._show_header()
            return
        due = len(self.items) if self.speed == 0 else bisect_right(self.timeline, self.position)
        if due > self.shown:
            self._view.extend(
                [vm.audit_row(entry.record) for entry in self.items[self.shown : due]]
            )
            self.shown = due
        if self.done:
            self.position = self.duration_s
        self._show_header()

    def header_text(self) -> str:
        state = "■ end" if self.done else ("⏸ paused" if self.paused else "▶ playing")
        latest = self.items[self.shown - 1].record.time[11:19] if self.shown else "--:--:--"
        speed = "max" if self.speed == 0 else f"{self.speed:g}x"
        return (
            f"{state} · record {self.shown}/{len(self.items)} · recorded {latest} · "
            f"replay {clock_text(self.position)} of {clock_text(self.duration_s)} · "
            f"speed {speed}"
        )

    def _show_header(self) -> None:
        if self._header.is_attached:
            self._header.update(Text(self.header_text()))

    # ---- keys ----------------------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self._last_tick = time.monotonic()
        self._show_header()

    def action_faster(self) -> None:
        if self.speed:
            self.speed = min(MAX_SPEED, self.speed * 2)
        self._show_header()

    def action_slower(self) -> None:
        if self.speed:
            self.speed = max(MIN_SPEED, self.speed / 2)
        self._show_header()

    def action_quit_replay(self) -> None:
        self.exit(0)
