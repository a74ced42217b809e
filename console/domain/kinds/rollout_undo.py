"""`kubectl argo rollouts undo [--to-revision=N]`: a Rollout back to a revision (key U)."""

from __future__ import annotations

from typing import Any

from console.domain.action_kinds import ActionKind, register
from console.domain.actions import ActionRequest, ActionTools


def _describe(request: ActionRequest) -> str:
    to = request.params.get("to_revision")
    return f"undo rollout/{request.target}" + (f" to revision {to}" if to else "")


def _run(tools: ActionTools, request: ActionRequest) -> Any:
    return tools.kube.argo.undo(request.namespace, request.target,
                                request.params.get("to_revision"))


ROLLOUT_UNDO = register(ActionKind(
    order=64,
    name="rollout-undo", key="U", label="Undo rollout", title="Undo rollout (Argo)",
    help="U: roll the selected Rollout back to a revision (its template; the canary steps "
         "are skipped when it is the stable one)",
    target="rollout", describe=_describe, run=_run,
    permission=("patch", "rollouts"), show=False, asks="revision", scoring="rollback",
    warnings=lambda _r, _v: ["undo does not revert the replica count or the steps"]))
