"""`kubectl argo rollouts resume`: let a paused Rollout go on (key W)."""

from __future__ import annotations

from console.domain.action_kinds import ActionKind, register
from console.domain.kinds.rollout_common import describe, runner, where

ROLLOUT_RESUME = register(ActionKind(
    order=66,
    name="rollout-resume", key="W", label="Resume Argo rollout", title="Resume rollout (Argo)",
    help="W: resume the selected Rollout (spec.paused → false)",
    target="rollout", describe=describe("resume"), run=runner("resume"),
    permission=("patch", "rollouts"), show=False, scoring="canary-resume",
    change=lambda _r, v: f"spec.paused → false ({where(v) or 'steps go on'})",
    warnings=lambda _r, _v: []))
