"""Argo Rollouts objects as plain views: a Rollout's canary state and its AnalysisRuns.

Field names are Argo's (argoproj/argo-rollouts, pkg/apis/rollouts/v1alpha1): a canary's step
is `status.currentStepIndex` of `spec.strategy.canary.steps` (the plugin prints it as
"Step: 1/6"), its weight `status.canary.weights.canary.weight`, a pause `spec.paused` or
`status.pauseConditions`, an abort `status.abort`. An AnalysisRun's measurements keep their
`value` as the provider returned it (`[0.07]`, `[]`, `[NaN]`): the console shows it, so the
operator sees *why* an analysis failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .kube_json import as_int, as_json, as_list, as_map, as_str, container_images, controller_of
from .kube_time import parse_time
from .kube_views import ROLLOUT_HASH_LABEL
from .kube_views import ROLLOUT_REVISION as ROLLOUT_REVISION_ANNOTATION

# Argo's phases -> the workload list's rollout states
PHASE_STATES = {"Healthy": "complete", "Progressing": "progressing", "Paused": "paused",
                "Degraded": "stalled"}


@dataclass(frozen=True)
class MeasurementView:
    phase: str
    value: str  # as the provider returned it: "[0.07]", "[]", "[NaN]", "" (none)
    finished: datetime | None = None
    message: str = ""


@dataclass(frozen=True)
class MetricView:
    """One metric of an AnalysisRun: its condition (from the spec) and what was measured."""

    name: str
    phase: str
    success_condition: str = ""
    failure_condition: str = ""
    query: str = ""
    failure_limit: int = 0
    count: int = 0
    measurements: tuple[MeasurementView, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class AnalysisRunView:
    namespace: str
    name: str
    rollout: str  # the owning Rollout's name ("" when none)
    phase: str
    message: str = ""
    metrics: tuple[MetricView, ...] = ()
    created: datetime | None = None
    resource_version: str = ""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class RolloutView:
    namespace: str
    name: str
    strategy: str  # canary | blueGreen
    phase: str  # Healthy | Progressing | Paused | Degraded ("" before the controller saw it)
    message: str = ""
    desired: int = 1
    ready: int = 0
    available: int = 0
    updated: int = 0
    step_index: int | None = None
    steps: int = 0
    weight: int = 0  # canary traffic weight, percent
    paused: bool = False  # spec.paused (the plugin's pause)
    pause_reasons: tuple[str, ...] = ()  # status.pauseConditions[].reason
    abort: bool = False
    promote_full: bool = False
    stable_hash: str = ""
    current_hash: str = ""
    analysis_run: str = ""  # status.canary.currentStepAnalysisRunStatus.name
    analysis_status: str = ""
    revision: int | None = None
    images: tuple[str, ...] = ()
    generation: int = 0
    resource_version: str = ""
    uid: str = ""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def step_text(self) -> str:
        """"step 1/6" as the plugin counts (the current step index of the steps)."""
        if self.strategy != "canary" or not self.steps:
            return ""
        index = self.steps if self.step_index is None else self.step_index
        return f"step {index}/{self.steps}"

    @property
    def state(self) -> str:
        """The workload list's rollout state: complete | progressing | paused | stalled."""
        if self.paused or self.pause_reasons:
            return "paused"
        return PHASE_STATES.get(self.phase, "progressing")

    @property
    def canary_running(self) -> bool:
        return bool(self.current_hash) and self.current_hash != self.stable_hash


def rollout_view(obj: Any) -> RolloutView:
    data = as_json(obj)
    meta, spec, status = (as_map(data.get(k)) for k in ("metadata", "spec", "status"))
    strategy = as_map(spec.get("strategy"))
    canary = as_map(strategy.get("canary"))
    weights = as_map(as_map(status.get("canary")).get("weights"))
    run = as_map(as_map(status.get("canary")).get("currentStepAnalysisRunStatus"))
    index = status.get("currentStepIndex")
    revision = as_map(meta.get("annotations")).get(ROLLOUT_REVISION_ANNOTATION)
    template = as_map(spec.get("template"))
    return RolloutView(
        namespace=as_str(meta.get("namespace")), name=as_str(meta.get("name")),
        strategy="blueGreen" if "blueGreen" in strategy else "canary",
        phase=as_str(status.get("phase")), message=as_str(status.get("message")),
        desired=as_int(spec.get("replicas"), 1), ready=as_int(status.get("readyReplicas")),
        available=as_int(status.get("availableReplicas")),
        updated=as_int(status.get("updatedReplicas")),
        step_index=index if isinstance(index, int) and not isinstance(index, bool) else None,
        steps=len(as_list(canary.get("steps"))),
        weight=as_int(as_map(weights.get("canary")).get("weight")),
        paused=spec.get("paused") is True,
        pause_reasons=tuple(as_str(as_map(c).get("reason"))
                            for c in as_list(status.get("pauseConditions"))),
        abort=status.get("abort") is True, promote_full=status.get("promoteFull") is True,
        stable_hash=as_str(status.get("stableRS")),
        current_hash=as_str(status.get("currentPodHash")),
        analysis_run=as_str(run.get("name")), analysis_status=as_str(run.get("status")),
        revision=as_int(revision) if revision is not None else None,
        images=container_images(template.get("spec")),
        generation=as_int(meta.get("generation")),
        resource_version=as_str(meta.get("resourceVersion")), uid=as_str(meta.get("uid")))


def analysis_run_view(obj: Any) -> AnalysisRunView:
    data = as_json(obj)
    meta, spec, status = (as_map(data.get(k)) for k in ("metadata", "spec", "status"))
    specs = {as_str(as_map(m).get("name")): as_map(m) for m in as_list(spec.get("metrics"))}
    results = {as_str(as_map(r).get("name")): as_map(r)
               for r in as_list(status.get("metricResults"))}
    metrics = []
    for name in [*specs, *(n for n in results if n not in specs)]:
        metric, result = specs.get(name, {}), results.get(name, {})
        provider = as_map(as_map(metric.get("provider")).get("prometheus"))
        metrics.append(MetricView(
            name=name, phase=as_str(result.get("phase")) or "Pending",
            success_condition=as_str(metric.get("successCondition")),
            failure_condition=as_str(metric.get("failureCondition")),
            query=as_str(provider.get("query")),
            failure_limit=as_int(metric.get("failureLimit")), count=as_int(metric.get("count")),
            measurements=tuple(
                MeasurementView(as_str(as_map(m).get("phase")), as_str(as_map(m).get("value")),
                                parse_time(as_map(m).get("finishedAt")),
                                as_str(as_map(m).get("message")))
                for m in as_list(result.get("measurements"))),
            message=as_str(result.get("message"))))
    owner = controller_of(meta)
    return AnalysisRunView(
        namespace=as_str(meta.get("namespace")), name=as_str(meta.get("name")),
        rollout=owner[1] if owner and owner[0] == "Rollout" else "",
        phase=as_str(status.get("phase")) or "Pending", message=as_str(status.get("message")),
        metrics=tuple(metrics), created=parse_time(meta.get("creationTimestamp")),
        resource_version=as_str(meta.get("resourceVersion")))


__all__ = ["ROLLOUT_HASH_LABEL", "ROLLOUT_REVISION_ANNOTATION", "AnalysisRunView",
           "MeasurementView", "MetricView", "RolloutView", "analysis_run_view", "rollout_view"]
