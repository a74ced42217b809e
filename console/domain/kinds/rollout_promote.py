"""`kubectl argo rollouts promote`: past the current pause or step (key o)."""

from __future__ import annotations

from typing import Any

from console.domain.action_kinds import ActionKind, register
from console.domain.actions import ActionRequest
from console.domain.kinds.rollout_common import describe, runner, where


def _warnings(_request: ActionRequest, view: Any) -> list[str]:
    if getattr(view, "analysis_status", "") in ("Running", "Pending"):
        return ["its analysis has not finished: promoting skips it"]
    return []


ROLLOUT_PROMOTE = register(ActionKind(
    order=62,
    name="rollout-promote", key="m", label="Promote", title="Promote rollout one step",
    help="o: promote the selected Rollout past its current pause or step",
    target="rollout", describe=describe("promote"), run=runner("promote"),
    permission=("patch", "rollouts/status"), show=False, scoring="canary-promote",
    change=lambda _r, v: f"clear the pause, go to the next step ({where(v) or 'canary'})",
    warnings=_warnings))
