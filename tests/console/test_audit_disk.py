"""The audit disk's thresholds: warn under 5 % or 500 MB free, refuse under FULL_BYTES."""

from __future__ import annotations

from pathlib import Path

from console.domain.audit_disk import (
    FULL_BYTES,
    WARN_BYTES,
    AuditDiskGuard,
    disk_warning,
    human_bytes,
)


def test_warning_at_and_around_each_threshold() -> None:
    assert disk_warning(WARN_BYTES, 50.0) is None  # exactly 500 MB, half free: fine
    assert disk_warning(WARN_BYTES - 1, 50.0) == "audit disk low: 500.0 MiB free (50% free)"
    assert disk_warning(10 * WARN_BYTES, 95.0) is None  # exactly 5 % free: fine
    assert disk_warning(10 * WARN_BYTES, 95.5) is not None  # 4.5 % free
    assert disk_warning(None, 99.0) is None  # unknown is not alarming by itself
    assert disk_warning(1024, None) == "audit disk low: 1.0 KiB free"


def test_guard_reads_the_state_directory_disk(tmp_path: Path) -> None:
    guard = AuditDiskGuard(tmp_path / "state" / "not-yet")
    reading = guard.sample()
    assert reading.host is not None and reading.host.disk_free_bytes is not None
    assert reading.host.disk_free_bytes >= FULL_BYTES  # the test machine's disk has room
    assert guard.refusal() is None
    assert guard.latest is reading
    assert reading.host.api_connections is None  # every 5 s: sockets are not listed


def test_human_bytes() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(3 * 2**30) == "3.0 GiB"
