"""``shell`` steps (and shell compensations): a command run with its output streamed as
progress, killed promptly when the engine is stopped."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from adapters.shell import ShellResult, run_command
from console.runbook.outcomes import Interrupted, Progress
from console.runbook.schema_steps import ShellFields

_T = TypeVar("_T")


def run_shell(spec: ShellFields, progress: Progress, stop: threading.Event) -> tuple[str, str]:
    """Run the command, streaming its lines; ``stop`` kills it (``Interrupted``, failed)."""
    argv = spec.argv
    command = argv if argv is not None else spec.command

    def on_line(stream: str, line: str) -> None:
        progress(line if stream == "stdout" else f"stderr: {line}", None)

    async def run() -> ShellResult | None:
        task = asyncio.ensure_future(run_command(
            command, timeout_s=spec.timeout_s, on_line=on_line, cwd=spec.cwd,
            use_shell=argv is None, expected_exit=spec.expected_exit))
        while not task.done():
            if stop.is_set():
                task.cancel()  # run_command kills the command's process group
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return None
            await asyncio.wait({task}, timeout=0.05)
        return task.result()

    result = run_coroutine(run())
    if result is None:
        raise Interrupted("failed", "stopped: the command was killed before it finished")
    message = result.message
    if not result.ok and result.output_tail:
        message += f"; last output: {result.output_tail[-1]}"
    return ("done" if result.ok else "failed"), message


def run_coroutine(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to completion from synchronous code (a worker thread).

    If this thread already runs an event loop, the coroutine gets its own thread and loop.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()

