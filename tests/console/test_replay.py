"""Replaying an audit log: same records, same order, delays scaled by the chosen speed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.domain.audit import AuditLog
from console.rehearsal.replay import ReplayClock, entries, load_replay, play

START = datetime(2024, 11, 9, 10, 0, 0, tzinfo=UTC)
OFFSETS = (0.0, 1.5, 1.5, 4.0, 64.0)  # seconds after the first record


def pinned(offsets: tuple[float, ...]) -> Iterator[datetime]:
    for offset in offsets:
        yield START + timedelta(seconds=offset)


def write_log(path: Path, offsets: tuple[float, ...] = OFFSETS) -> AuditLog:
    times = pinned(offsets)
    log = AuditLog(path, context="drill", namespace="shop", extra_secrets=(),
                   clock=lambda: next(times))
    for i, _ in enumerate(offsets):
        log.append("action.finished" if i % 2 else "action.requested", action=f"a{i}",
                   target="deployment/api", params={"i": i})
    return log


def test_load_gives_the_records_in_order_with_relative_times(tmp_path: Path) -> None:
    log = write_log(tmp_path / "drill.jsonl")
    loaded = load_replay(log.path)
    assert [e.record.seq for e in loaded] == [1, 2, 3, 4, 5]
    assert [e.record.action for e in loaded] == ["a0", "a1", "a2", "a3", "a4"]
    assert [e.record.params["i"] for e in loaded] == [0, 1, 2, 3, 4]
    assert [e.offset_s for e in loaded] == pytest.approx(list(OFFSETS))
    assert loaded == entries(log.records())


@pytest.mark.parametrize(("speed", "expected"), [
    (1.0, [0.0, 1.5, 0.0, 2.5, 60.0]),
    (2.0, [0.0, 0.75, 0.0, 1.25, 30.0]),
    (60.0, [0.0, 0.025, 0.0, 2.5 / 60, 1.0]),
    (0.0, [0.0, 0.0, 0.0, 0.0, 0.0]),
])
def test_delays_scale_with_speed(tmp_path: Path, speed: float, expected: list[float]) -> None:
    loaded = load_replay(write_log(tmp_path / "drill.jsonl").path)
    clock = ReplayClock(loaded, speed=speed)
    pairs = list(clock)
    assert [d for d, _ in pairs] == pytest.approx(expected)
    assert [r.seq for _, r in pairs] == [1, 2, 3, 4, 5]
    assert clock.duration_s == pytest.approx(sum(expected))
    assert len(clock) == 5


def test_long_gaps_can_be_capped(tmp_path: Path) -> None:
    loaded = load_replay(write_log(tmp_path / "drill.jsonl").path)
    clock = ReplayClock(loaded, speed=2.0, max_gap_s=10.0)
    assert [d for d, _ in clock] == pytest.approx([0.0, 0.75, 0.0, 1.25, 5.0])


def test_backwards_clock_waits_nothing(tmp_path: Path) -> None:
    # a second console appended with a clock 3 s behind
    log = write_log(tmp_path / "pair.jsonl", (0.0, 10.0, 7.0, 12.0))
    loaded = load_replay(log.path)
    assert [e.offset_s for e in loaded] == pytest.approx([0.0, 10.0, 7.0, 12.0])
    assert [d for d, _ in ReplayClock(loaded)] == pytest.approx([0.0, 10.0, 0.0, 2.0])


def test_play_shows_every_record_after_its_delay(tmp_path: Path) -> None:
    loaded = load_replay(write_log(tmp_path / "drill.jsonl").path)
    waited: list[float] = []
    shown: list[int] = []
    count = play(ReplayClock(loaded, speed=4.0), lambda r: shown.append(r.seq), waited.append)
    assert count == 5 and shown == [1, 2, 3, 4, 5]
    assert waited == pytest.approx([1.5 / 4, 2.5 / 4, 60.0 / 4])  # no zero waits


def test_incomplete_last_line_and_missing_file(tmp_path: Path) -> None:
    log = write_log(tmp_path / "torn.jsonl")
    with open(log.path, "ab") as handle:
        handle.write(b'{"time": "2024-11-09T10:05:00.000Z", "seq": 6, "ki')
    assert [e.record.seq for e in load_replay(log.path)] == [1, 2, 3, 4, 5]
    assert load_replay(tmp_path / "absent.jsonl") == []
    assert list(ReplayClock([], speed=0)) == []


def test_negative_speed_is_refused() -> None:
    with pytest.raises(ValueError):
        ReplayClock([], speed=-1)
