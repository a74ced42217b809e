"""Argo Rollouts views -> widget rows: a Rollout as a workload row, and its canary detail.

The detail shows what Argo's own dashboard leaves out: each analysis metric's measured values
and the condition they had to meet, with the advisor's reading (no data is never a pass).
"""

from __future__ import annotations

from collections.abc import Iterable

from adapters.argo_views import AnalysisRunView, MetricView, RolloutView
from console.domain.analysis_advice import FAIL, NO_DATA, PASS, advise_analysis, judge_measurement
from widgets.rollout_panel import RolloutDetail
from widgets.rows import DeploymentRow

MARKS = {PASS: "✔", FAIL: "✖", NO_DATA: "∅"}
SHOWN_MEASUREMENTS = 6


def rollout_row(view: RolloutView) -> DeploymentRow:
    """The Rollout in the workload list, marked as one (its rollout column from Argo's
    phase: Paused is "paused", Degraded "stalled", Healthy "complete")."""
    return DeploymentRow(key=view.key, namespace=view.namespace, name=f"{view.name} (Rollout)",
                         ready=view.available, desired=view.desired, updated=view.updated,
                         available=view.available, revision=view.revision,
                         images=view.images, rollout=view.state)  # type: ignore[arg-type]


def runs_of(view: RolloutView, runs: Iterable[AnalysisRunView]) -> list[AnalysisRunView]:
    """The Rollout's AnalysisRuns, oldest first."""
    mine = [r for r in runs if r.namespace == view.namespace and r.rollout == view.name]
    return sorted(mine, key=lambda r: (r.created is None, r.created, r.name))


def _metric_line(metric: MetricView) -> str:
    shown = metric.measurements[-SHOWN_MEASUREMENTS:]
    values = " ".join(f"{MARKS.get(judge_measurement(m), '!')}{m.value or '∅'}"
                      for m in shown) or "no measurement yet"
    needs = f" · needs {metric.success_condition}" if metric.success_condition else ""
    limit = f" · failureLimit {metric.failure_limit}" if metric.failure_limit else ""
    return f"  {metric.name}: {metric.phase} · {values}{needs}{limit}"


def rollout_detail(view: RolloutView, runs: Iterable[AnalysisRunView]) -> RolloutDetail:
    state = "ABORTED" if view.abort else (view.phase or "not reconciled yet")
    title = f"Rollout {view.name} · {view.strategy} · {state}"
    lines: list[str] = []
    if view.strategy == "canary" and view.steps:
        lines.append(f"{view.step_text} · canary weight {view.weight} % · "
                     f"stable {view.stable_hash or '?'} · canary {view.current_hash or '?'}")
    if view.paused or view.pause_reasons:
        lines.append("paused: " + (", ".join(view.pause_reasons) or "spec.paused (manual)"))
    if view.message:
        lines.append(view.message)
    mine = runs_of(view, runs)
    current = next((r for r in mine if r.name == view.analysis_run), None)
    run = current or (mine[-1] if mine else None)
    if run is None:
        return RolloutDetail(title, tuple(lines))
    lines.append(f"analysis {run.name}: {run.phase}" + (f" · {run.message}" if run.message
                                                         else ""))
    lines.extend(_metric_line(metric) for metric in run.metrics)
    advice = advise_analysis(run)
    return RolloutDetail(title, tuple(lines), advice.level, advice.reason)


__all__ = ["rollout_detail", "rollout_row", "runs_of"]
