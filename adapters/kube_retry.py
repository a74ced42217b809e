"""Retrying a request the API server asked us to retry: 429 (or 5xx) with ``Retry-After``.

client-go retries any request answered 429, or 500 and above, that carries an integer
``Retry-After`` header (``rest/with_retry.go``, ``checkWait``), sleeping that many seconds,
up to 10 times: so ``kubectl scale`` goes through while API Priority and Fairness sheds load
during an incident. The typed calls (the reads and writes of actions) do the same here, with
tenacity: at most ``ATTEMPTS`` attempts, each wait the header's seconds capped at
``MAX_WAIT``. A 429 or 5xx without the header is not retried (the server did not ask).

Each retry is announced to the notice installed for the calling thread (``retry_notices``),
which the action runner shows as progress: "throttled by the API server, retrying in 2 s
(attempt 2 of 5)".
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from kubernetes.client.exceptions import ApiException
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from .errors import AdapterError

ATTEMPTS = 5
MAX_WAIT = 10.0  # seconds: a server asking for longer is waited on only this long per try
T = TypeVar("T")
log = logging.getLogger(__name__)
_local = threading.local()


def retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait before retrying ``exc``, or None (no retry)."""
    if not isinstance(exc, ApiException):
        return None
    status = int(exc.status or 0)
    if status != 429 and status < 500:
        return None
    headers: Any = exc.headers or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        return None  # client-go reads only whole seconds (strconv.Atoi)
    return float(max(0, min(seconds, MAX_WAIT)))


def describe(exc: BaseException | None, seconds: float, attempt: int, attempts: int) -> str:
    """The progress line for a retry: "throttled by the API server, retrying in 2 s
    (attempt 2 of 5)"."""
    status = int(getattr(exc, "status", 0) or 0)
    why = ("throttled by the API server" if status == 429
           else f"the API server is unavailable (HTTP {status})")
    return f"{why}, retrying in {seconds:g} s (attempt {attempt} of {attempts})"


@contextlib.contextmanager
def retry_notices(notice: Callable[[str], None]) -> Iterator[None]:
    """Within the block, retries made by this thread are announced to ``notice``."""
    previous = getattr(_local, "notice", None)
    _local.notice = notice
    try:
        yield
    finally:
        _local.notice = previous


def call_with_retry(call: Callable[[], T], *, attempts: int = ATTEMPTS,
                    sleep: Callable[[float], None] = time.sleep) -> T:
    """``call()``, again after a 429/5xx with Retry-After, at most ``attempts`` times. The
    last failure is raised as it came, with ``attempts`` set on it when we retried."""

    def wait(state: RetryCallState) -> float:
        return retry_after(state.outcome.exception() if state.outcome else None) or 0.0

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        text = describe(exc, wait(state), state.attempt_number + 1, attempts)
        log.info("%s", text)
        notice = getattr(_local, "notice", None)
        if notice is not None:
            notice(text)

    retrying = Retrying(stop=stop_after_attempt(attempts), wait=wait, sleep=sleep,
                        retry=retry_if_exception(lambda exc: retry_after(exc) is not None),
                        before_sleep=before_sleep, reraise=True)
    tries = 0

    def counted() -> T:
        nonlocal tries
        tries += 1
        return call()

    try:
        return retrying(counted)
    except BaseException as exc:
        if tries > 1:
            exc.attempts = tries  # type: ignore[attr-defined]
        raise


def gave_up(error: AdapterError, cause: BaseException) -> AdapterError:
    """``error`` saying how many attempts were made, when the request was retried."""
    tries = getattr(cause, "attempts", 1)
    if tries > 1:
        error.message = f"{error.message.rstrip()} Gave up after {tries} attempts."
        error.args = (error.message,)
    return error


__all__ = ["ATTEMPTS", "call_with_retry", "describe", "gave_up", "retry_after",
           "retry_notices"]
