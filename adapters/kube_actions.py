"""Acting on a cluster with kubectl's semantics: scale, rollout restart, rollout undo, delete pod.

Each action reads fresh state, writes once (through ``KubeRequests.write``, so ``before_write``
hears of it) and retries on a 409 Conflict as client-go's ``RetryOnConflict`` does. Failures
raise ``AdapterError``; success is an ``ActionResult`` whose ``details`` go to the audit log.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import Conflict, Invalid, NotFound, Operation
from .kube_json import REVISION_ANNOTATION, TEMPLATE_HASH_LABEL, revision_of
from .kube_reads import KubeReads, rs_for_revision
from .kube_requests import KubeRequests
from .kube_rollouts import templates_equal

RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
# Deployment annotations `kubectl rollout undo` keeps instead of copying them from the RS.
UNDO_ANNOTATIONS_TO_SKIP = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION_ANNOTATION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
})
CONFLICT_ATTEMPTS = 5


@dataclass(frozen=True)
class ActionResult:
    """What an action did. Failures raise ``AdapterError`` instead; ``ok`` is True here
    unless a caller builds a failed result itself. ``details`` keeps machine-readable facts
    for the audit log (``changed`` tells a real change from a no-op)."""

    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0


class KubeActions:
    """Actions through one ``KubeRequests``; ``reads`` finds a deployment's ReplicaSets."""

    def __init__(self, kube: KubeRequests, reads: KubeReads) -> None:
        self.kube = kube
        self.reads = reads

    def scale(self, namespace: str, deployment: str, replicas: int) -> ActionResult:
        """``kubectl scale``: merge-patch ``spec.replicas`` through the scale subresource."""
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
            raise Invalid(f"Replicas must be a whole number >= 0, not {replicas!r}.")
        started = time.monotonic()
        op = Operation("patch", "deployments/scale", namespace, deployment)

        def attempt() -> ActionResult:
            apps = self.kube.apps
            before = self.kube.call_json(
                Operation("get", "deployments/scale", namespace, deployment),
                apps.read_namespaced_deployment_scale, deployment, namespace)
            previous = int((before.get("spec") or {}).get("replicas") or 0)
            after = self.kube.write(op, apps.patch_namespaced_deployment_scale, deployment,
                                    namespace, {"spec": {"replicas": replicas}},
                                    _content_type="application/merge-patch+json")
            now = int((after.get("spec") or {}).get("replicas") or 0)
            message = (f"deployment.apps/{deployment} scaled from {previous} to {now} replicas"
                       if previous != now else
                       f"deployment.apps/{deployment} already has {now} replicas")
            return ActionResult(True, message, {
                "namespace": namespace, "deployment": deployment, "from": previous, "to": now,
                "changed": previous != now})

        result, attempts = self._retry_on_conflict(attempt)
        return ActionResult(True, result.message, {**result.details, "attempts": attempts},
                            time.monotonic() - started)

    def restart(self, namespace: str, deployment: str) -> ActionResult:
        """``kubectl rollout restart``: stamp ``restartedAt`` on the pod template."""
        started = time.monotonic()

        def attempt() -> ActionResult:
            dep = self.reads.read_deployment(namespace, deployment)
            spec = dep.get("spec") or {}
            if spec.get("paused"):
                raise Invalid(f"can't restart paused deployment {deployment} (run rollout "
                              "resume first)")
            stamp = _rfc3339_local(datetime.now().astimezone())
            template_annotations = ((spec.get("template") or {}).get("metadata") or {}).get(
                "annotations") or {}
            if template_annotations.get(RESTARTED_AT_ANNOTATION) == stamp:
                raise Invalid(f"deployment {deployment} was restarted within the past second; "
                              "wait a moment before restarting it again.")
            patch = {"spec": {"template": {"metadata": {"annotations": {
                RESTARTED_AT_ANNOTATION: stamp}}}}}
            after = self.kube.write(Operation("patch", "deployments", namespace, deployment),
                                    self.kube.apps.patch_namespaced_deployment, deployment,
                                    namespace, patch, field_manager="kubectl-rollout")
            return ActionResult(True, f"deployment.apps/{deployment} restarted", {
                "namespace": namespace, "deployment": deployment, "restartedAt": stamp,
                "generation": (after.get("metadata") or {}).get("generation"),
                "changed": True})

        result, attempts = self._retry_on_conflict(attempt)
        return ActionResult(True, result.message, {**result.details, "attempts": attempts},
                            time.monotonic() - started)

    def undo(self, namespace: str, deployment: str,
             to_revision: int | None = None) -> ActionResult:
        """``kubectl rollout undo [--to-revision=N]``.

        Copies the pod template of the ReplicaSet with revision N (the previous revision when
        None) into the deployment with kubectl's JSON patch (replace ``/spec/template`` and
        ``/metadata/annotations``). Refuses paused deployments and unknown revisions; a
        template that already matches is "skipped rollback". Unlike kubectl, the patch also
        carries the resourceVersion we decided on, so a concurrent change gives 409 and we
        decide again on fresh state (up to a few times).
        """
        if to_revision is not None and (isinstance(to_revision, bool)
                                        or not isinstance(to_revision, int)):
            raise Invalid(f"The revision must be a whole number, not {to_revision!r}.")
        if to_revision is not None and to_revision < 0:
            raise NotFound(f"unable to find specified revision {to_revision} in history")
        wanted = to_revision or 0
        started = time.monotonic()
        op = Operation("patch", "deployments", namespace, deployment)

        def attempt() -> ActionResult:
            dep = self.reads.read_deployment(namespace, deployment)
            meta, spec = dep["metadata"], dep.get("spec") or {}
            if spec.get("paused"):
                raise Invalid(f"you cannot rollback a paused deployment; resume it first with "
                              f"'kubectl rollout resume deployment/{deployment}' and try again")
            rs = rs_for_revision(dep, self.reads.owned_replicasets(dep), wanted)
            revision = revision_of(rs["metadata"]) or 0
            details: dict[str, Any] = {
                "namespace": namespace, "deployment": deployment, "to_revision": revision,
                "from_revision": revision_of(meta), "replicaset": rs["metadata"]["name"]}
            target = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
            if templates_equal(target, spec.get("template") or {}):
                return ActionResult(True, f"skipped rollback (current template already "
                                          f"matches revision {revision})",
                                    {**details, "changed": False, "skipped": True})
            labels = (target.get("metadata") or {}).get("labels")
            if isinstance(labels, dict):
                labels.pop(TEMPLATE_HASH_LABEL, None)
            current_annotations = meta.get("annotations") or {}
            annotations = {k: v for k, v in current_annotations.items()
                           if k in UNDO_ANNOTATIONS_TO_SKIP}
            annotations.update({k: v for k, v in (rs["metadata"].get("annotations") or {}).items()
                                if k not in UNDO_ANNOTATIONS_TO_SKIP})
            patch = [
                {"op": "replace", "path": "/spec/template", "value": target},
                {"op": "replace", "path": "/metadata/annotations", "value": annotations},
                {"op": "replace", "path": "/metadata/resourceVersion",
                 "value": meta["resourceVersion"]},
            ]
            self.kube.write(op, self.kube.apps.patch_namespaced_deployment, deployment, namespace,
                            patch)
            return ActionResult(True, f"deployment.apps/{deployment} rolled back to revision "
                                      f"{revision}", {**details, "changed": True,
                                                      "skipped": False})

        result, attempts = self._retry_on_conflict(attempt)
        return ActionResult(result.ok, result.message, {**result.details, "attempts": attempts},
                            time.monotonic() - started)

    def _retry_on_conflict(self, attempt: Callable[[], ActionResult],
                           attempts: int = CONFLICT_ATTEMPTS) -> tuple[ActionResult, int]:
        """client-go's RetryOnConflict: re-read and re-apply after a 409, a few times."""
        for number in range(1, attempts + 1):
            try:
                return attempt(), number
            except Conflict:
                if number == attempts:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * number)
        raise AssertionError("unreachable")

    def delete_pod(self, namespace: str, pod: str,
                   grace_period_seconds: int | None = None) -> ActionResult:
        """``kubectl delete pod``: its controller replaces it."""
        if grace_period_seconds is not None and (isinstance(grace_period_seconds, bool) or
                                                 not isinstance(grace_period_seconds, int)
                                                 or grace_period_seconds < 0):
            raise Invalid(f"The grace period must be a whole number of seconds >= 0, not "
                          f"{grace_period_seconds!r}.")
        started = time.monotonic()
        kwargs: dict[str, Any] = {}
        if grace_period_seconds is not None:
            kwargs["grace_period_seconds"] = grace_period_seconds
        gone = self.kube.write(Operation("delete", "pods", namespace, pod),
                               self.kube.core.delete_namespaced_pod, pod, namespace, **kwargs)
        terminating = bool((gone.get("metadata") or {}).get("deletionTimestamp"))
        return ActionResult(True, f'pod "{pod}" deleted', {
            "namespace": namespace, "pod": pod, "terminating": terminating, "changed": True,
            "grace_period_seconds": grace_period_seconds}, time.monotonic() - started)


def _rfc3339_local(moment: datetime) -> str:
    """Go's ``time.Now().Format(time.RFC3339)``: local time, "Z" for UTC."""
    text = moment.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


__all__ = ["ActionResult", "KubeActions", "RESTARTED_AT_ANNOTATION"]
