"""`kubectl argo rollouts promote --full`: skip the remaining steps (key O)."""

from __future__ import annotations

from console.domain.action_kinds import ActionKind, register
from console.domain.kinds.rollout_common import describe, runner

ROLLOUT_PROMOTE_FULL = register(ActionKind(
    order=63,
    name="rollout-promote-full", key="M", label="Promote full", title="Promote rollout fully",
    help="O: promote the selected Rollout fully: skip the remaining steps, pauses and analysis",
    target="rollout", describe=describe("promote-full"), run=runner("promote-full"),
    permission=("patch", "rollouts/status"), show=False, scoring="canary-promote",
    change=lambda _r, _v: "status.promoteFull → true: the canary becomes stable at 100 %",
    warnings=lambda _r, _v: ["skips every remaining step, pause and analysis: the new "
                             "version takes all traffic"]))
