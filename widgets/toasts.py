"""Notifications: the newest toast stays in sight.

Toasts stack at the bottom of the screen in a scrolling rack. Textual scrolls the rack to its
end when a toast is mounted, but before the new toast is laid out: when the stack is taller
than the screen (three runbook problems at start-up, then one more), the newest toast's last
lines stay below the edge. Scrolling once more after the toast is laid out shows all of it.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets._toast import ToastRack


def show_newest_toast(screen: Screen[object]) -> None:
    """Scroll ``screen``'s toast rack to its end once the toast just notified is laid out
    (call after ``notify``: the toast mounts on the next refresh, the rack's end is known
    on the one after)."""

    def scroll() -> None:
        for rack in screen.query(ToastRack):
            rack.scroll_end(animate=False, force=True)

    screen.call_after_refresh(scroll)
