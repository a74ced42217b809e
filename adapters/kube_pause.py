"""``kubectl rollout pause`` and ``kubectl rollout resume`` of a Deployment.

kubectl reads the deployment, refuses when there is nothing to do ("is already paused", "is
not paused") and otherwise sends the strategic merge patch between the object and its copy
with ``spec.paused`` flipped: ``{"spec":{"paused":true}}`` to pause and
``{"spec":{"paused":null}}`` to resume (``paused`` is omitted when false, so the diff deletes
it), with ``?fieldManager=kubectl-rollout``. We send the same requests (kubectl 1.20 and 1.33
alike), so the object ends up the same either way.
"""

from __future__ import annotations

import time
from typing import Any

from .errors import Invalid, Operation
from .kube_actions import ActionResult
from .kube_reads import KubeReads
from .kube_requests import KubeRequests

FIELD_MANAGER = "kubectl-rollout"
STRATEGIC_MERGE = "application/strategic-merge-patch+json"


def already_paused(deployment: str) -> str:
    """kubectl's words when the deployment is paused already."""
    return f'deployments.apps "{deployment}" is already paused'


def not_paused(deployment: str) -> str:
    """kubectl's words when a deployment that is not paused is resumed."""
    return f'deployments.apps "{deployment}" is not paused'


class KubePause:
    """Pause and resume through one ``KubeRequests``."""

    def __init__(self, kube: KubeRequests, reads: KubeReads) -> None:
        self.kube = kube
        self.reads = reads

    def pause(self, namespace: str, deployment: str) -> ActionResult:
        """``kubectl rollout pause deployment/NAME``."""
        return self._set(namespace, deployment, paused=True)

    def resume(self, namespace: str, deployment: str) -> ActionResult:
        """``kubectl rollout resume deployment/NAME``."""
        return self._set(namespace, deployment, paused=False)

    def _set(self, namespace: str, deployment: str, *, paused: bool) -> ActionResult:
        started = time.monotonic()
        before = self.reads.read_deployment(namespace, deployment)
        if bool((before.get("spec") or {}).get("paused")) == paused:
            raise Invalid(already_paused(deployment) if paused else not_paused(deployment))
        patch: dict[str, Any] = {"spec": {"paused": True if paused else None}}
        after = self.kube.write(Operation("patch", "deployments", namespace, deployment),
                                self.kube.apps.patch_namespaced_deployment, deployment,
                                namespace, patch, field_manager=FIELD_MANAGER,
                                _content_type=STRATEGIC_MERGE)
        meta, status = after.get("metadata") or {}, after.get("status") or {}
        spec = after.get("spec") or {}
        word = "paused" if paused else "resumed"
        return ActionResult(True, f"deployment.apps/{deployment} {word}", {
            "namespace": namespace, "deployment": deployment, "paused": bool(spec.get("paused")),
            "generation": meta.get("generation"),
            "updated": status.get("updatedReplicas") or 0, "desired": spec.get("replicas"),
            "changed": True}, time.monotonic() - started)


__all__ = ["KubePause", "already_paused", "not_paused"]
