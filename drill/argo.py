"""Argo Rollouts' vocabulary in the drill: labels, annotations, phases and small helpers.

Names follow argoproj/argo-rollouts (pkg/apis/rollouts/v1alpha1/types.go): a Rollout's
ReplicaSets carry the `rollouts-pod-template-hash` label and a `rollout.argoproj.io/revision`
annotation; `status.currentStepIndex`, `status.pauseConditions` (reason `CanaryPauseStep`),
`status.abort`, `status.stableRS`, `status.currentPodHash`, `status.canary.weights` and
`status.phase` (Healthy / Progressing / Paused / Degraded) say where a canary stands.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from drill.rollout import hash_suffix

Obj = dict[str, Any]

HASH_LABEL = "rollouts-pod-template-hash"
REVISION = "rollout.argoproj.io/revision"
CANARY_PAUSE = "CanaryPauseStep"
INCONCLUSIVE_PAUSE = "InconclusiveAnalysisRun"
HEALTHY, PROGRESSING, PAUSED, DEGRADED = "Healthy", "Progressing", "Paused", "Degraded"
# AnalysisRun / measurement phases
PENDING, RUNNING, SUCCESSFUL, FAILED, ERROR, INCONCLUSIVE = (
    "Pending", "Running", "Successful", "Failed", "Error", "Inconclusive")
TERMINAL = frozenset({SUCCESSFUL, FAILED, ERROR, INCONCLUSIVE})
COMPONENT = "rollouts-controller"
_DURATION = re.compile(r"(\d+)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def template_hash(template: Obj) -> str:
    """A stable 10-character hash of a pod template, ignoring the hash label itself."""
    bare = copy.deepcopy(template or {})
    (bare.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    return hash_suffix(json.dumps(bare, sort_keys=True, separators=(",", ":")))


def duration_seconds(value: Any) -> float | None:
    """Argo durations: an integer (seconds) or a string such as `30s`, `5m`, `1h30m`."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if text.isdigit():
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(a + u for a, u in parts) != text:
        return None
    return sum(int(amount) * _UNITS[unit] for amount, unit in parts)


def steps_of(rollout: Obj) -> list[Obj]:
    canary = ((rollout.get("spec") or {}).get("strategy") or {}).get("canary") or {}
    return list(canary.get("steps") or [])


def weight_at(steps: list[Obj], index: int) -> int:
    """The canary weight in force at step `index`: the last setWeight up to it (100 past
    the last step)."""
    if index >= len(steps):
        return 100
    weight = 0
    for step in steps[: index + 1]:
        if "setWeight" in step:
            weight = int(step["setWeight"])
    return weight


def traffic_shares(workload: Obj, ready: list[Obj]) -> dict[str, float] | None:
    """Share of a Rollout's requests each ready pod serves (by pod name), split by
    `status.canary.weights` as a traffic router would; None for anything else (equal split)."""
    if workload.get("kind") != "Rollout":
        return None
    weights = ((workload.get("status") or {}).get("canary") or {}).get("weights")
    if not weights or not ready:
        return None
    canary_hash = (weights.get("canary") or {}).get("podTemplateHash")
    canary_weight = float((weights.get("canary") or {}).get("weight") or 0) / 100.0
    canary = [p for p in ready if _hash_of(p) == canary_hash]
    stable = [p for p in ready if _hash_of(p) != canary_hash]
    if not canary:
        canary_weight = 0.0
    if not stable:
        canary_weight = 1.0
    shares: dict[str, float] = {}
    for pods, weight in ((canary, canary_weight), (stable, 1.0 - canary_weight)):
        for pod in pods:
            shares[pod["metadata"]["name"]] = weight / len(pods)
    return shares


def _hash_of(pod: Obj) -> str | None:
    return ((pod.get("metadata") or {}).get("labels") or {}).get(HASH_LABEL)
