"""Notifications: a toast shows its whole message, even a long one on a small screen."""

from __future__ import annotations

import pytest
from textual.widgets._toast import Toast

from tests.widgets.widget_demo import DemoApp
from widgets.toasts import show_newest_toast

PROBLEM = ("runbook production-bug: steps can be checked off but not run until its variables are "
           "set (/home/oncall/src/warroom/runbooks/production-bug.yaml: runbook production-bug: "
           "needs a value for deployment (the deployment the incident is about); base_url (its "
           "default 'http://{deployment}.{namespace}.svc.cluster.local' needs deployment))")
STEPS = "this runbook's steps cannot run: its variables are not all set"


class NotifyingApp(DemoApp):
    """The war-room layout, notifying as the console does (console/ui/app.py ``notify``)."""

    def notify(self, message: str, *args: object, **kwargs: object) -> None:
        super().notify(message, *args, **kwargs)  # type: ignore[arg-type]
        show_newest_toast(self.screen)


def toasts_on_screen(app: DemoApp) -> list[str]:
    """The text drawn inside each toast, whitespace dropped (a long word may wrap anywhere)."""
    lines = ["".join(segment.text for segment in strip)
             for strip in app.screen._compositor.render_strips()]
    shown = []
    for toast in app.screen.query(Toast):
        box = toast.content_region.intersection(app.screen.region)
        text = "".join(lines[y][box.x:box.right] for y in range(box.y, box.bottom))
        shown.append("".join(text.split()))
    return shown


def on_screen(message: str, toasts: list[str]) -> bool:
    return any("".join(message.split()) in toast for toast in toasts)


@pytest.mark.parametrize("size", [(80, 24), (120, 24)], ids=["80x24", "120x24"])
async def test_the_newest_toast_shows_its_whole_text(size: tuple[int, int]) -> None:
    """Toasts stack up (three runbook problems at start-up, then a step refused): the stack
    scrolls, but the newest one is never cut at the bottom of the screen."""
    app = NotifyingApp()
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        for n in range(3):
            app.notify(f"{n}: {PROBLEM}", title="runbook problem", severity="warning",
                       markup=False)
            await pilot.pause(0.1)
        app.notify(STEPS, severity="warning", markup=False)
        for _ in range(5):
            await pilot.pause(0.1)
        assert on_screen(STEPS, toasts_on_screen(app)), toasts_on_screen(app)
        app.notify(PROBLEM, title="runbook problem", severity="warning", markup=False)
        for _ in range(5):
            await pilot.pause(0.1)
        assert on_screen(PROBLEM, toasts_on_screen(app)), toasts_on_screen(app)
