"""`kubectl rollout undo [--to-revision=N]`: back to a previous pod template (key u)."""

from __future__ import annotations

from typing import Any

from console.domain.action_kinds import ActionKind, register
from console.domain.actions import ActionRequest, ActionTools


def _describe(request: ActionRequest) -> str:
    to = request.params.get("to_revision")
    return f"rollout undo deployment/{request.target}" + (f" to revision {to}" if to else "")


def _paused(request: ActionRequest, deployment: Any) -> str | None:
    if deployment.paused and request.params.get("first") != "resume":
        return ("you cannot rollback a paused deployment; resume it first with 'kubectl rollout "
                f"resume deployment/{request.target}' and try again (the u key offers to resume "
                "and roll back)")
    return None


def _run(tools: ActionTools, request: ActionRequest) -> Any:
    return tools.kube.undo(request.namespace, request.target, request.params.get("to_revision"))


UNDO = register(ActionKind(
    order=30,
    name="undo", key="u", label="Undo", title="Rollout undo",
    help="u: roll back to a previous revision (shows the template diff)",
    target="deployment", describe=_describe, run=_run,
    permission=("patch", "deployments"), follows_rollout=True, asks="revision",
    step_type="undo", scoring="rollback",
    warnings=lambda _r, _v: ["undo does not revert the replica count, HPA settings, "
                         "ConfigMaps or Secrets"],
    precondition=_paused, resume_when_paused=True))
