"""The bastion's own health, and whether the audit log can still be written.

The audit log lives in the state directory on the bastion's disk. A disk that fills up ends
the audit trail; the console warns well before (under ``WARN_SHARE`` free, or under
``WARN_BYTES``) and refuses new mutations, with the reason, once the log can no longer be
written (under ``FULL_BYTES`` free, or the state directory is not writable): an action
without its record is what the audit log exists to prevent.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from adapters.host import HostHealth, sample_host

WARN_SHARE = 0.05  # warn under 5 % free ...
WARN_BYTES = 500 * 1024 * 1024  # ... or under 500 MB free
FULL_BYTES = 256 * 1024  # an action writes a few records of a few KiB; below this, stop


def human_bytes(value: float) -> str:
    """1536 → "1.5 KiB"; 3.2e9 → "3.0 GiB"."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def disk_warning(free: int | None, used_percent: float | None) -> str | None:
    """"audit disk low: 812.0 KiB free (1% free)" when under either threshold, else None."""
    if free is None:
        return None
    share = None if used_percent is None else max(0.0, 100.0 - used_percent) / 100.0
    if free >= WARN_BYTES and (share is None or share >= WARN_SHARE):
        return None
    left = f" ({share * 100:.0f}% free)" if share is not None else ""
    return f"audit disk low: {human_bytes(free)} free{left}"


@dataclass(frozen=True)
class BastionHealth:
    """The latest reading: the host's health and the audit disk's verdicts."""

    host: HostHealth | None
    warning: str | None = None  # the disk is filling
    refusal: str | None = None  # the audit log cannot be written: no mutation may run


class AuditDiskGuard:
    """Reads the host (``sample`` in a worker thread) and keeps the latest verdicts."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._lock = threading.Lock()
        self._latest = BastionHealth(None)

    @property
    def latest(self) -> BastionHealth:
        with self._lock:
            return self._latest

    def sample(self) -> BastionHealth:
        # the header shows load, memory and the audit disk, not the connection count
        health = sample_host(str(self.state_dir), connections=False)
        reading = BastionHealth(health, disk_warning(health.disk_free_bytes, health.disk_percent),
                                self._cannot_write(health.disk_free_bytes))
        with self._lock:
            self._latest = reading
        return reading

    def refusal(self) -> str | None:
        """Why no mutation may run now (the audit log cannot be written), or None."""
        return self.latest.refusal

    def _cannot_write(self, free: int | None) -> str | None:
        where = self.state_dir
        if free is not None and free < FULL_BYTES:
            return (f"refused: the audit log cannot be written, the disk holding {where} has "
                    f"{human_bytes(free)} free; free space there before acting")
        existing = where if where.exists() else where.parent
        if existing.exists() and not os.access(existing, os.W_OK):
            return f"refused: the audit log cannot be written, {where} is not writable"
        return None
