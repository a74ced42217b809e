"""When the console crashes: a non-zero exit, one line on stderr, the traceback in a file.

Textual catches an exception raised in a handler, prints its traceback over the terminal,
and leaves ``App.run()`` with ``return_code`` 1 but no exception -- a crash looked like a clean
exit (status 0). ``run_reporting_crashes`` runs the app and, when it died of an exception (in a
handler or in ``run`` itself), writes the traceback (redacted, no local variables) to
``<state dir>/crash-YYYYmmdd-HHMMSS.log``, records the (redacted) reason in the incident's
audit log as ``console.crashed`` (``on_crash``), prints the reason and that path on stderr, and
returns non-zero.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from textual.app import App

from console.domain.statefiles import FILE_MODE, default_state_dir, ensure_private_dir

CRASH_EXIT = 1
CONSOLE_CRASHED = "console.crashed"  # the audit record of a crash


def run_reporting_crashes(app: App[Any], state_dir: Path | None = None, *,
                          redact: Callable[[str], str] = str, stderr: TextIO | None = None,
                          now: Callable[[], datetime] = datetime.now,
                          headless: bool = False,
                          on_crash: Callable[[str], None] | None = None) -> int:
    """``app.run()``; its exit status: the app's return value, or non-zero after a crash.

    ``on_crash(reason)`` is called with the redacted one-line reason before anything else
    (the console writes its audit record there); whatever it raises is reported, not raised.
    """
    error: BaseException | None = None
    result: Any = None
    try:
        result = app.run(headless=headless)
    except Exception as exc:  # start-up or shut-down, outside Textual's handlers
        error = exc
    error = error or getattr(app, "_exception", None)  # the handler's, kept by Textual
    code = app.return_code or 0
    if error is None:
        return code or int(result or 0)
    out = stderr if stderr is not None else sys.stderr
    reason = redact(" ".join(f"{type(error).__name__}: {error}".split()))
    if on_crash is not None:
        try:
            on_crash(reason)
        except Exception as exc:  # noqa: BLE001 - the crash is what is reported
            print(f"warroom: could not record the crash in the audit log: {exc}", file=out)
    print(f"warroom: crashed: {reason}", file=out)
    try:
        path = write_crash_log(error, state_dir or default_state_dir(), redact, now())
    except OSError as exc:
        print(f"warroom: could not write the traceback: {exc}", file=out)
    else:
        print(f"warroom: traceback in {path}", file=out)
    return code or CRASH_EXIT


def write_crash_log(error: BaseException, state_dir: Path, redact: Callable[[str], str],
                    when: datetime) -> Path:
    """Write ``error``'s traceback to a new private file under ``state_dir``; its path."""
    ensure_private_dir(state_dir)
    text = redact("".join(traceback.format_exception(error)))
    stem = f"crash-{when:%Y%m%d-%H%M%S}"
    for attempt in range(100):
        path = state_dir / (f"{stem}.log" if attempt == 0 else f"{stem}-{attempt}.log")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path
    raise FileExistsError(f"{state_dir}: too many crash logs named {stem}")
