"""`kubectl rollout restart`: replace every pod of a deployment (key r)."""

from __future__ import annotations

from typing import Any

from console.domain.action_kinds import ActionKind, register
from console.domain.actions import ActionRequest, ActionTools


def _run(tools: ActionTools, request: ActionRequest) -> Any:
    return tools.kube.restart(request.namespace, request.target)


def _paused(request: ActionRequest, deployment: Any) -> str | None:
    if deployment.paused and request.params.get("first") != "resume":
        return (f"can't restart paused deployment {request.target} (run rollout resume first; "
                "the r key offers to resume and restart)")
    return None


RESTART = register(ActionKind(
    order=20,
    name="restart", key="r", label="Restart", title="Rollout restart",
    help="r: replace every pod of the selected deployment",
    target="deployment", describe=lambda r: f"rollout restart deployment/{r.target}", run=_run,
    permission=("patch", "deployments"), follows_rollout=True,
    step_type="restart", scoring="restart",
    change=lambda _r, _v: "rollout restart: replace every pod (new revision)",
    warnings=lambda _r, _v: ["pods are replaced gradually (RollingUpdate); the template is "
                         "unchanged apart from the restartedAt annotation"],
    precondition=_paused, resume_when_paused=True))
