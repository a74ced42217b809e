"""A crash is not a clean exit: non-zero status, the reason on stderr, the traceback in a file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from console.ui import app as console_app

CRASHING = textwrap.dedent("""
    import sys
    from pathlib import Path

    from textual.app import App

    from console.ui.crash import run_reporting_crashes


    class Crashing(App[int]):
        def on_mount(self) -> None:
            self.set_timer(0.05, self.boom)

        def boom(self) -> None:
            raise RuntimeError("toast fell over: token=s3cr3t-value")


    code = run_reporting_crashes(Crashing(), Path(sys.argv[1]), headless=True,
                                 redact=lambda text: text.replace("s3cr3t-value", "***"))
    raise SystemExit(code)
""")


def test_a_crash_in_a_handler_exits_non_zero_with_the_reason_and_a_log(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", CRASHING, str(state)], capture_output=True,
                          text=True, timeout=60, env=env, check=False)
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert "warroom: crashed: RuntimeError: toast fell over: token=***" in lines
    logs = sorted(state.glob("crash-*.log"))
    assert len(logs) == 1
    assert f"warroom: traceback in {logs[0]}" in lines
    log = logs[0].read_text()
    assert "Traceback (most recent call last)" in log and "in boom" in log
    assert "s3cr3t-value" not in log
    assert logs[0].stat().st_mode & 0o077 == 0


def test_a_clean_exit_is_status_zero_and_writes_nothing(tmp_path: Path) -> None:
    script = CRASHING.replace('raise RuntimeError("toast fell over: token=s3cr3t-value")',
                              "self.exit(0)")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                          text=True, timeout=60, check=False,
                          env={**os.environ,
                               "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert done.returncode == 0, done.stderr
    assert not list(tmp_path.glob("crash-*.log"))


def test_the_console_runs_through_the_crash_wrapper(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    seen: list[object] = []

    def fake(app: object, state_dir: object, **kwargs: object) -> int:
        seen.append((app, state_dir))
        return 3

    monkeypatch.setattr(console_app, "run_reporting_crashes", fake)
    settings = console_app.ConsoleSettings(state_dir=tmp_path)
    assert console_app.run_app(settings) == 3
    assert isinstance(seen[0][0], console_app.WarroomApp) and seen[0][1] == tmp_path
