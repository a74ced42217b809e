"""The crash rules (handbook Example 3) and the restart log they read: at, below and above
each boundary (2 vs 3 restarts, exactly one hour, scaled up or not, after the rollback)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adapters.kube_views import PodView
from console.domain.advisor import MONITOR, OK, ROLL_BACK_NOW, Signals, advise
from console.domain.advisor_crashes import RULE_NAMES
from console.domain.pod_index import PodIndex

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HEALTHY = Signals(error_ratio=0.001, users_affected=None, latency_ratio=1.0, pods_crashing=0,
                  pods_total=3, ready_pods=3)


def test_three_oom_kills_in_the_hour_say_scale_up_then_roll_back() -> None:
    verdict = advise(replace(HEALTHY, restarts_last_hour=3, oom_kills_last_hour=3))
    assert verdict.level == MONITOR
    assert verdict.rule == RULE_NAMES["repeated"]
    assert verdict.reasons[0] == ("OOM-killed 3x in the last hour: scale up to buy time, then "
                                  "roll back to the previous version (handbook Example 3)")


def test_two_kills_are_not_yet_repeated() -> None:
    verdict = advise(replace(HEALTHY, restarts_last_hour=2, oom_kills_last_hour=2))
    assert verdict.level == MONITOR
    assert verdict.rule == RULE_NAMES["occasional"]
    assert verdict.reasons[0].startswith("OOM-killed 2x in the last hour: watch memory")
    assert advise(HEALTHY).level == OK  # no restart at all: nothing to say


def test_after_scale_up_the_advice_moves_on_to_the_rollback() -> None:
    scaled = replace(HEALTHY, pods_total=10, ready_pods=10, restarts_last_hour=4,
                     oom_kills_last_hour=4, scaled_from=3)
    verdict = advise(scaled)
    assert verdict.rule == RULE_NAMES["repeated"]
    assert "scaled up 3 → 10, which buys time: now roll back" in verdict.reasons[0]
    # "scaled from" the same count or more is no scale-up
    same = advise(replace(scaled, scaled_from=10))
    assert "scale up to buy time" in same.reasons[0]


def test_mixed_restarts_are_named_and_outage_still_rolls_back() -> None:
    mixed = advise(replace(HEALTHY, restarts_last_hour=3, oom_kills_last_hour=1))
    assert mixed.reasons[0].startswith("restarted 3x in the last hour (1 OOM kills)")
    crashed = advise(replace(HEALTHY, restarts_last_hour=5))
    assert crashed.reasons[0].startswith("crashed 5x in the last hour")
    outage = advise(replace(HEALTHY, ready_pods=0, pods_crashing=3, restarts_last_hour=6,
                            oom_kills_last_hour=6))
    assert outage.level == ROLL_BACK_NOW
    assert outage.rule == "Complete service outage"
    assert any(RULE_NAMES["repeated"] in also for also in outage.also)


def test_crash_rule_leads_the_other_monitor_rules() -> None:
    verdict = advise(replace(HEALTHY, error_ratio=0.08, latency_ratio=6.0, restarts_last_hour=3,
                             oom_kills_last_hour=3))
    assert verdict.level == MONITOR and verdict.rule == RULE_NAMES["repeated"]
    assert len(verdict.also) == 2  # 5-25 % of users, 5-10x slower


def test_memory_climbing_on_a_new_revision_points_at_it() -> None:
    note = "memory climbs on revision 4 (1.7.0): at the limit in 12m"
    verdict = advise(replace(HEALTHY, memory_note=note))
    assert verdict.level == MONITOR and verdict.rule == RULE_NAMES["memory"]
    assert verdict.reasons[0].startswith(note)
    with_kills = advise(replace(HEALTHY, memory_note=note, restarts_last_hour=3,
                                oom_kills_last_hour=3))
    assert with_kills.rule == RULE_NAMES["repeated"] and note in with_kills.reasons


def pod(name: str, restarts: int, finished: datetime | None, reason: str = "OOMKilled") -> PodView:
    return PodView(name=name, namespace="shop", ready="1/1", status="Running",
                   restarts=restarts, age="1h", deployment="api",
                   last_termination=reason if finished else "", terminated_at=finished,
                   last_restart=finished)


def test_restart_log_counts_increments_within_the_hour_inclusive() -> None:
    index = PodIndex()
    index.upsert(pod("api-a", 0, None), NOW - timedelta(hours=2))
    index.upsert(pod("api-a", 1, NOW - timedelta(hours=1)), NOW - timedelta(hours=1))
    index.upsert(pod("api-a", 2, NOW - timedelta(minutes=30)), NOW)
    index.upsert(pod("api-b", 0, None), NOW)
    index.upsert(pod("api-b", 1, NOW - timedelta(minutes=5), "Error"), NOW)
    recent = index.restarts_within("shop/api", NOW)
    assert (recent.total, recent.oom) == (3, 2)  # exactly one hour ago still counts
    later = index.restarts_within("shop/api", NOW + timedelta(seconds=1))
    assert (later.total, later.oom) == (2, 1)
    assert later.latest == NOW - timedelta(minutes=5)
    # a pod seen first with restarts: only its last termination has a time
    index.upsert(pod("api-c", 7, NOW - timedelta(minutes=1)), NOW)
    assert index.restarts_within("shop/api", NOW).total == 4
    # deleted pods (the bad revision after a rollback) take their restarts with them
    for name in ("api-a", "api-b", "api-c"):
        index.delete(f"shop/{name}")
    assert index.restarts_within("shop/api", NOW).total == 0


def test_time_to_limit_fits_the_climb_since_the_last_kill() -> None:
    from console.domain.memory_trend import HORIZON_S, time_to_limit

    mib = 2**20
    limit = 512 * mib
    times = [float(t) for t in range(0, 600, 60)]
    climbing = [200 * mib + t * 0.1 * mib for t in times]  # 0.1 MiB/s, 254 MiB at 540 s
    assert time_to_limit(times, climbing, limit) == pytest.approx((512 - 254) / 0.1)
    assert time_to_limit(times, climbing, None) is None  # no limit declared
    flat = [200 * mib + (mib if i % 2 else 0) for i in range(len(times))]
    assert time_to_limit(times, flat, limit) is None  # wobble is no leak
    # a kill at 300 s: only the climb after it counts
    sawtooth = [500 * mib, 505 * mib, 510 * mib, 511 * mib, 512 * mib,
                150 * mib, 156 * mib, 162 * mib, 168 * mib, 174 * mib]
    left = time_to_limit(times, sawtooth, limit)
    assert left == pytest.approx((512 - 174) / 0.1)
    assert time_to_limit(times, [*climbing[:-1], None], limit) is not None  # gaps skipped
    slow = [200 * mib + t * 0.001 * mib for t in times]
    assert time_to_limit(times, slow, limit) is None  # rises < 2 % of the limit
    far = [100 * mib + t * 0.02 * mib for t in times]  # a real climb, but 5.6 hours away
    assert (512 - 110.8) / 0.02 > HORIZON_S and time_to_limit(times, far, limit) is None
    assert time_to_limit(times, [*climbing[:-1], limit], limit) == 0.0


def test_restart_log_keeps_the_last_restarts_of_each_pod() -> None:
    """A count that jumps (a missed stretch of the watch) records at most ``keep``; a pod's
    oldest restarts leave the workload's count as newer ones come; moving a pod to another
    workload moves its restarts."""
    from console.domain.restart_log import RestartLog

    log = RestartLog(keep=4)
    log.observe(pod("api-a", 0, None), pod("api-a", 1000, NOW - timedelta(minutes=2)), NOW,
                "shop/api")
    assert log.of_group("shop/api", NOW).total == 4
    for restarts in range(1001, 1004):  # three more, an hour before: the 4 newest are kept
        log.observe(pod("api-a", restarts - 1, NOW), pod("api-a", restarts, NOW - timedelta(
            hours=2), "Error"), NOW, "shop/api")
    recent = log.of_group("shop/api", NOW)
    assert (recent.total, recent.oom, recent.latest) == (1, 1, NOW - timedelta(minutes=2))
    assert log.of_group("shop/api", NOW, timedelta(hours=3)).total == 4
    log.observe(pod("api-a", 1003, None), pod("api-a", 1004, NOW), NOW, "shop/web")
    assert log.of_group("shop/api", NOW, timedelta(hours=3)).total == 0
    assert log.of_group("shop/web", NOW).total == 1
    log.forget("shop/api-a")
    assert log.of_group("shop/web", NOW) == log.of_group("shop/none", NOW)
