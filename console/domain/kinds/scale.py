"""`kubectl scale`: set the replica count of a deployment (keys s, + and -)."""

from __future__ import annotations

from typing import Any

from console.domain.action_kinds import ActionKind, Nudge, register
from console.domain.actions import ActionRequest, ActionTools


def _describe(request: ActionRequest) -> str:
    return f"scale deployment/{request.target} to {request.params['replicas']} replicas"


def _change(request: ActionRequest, deployment: Any) -> str:
    return f"replicas {deployment.desired} → {request.params['replicas']}"


def _warnings(request: ActionRequest, _deployment: Any) -> list[str]:
    if request.params.get("replicas") == 0:
        return [f"scaling to 0 stops every pod of {request.target}: a complete outage of it"]
    return []


def _run(tools: ActionTools, request: ActionRequest) -> Any:
    return tools.kube.scale(request.namespace, request.target, int(request.params["replicas"]))


SCALE = register(ActionKind(
    order=10,
    name="scale", key="s", label="Scale", title="Scale deployment",
    help="s: set the replica count of the selected deployment",
    target="deployment", describe=_describe, run=_run,
    permission=("patch", "deployments/scale"), follows_rollout=True, asks="replicas",
    nudges=(Nudge("plus", "+1", 1, "Scale up by one", "+: one more replica"),
            Nudge("minus", "-1", -1, "Scale down by one", "-: one replica fewer")),
    step_type="scale", scoring="scale", change=_change, warnings=_warnings))
