"""Kubernetes timestamps and kubectl's AGE column.

``human_duration`` is apimachinery's ``duration.HumanDuration`` ("5m3s", "3d4h") and
``age_since`` kubectl's ``translateTimestampSince``: what ``kubectl get`` prints, so the
console's AGE matches a terminal next to it. (Durations for people -- "4m05s" -- are
``console.domain.durations``; the two formats differ on purpose.)
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """An RFC3339 timestamp (or datetime) as an aware UTC datetime; None when unset/invalid."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python < 3.11 style safety: trim fractions longer than microseconds (MicroTime is fine).
    if "." in text:
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        zone = tail[len(digits):]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def human_duration(seconds: float | timedelta) -> str:
    """A duration as apimachinery's ``duration.HumanDuration`` prints it ("5m3s", "3d4h")."""
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    if not math.isfinite(seconds):
        return "<invalid>"
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return f"{days}d" if hours % 24 == 0 else f"{days}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        return f"{years}y" if days % 365 == 0 else f"{years}y{days % 365}d"
    return f"{years}y"


def age_since(moment: datetime | None, now: datetime | None = None) -> str:
    """kubectl's ``translateTimestampSince``: "<unknown>" for an unset time."""
    if moment is None:
        return "<unknown>"
    return human_duration((now or datetime.now(UTC)) - moment)


def later(a: datetime | None, b: Any) -> datetime | None:
    """The later of ``a`` and the timestamp ``b`` (``a`` when ``b`` is unset or invalid)."""
    moment = parse_time(b)
    if moment is None:
        return a
    return moment if a is None or moment > a else a


class ServerClock:
    """The API server's clock, estimated from the ``Date`` header of its responses.

    A bastion a couple of seconds behind the API server would otherwise show ``<invalid>``
    for the AGE of a pod just created. ``Date`` has whole seconds: a response sent at server
    time D..D+1 and received at local time t (asked at s) says the offset (server - local) is
    in [D - t, D + 1 - s]. The estimate is the middle of what the recent samples agree on;
    when they disagree (a clock was stepped) the newest sample wins.
    """

    SAMPLES = 16

    def __init__(self) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=self.SAMPLES)
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        """Seconds the server's clock is ahead of ours (negative: behind); 0 until known."""
        return self._offset

    def observe(self, date_header: str | None, sent: float, received: float) -> None:
        """One response's ``Date`` (sent/received: ``time.time()`` around the request)."""
        if not date_header:
            return
        try:
            server = parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError, IndexError):
            return
        low, high = server - received, server + 1.0 - min(sent, received)
        with self._lock:
            self._samples.append((low, high))
            lo = max(s[0] for s in self._samples)
            hi = min(s[1] for s in self._samples)
            if lo > hi:  # the samples disagree: keep the newest only
                self._samples.clear()
                self._samples.append((low, high))
                lo, hi = low, high
            self._offset = (lo + hi) / 2

    def now(self) -> datetime:
        """The server's time now, as far as we can tell."""
        return datetime.fromtimestamp(time.time() + self._offset, UTC)


__all__ = ["ServerClock", "age_since", "human_duration", "later", "parse_time"]
