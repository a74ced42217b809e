"""End to end at the memory-leak drill's default speed: the crash verdict on the pane.

`warroom drill --scenario memory-leak` with no --speed, as a new user starts it: within a
minute the OOM kills show in the pod table's LAST column and the advisor says MONITOR with the
handbook's Example 3 advice (scale up to buy time, then roll back).
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.test_tmux import (
    COLUMNS,
    ROOT,
    ROWS,
    WARROOM,
    pytestmark,  # noqa: F401 (tmux must be installed)
    quit_console,
    tmux,
    wait_screen,
)

BORDERS = re.compile(r"[│▌╭╮╰╯─]")


def flat(text: str) -> str:
    """The pane's words in one line, without the pane borders a wrapped sentence crosses."""
    return " ".join(BORDERS.sub(" ", text).split())


OOM_CELL = re.compile(r"\bOOM \d+[smhd]")
KILLS = re.compile(r"OOM-killed\s+(\d+)x\s+in\s+the\s+last\s+hour")


@pytest.fixture
def default_speed_session(tmp_path):
    name = f"wr-{uuid.uuid4().hex[:8]}"
    command = (f"cd {ROOT} && unset COLUMNS LINES && WARROOM_STATE_DIR={tmp_path} "
               f"PYTHONPATH={ROOT} exec {WARROOM} drill --scenario memory-leak")
    tmux("new-session", "-d", "-s", name, "-x", str(COLUMNS), "-y", str(ROWS), command)
    yield name
    tmux("kill-session", "-t", name)


@pytest.mark.e2e
def test_the_crash_verdict_shows_at_the_default_speed(default_speed_session, tmp_path) -> None:
    session = default_speed_session
    wait_screen(session, lambda t: "live" in t and "api" in t, what="the console to connect")
    # the first OOM kill comes within ~30 s of real time; the verdict follows the pod watch
    # (before it, the memory climb on the new revision: "... before it is OOM-killed")
    text = wait_screen(session, lambda t: KILLS.search(flat(t)) is not None
                       and "MONITOR" in t, timeout=90, what="the crash verdict")
    words = flat(text)
    assert int(KILLS.search(words)[1]) >= 1  # type: ignore[index]
    assert "Pods OOM-killed" in words, text  # the crash rule leads api's card
    assert "roll back" in words
    assert re.search(r"\d+ restarts in 1h", words), text  # restarts per workload
    assert OOM_CELL.search(text), text  # the pod table's LAST column: "OOM 12s"
    assert "mem " in text  # the memory figure beside errors and p99
    quit_console(session, tmp_path)
