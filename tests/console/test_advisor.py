"""The advisor: every handbook threshold and every gap decision, just below / at / above."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.advisor import (
    ALL_USERS_SHARE,
    LARGE_SHARE,
    MONITOR,
    OK,
    ROLL_BACK_NOW,
    RULES,
    SMALL_SHARE,
    UNKNOWN,
    Signals,
    Verdict,
    advise,
)

HEALTHY = Signals(
    error_ratio=0.001,
    users_affected=None,
    latency_ratio=1.0,
    pods_crashing=0,
    pods_total=6,
    ready_pods=6,
)

OUTAGE = "Complete service outage"
ALL_USERS = "Critical bug affecting all users"
LARGE = "Large share of users affected"
SIGNIFICANT = "Bugs affecting 5-25% of users"
FEW = "Bugs affecting < 5% of users"
SLOW_ROLLBACK = "Performance degradation (> 10x slower)"
SLOW_DECIDE = "Performance degradation (5-10x slower)"
SLOW = "Performance degradation (2-5x slower)"
CRASH = "Pods crash-looping"
SOME_CRASH = "Some pods crash-looping"
CAPACITY = "Reduced capacity"
HEALTHY_RULE = "No handbook threshold crossed"


def verdict(**changes: Any) -> Verdict:
    return advise(dataclasses.replace(HEALTHY, **changes))


CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("healthy", {}, OK, HEALTHY_RULE),
    # latency: 2x (inclusive) .. 5x (inclusive) monitor; (5, 10] decide; > 10 roll back
    ("latency just below 2x", {"latency_ratio": 1.99}, OK, HEALTHY_RULE),
    ("latency at 2x", {"latency_ratio": 2.0}, MONITOR, SLOW),
    ("latency above 2x", {"latency_ratio": 2.01}, MONITOR, SLOW),
    ("latency just below 5x", {"latency_ratio": 4.99}, MONITOR, SLOW),
    ("latency at 5x", {"latency_ratio": 5.0}, MONITOR, SLOW),
    ("latency above 5x", {"latency_ratio": 5.01}, MONITOR, SLOW_DECIDE),
    ("latency just below 10x", {"latency_ratio": 9.99}, MONITOR, SLOW_DECIDE),
    ("latency at 10x (not > 10x)", {"latency_ratio": 10.0}, MONITOR, SLOW_DECIDE),
    ("latency above 10x", {"latency_ratio": 10.01}, ROLL_BACK_NOW, SLOW_ROLLBACK),
    # error ratio: < 1 % noise; 1-5 % few; 5-25 % significant; 25-95 % large; 95 % all; 99 % outage
    ("errors just below noise", {"error_ratio": 0.0099}, OK, HEALTHY_RULE),
    ("errors at noise floor", {"error_ratio": 0.01}, MONITOR, FEW),
    ("errors just below 5%", {"error_ratio": 0.0499}, MONITOR, FEW),
    ("errors at 5%", {"error_ratio": 0.05}, MONITOR, SIGNIFICANT),
    ("errors above 5%", {"error_ratio": 0.051}, MONITOR, SIGNIFICANT),
    ("errors just below 25%", {"error_ratio": 0.2499}, MONITOR, SIGNIFICANT),
    ("errors at 25%", {"error_ratio": 0.25}, ROLL_BACK_NOW, LARGE),
    ("errors above 25%", {"error_ratio": 0.251}, ROLL_BACK_NOW, LARGE),
    ("errors just below 95%", {"error_ratio": 0.9499}, ROLL_BACK_NOW, LARGE),
    ("errors at 95%", {"error_ratio": 0.95}, ROLL_BACK_NOW, ALL_USERS),
    ("errors just below 99%", {"error_ratio": 0.9899}, ROLL_BACK_NOW, ALL_USERS),
    ("errors at 99%", {"error_ratio": 0.99}, ROLL_BACK_NOW, OUTAGE),
    ("errors at 100%", {"error_ratio": 1.0}, ROLL_BACK_NOW, OUTAGE),
    ("errors over 100% (rate skew)", {"error_ratio": 1.03}, ROLL_BACK_NOW, OUTAGE),
    # users affected: 0 fine; (0, 5 %) few; [5, 25) significant; [25, 95) large; >= 95 % all
    ("no users affected", {"users_affected": 0.0}, OK, HEALTHY_RULE),
    ("a few users", {"users_affected": 0.001}, MONITOR, FEW),
    ("users just below 5%", {"users_affected": 0.0499}, MONITOR, FEW),
    ("users at 5%", {"users_affected": 0.05}, MONITOR, SIGNIFICANT),
    ("users just below 25%", {"users_affected": 0.2499}, MONITOR, SIGNIFICANT),
    ("users at 25%", {"users_affected": 0.25}, ROLL_BACK_NOW, LARGE),
    ("users above 25%", {"users_affected": 0.26}, ROLL_BACK_NOW, LARGE),
    ("handbook example 1: 60% of users", {"users_affected": 0.60}, ROLL_BACK_NOW, LARGE),
    ("users just below 95%", {"users_affected": 0.9499}, ROLL_BACK_NOW, LARGE),
    ("users at 95%", {"users_affected": 0.95}, ROLL_BACK_NOW, ALL_USERS),
    ("all users", {"users_affected": 1.0}, ROLL_BACK_NOW, ALL_USERS),
    # readiness: 0 ready of > 0 is an outage; at most half ready is reduced capacity
    ("no pod ready", {"ready_pods": 0}, ROLL_BACK_NOW, OUTAGE),
    ("one pod ready", {"ready_pods": 1}, MONITOR, CAPACITY),
    ("half the pods ready", {"ready_pods": 3}, MONITOR, CAPACITY),
    ("just over half ready", {"ready_pods": 4}, OK, HEALTHY_RULE),
    # crash loops: any → monitor; half or more → roll back (example 3)
    ("one pod crashing", {"pods_crashing": 1, "ready_pods": 5}, MONITOR, SOME_CRASH),
    ("just under half crashing", {"pods_crashing": 2, "ready_pods": 4}, MONITOR, SOME_CRASH),
    ("half crashing", {"pods_crashing": 3, "ready_pods": 3}, ROLL_BACK_NOW, CRASH),
    ("most crashing", {"pods_crashing": 5, "ready_pods": 1}, ROLL_BACK_NOW, CRASH),
    ("all crashing, none ready", {"pods_crashing": 6, "ready_pods": 0}, ROLL_BACK_NOW, OUTAGE),
    (
        "single pod crashing",
        {"pods_crashing": 1, "pods_total": 1, "ready_pods": 1},
        ROLL_BACK_NOW,
        CRASH,
    ),
    # flags from the handbook's immediate-rollback list
    ("data at risk", {"data_at_risk": True}, ROLL_BACK_NOW, "Data corruption or loss"),
    ("security issue", {"security_issue": True}, ROLL_BACK_NOW, "Security vulnerability"),
    ("critical path broken", {"critical_path_broken": True}, ROLL_BACK_NOW, "critical path"),
    # unknowns never make OK
    (
        "nothing known",
        {"error_ratio": None, "latency_ratio": None, "pods_total": 0, "ready_pods": 0},
        UNKNOWN,
        "Not enough signals",
    ),
    ("errors and users unknown", {"error_ratio": None}, UNKNOWN, "Not enough signals"),
    ("latency unknown", {"latency_ratio": None}, UNKNOWN, "Not enough signals"),
    ("no pods", {"pods_total": 0, "ready_pods": 0}, UNKNOWN, "Not enough signals"),
    ("error ratio NaN (no traffic)", {"error_ratio": math.nan}, UNKNOWN, "Not enough signals"),
    (
        "latency infinite (zero baseline)",
        {"latency_ratio": math.inf},
        UNKNOWN,
        "Not enough signals",
    ),
    (
        "users known stands in for errors",
        {"error_ratio": None, "users_affected": 0.0},
        OK,
        HEALTHY_RULE,
    ),
    (
        "unknowns do not hide an alarm",
        {"latency_ratio": None, "error_ratio": 0.5},
        ROLL_BACK_NOW,
        LARGE,
    ),
    ("unknowns do not hide a warning", {"latency_ratio": None, "error_ratio": 0.02}, MONITOR, FEW),
]


@pytest.mark.parametrize(
    ("changes", "level", "rule"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule_boundaries(changes: dict[str, Any], level: str, rule: str) -> None:
    result = verdict(**changes)
    assert result.level == level, result
    assert rule in result.rule, result


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"latency_ratio": 12.34}, "p99 is 12.3x the baseline"),
        ({"latency_ratio": 3.0}, "p99 is 3.0x the baseline"),
        ({"error_ratio": 0.62}, "62% of requests fail"),
        ({"error_ratio": 0.021}, "2.1% of requests fail"),
        ({"users_affected": 0.6}, "60% of users affected"),
        ({"ready_pods": 0}, "0/6 pods ready"),
        ({"pods_crashing": 4, "ready_pods": 2}, "4/6 pods crash-looping"),
        ({"ready_pods": 2}, "only 2/6 pods ready"),
    ],
)
def test_reasons_carry_the_numbers(changes: dict[str, Any], reason: str) -> None:
    assert reason in verdict(**changes).reasons


def test_most_severe_rule_wins_and_the_others_are_listed() -> None:
    result = verdict(data_at_risk=True, latency_ratio=3.0, error_ratio=0.3)
    assert result.level == ROLL_BACK_NOW
    assert result.rule == "Data corruption or loss"
    assert any(
        a.startswith("MONITOR: Performance degradation (2-5x slower)") and "3.0x" in a
        for a in result.also
    )
    assert any(a.startswith("ROLL BACK NOW: Large share of users") for a in result.also)
    assert result.headline.startswith("ROLL BACK NOW — Data corruption or loss: ")


def test_outage_reports_both_readiness_and_errors() -> None:
    result = verdict(ready_pods=0, error_ratio=1.0)
    assert result.rule == OUTAGE
    assert result.reasons == ("0/6 pods ready", "100% of requests fail")


def test_unknown_names_what_is_missing() -> None:
    result = advise(Signals(None, None, None, 0, 0, 0))
    assert result.level == UNKNOWN
    assert set(result.missing) == {
        "error ratio and share of users unknown",
        "latency ratio unknown",
        "no pods known",
    }
    partial = verdict(latency_ratio=None)
    assert partial.level == UNKNOWN
    assert "latency ratio unknown" in partial.reasons
    assert "0.1% of requests fail" in partial.reasons  # what is known is still shown


def test_ok_lists_the_evidence() -> None:
    assert verdict().reasons == (
        "0.1% of requests fail",
        "p99 is 1.0x the baseline",
        "6/6 pods ready",
    )


def test_thresholds_are_ordered() -> None:
    assert 0 < SMALL_SHARE < LARGE_SHARE < ALL_USERS_SHARE <= 1
    assert RULES[0].level == ROLL_BACK_NOW and RULES[-1].level == MONITOR


_SEVERITY = {OK: 0, UNKNOWN: 1, MONITOR: 2, ROLL_BACK_NOW: 3}
_share = st.floats(min_value=0.0, max_value=1.0)


@given(low=_share, high=_share)
def test_more_errors_never_lower_the_verdict(low: float, high: float) -> None:
    low, high = sorted((low, high))
    assert _SEVERITY[verdict(error_ratio=low).level] <= _SEVERITY[verdict(error_ratio=high).level]


@given(low=_share, high=_share)
def test_more_users_never_lower_the_verdict(low: float, high: float) -> None:
    low, high = sorted((low, high))
    assert (
        _SEVERITY[verdict(users_affected=low).level]
        <= _SEVERITY[verdict(users_affected=high).level]
    )


@given(low=st.floats(0.0, 100.0), high=st.floats(0.0, 100.0))
def test_slower_never_lowers_the_verdict(low: float, high: float) -> None:
    low, high = sorted((low, high))
    assert (
        _SEVERITY[verdict(latency_ratio=low).level] <= _SEVERITY[verdict(latency_ratio=high).level]
    )


@given(
    errors=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    users=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    latency=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    total=st.integers(0, 50),
    ready=st.integers(0, 50),
    crashing=st.integers(0, 50),
)
def test_ok_only_with_every_signal_known(
    errors: float | None,
    users: float | None,
    latency: float | None,
    total: int,
    ready: int,
    crashing: int,
) -> None:
    result = advise(Signals(errors, users, latency, crashing, total, ready))
    assert result.level in _SEVERITY
    if result.level == OK:

        def known(x: float | None) -> bool:
            return x is not None and math.isfinite(x)

        assert known(errors) or known(users)
        assert known(latency)
        assert total > 0
