"""End to end in a real terminal: tmux runs `warroom drill`, we type, we read the screen."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# drill seconds per second: the leak OOM-kills each pod every ~12 s, and a rollout of fresh
# pods settles in a few seconds (at 3600x pods died faster than the rollout could finish)
SPEED = 600
COLUMNS, ROWS = 160, 48
WARROOM = Path(sys.executable).with_name("warroom")

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_screen(session: str, predicate, timeout: float = 90, what: str = "screen") -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen(session)
        if predicate(text):
            return text
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}; screen was:\n{text}")


API_ROW = re.compile(r"^[│ ]\s*api\s+(\d+)/(\d+)\s+(\d+)\s+(\S) (\w+)", re.MULTILINE)


def api_row(text: str) -> tuple[int, int, int, str] | None:
    """The api row of the deployment list: ready, desired, revision, rollout state."""
    match = API_ROW.search(text)
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3]), match[5]


def api_verdict(text: str) -> str:
    """The advisor's verdict on api's rate card: the first verdict in the middle pane (the
    cards are sorted by deployment, api first)."""
    for line in text.splitlines():
        for verdict in ("ROLL BACK NOW", "MONITOR", "✔ OK"):
            if verdict in line:
                return verdict
    return ""


@pytest.fixture
def session(tmp_path):
    name = f"wr-{uuid.uuid4().hex[:8]}"
    # COLUMNS/LINES in the environment (the test runner's environment has them) would win
    # over the pane's real size: the console would draw 80x24 in a 160x48 pane
    # PYTHONPATH: this checkout's code, whatever the tmux server's environment says
    command = (f"cd {ROOT} && unset COLUMNS LINES && WARROOM_STATE_DIR={tmp_path} "
               f"PYTHONPATH={ROOT} "
               f"exec {WARROOM} drill --scenario memory-leak --speed {SPEED}")
    tmux("new-session", "-d", "-s", name, "-x", str(COLUMNS), "-y", str(ROWS), command)
    yield name
    tmux("kill-session", "-t", name)


def warroom_processes(state_dir: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "warroom drill" in line and "tmux" not in line
            and str(WARROOM) in line]


@pytest.mark.e2e
def test_scale_up_and_undo_until_the_advisor_says_ok(session, tmp_path) -> None:
    wait_screen(session, lambda t: "live" in t and "api" in t, what="the console to connect")
    # the bad revision's pods OOM-kill every ~12 s: the advisor stops saying OK
    wait_screen(session, lambda t: "OOMKilled" in t or "CrashLoopBackOff" in t
                or " ago)" in t, what="crashing pods (restarts)")
    tmux("send-keys", "-t", session, "s")
    wait_screen(session, lambda t: "new count" in t, what="the scale dialog")
    tmux("send-keys", "-t", session, "C-u")
    wait_screen(session, lambda t: "enter a number" in t, what="the emptied input")
    tmux("send-keys", "-t", session, "6")
    wait_screen(session, lambda t: "enter a number" not in t, what="the typed count")
    tmux("send-keys", "-t", session, "Enter")
    wait_screen(session, lambda t: "Enter/y confirm" in t, what="the confirm modal")
    tmux("send-keys", "-t", session, "y")
    wait_screen(session, lambda t: "action.finished" in t and "scale" in t,
                what="scale finished in the audit pane")
    before = api_row(screen(session))
    assert before is not None and before[1] == 6, screen(session)
    tmux("send-keys", "-t", session, "u")
    wait_screen(session, lambda t: "Roll back to rev" in t, what="the undo picker")
    tmux("send-keys", "-t", session, "Enter")
    wait_screen(session, lambda t: "Enter/y confirm" in t, what="the undo confirm modal")
    tmux("send-keys", "-t", session, "y")
    wait_screen(session, lambda t: "rolled back to revision" in t or "communicate step" in t
                or "after the rollback" in t, what="undo finished (or the drill score)")
    # the score screen pops up once the drill sees the incident resolved, which may be after
    # any read: close it whenever it is up, until the advisor's OK shows for api
    def advisor_ok(text: str) -> bool:
        if score_screen_up(text):
            tmux("send-keys", "-t", session, "Escape")
            return False
        row = api_row(text)
        # a new revision (undo rolls forward to a copy of the old template), all 6 ready
        rolled_back = row is not None and row[2] > before[2] and row[0] == row[1] == 6 \
            and row[3] == "complete"
        return rolled_back and api_verdict(text) == "✔ OK" and "OOMKilled" not in text \
            and "CrashLoopBackOff" not in text

    wait_screen(session, advisor_ok, timeout=120, what="the advisor to say OK for api")
    quit_console(session, tmp_path)


def score_screen_up(text: str) -> bool:
    return "Deductions" in text and "Handbook order" in text


def quit_console(session: str, state_dir: Path, timeout: float = 30) -> None:
    """q, until the process is gone; the score screen may pop up just then and take the q
    (q closes it): close it and press q again."""
    tmux("send-keys", "-t", session, "q")
    deadline = time.monotonic() + timeout
    while warroom_processes(state_dir) and time.monotonic() < deadline:
        if score_screen_up(screen(session)):
            tmux("send-keys", "-t", session, "Escape")
            wait_screen(session, lambda t: not score_screen_up(t), 10, "the score screen closed")
            tmux("send-keys", "-t", session, "q")
        time.sleep(0.2)
    assert not warroom_processes(state_dir), f"warroom left running after q:\n{screen(session)}"


@pytest.mark.e2e
def test_hangup_leaves_no_orphan(session, tmp_path) -> None:
    wait_screen(session, lambda t: "live" in t, what="the console to connect")
    assert warroom_processes(tmp_path)
    tmux("kill-session", "-t", session)  # the terminal goes away: SIGHUP
    deadline = time.monotonic() + 20
    while warroom_processes(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not warroom_processes(tmp_path), "warroom survived its terminal"


@pytest.mark.e2e
def test_a_pod_log_cannot_retitle_the_terminal(session, tmp_path) -> None:
    """A log line with ``ESC ] 2 ; PWNED BEL`` (here through the deployment's LOG_LEVEL env,
    which the drill's pods echo into their first log line) is shown, not obeyed: the pane's
    title stays what it was."""
    from kubernetes import client, config

    tmux("select-pane", "-t", session, "-T", "before")
    text = wait_screen(session, lambda t: "live" in t and api_row(t) is not None,
                       what="the console to connect")
    revision = api_row(text)[2]  # type: ignore[index]
    kubeconfig = tmp_path / "drill-kubeconfig.yaml"
    with config.new_client_from_config(config_file=str(kubeconfig)) as api:
        client.AppsV1Api(api).patch_namespaced_deployment("api", "shop", {
            "spec": {"template": {"spec": {"containers": [
                {"name": "api", "env": [{"name": "LOG_LEVEL",
                                         "value": "\x1b]2;PWNED\x07debug"}]}]}}}})
    # the new revision's pods run (and log) while the console shows them: look at the
    # pods' logs until one of the new revision's is on screen
    wait_screen(session, lambda t: (row := api_row(t)) is not None and row[2] > revision,
                what="the new revision")
    tmux("send-keys", "-t", session, "Tab")
    text = ""
    for _attempt in range(20):
        tmux("send-keys", "-t", session, "l")
        # the logs modal opens with the text it fetched: a pod that has not logged yet (just
        # created) or is gone shows none of it; the next pod, or a later look, will
        text = wait_screen(session, lambda t: "Esc close" in t, what="the logs modal")
        if "debug)" in text:
            break
        tmux("send-keys", "-t", session, "Escape")
        wait_screen(session, lambda t: "Esc close" not in t, 10, "the logs closed")
        tmux("send-keys", "-t", session, "Down")
    title = tmux("display-message", "-p", "-t", session, "#{pane_title}").strip()
    assert title == "before"  # the escape was not obeyed ...
    assert "␛]2;PWNED␇debug)" in text, text  # ... but shown as text
    tmux("send-keys", "-t", session, "Escape")
    wait_screen(session, lambda t: "Esc close" not in t, 10, "the logs closed")
    quit_console(session, tmp_path)
