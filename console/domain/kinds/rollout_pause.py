"""`kubectl argo rollouts pause`: hold a Rollout where it is (key w)."""

from __future__ import annotations

from console.domain.action_kinds import ActionKind, register
from console.domain.kinds.rollout_common import describe, runner, where

ROLLOUT_PAUSE = register(ActionKind(
    order=65,
    name="rollout-pause", key="w", label="Pause Argo rollout", title="Pause rollout (Argo)",
    help="w: pause the selected Rollout (spec.paused): it stays at its current step",
    target="rollout", describe=describe("pause"), run=runner("pause"),
    permission=("patch", "rollouts"), show=False, scoring="canary-pause",
    change=lambda _r, v: f"spec.paused → true ({where(v) or 'holds its step'})",
    warnings=lambda _r, _v: []))
