"""Run a configured command (a runbook's `shell` step) and stream its output, redacted.

No shell is involved unless asked for: a string command is split with ``shlex`` and executed
directly. The child gets its own process group, so a timeout ends the command and everything it
started (SIGTERM, then SIGKILL two seconds later). Every line handed to ``on_line`` and kept in
the result has had secrets removed: the values of secret-named environment variables and
anything ``redact`` recognises, including secrets that span lines (a private key's body lines
are dropped after its BEGIN line). Failures to start become results with a message, not exceptions.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from adapters.redact import MASK, LineRedactor, looks_secret_key, redact, secrets_from_env

TAIL_LINES = 200
KILL_AFTER_S = 2.0
# Once the command has exited, output still in the pipes is drained for at most this long; a
# background child that inherited the pipes must not hold the result hostage.
_DRAIN_AFTER_EXIT_S = 1.0
_READ_CHUNK = 65536
_MAX_LINE_CHARS = 65536
_POSIX = os.name == "posix"

LineCallback = Callable[[str, str], None]


@dataclass(frozen=True)
class ShellResult:
    """Outcome of a command: what ran (redacted), how it ended, and the last lines it printed."""

    argv: tuple[str, ...]
    exit_code: int | None
    ok: bool
    timed_out: bool
    duration_s: float
    output_tail: tuple[str, ...]
    message: str


async def run_command(
    argv: Sequence[str] | str,
    *,
    timeout_s: float,
    on_line: LineCallback | None = None,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    use_shell: bool = False,
    expected_exit: int = 0,
) -> ShellResult:
    """Run ``argv`` to completion or until ``timeout_s``, streaming lines to ``on_line``.

    ``on_line(stream, line)`` is called on the event loop with ``stream`` ``"stdout"`` or
    ``"stderr"`` and the line without its newline, already redacted. ``env`` replaces the
    inherited environment, as in ``subprocess``; pass ``{**os.environ, ...}`` to extend it.
    Cancelling the call kills the command.
    """
    started = time.monotonic()
    secrets = secrets_from_env({**os.environ, **(env or {})})
    try:
        command, shown_argv = _prepare(argv, use_shell, secrets)
    except ValueError as exc:  # shlex: unbalanced quotes
        shown = redact(argv if isinstance(argv, str) else shlex.join(argv), secrets)
        return ShellResult(
            argv=(shown,),
            exit_code=None,
            ok=False,
            timed_out=False,
            duration_s=0.0,
            output_tail=(),
            message=f"cannot parse command: {exc}",
        )

    def early(message: str) -> ShellResult:
        return ShellResult(
            argv=shown_argv,
            exit_code=None,
            ok=False,
            timed_out=False,
            duration_s=time.monotonic() - started,
            output_tail=(),
            message=message,
        )

    if not command:
        return early("empty command")
    if cwd is not None and not Path(cwd).is_dir():
        return early(f"working directory does not exist: {cwd}")
    try:
        child = await _spawn(command, use_shell, cwd, env)
    except FileNotFoundError:
        return early(f"command not found: {redact(command[0], secrets)}")
    except PermissionError:
        return early(f"permission denied: cannot execute {redact(command[0], secrets)}")
    except OSError as exc:
        return early(f"cannot start {redact(command[0], secrets)}: {exc.strerror or exc}")

    tail: deque[str] = deque(maxlen=TAIL_LINES)
    # One redactor per stream: a private key printed over many lines is hidden whole.
    redactors = {"stdout": LineRedactor(secrets), "stderr": LineRedactor(secrets)}

    def deliver(stream: str, raw: str) -> None:
        line = redactors[stream](raw)
        if line is None:
            return
        tail.append(line)
        if on_line is not None:
            on_line(stream, line)

    process, exited = child.process, child.exited
    assert process.stdout is not None and process.stderr is not None
    readers = [
        asyncio.create_task(_pump(process.stdout, "stdout", deliver)),
        asyncio.create_task(_pump(process.stderr, "stderr", deliver)),
    ]
    timed_out = False
    try:
        try:
            async with asyncio.timeout(timeout_s):
                await _wait_for_exit(exited, readers)
        except TimeoutError:
            timed_out = True
            await _stop(process, exited)
        await _drain(readers)
    finally:
        # Also reached on cancellation or a failing on_line: leave nothing running.
        for reader in readers:
            reader.cancel()
        if not exited.done():
            _signal_group(process, signal.SIGKILL if _POSIX else signal.SIGTERM)
            await asyncio.wait({exited}, timeout=KILL_AFTER_S)
        child.transport.close()
        await asyncio.gather(*readers, return_exceptions=True)

    exit_code = None if timed_out else process.returncode
    ok = exit_code == expected_exit
    return ShellResult(
        argv=shown_argv,
        exit_code=exit_code,
        ok=ok,
        timed_out=timed_out,
        duration_s=time.monotonic() - started,
        output_tail=tuple(tail),
        message=_describe_exit(exit_code, expected_exit, timed_out, timeout_s, use_shell),
    )


def _prepare(
    argv: Sequence[str] | str, use_shell: bool, secrets: list[str]
) -> tuple[list[str], tuple[str, ...]]:
    """The argv to execute and the redacted argv to show."""
    if use_shell:
        script = argv if isinstance(argv, str) else shlex.join(argv)
        command = [script] if script.strip() else []
        return command, ("sh", "-c", redact(script, secrets)) if command else ()
    command = shlex.split(argv) if isinstance(argv, str) else [str(part) for part in argv]
    return command, redact_argv(command, secrets)


def redact_argv(argv: Sequence[str], extra_secrets: Sequence[str] = ()) -> tuple[str, ...]:
    """Redact each argument; the value after a secret-named flag (``--token abc``) is masked."""
    shown: list[str] = []
    previous = ""
    for part in argv:
        is_flag_value = (
            previous.startswith("-")
            and "=" not in previous
            and looks_secret_key(previous.lstrip("-"))
            and not previous.endswith(("-file", "-path", "-dir"))
            and not part.startswith("-")
        )
        shown.append(MASK if is_flag_value else redact(part, extra_secrets))
        previous = part
    return tuple(shown)


class _ExitSignallingProtocol(asyncio.subprocess.SubprocessStreamProtocol):
    """The stock stream protocol, plus a future set the moment the child exits.

    ``Process.wait()`` only returns once every pipe is closed too, so a background grandchild
    holding stdout open would make a finished command look hung.
    """

    def __init__(self, limit: int, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=limit, loop=loop)
        self.exited: asyncio.Future[None] = loop.create_future()

    def process_exited(self) -> None:
        super().process_exited()
        if not self.exited.done():
            self.exited.set_result(None)


@dataclass
class _Child:
    process: asyncio.subprocess.Process
    transport: asyncio.SubprocessTransport
    exited: asyncio.Future[None]


async def _spawn(
    command: list[str],
    use_shell: bool,
    cwd: str | os.PathLike[str] | None,
    env: Mapping[str, str] | None,
) -> _Child:
    loop = asyncio.get_running_loop()
    options: dict[str, object] = {
        "stdin": asyncio.subprocess.DEVNULL,
        "stdout": asyncio.subprocess.PIPE,
        "stderr": asyncio.subprocess.PIPE,
        "cwd": cwd,
        "env": dict(env) if env is not None else None,
    }
    if _POSIX:
        # Own session: the whole tree can be signalled, and nothing can grab the terminal the
        # console is drawing on (a password prompt fails instead of hanging the screen).
        options["start_new_session"] = True

    def protocol() -> _ExitSignallingProtocol:
        return _ExitSignallingProtocol(limit=_READ_CHUNK, loop=loop)

    # What asyncio.create_subprocess_exec/_shell do, with the exit-signalling protocol.
    if use_shell:
        transport, proto = await loop.subprocess_shell(protocol, command[0], **options)  # type: ignore[arg-type]
    else:
        transport, proto = await loop.subprocess_exec(protocol, *command, **options)  # type: ignore[arg-type]
    process = asyncio.subprocess.Process(transport, proto, loop)
    return _Child(process=process, transport=transport, exited=proto.exited)


async def _pump(
    stream: asyncio.StreamReader, name: str, deliver: Callable[[str, str], None]
) -> None:
    """Split a byte stream into lines as bytes arrive; very long lines are cut, not buffered."""
    pending = b""
    while chunk := await stream.read(_READ_CHUNK):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            deliver(name, _decode(line))
        while len(pending) > _MAX_LINE_CHARS:
            deliver(name, _decode(pending[:_MAX_LINE_CHARS]))
            pending = pending[_MAX_LINE_CHARS:]
    if pending:
        deliver(name, _decode(pending))


def _decode(line: bytes) -> str:
    return line.decode("utf-8", errors="replace").rstrip("\r")


async def _wait_for_exit(exited: asyncio.Future[None], readers: list[asyncio.Task[None]]) -> None:
    """Wait for the command to exit; a reader failing (``on_line`` raised) ends the wait."""
    pending: set[asyncio.Future[None]] = {exited, *readers}
    while not exited.done():
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not exited:
                task.result()


async def _stop(process: asyncio.subprocess.Process, exited: asyncio.Future[None]) -> None:
    """SIGTERM the command's process group, then SIGKILL it if it is still there after 2 s."""
    _signal_group(process, signal.SIGTERM)
    await asyncio.wait({exited}, timeout=KILL_AFTER_S)
    if not exited.done():
        _signal_group(process, signal.SIGKILL if _POSIX else signal.SIGTERM)
        await asyncio.wait({exited}, timeout=KILL_AFTER_S)
    if _POSIX:
        # Stragglers in the group (children that ignored SIGTERM) go too.
        _signal_group(process, signal.SIGKILL)


async def _drain(readers: list[asyncio.Task[None]]) -> None:
    """Collect output still in the pipes, for a moment: a background child may hold them open.

    Such a child is left running (the command meant to start it); it only loses our pipes.
    """
    done, _ = await asyncio.wait(readers, timeout=_DRAIN_AFTER_EXIT_S)
    for reader in done:
        reader.result()  # re-raise a failing on_line


def _signal_group(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    try:
        if _POSIX:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass


def _describe_exit(
    exit_code: int | None,
    expected_exit: int,
    timed_out: bool,
    timeout_s: float,
    use_shell: bool,
) -> str:
    if timed_out or exit_code is None:
        return f"timed out after {timeout_s:g} s"
    if exit_code == expected_exit:
        return f"exit {exit_code}"
    if exit_code < 0:
        try:
            signal_name = signal.Signals(-exit_code).name
        except ValueError:
            signal_name = f"signal {-exit_code}"
        return f"killed by {signal_name} (expected exit {expected_exit})"
    message = f"exited {exit_code} (expected {expected_exit})"
    if use_shell and exit_code == 127:
        message += ": command not found"
    return message


__all__ = [
    "KILL_AFTER_S",
    "TAIL_LINES",
    "LineCallback",
    "ShellResult",
    "redact_argv",
    "run_command",
]
