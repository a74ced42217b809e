"""The advisor on a canary's analysis: what its AnalysisRuns' measurements say.

Argo Rollouts' dashboard shows an analysis as passed or failed; the operator needs the numbers
behind it. ``advise_analysis(run)`` reads every metric's latest measurement with its value:

- a measurement whose value is empty (``""``, ``[]``) or NaN is **no data** -- never a pass,
  whatever phase the provider gave it (a query that matches no series "passes" a
  ``result[0] < 0.05`` condition in some setups, and NaN compares false both ways);
- a failed metric (or a failed run) -> ROLL BACK NOW: abort the canary, with the metric, its
  value and the condition it had to meet;
- no data on any metric -> UNKNOWN; every metric measured and passing -> OK while it runs
  (MONITOR until the run is Successful, then OK).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from adapters.argo_views import AnalysisRunView, MeasurementView, MetricView
from console.domain.advisor import MONITOR, OK, ROLL_BACK_NOW, UNKNOWN, Level

NO_DATA = "no data"
PASS, FAIL, ERROR = "pass", "fail", "error"
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|NaN|[-+]?Inf", re.IGNORECASE)


@dataclass(frozen=True)
class Judged:
    """One metric's latest measurement as the advisor reads it."""

    metric: str
    value: str  # as measured ("[0.07]"), "" when none yet
    verdict: str  # pass | fail | error | no data
    condition: str = ""
    measured: int = 0  # measurements so far


@dataclass(frozen=True)
class AnalysisAdvice:
    level: Level
    reason: str
    judged: tuple[Judged, ...] = ()


def numbers(value: str) -> list[float]:
    """The numbers in a measurement's value ("[0.07, NaN]" -> [0.07, nan])."""
    out = []
    for token in _NUMBER.findall(value or ""):
        try:
            out.append(float(token))
        except ValueError:
            continue
    return out


def judge_measurement(measurement: MeasurementView) -> str:
    values = numbers(measurement.value)
    if not values or any(math.isnan(v) for v in values):
        return NO_DATA
    if measurement.phase == "Failed":
        return FAIL
    if measurement.phase == "Successful":
        return PASS
    return ERROR


def _judge(metric: MetricView) -> Judged:
    last = metric.measurements[-1] if metric.measurements else None
    verdict = judge_measurement(last) if last is not None else NO_DATA
    if metric.phase == "Failed" and verdict != NO_DATA:
        verdict = FAIL
    return Judged(metric.name, last.value if last else "", verdict,
                  metric.success_condition, len(metric.measurements))


def advise_analysis(run: AnalysisRunView) -> AnalysisAdvice:
    judged = tuple(_judge(metric) for metric in run.metrics)
    failed = [j for j in judged if j.verdict == FAIL]
    if failed or run.phase in ("Failed", "Error") and not any(
            j.verdict == NO_DATA for j in judged):
        first = failed[0] if failed else None
        detail = (f"{first.metric} measured {first.value}, needs {first.condition}"
                  if first else run.message or run.phase.lower())
        return AnalysisAdvice(ROLL_BACK_NOW, f"analysis {run.name} failed: {detail} — "
                              "abort the canary", judged)
    missing = [j for j in judged if j.verdict in (NO_DATA, ERROR)]
    if missing or not judged:
        if not judged:
            return AnalysisAdvice(UNKNOWN, f"analysis {run.name}: no metrics yet", judged)
        first = missing[0]
        shown = first.value or "nothing"
        return AnalysisAdvice(UNKNOWN, f"analysis {run.name}: no data from {first.metric} "
                              f"(measured {shown}) — not a pass", judged)
    if run.phase == "Successful":
        return AnalysisAdvice(OK, f"analysis {run.name} passed", judged)
    return AnalysisAdvice(MONITOR, f"analysis {run.name} running: "
                          f"{len(judged)} metric(s) passing so far", judged)


__all__ = ["NO_DATA", "AnalysisAdvice", "Judged", "advise_analysis", "judge_measurement"]
