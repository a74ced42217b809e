"""End to end in a real terminal: a credential plugin that asks for a password gets the
terminal (the console suspends itself, the plugin prompts and reads the answer, the console
comes back and connects)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Drill, start_drill
from tests.e2e.test_tmux import COLUMNS, ROOT, ROWS, WARROOM, quit_console, tmux, wait_screen

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse"


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[Drill]:
    running = start_drill(tmp_path / "drill", speed=1.0)
    yield running
    running.thread.stop()


def test_a_plugin_that_asks_for_a_password_gets_the_terminal(drill: Drill, tmp_path: Path) -> None:
    kubeconfig = drill.cluster.write_kubeconfig(tmp_path / "sso.yaml", exec_plugin=True,
                                                exec_ttl=600, interactive_mode="IfAvailable")
    plugin = drill.cluster.exec_plugin
    assert plugin is not None
    plugin.require_password(PASSWORD)
    state = tmp_path / "state"
    name = f"wr-{uuid.uuid4().hex[:8]}"
    command = (f"cd {ROOT} && unset COLUMNS LINES && WARROOM_STATE_DIR={state} "
               f"PYTHONPATH={ROOT} exec {WARROOM} --kubeconfig {kubeconfig} -n shop "
               "--title 'login drill' --severity high")
    tmux("new-session", "-d", "-s", name, "-x", str(COLUMNS), "-y", str(ROWS), command)
    try:
        # the quiet first try fails; the console hands the terminal to the plugin's prompt
        wait_screen(name, lambda t: "drill SSO password:" in t, 60, "the plugin's prompt")
        tmux("send-keys", "-t", name, PASSWORD, "Enter")
        text = wait_screen(name, lambda t: "● live" in t and "api" in t, 60,
                           "the console back and connected")
        assert "drill SSO password" not in text  # the console redrew over the prompt
        runs = plugin.runs()
        assert [run["interactive"] for run in runs[:2]] == [False, True]
        assert runs[1]["stdin_tty"]  # the plugin read the terminal
        quit_console(name, state)
    finally:
        tmux("kill-session", "-t", name)
