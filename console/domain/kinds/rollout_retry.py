"""`kubectl argo rollouts retry rollout`: start an aborted canary again (key R)."""

from __future__ import annotations

from typing import Any

from console.domain.action_kinds import ActionKind, register
from console.domain.actions import ActionRequest
from console.domain.kinds.rollout_common import describe, runner


def _warnings(_request: ActionRequest, view: Any) -> list[str]:
    if view is not None and not getattr(view, "abort", True):
        return ["the rollout is not aborted: retry changes nothing"]
    return ["the canary takes its share of traffic again: the version that was aborted"]


ROLLOUT_RETRY = register(ActionKind(
    order=61,
    name="rollout-retry", key="T", label="Retry", title="Retry rollout (canary)",
    help="R: retry an aborted Rollout: the canary steps start again from the first",
    target="rollout", describe=describe("retry"), run=runner("retry"),
    permission=("patch", "rollouts/status"), show=False, scoring="canary-retry",
    change=lambda _r, _v: "status.abort → false: the canary steps start again",
    warnings=_warnings))
