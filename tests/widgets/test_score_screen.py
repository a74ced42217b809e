"""The drill's score pop-up: it says which keys close it, and q quits as everywhere else."""

from __future__ import annotations

from console.ui.app import WarroomApp
from tests.widgets.widget_demo import ModalHost
from widgets.rows import ScoreView
from widgets.score_screen import ScoreScreen

VIEW = ScoreView("memory-leak", 80, "clean", "0:42", "3:10", "5:00", final=True)


class Console(ModalHost):
    """Quits on ``request_quit`` as the console does with no action running."""

    def action_request_quit(self) -> None:
        self.exit(0)


def screen_text(app: ModalHost) -> str:
    return "\n".join("".join(segment.text for segment in strip)
                     for strip in app.screen._compositor.render_strips())


async def test_the_score_says_its_keys_and_one_q_quits() -> None:
    assert hasattr(WarroomApp, "action_request_quit")  # what q on the score screen calls
    app = Console(ScoreScreen(VIEW))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ScoreScreen)
        text = screen_text(app)
        assert "esc/enter close" in text and "q quit" in text
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0  # set by exit(): the app is on its way out
    assert app.results == []  # quit, not closed: the console went with it


async def test_escape_closes_the_score_and_leaves_the_console_running() -> None:
    app = Console(ScoreScreen(VIEW))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ScoreScreen)
        assert app.is_running
        assert app.results == [None]
