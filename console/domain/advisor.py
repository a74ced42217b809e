"""The rollback advisor: the handbook's "When to Rollback" thresholds as a decision table.

``advise(signals)`` returns a ``Verdict``: ``ROLL BACK NOW``, ``MONITOR``, ``OK`` or
``UNKNOWN``, the handbook rule that fired and the numbers behind it.

The handbook (SEED.md, "When to Rollback") gives the ends of each scale; the gaps between them
are decided here, in one table (``RULES``), most severe first:

================================  ============================================  ==============
signal                            threshold                                     verdict
================================  ============================================  ==============
data at risk                      flag set                                      ROLL BACK NOW
security issue                    flag set                                      ROLL BACK NOW
complete outage                   0 ready pods of > 0, or errors >= 99 %        ROLL BACK NOW
critical bug, all users           users >= 95 % or errors >= 95 %               ROLL BACK NOW
critical path broken              flag set (Procedure 1 step 4 check fails)     ROLL BACK NOW
performance                       p99 > 10x baseline                            ROLL BACK NOW
large share of users (gap)        users >= 25 % or errors >= 25 %               ROLL BACK NOW
crash-looping pods (gap)          >= half of the pods crash-looping             ROLL BACK NOW
performance (gap)                 5x < p99 <= 10x baseline                      MONITOR (decide)
significant share (gap)           5 % <= users or errors < 25 %                 MONITOR (decide)
performance                       2x <= p99 <= 5x baseline                      MONITOR
bugs, < 5 % of users              0 < users < 5 %, or 1 % <= errors < 5 %       MONITOR
some pods crash-looping           1 pod .. under half                           MONITOR
reduced capacity                  at most half of the pods ready (but some)     MONITOR
================================  ============================================  ==============

Restarts in the last hour (OOM kills, crashes) and memory climbing on a new revision are the
crash rules of ``advisor_crashes`` (handbook Example 3), MONITOR, placed before the other
MONITOR rules: a leak calls for scale-up, then roll back.

Why the gap choices:

- **25 % of users → roll back.** The handbook's Example 1 rolled back with 60 % of users
  broken, and Procedure 1 rolls back whenever a fix takes longer than 15 minutes. With a quarter
  of users failing there is no room to wait for a fix; below that the handbook's "monitor and
  decide" applies, and 5-25 % is flagged as the urgent end of it.
- **Error ratio stands in for users.** When the share of users is not known, the share of
  failing requests is the best estimate of it, with the same cut-offs. Under 1 % of requests
  failing is background noise (OK).
- **Crash loops at half the pods → roll back.** Example 3 (memory leak) rolls back once pods
  crash repeatedly; with half of them down, the rest carry double load and follow.
- **5-10x slower → MONITOR, decide now.** Beyond the handbook's 2-5x "monitor" band but short
  of its "> 10x" rollback line: Procedure 3 (quick mitigations, then roll back if not resolved).

Unknown signals (``None``, NaN, infinite) never count as healthy: ``OK`` needs the error ratio
(or share of users), the latency ratio and pod counts all known; with nothing alarming but
something missing the verdict is ``UNKNOWN``. Ratios slightly over 1 (rate skew between two
Prometheus series) are clamped to 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from console.domain import advisor_crashes as crashes

Level = Literal["ROLL BACK NOW", "MONITOR", "OK", "UNKNOWN"]
ROLL_BACK_NOW: Level = "ROLL BACK NOW"
MONITOR: Level = "MONITOR"
OK: Level = "OK"
UNKNOWN: Level = "UNKNOWN"

# ---- thresholds (shares are 0..1, latency is p99 / baseline p99) ------------------------------
ALL_USERS_SHARE = 0.95  # "Critical bugs affecting all users": essentially everyone
OUTAGE_ERROR_RATIO = 0.99  # "Complete service outage" when measured by requests
LARGE_SHARE = 0.25  # gap: at or above → roll back (Example 1 rolled back at 60 %)
SMALL_SHARE = 0.05  # "Bugs affecting < 5% of users" → monitor; 5-25 % → monitor, decide now
ERROR_NOISE_RATIO = 0.01  # under 1 % failing requests is background noise
ROLLBACK_SLOWDOWN = 10.0  # "Performance degradation (> 10x slower)" → roll back (strictly >)
DECIDE_SLOWDOWN = 5.0  # gap: above 5x and up to 10x → monitor, decide now
MONITOR_SLOWDOWN = 2.0  # "Performance degradation (2-5x slower)" → monitor (2x inclusive)
CRASHING_PODS_SHARE = 0.5  # gap: half the pods crash-looping → roll back (Example 3)
NOT_READY_SHARE = 0.5  # at most half the pods ready → reduced capacity, monitor

_SEVERITY: dict[Level, int] = {ROLL_BACK_NOW: 3, MONITOR: 2, UNKNOWN: 1, OK: 0}


@dataclass(frozen=True)
class Signals:
    """What the console knows right now; ``None`` means not measured / not known.

    ``error_ratio`` is the share of failing requests (0..1), ``users_affected`` the share of
    users hit (0..1, an operator's or probe's estimate), ``latency_ratio`` p99 divided by the
    pre-deploy baseline p99. Pod counts are for the deployment under watch.
    """

    error_ratio: float | None
    users_affected: float | None
    latency_ratio: float | None
    pods_crashing: int
    pods_total: int
    ready_pods: int
    data_at_risk: bool = False
    security_issue: bool = False
    critical_path_broken: bool = False
    no_data: str | None = None  # the series the metrics query looked for and did not find
    restarts_last_hour: int = 0  # container restarts of the pods running now (RestartLog)
    oom_kills_last_hour: int = 0  # ... of which OOM kills
    scaled_from: int | None = None  # replicas when the restarts began, if scaled up since
    memory_note: str | None = None  # memory climbing on the current revision, in words


@dataclass(frozen=True)
class Verdict:
    """The advice: ``level``, the handbook ``rule`` that decided it and the numbers behind it.

    ``also`` lists other rules that fired (``"MONITOR: Performance degradation (2-5x slower)
    — p99 is 3.0x the baseline"``); ``missing`` names the signals that were unknown.
    """

    level: Level
    rule: str
    reasons: tuple[str, ...]
    also: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def headline(self) -> str:
        """``ROLL BACK NOW — Complete service outage: 0/6 pods ready``."""
        detail = f": {'; '.join(self.reasons)}" if self.reasons else ""
        return f"{self.level} — {self.rule}{detail}"


@dataclass(frozen=True)
class _Clean:
    """Signals with unknowns normalised to None and ratios clamped."""

    errors: float | None
    users: float | None
    latency: float | None
    crashing: int
    total: int
    ready: int
    data_at_risk: bool
    security_issue: bool
    critical_path_broken: bool
    no_data: str | None = None
    restarts: int = 0
    oom_kills: int = 0
    scaled_from: int | None = None
    memory_note: str | None = None


@dataclass(frozen=True)
class Rule:
    """One row of the decision table: fires with reasons, or returns None."""

    level: Level
    name: str
    check: Callable[[_Clean], tuple[str, ...] | None]


# ---- reason formatting -----------------------------------------------------------------------
def _pct(share: float) -> str:
    value = share * 100
    return f"{value:.0f}%" if value >= 10 or value == int(value) else f"{value:.1f}%"


def _errors(c: _Clean) -> str:
    return f"{_pct(c.errors or 0.0)} of requests fail"


def _users(c: _Clean) -> str:
    return f"{_pct(c.users or 0.0)} of users affected"


def _latency(c: _Clean) -> str:
    return f"p99 is {c.latency:.1f}x the baseline"


def _share_reasons(c: _Clean, low: float, high: float | None) -> tuple[str, ...] | None:
    """Reasons when users or errors fall in [low, high) (high None = no upper bound)."""
    reasons = []
    if c.users is not None and c.users >= low and (high is None or c.users < high):
        reasons.append(_users(c))
    if c.errors is not None and c.errors >= low and (high is None or c.errors < high):
        reasons.append(_errors(c))
    return tuple(reasons) or None


# ---- the rules -------------------------------------------------------------------------------
def _data(c: _Clean) -> tuple[str, ...] | None:
    return ("data is at risk (corruption or loss reported)",) if c.data_at_risk else None


def _security(c: _Clean) -> tuple[str, ...] | None:
    return ("a security vulnerability was reported",) if c.security_issue else None


def _outage(c: _Clean) -> tuple[str, ...] | None:
    reasons = []
    if c.total > 0 and c.ready == 0:
        reasons.append(f"0/{c.total} pods ready")
    if c.errors is not None and c.errors >= OUTAGE_ERROR_RATIO:
        reasons.append(_errors(c))
    return tuple(reasons) or None


def _all_users(c: _Clean) -> tuple[str, ...] | None:
    return _share_reasons(c, ALL_USERS_SHARE, None)


def _critical_path(c: _Clean) -> tuple[str, ...] | None:
    return ("a critical path check fails",) if c.critical_path_broken else None


def _very_slow(c: _Clean) -> tuple[str, ...] | None:
    return (_latency(c),) if c.latency is not None and c.latency > ROLLBACK_SLOWDOWN else None


def _large_share(c: _Clean) -> tuple[str, ...] | None:
    return _share_reasons(c, LARGE_SHARE, ALL_USERS_SHARE)


def _crash_loop(c: _Clean) -> tuple[str, ...] | None:
    if c.total > 0 and c.crashing >= CRASHING_PODS_SHARE * c.total:
        return (f"{c.crashing}/{c.total} pods crash-looping",)
    return None


def _slow_decide(c: _Clean) -> tuple[str, ...] | None:
    if c.latency is not None and DECIDE_SLOWDOWN < c.latency <= ROLLBACK_SLOWDOWN:
        return (_latency(c),)
    return None


def _significant_share(c: _Clean) -> tuple[str, ...] | None:
    return _share_reasons(c, SMALL_SHARE, LARGE_SHARE)


def _slow(c: _Clean) -> tuple[str, ...] | None:
    if c.latency is not None and MONITOR_SLOWDOWN <= c.latency <= DECIDE_SLOWDOWN:
        return (_latency(c),)
    return None


def _few_users(c: _Clean) -> tuple[str, ...] | None:
    reasons = []
    if c.users is not None and 0 < c.users < SMALL_SHARE:
        reasons.append(_users(c))
    if c.errors is not None and ERROR_NOISE_RATIO <= c.errors < SMALL_SHARE:
        reasons.append(_errors(c))
    return tuple(reasons) or None


def _some_crashing(c: _Clean) -> tuple[str, ...] | None:
    if c.total > 0 and 0 < c.crashing < CRASHING_PODS_SHARE * c.total:
        return (f"{c.crashing}/{c.total} pods crash-looping",)
    return None


def _capacity(c: _Clean) -> tuple[str, ...] | None:
    if c.total > 0 and 0 < c.ready <= NOT_READY_SHARE * c.total:
        return (f"only {c.ready}/{c.total} pods ready",)
    return None


RULES: tuple[Rule, ...] = (
    Rule(ROLL_BACK_NOW, "Data corruption or loss", _data),
    Rule(ROLL_BACK_NOW, "Security vulnerability discovered", _security),
    Rule(ROLL_BACK_NOW, "Complete service outage", _outage),
    Rule(ROLL_BACK_NOW, "Critical bug affecting all users", _all_users),
    Rule(ROLL_BACK_NOW, "Critical bug: a critical path is broken", _critical_path),
    Rule(ROLL_BACK_NOW, "Performance degradation (> 10x slower)", _very_slow),
    Rule(
        ROLL_BACK_NOW,
        "Large share of users affected (>= 25%; handbook Example 1 rolled back at 60%)",
        _large_share,
    ),
    Rule(
        ROLL_BACK_NOW,
        "Pods crash-looping (half or more; handbook Example 3, memory leak)",
        _crash_loop,
    ),
    Rule(MONITOR, crashes.RULE_NAMES["repeated"], crashes.repeated),
    Rule(MONITOR, crashes.RULE_NAMES["occasional"], crashes.occasional),
    Rule(MONITOR, "Performance degradation (5-10x slower): decide now, Procedure 3", _slow_decide),
    Rule(
        MONITOR,
        "Bugs affecting 5-25% of users: decide now, quick fix or roll back",
        _significant_share,
    ),
    Rule(MONITOR, "Performance degradation (2-5x slower)", _slow),
    Rule(MONITOR, "Bugs affecting < 5% of users", _few_users),
    Rule(MONITOR, "Some pods crash-looping", _some_crashing),
    Rule(MONITOR, "Reduced capacity (half or fewer pods ready)", _capacity),
    Rule(MONITOR, crashes.RULE_NAMES["memory"], crashes.memory_climbing),
)


def _known(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return float(value)


def _clean(s: Signals) -> _Clean:
    errors, users, latency = (
        _known(s.error_ratio),
        _known(s.users_affected),
        _known(s.latency_ratio),
    )
    total = max(0, s.pods_total)
    return _Clean(
        errors=None if errors is None else min(1.0, max(0.0, errors)),
        users=None if users is None else min(1.0, max(0.0, users)),
        latency=None if latency is None or latency < 0 else latency,
        crashing=min(max(0, s.pods_crashing), total),
        total=total,
        ready=max(0, s.ready_pods),
        data_at_risk=s.data_at_risk,
        security_issue=s.security_issue,
        critical_path_broken=s.critical_path_broken,
        no_data=s.no_data,
        restarts=max(0, s.restarts_last_hour),
        oom_kills=max(0, min(s.oom_kills_last_hour, s.restarts_last_hour)),
        scaled_from=s.scaled_from if s.scaled_from is not None and s.scaled_from < total
        else None,
        memory_note=s.memory_note or None,
    )


def _missing(c: _Clean) -> tuple[str, ...]:
    missing = []
    if c.errors is None and c.users is None:
        # an empty answer is not 0 % errors: say what was looked for
        missing.append(f"no data: {c.no_data}" if c.no_data
                       else "error ratio and share of users unknown")
    if c.latency is None:
        missing.append("latency ratio unknown")
    if c.total == 0:
        missing.append("no pods known")
    return tuple(missing)


def _healthy(c: _Clean) -> tuple[str, ...]:
    reasons = []
    if c.errors is not None:
        reasons.append(_errors(c))
    if c.users is not None:
        reasons.append(_users(c))
    if c.latency is not None:
        reasons.append(_latency(c))
    if c.total:
        reasons.append(f"{c.ready}/{c.total} pods ready")
    return tuple(reasons)


def advise(signals: Signals) -> Verdict:
    """Apply ``RULES`` to ``signals``: the most severe rule that fires decides the verdict."""
    c = _clean(signals)
    fired = [(rule, reasons) for rule in RULES if (reasons := rule.check(c))]
    missing = _missing(c)
    if fired:
        top = max(_SEVERITY[rule.level] for rule, _ in fired)
        rule, reasons = next((r, why) for r, why in fired if _SEVERITY[r.level] == top)
        also = tuple(
            f"{other.level}: {other.name} — {'; '.join(why)}"
            for other, why in fired
            if other is not rule
        )
        return Verdict(rule.level, rule.name, reasons, also, missing)
    if missing:
        return Verdict(
            UNKNOWN, "Not enough signals to call it healthy", missing + _healthy(c), (), missing
        )
    return Verdict(OK, "No handbook threshold crossed", _healthy(c))


__all__ = [
    "ALL_USERS_SHARE",
    "CRASHING_PODS_SHARE",
    "DECIDE_SLOWDOWN",
    "ERROR_NOISE_RATIO",
    "LARGE_SHARE",
    "MONITOR",
    "MONITOR_SLOWDOWN",
    "NOT_READY_SHARE",
    "OK",
    "OUTAGE_ERROR_RATIO",
    "ROLLBACK_SLOWDOWN",
    "ROLL_BACK_NOW",
    "RULES",
    "SMALL_SHARE",
    "UNKNOWN",
    "Level",
    "Rule",
    "Signals",
    "Verdict",
    "advise",
]
