"""Actions the operator takes: checked, confirmed, run, followed and written to the audit log.

The screen builds an `ActionRequest`, asks `ActionRunner.precheck` whether it may run (read-only
mode, RBAC, the context shown), confirms with the operator, then calls `run` in a worker
thread. Every request leaves `action.requested`, `action.started` and `action.finished` or
`action.failed` records; if the audit log cannot be written the action does not run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.errors import AdapterError
from adapters.kubernetes import ActionResult, KubeClient, RolloutSnapshot
from console.domain.audit import (
    ACTION_FAILED,
    ACTION_FINISHED,
    ACTION_REFUSED,
    ACTION_REQUESTED,
    ACTION_STARTED,
    AuditLog,
    AuditWriteError,
)

Progress = Callable[[str, float | None], None]

# verb and resource each action needs, for the RBAC pre-check (`kubectl auth can-i`)
PERMISSIONS: dict[str, tuple[str, str]] = {
    "scale": ("patch", "deployments/scale"),
    "restart": ("patch", "deployments"),
    "undo": ("patch", "deployments"),
    "delete-pod": ("delete", "pods"),
}


# precheck's reason when the permission check itself failed (outage): not a denial
PERMISSION_UNKNOWN = "cannot check permissions"


class ActionRefused(Exception):
    """The action was not run; `message` says why (shown in the modal and the audit log)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ActionRequest:
    kind: str  # scale | restart | undo | delete-pod
    context: str
    namespace: str
    target: str  # deployment name, or pod name for delete-pod
    params: dict[str, Any] = field(default_factory=dict)
    # generation of the deployment when the operator looked at it: if it moved, ask again
    seen_generation: int | None = None

    @property
    def target_ref(self) -> str:
        kind = "pod" if self.kind == "delete-pod" else "deployment"
        return f"{kind}/{self.target}"

    def describe(self) -> str:
        if self.kind == "scale":
            return f"scale deployment/{self.target} to {self.params['replicas']} replicas"
        if self.kind == "restart":
            return f"rollout restart deployment/{self.target}"
        if self.kind == "undo":
            to = self.params.get("to_revision")
            return f"rollout undo deployment/{self.target}" + (f" to revision {to}" if to else "")
        if self.kind == "delete-pod":
            return f"delete pod/{self.target}"
        return f"{self.kind} {self.target}"


@dataclass(frozen=True)
class ActionOutcome:
    ok: bool
    message: str
    duration_s: float
    rollout: RolloutSnapshot | None = None


class ClusterActions(Protocol):
    context: str

    def scale(self, namespace: str, deployment: str, replicas: int) -> ActionResult: ...
    def restart(self, namespace: str, deployment: str) -> ActionResult: ...
    def undo(self, namespace: str, deployment: str, to_revision: int | None = None) -> ActionResult: ...
    def delete_pod(self, namespace: str, pod: str) -> ActionResult: ...


class ActionRunner:
    def __init__(self, kube: KubeClient, audit: AuditLog, *, read_only: bool = False,
                 rollout_timeout: float = 600.0) -> None:
        self.kube = kube
        self.audit = audit
        self.read_only = read_only
        self.rollout_timeout = rollout_timeout

    # ---- before the confirm modal ----------------------------------------------------
    def precheck(self, request: ActionRequest) -> str | None:
        """Why this action may not run, or None. Network I/O: call it from a worker."""
        if self.read_only:
            return "read-only mode: warroom was started with --read-only"
        if request.context != self.kube.context:
            return (f"the screen shows context {request.context!r} but the client is connected "
                    f"to {self.kube.context!r}; refusing to act on a context you cannot see")
        verb, resource = PERMISSIONS[request.kind]
        try:
            review = self.kube.can_i(verb, resource, request.namespace)
        except AdapterError as error:
            return f"{PERMISSION_UNKNOWN}: {error.message}"
        if not review.allowed:
            return (f"forbidden: you may not {verb} {resource} in namespace {request.namespace}"
                    + (f" ({review.reason})" if review.reason else ""))
        return None

    def current_generation(self, namespace: str, deployment: str) -> int | None:
        return self.kube.get_deployment(namespace, deployment).generation

    # ---- after confirmation ------------------------------------------------------------
    def run(self, request: ActionRequest, progress: Progress | None = None) -> ActionOutcome:
        """Record, run and follow one confirmed action. Never raises for cluster errors."""
        progress = progress or (lambda _msg, _frac: None)
        params = dict(request.params)
        self._record(ACTION_REQUESTED, request, params, message=request.describe())
        refusal = self._last_checks(request)
        if refusal:
            self._record(ACTION_REFUSED, request, params, message=refusal, result={"ok": False})
            return ActionOutcome(False, refusal, 0.0)
        started = time.monotonic()
        self._record(ACTION_STARTED, request, params, message=request.describe())
        progress(f"{request.describe()}…", None)
        snapshot: RolloutSnapshot | None = None
        try:
            result = self._call(request)
            message = result.message
            if request.kind in ("scale", "restart", "undo") and result.details.get("changed", True):
                snapshot = self._follow(request, progress)
                ok = snapshot is not None and snapshot.ok
                if snapshot is not None:
                    message = f"{result.message}; {snapshot.message}"
            else:
                ok = result.ok
        except AdapterError as error:
            duration = time.monotonic() - started
            self._record(ACTION_FAILED, request, params, message=error.message,
                         result={"ok": False, "error": error.message}, duration_s=duration)
            return ActionOutcome(False, error.message, duration)
        duration = time.monotonic() - started
        kind = ACTION_FINISHED if ok else ACTION_FAILED
        result_doc: dict[str, Any] = {"ok": ok, **_jsonable_details(result.details)}
        if snapshot is not None:
            result_doc["rollout"] = snapshot.state
        self._record(kind, request, params, message=message, result=result_doc,
                     duration_s=duration)
        return ActionOutcome(ok, message, duration, snapshot)

    def _last_checks(self, request: ActionRequest) -> str | None:
        if self.read_only:
            return "read-only mode: warroom was started with --read-only"
        if request.context != self.kube.context:
            return f"refused: the client is connected to {self.kube.context!r}, not {request.context!r}"
        if request.seen_generation is not None and request.kind != "delete-pod":
            try:
                now = self.current_generation(request.namespace, request.target)
            except AdapterError as error:
                return error.message
            if now != request.seen_generation:
                return (f"deployment/{request.target} changed since you confirmed "
                        f"(generation {request.seen_generation} → {now}); review and confirm again")
        return None

    def _call(self, request: ActionRequest) -> ActionResult:
        ns, target = request.namespace, request.target
        if request.kind == "scale":
            return self.kube.scale(ns, target, int(request.params["replicas"]))
        if request.kind == "restart":
            return self.kube.restart(ns, target)
        if request.kind == "undo":
            return self.kube.undo(ns, target, request.params.get("to_revision"))
        if request.kind == "delete-pod":
            return self.kube.delete_pod(ns, target)
        raise ActionRefused(f"unknown action {request.kind!r}")

    def _follow(self, request: ActionRequest, progress: Progress) -> RolloutSnapshot | None:
        last: RolloutSnapshot | None = None
        for snapshot in self.kube.rollout_status(request.namespace, request.target,
                                                 timeout=self.rollout_timeout):
            last = snapshot
            fraction = (snapshot.available / snapshot.desired) if snapshot.desired else None
            progress(snapshot.message, 1.0 if snapshot.done and snapshot.ok else fraction)
            if snapshot.done:
                break
        return last

    def _record(self, kind: str, request: ActionRequest, params: dict[str, Any], *,
                message: str, result: Any = None, duration_s: float | None = None) -> None:
        try:
            self.audit.append(kind, action=request.kind, target=request.target_ref,
                              params=params, result=result, duration_s=duration_s,
                              message=message, context=request.context,
                              namespace=request.namespace)
        except AuditWriteError as error:
            if kind in (ACTION_REQUESTED, ACTION_STARTED):
                raise ActionRefused(f"not run: {error.message}") from error
            raise


def _jsonable_details(details: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in details.items():
        if isinstance(value, str | int | float | bool) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out
