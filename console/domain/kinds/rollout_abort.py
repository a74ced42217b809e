"""`kubectl argo rollouts abort`: traffic back to stable at once (key a)."""

from __future__ import annotations

from typing import Any

from console.domain.action_kinds import ActionKind, register
from console.domain.actions import ActionRequest
from console.domain.kinds.rollout_common import describe, runner, where


def _change(_request: ActionRequest, view: Any) -> str:
    now = f" (now {where(view)})" if where(view) else ""
    return f"status.abort → true{now}: traffic 100 % stable, canary scaled down"


def _warnings(_request: ActionRequest, _view: Any) -> list[str]:
    return ["spec.template keeps the new version: retry (R) starts the canary again; undo "
            "the Rollout (U) to make the stable version the desired one"]


ROLLOUT_ABORT = register(ActionKind(
    order=60,
    name="rollout-abort", key="a", label="Abort canary", title="Abort rollout (canary)",
    help="a: abort the selected Rollout: all traffic back to stable at once, canary scaled down",
    target="rollout", describe=describe("abort"), run=runner("abort"),
    permission=("patch", "rollouts/status"), show=True, scoring="abort-canary",
    change=_change, warnings=_warnings))
