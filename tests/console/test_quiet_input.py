"""QuietDriver in a real pseudo-terminal: keys (a lone Escape too) arrive as before, the
input thread wakes about once per IDLE_WAIT instead of ten times a second while nobody
types, and an exit while it waits is not held up by that wait."""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from console.ui.quiet_input import IDLE_WAIT, LIVELY_FOR

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux driver")


def wait_for(log: Path, word: str, timeout: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines() if log.exists() else []
        found = [line for line in lines if line.startswith(word)]
        if found:
            return found
        time.sleep(0.02)  # polling a file the app writes, bounded by the deadline
    raise AssertionError(f"no {word!r} in {log} within {timeout} s: "
                         f"{log.read_text() if log.exists() else '(no file)'}")


def stamp(line: str) -> float:
    return float(line.rsplit(" ", 1)[1])


def test_keys_arrive_the_thread_sleeps_and_exit_is_prompt(tmp_path: Path) -> None:
    log = tmp_path / "probe.log"
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}
    env.pop("TEXTUAL_DRIVER", None)
    child = subprocess.Popen([sys.executable, str(ROOT / "tests/console/quiet_input_app.py"),
                              str(log)], stdin=slave, stdout=slave, stderr=slave, env=env,
                             start_new_session=True)
    os.close(slave)

    def drain() -> None:  # the terminal's screen: read and dropped, so the app never blocks
        try:
            while os.read(master, 65536):
                pass
        except OSError:
            return

    threading.Thread(target=drain, daemon=True).start()
    try:
        ready = wait_for(log, "ready")[0]
        assert "patched=True" in ready  # Textual still makes its selector as expected

        os.write(master, b"a")
        wait_for(log, "key a")
        os.write(master, b"\x1b")  # a lone Escape: only a timeout tells it from a sequence
        escape = stamp(wait_for(log, "key escape")[0])

        os.write(master, b"x")  # exits by itself 4 s later, while the thread waits
        typed = stamp(wait_for(log, "key x")[0])
        leaving = stamp(wait_for(log, "leaving")[0])
        assert child.wait(timeout=20) == 0
        done = wait_for(log, "waits")[0]
    finally:
        if child.poll() is None:
            child.kill()
        os.close(master)
    waits = [float(at) for at in done.split()[1].split(",")]
    assert stamp(done) - leaving < IDLE_WAIT / 2, "the exit waited for the input thread"
    assert escape > typed - 5
    # nobody typing from LIVELY_FOR after the last key to the exit (about 2.8 s): Textual's
    # own loop waits ten times a second, this one about once per IDLE_WAIT
    quiet = [at for at in waits if typed + LIVELY_FOR + 0.2 < at < leaving]
    assert len(quiet) <= 2, f"{len(quiet)} waits while idle: {quiet}"
