"""`kubectl rollout pause` and `kubectl rollout resume` of a deployment (keys z and Z).

Pausing stops the rollout where it is: the controller creates no new ReplicaSet pods and
template changes do not roll out until it is resumed; scaling still works. kubectl refuses to
pause a paused deployment or resume one that is not paused, in these words.
"""

from __future__ import annotations

from typing import Any

from adapters.kube_pause import already_paused, not_paused
from console.domain.action_kinds import ActionKind, register
from console.domain.actions import ActionRequest, ActionTools


def _pause(tools: ActionTools, request: ActionRequest) -> Any:
    return tools.kube.pause(request.namespace, request.target)


def _resume(tools: ActionTools, request: ActionRequest) -> Any:
    return tools.kube.resume(request.namespace, request.target)


def new_pods(deployment: Any) -> str:
    """"2/5 new pods": the pods of the current template out of the replicas wanted."""
    return f"{deployment.updated}/{deployment.desired} new pods"


def _pause_change(_request: ActionRequest, deployment: Any) -> str:
    where = f" (now {new_pods(deployment)})" if deployment is not None else ""
    return f"spec.paused → true: the rollout stops where it is{where}"


def _resume_change(_request: ActionRequest, deployment: Any) -> str:
    where = f" from {new_pods(deployment)}" if deployment is not None else ""
    return f"spec.paused → unset: the rollout continues{where}"


PAUSE = register(ActionKind(
    order=32,
    name="pause", key="z", label="Pause rollout", title="Rollout pause",
    help="z: pause the selected deployment's rollout (no new pods until resumed)",
    target="deployment", describe=lambda r: f"rollout pause deployment/{r.target}", run=_pause,
    permission=("patch", "deployments"), show=False, step_type="pause", scoring="pause",
    change=_pause_change,
    warnings=lambda _r, _v: ["while paused, template changes do not roll out, and rollout "
                             "undo and restart need a resume first (the console offers it); "
                             "scaling still works"],
    precondition=lambda r, d: already_paused(r.target) if d.paused else None))

RESUME = register(ActionKind(
    order=34,
    name="resume", key="Z", label="Resume rollout", title="Rollout resume",
    help="Z: resume the selected deployment's paused rollout",
    target="deployment", describe=lambda r: f"rollout resume deployment/{r.target}",
    run=_resume, permission=("patch", "deployments"), follows_rollout=True, show=False,
    step_type="resume", scoring="resume", change=_resume_change,
    warnings=lambda _r, _v: ["the rollout that was stopped carries on: if it was bad, roll "
                             "back instead (u resumes and rolls back in one step)"],
    precondition=lambda r, d: None if d.paused else not_paused(r.target)))
