"""`kubectl delete pod`: its ReplicaSet creates a replacement (key x, hidden in the footer)."""

from __future__ import annotations

from typing import Any

from console.domain.action_kinds import ActionKind, register
from console.domain.actions import ActionRequest, ActionTools


def _run(tools: ActionTools, request: ActionRequest) -> Any:
    return tools.kube.delete_pod(request.namespace, request.target)


def _warnings(_request: ActionRequest, pod: Any) -> list[str]:
    if pod is not None and not pod.deployment:
        return ["this pod has no deployment: it will not be replaced"]
    return []


DELETE_POD = register(ActionKind(
    order=50,
    name="delete-pod", key="x", label="Del pod", title="Delete pod",
    help="x: delete the selected pod (its ReplicaSet creates a replacement)",
    target="pod", describe=lambda r: f"delete pod/{r.target}", run=_run,
    permission=("delete", "pods"), show=False, scoring="delete-pod",
    change=lambda _r, _v: "delete the pod (its ReplicaSet creates a replacement)",
    warnings=_warnings))
