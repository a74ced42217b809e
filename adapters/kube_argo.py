"""Argo Rollouts through the Kubernetes API, with the `kubectl argo rollouts` plugin's patches.

The plugin (argoproj/argo-rollouts, pkg/kubectl-argo-rollouts/cmd/) sends JSON merge patches:

- abort: `{"status":{"abort":true}}` to the status subresource (the main resource when the
  cluster has no status subresource: NotFound);
- retry: `{"status":{"abort":false}}`, the same way;
- promote: with pause conditions, `{"status":{"pauseConditions":null}}`; without, on a canary,
  `{"status":{"pauseConditions":null, "currentStepIndex":N+1}}` (N+1 capped at the step count);
  when `spec.paused`, also `{"spec":{"paused":false}}` to the main resource;
- promote --full: `{"status":{"promoteFull":true}}` unless the canary is already stable;
- pause / resume: `{"spec":{"paused":true}}` / `{"spec":{"paused":false}}`;
- undo [--to-revision=N]: a JSON patch replacing `/spec/template` with the template of the
  ReplicaSet of revision N (default: the second newest), minus `rollouts-pod-template-hash`.

`patches_for` builds these bodies; `ArgoRollouts` sends them and reads the objects back.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from .argo_views import ROLLOUT_HASH_LABEL, RolloutView, rollout_view
from .errors import Invalid, NotFound, Operation
from .kube_actions import ActionResult
from .kube_json import as_int, as_list, as_map, format_selector
from .kube_requests import KubeRequests
from .kube_views import ROLLOUT_REVISION

GROUP, VERSION = "argoproj.io", "v1alpha1"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


@dataclass(frozen=True)
class Patches:
    """What one plugin command sends: to the main resource, to `/status`, and the unified
    patch it falls back to when the status subresource is missing."""

    spec: dict[str, Any] | None = None
    status: dict[str, Any] | None = None
    unified: dict[str, Any] | None = None


def patches_for(verb: str, rollout: dict[str, Any]) -> Patches:
    """The plugin's patches for abort | retry | promote | promote-full | pause | resume."""
    spec, status = as_map(rollout.get("spec")), as_map(rollout.get("status"))
    if verb == "abort":
        body = {"status": {"abort": True}}
        return Patches(status=body, unified=body)
    if verb == "retry":
        body = {"status": {"abort": False}}
        return Patches(status=body, unified=body)
    if verb == "pause":
        return Patches(spec={"spec": {"paused": True}})
    if verb == "resume":
        return Patches(spec={"spec": {"paused": False}})
    if verb == "promote-full":
        if status.get("currentPodHash") != status.get("stableRS"):
            return Patches(status={"status": {"promoteFull": True}})
        return Patches()
    if verb != "promote":
        raise Invalid(f"unknown rollout action {verb!r}")
    unified: dict[str, Any] = {"spec": {"paused": False}, "status": {"pauseConditions": None}}
    body_spec = {"spec": {"paused": False}} if spec.get("paused") is True else None
    body_status: dict[str, Any] | None = None
    canary = as_map(as_map(spec.get("strategy")).get("canary"))
    if as_list(status.get("pauseConditions")):
        body_status = {"status": {"pauseConditions": None}}
    elif canary:
        steps = len(as_list(canary.get("steps")))
        index = as_int(status.get("currentStepIndex"), 0)
        if index < steps:
            index += 1
        body_status = {"status": {"pauseConditions": None, "currentStepIndex": index}}
        unified = {"spec": {"paused": False}, **body_status}
    return Patches(spec=body_spec, status=body_status, unified=unified)


def undo_patch(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The plugin's undo: replace `/spec/template` with a ReplicaSet's, minus the hash label."""
    value = copy.deepcopy(template)
    labels = as_map(value.get("metadata")).get("labels")
    if isinstance(labels, dict):
        labels.pop(ROLLOUT_HASH_LABEL, None)
    return [{"op": "replace", "path": "/spec/template", "value": value}]


class ArgoRollouts:
    """Rollouts of one cluster: whether they are served, reads, and the plugin's actions."""

    def __init__(self, kube: KubeRequests) -> None:
        self.kube = kube

    @property
    def _custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.kube.api)

    def served(self) -> bool:
        """Discovery: does the cluster serve `argoproj.io/v1alpha1` rollouts?"""
        try:
            found = self.kube.request_json(Operation("get", "apis/argoproj.io"),
                                           f"/apis/{GROUP}/{VERSION}")
        except NotFound:
            return False
        return any(as_map(r).get("name") == "rollouts"
                   for r in as_list(as_map(found).get("resources")))

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        return self.kube.call_json(Operation("get", "rollouts", namespace, name),
                                   self._custom.get_namespaced_custom_object, GROUP, VERSION,
                                   namespace, "rollouts", name)

    def view(self, namespace: str, name: str) -> RolloutView:
        return rollout_view(self.get(namespace, name))

    # ---- the plugin's commands --------------------------------------------------------------
    def act(self, verb: str, namespace: str, name: str) -> ActionResult:
        """abort | retry | promote | promote-full | pause | resume, as the plugin does it."""
        before = self.get(namespace, name)
        patches = patches_for(verb, before)
        sent: list[str] = []
        spec_patch = patches.spec
        if patches.status is not None:
            try:
                self._patch(namespace, name, patches.status, MERGE, "status")
                sent.append("status " + _compact(patches.status))
            except NotFound:  # no status subresource (Argo Rollouts < 0.10): one patch
                spec_patch = patches.unified
        if spec_patch is not None:
            self._patch(namespace, name, spec_patch, MERGE, None)
            sent.append(_compact(spec_patch))
        after = rollout_view(self.get(namespace, name))
        done = {"abort": "aborted", "retry": "retried", "promote": "promoted",
                "promote-full": "fully promoted", "pause": "paused", "resume": "resumed"}[verb]
        message = f"rollout '{name}' {done}" if sent else \
            f"rollout '{name}' already fully promoted: nothing to do"
        return ActionResult(True, message, {
            "namespace": namespace, "rollout": name, "patches": "; ".join(sent),
            "changed": bool(sent), "step": after.step_text, "weight": after.weight,
            "phase": after.phase})

    def undo(self, namespace: str, name: str, to_revision: int | None = None) -> ActionResult:
        """`kubectl argo rollouts undo [--to-revision=N]`."""
        rollout = self.get(namespace, name)
        revisions = self.revisions(namespace, rollout)
        if not revisions:
            raise Invalid(f"no revision found for rollout {name!r}")
        if to_revision:
            rs = next((r for r in revisions if _rs_revision(r) == to_revision), None)
            if rs is None:
                raise Invalid(f"unable to find specified revision {to_revision} in history")
        elif len(revisions) < 2:
            raise Invalid(f"no revision found for rollout {name!r}")
        else:
            rs = revisions[-2]
        template = as_map(as_map(rs.get("spec")).get("template"))
        body = undo_patch(dict(template))
        if _same_template(as_map(rollout.get("spec")).get("template"), body[0]["value"]):
            return ActionResult(True, f"skipped rollback (current template already matches "
                                f"revision {_rs_revision(rs)})", {
                                    "rollout": name, "to_revision": _rs_revision(rs),
                                    "skipped": True, "changed": False})
        self._patch(namespace, name, body, JSON_PATCH, None)
        return ActionResult(True, f"rollout '{name}' undo to revision {_rs_revision(rs)}", {
            "namespace": namespace, "rollout": name, "to_revision": _rs_revision(rs),
            "from_revision": max(_rs_revision(r) for r in revisions), "changed": True})

    def revisions(self, namespace: str, rollout: dict[str, Any]) -> list[dict[str, Any]]:
        """The Rollout's ReplicaSets (controlled by it), oldest revision first."""
        meta = as_map(rollout.get("metadata"))
        selector = format_selector(as_map(rollout.get("spec")).get("selector"))
        listed = self.kube.list_objects("replicasets", namespace, label_selector=selector)
        owned = [rs for rs in as_list(listed.get("items"))
                 if any(as_map(ref).get("uid") == meta.get("uid") and as_map(ref).get("controller")
                        for ref in as_list(as_map(rs.get("metadata")).get("ownerReferences")))]
        return sorted(owned, key=_rs_revision)

    def _patch(self, namespace: str, name: str, body: Any, content_type: str,
               sub: str | None) -> Any:
        resource = "rollouts/status" if sub else "rollouts"
        call = (self._custom.patch_namespaced_custom_object_status if sub
                else self._custom.patch_namespaced_custom_object)
        return self.kube.write(Operation("patch", resource, namespace, name), call, GROUP,
                               VERSION, namespace, "rollouts", name, body,
                               _content_type=content_type)


def _rs_revision(rs: dict[str, Any]) -> int:
    annotations = as_map(as_map(rs.get("metadata")).get("annotations"))
    return as_int(annotations.get(ROLLOUT_REVISION), 0)


def _same_template(current: Any, wanted: Any) -> bool:
    a, b = copy.deepcopy(as_map(current)), copy.deepcopy(as_map(wanted))
    for template in (a, b):
        labels = as_map(template.get("metadata")).get("labels")
        if isinstance(labels, dict):
            labels.pop(ROLLOUT_HASH_LABEL, None)
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _compact(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))


__all__ = ["ArgoRollouts", "Patches", "patches_for", "undo_patch"]

