"""A small Textual app on QuietDriver, run in a pseudo-terminal by test_quiet_input.py.

It appends what happens to the file named in argv[1]: "ready" once drawn, each key, and at
exit how many times the input thread's selector was asked to wait. ``x`` exits by itself
two seconds later (with nobody typing: the input thread is in its long wait then)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Static

from console.ui import quiet_input
from console.ui.quiet_input import PatientSelector, QuietDriver

LOG = Path(sys.argv[1])
waits = []
_select = PatientSelector.select


def counted(self: PatientSelector, timeout: float | None = None) -> list:  # type: ignore[type-arg]
    waits.append(time.monotonic())
    return _select(self, timeout)


PatientSelector.select = counted  # type: ignore[method-assign]


def note(line: str) -> None:
    with LOG.open("a") as out:
        out.write(f"{line} {time.monotonic():.3f}\n")


class Probe(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("probe")

    def on_mount(self) -> None:
        self.call_after_refresh(note, f"ready patched={quiet_input._wake_fd is not None}")

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "?")
        note(f"key {key}")
        if key == "x":
            self.set_timer(4.0, self.leave)

    def leave(self) -> None:
        note("leaving")
        self.exit()


if __name__ == "__main__":
    Probe(driver_class=QuietDriver).run()
    note("waits " + ",".join(f"{at:.3f}" for at in waits) + " at")
