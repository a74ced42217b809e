"""Textual's terminal input thread, woken by input instead of ten times a second.

Textual's Linux driver waits for keys with ``select(0.1)`` in a loop: ten wake-ups a second
so that it notices the app exiting and can time out a lone Escape. On a console left open
for a whole incident that is a tenth of a percent of a core doing nothing. ``QuietDriver``
keeps that cadence for a second after any input (an Escape still arrives on time) and
otherwise waits up to ``IDLE_WAIT`` seconds; the app's exit wakes it at once, through a pipe
the driver's exit event writes to.

It changes nothing but the wait: the input loop is Textual's own, given a selector that
stretches its timeout when nothing came in for a while. Should Textual's driver stop making
its selector through ``selectors.SelectSelector``, the patch is not made and input works as
it always did.
"""

from __future__ import annotations

import os
import selectors
import threading
import time
import types
from typing import Any

from textual.drivers import linux_driver
from textual.drivers.linux_driver import LinuxDriver

LIVELY_FOR = 1.0  # seconds after input (or a wake-up) at Textual's own cadence
IDLE_WAIT = 2.0  # seconds between wake-ups otherwise (the exit wakes it at once)

_wake_fd: int | None = None  # the read end of the running driver's wake pipe


class PatientSelector(selectors.SelectSelector):
    """A SelectSelector whose short timeouts grow to ``IDLE_WAIT`` while nothing comes in,
    and that also wakes (returning nothing) when the driver's wake pipe is written."""

    def __init__(self) -> None:
        super().__init__()
        self._lively_until = time.monotonic() + LIVELY_FOR
        self._wake = _wake_fd
        if self._wake is not None:
            super().register(self._wake, selectors.EVENT_READ)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if (timeout is not None and self._wake is not None
                and time.monotonic() > self._lively_until):
            timeout = max(timeout, IDLE_WAIT)
        ready = super().select(timeout)
        if not ready:
            return ready
        self._lively_until = time.monotonic() + LIVELY_FOR
        kept = [(key, mask) for key, mask in ready if key.fd != self._wake]
        if len(kept) != len(ready):  # the driver's loop reads the terminal for any event
            try:
                os.read(self._wake, 512)
            except (BlockingIOError, OSError):
                pass
        return kept


class _WakingEvent(threading.Event):
    """The driver's exit event: setting it also wakes the input thread."""

    def __init__(self, wake: Any) -> None:
        super().__init__()
        self._wake = wake

    def set(self) -> None:
        super().set()
        self._wake()


def _install() -> bool:
    """Give Textual's Linux driver module our selector (once); False when it does not make
    its selector the way this expects."""
    current = getattr(linux_driver, "selectors", None)
    if isinstance(current, types.SimpleNamespace):
        return True  # already installed
    if current is not selectors:
        return False
    patched = types.SimpleNamespace(**vars(selectors))
    patched.SelectSelector = PatientSelector
    linux_driver.selectors = patched  # type: ignore[attr-defined]
    return True


class QuietDriver(LinuxDriver):
    """Textual's Linux driver with a patient input thread (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        global _wake_fd
        self._wake_pipe: tuple[int, int] | None = None
        if _install():
            read, write = os.pipe()
            os.set_blocking(read, False)
            os.set_blocking(write, False)
            self._wake_pipe = (read, write)
            _wake_fd = read
            self.exit_event = _WakingEvent(self._wake_input)

    def _wake_input(self) -> None:
        if self._wake_pipe is not None:
            try:
                os.write(self._wake_pipe[1], b"!")
            except (BlockingIOError, OSError):
                pass  # full (it is awake anyway) or closed

    def close(self) -> None:
        super().close()
        global _wake_fd
        pipe, self._wake_pipe = self._wake_pipe, None
        if pipe is not None:
            if _wake_fd == pipe[0]:
                _wake_fd = None
            for fd in pipe:
                try:
                    os.close(fd)
                except OSError:
                    pass
