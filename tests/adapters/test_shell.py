"""Running commands for real: streaming, exit codes, timeouts, missing commands, redaction."""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
import time
from pathlib import Path

import psutil
import pytest

from adapters.shell import KILL_AFTER_S, TAIL_LINES, run_command
from tests.conftest import wait_for

PY = sys.executable


def _py(code: str) -> list[str]:
    return [PY, "-c", code]


def _gone(pid: int) -> bool:
    """Not running: no such process, or a zombie waiting for a (possibly lazy) init to reap it."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def gone_soon(pid: int) -> None:
    """SIGKILL was sent: the kernel ends the process a moment later, not at once."""
    wait_for(lambda: _gone(pid), 2.0, message=f"process {pid} to end after SIGKILL")


class Lines:
    """Collects on_line calls."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, stream: str, line: str) -> None:
        self.seen.append((stream, line))


async def test_streams_stdout_and_stderr() -> None:
    lines = Lines()
    result = await run_command(
        _py(
            "import sys\n"
            "print('one'); print('two', flush=True)\n"
            "print('oops', file=sys.stderr, flush=True)\n"
            "sys.stdout.write('no newline at end')"
        ),
        timeout_s=10,
        on_line=lines,
    )
    assert result.ok
    assert result.exit_code == 0
    assert not result.timed_out
    assert result.message == "exit 0"
    stdout = [line for stream, line in lines.seen if stream == "stdout"]
    stderr = [line for stream, line in lines.seen if stream == "stderr"]
    assert stdout == ["one", "two", "no newline at end"]
    assert stderr == ["oops"]
    assert sorted(result.output_tail) == sorted(line for _, line in lines.seen)
    assert result.argv[0] == PY


async def test_lines_arrive_while_the_command_runs(tmp_path: Path) -> None:
    # The child prints, then waits until on_line has seen that line before printing again.
    # If output were only delivered at exit, the child would wait until the timeout.
    flag = tmp_path / "seen-first"
    code = (
        "import os, sys, time\n"
        "print('first', flush=True)\n"
        f"while not os.path.exists({str(flag)!r}):\n"
        "    time.sleep(0.01)\n"
        "print('second', flush=True)\n"
    )

    def on_line(stream: str, line: str) -> None:
        if line == "first":
            flag.touch()

    started = time.monotonic()
    result = await run_command(_py(code), timeout_s=10, on_line=on_line)
    assert result.ok, result.message
    assert result.output_tail == ("first", "second")
    assert time.monotonic() - started < 5


async def test_non_zero_exit() -> None:
    result = await run_command(_py("import sys; sys.exit(3)"), timeout_s=10)
    assert not result.ok
    assert result.exit_code == 3
    assert result.message == "exited 3 (expected 0)"


async def test_expected_exit_code() -> None:
    result = await run_command(_py("import sys; sys.exit(3)"), timeout_s=10, expected_exit=3)
    assert result.ok
    assert result.message == "exit 3"


async def test_timeout_terminates() -> None:
    lines = Lines()
    started = time.monotonic()
    result = await run_command(
        _py("import time; print('started', flush=True); time.sleep(60)"),
        timeout_s=0.5,
        on_line=lines,
    )
    assert time.monotonic() - started < 2
    assert result.timed_out
    assert result.exit_code is None
    assert not result.ok
    assert result.message == "timed out after 0.5 s"
    assert result.output_tail == ("started",)


async def test_timeout_kills_a_command_that_ignores_sigterm(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    code = (
        "import os, signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "print('ignoring SIGTERM', flush=True)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    result = await run_command(_py(code), timeout_s=1.0)
    elapsed = time.monotonic() - started
    assert result.timed_out
    assert result.output_tail == ("ignoring SIGTERM",)
    assert 1.0 + KILL_AFTER_S <= elapsed < 1.0 + KILL_AFTER_S + 2, elapsed
    gone_soon(int(pid_file.read_text()))


async def test_timeout_ends_the_whole_process_tree(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild"
    grandchild = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    )
    # the shell waits until the grandchild has written its pid, so a loaded machine can't
    # make the timeout fire before the grandchild exists
    wait_pid = f"while [ ! -s {shlex.quote(str(pid_file))} ]; do sleep 0.05; done"
    script = f"{shlex.quote(PY)} -c {shlex.quote(grandchild)} & {wait_pid}; echo started; wait"
    lines = Lines()
    started = time.monotonic()
    result = await run_command(script, timeout_s=4, use_shell=True, on_line=lines)
    assert result.timed_out
    assert time.monotonic() - started < 4 + KILL_AFTER_S + 2
    assert pid_file.exists(), "the grandchild never started"
    gone_soon(int(pid_file.read_text()))


async def test_background_child_holding_the_pipes_does_not_hang_the_result(
    tmp_path: Path,
) -> None:
    # The command exits at once but leaves a child that inherited stdout and stderr.
    pid_file = tmp_path / "background"
    background = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(30)"
    )
    script = f"{shlex.quote(PY)} -c {shlex.quote(background)} & echo done"
    started = time.monotonic()
    try:
        result = await run_command(script, timeout_s=10, use_shell=True)
        assert result.ok
        assert result.output_tail == ("done",)
        assert time.monotonic() - started < 5
    finally:
        if pid_file.exists():
            psutil.Process(int(pid_file.read_text())).kill()


async def test_missing_command() -> None:
    result = await run_command(["warroom-no-such-command-xyz", "--flag"], timeout_s=10)
    assert not result.ok
    assert result.exit_code is None
    assert not result.timed_out
    assert result.message == "command not found: warroom-no-such-command-xyz"


async def test_missing_command_through_the_shell() -> None:
    result = await run_command("warroom-no-such-command-xyz", timeout_s=10, use_shell=True)
    assert result.exit_code == 127
    assert result.message == "exited 127 (expected 0): command not found"


async def test_missing_working_directory(tmp_path: Path) -> None:
    result = await run_command(_py("pass"), timeout_s=10, cwd=tmp_path / "absent")
    assert not result.ok
    assert result.message.startswith("working directory does not exist")


async def test_string_argv_is_split_not_given_to_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    command = f"{shlex.quote(PY)} -c 'import sys; print(sys.argv[1:])' 'a b' ';' touch {marker}"
    result = await run_command(command, timeout_s=10)
    assert result.ok
    assert result.output_tail == (f"['a b', ';', 'touch', '{marker}']",)
    assert not marker.exists()


async def test_use_shell_runs_a_pipeline(tmp_path: Path) -> None:
    result = await run_command("echo abc | tr a-c x-z", timeout_s=10, use_shell=True, cwd=tmp_path)
    assert result.ok
    assert result.output_tail == ("xyz",)
    assert result.argv == ("sh", "-c", "echo abc | tr a-c x-z")


async def test_cwd_and_env_are_passed() -> None:
    result = await run_command(
        _py("import os; print(os.getcwd()); print(os.environ['WARROOM_TEST'])"),
        timeout_s=10,
        cwd="/",
        env={**os.environ, "WARROOM_TEST": "visible"},
    )
    assert result.output_tail == ("/", "visible")


async def test_secrets_are_redacted_from_streamed_output() -> None:
    secret = "hunter2-s3cr3t-value"
    lines = Lines()
    result = await run_command(
        _py(
            "import os, sys\n"
            "print('password is', os.environ['DB_PASSWORD'])\n"
            "print('Authorization: Bearer abc.def.ghi')\n"
            "print('token=plain-token-123', file=sys.stderr)\n"
        ),
        timeout_s=10,
        on_line=lines,
        env={**os.environ, "DB_PASSWORD": secret},
    )
    assert result.ok
    streamed = "\n".join(line for _, line in lines.seen)
    for leaked in (secret, "abc.def.ghi", "plain-token-123"):
        assert leaked not in streamed
        assert leaked not in "\n".join(result.output_tail)
    assert ("stdout", "password is ***") in lines.seen
    assert ("stdout", "Authorization: Bearer ***") in lines.seen
    assert ("stderr", "token=***") in lines.seen


async def test_argv_is_redacted() -> None:
    result = await run_command(
        [PY, "-c", "pass", "--token", "abc123", "--password=hunter2"], timeout_s=10
    )
    assert result.argv == (PY, "-c", "pass", "--token", "***", "--password=***")


async def test_output_tail_keeps_the_last_lines() -> None:
    result = await run_command(_py(f"for i in range({TAIL_LINES + 50}): print(i)"), timeout_s=10)
    assert len(result.output_tail) == TAIL_LINES
    assert result.output_tail[0] == "50"
    assert result.output_tail[-1] == str(TAIL_LINES + 49)


async def test_cancellation_kills_the_command(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    code = (
        "import os, time\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "print('running', flush=True)\n"
        "time.sleep(60)\n"
    )
    running = asyncio.Event()

    def on_line(stream: str, line: str) -> None:
        running.set()

    task = asyncio.create_task(run_command(_py(code), timeout_s=30, on_line=on_line))
    await running.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gone_soon(int(pid_file.read_text()))


async def test_failing_callback_propagates_and_kills_the_command() -> None:
    def on_line(stream: str, line: str) -> None:
        raise RuntimeError("view went away")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="view went away"):
        await run_command(
            _py("import time; print('x', flush=True); time.sleep(60)"),
            timeout_s=30,
            on_line=on_line,
        )
    assert time.monotonic() - started < 5
