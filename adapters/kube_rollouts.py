"""Following and comparing rollouts: ``kubectl rollout status``, and what an undo would change.

``rollout_status`` watches a deployment until its rollout completes, stalls or times out,
yielding a ``RolloutSnapshot`` per change; ``template_diff`` compares the current pod template
with a revision's (images, env, change-cause, other fields) for the undo confirmation.
"""

from __future__ import annotations

import copy
import json
import math
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes.client.exceptions import ApiException

from .errors import AdapterError, NotFound, Operation, Timeout, Unreachable, error_for_status
from .kube_json import CHANGE_CAUSE_ANNOTATION, TEMPLATE_HASH_LABEL, as_json, revision_of
from .kube_reads import KubeReads, rs_for_revision
from .kube_requests import KubeRequests, WatchStream
from .kube_views import deployment_view, rollout_state


@dataclass(frozen=True)
class RolloutSnapshot:
    """One step of ``rollout_status``: kubectl's sentence plus the numbers behind it."""

    namespace: str
    name: str
    state: str  # progressing | paused | complete | stalled | timeout
    message: str
    done: bool
    desired: int = 0
    updated: int = 0
    ready: int = 0
    available: int = 0
    current: int = 0
    revision: int | None = None
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the rollout finished successfully."""
        return self.state == "complete"


@dataclass(frozen=True)
class TemplateChange:
    """One difference between the current pod template and a revision's."""

    what: str  # image | env | change-cause | field
    container: str  # "" when not about a container
    name: str  # env var name or field path ("" for images / change-cause)
    current: str | None
    target: str | None

    def describe(self) -> str:
        """One line for the undo modal."""
        now = "(unset)" if self.current is None else self.current
        then = "(unset)" if self.target is None else self.target
        if self.what == "image":
            return f"image {self.container}: {now} -> {then}"
        if self.what == "env":
            return f"env {self.container} {self.name}: {now} -> {then}"
        if self.what == "change-cause":
            return f"change-cause: {now} -> {then}"
        return f"{self.name}: {now} -> {then}"


@dataclass(frozen=True)
class TemplateDiff:
    """What ``undo`` to ``target_revision`` would change in the deployment's pod template."""

    namespace: str
    deployment: str
    current_revision: int | None
    target_revision: int | None
    target_replicaset: str
    identical: bool  # templates equal ignoring the pod-template-hash: undo would be skipped
    changes: tuple[TemplateChange, ...] = ()

    def of(self, what: str) -> tuple[TemplateChange, ...]:
        """Changes of one sort: image, env, change-cause or field."""
        return tuple(c for c in self.changes if c.what == what)

    def lines(self) -> list[str]:
        """Human-readable lines, images first."""
        order = {"image": 0, "env": 1, "change-cause": 2, "field": 3}
        return [c.describe() for c in sorted(self.changes, key=lambda c: order.get(c.what, 9))]


class KubeRollouts:
    """Rollout following and diffs through one ``KubeRequests``."""

    def __init__(self, kube: KubeRequests, reads: KubeReads) -> None:
        self.kube = kube
        self.reads = reads

    def template_diff(self, namespace: str, deployment: str,
                      revision: int | None = None) -> TemplateDiff:
        """What ``undo(namespace, deployment, revision)`` would change: images, env,
        change-cause and any other template fields."""
        dep = self.reads.read_deployment(namespace, deployment)
        rs = rs_for_revision(dep, self.reads.owned_replicasets(dep), revision or 0)
        current = (dep.get("spec") or {}).get("template") or {}
        target = (rs.get("spec") or {}).get("template") or {}
        changes = list(_container_changes(current, target))
        cause_now = (dep["metadata"].get("annotations") or {}).get(CHANGE_CAUSE_ANNOTATION)
        cause_then = (rs["metadata"].get("annotations") or {}).get(CHANGE_CAUSE_ANNOTATION)
        if cause_now != cause_then:
            changes.append(TemplateChange("change-cause", "", "", cause_now, cause_then))
        changes.extend(_other_changes(current, target))
        return TemplateDiff(namespace, deployment, revision_of(dep["metadata"]),
                            revision_of(rs["metadata"]), rs["metadata"]["name"],
                            templates_equal(current, target), tuple(changes))

    def rollout_status(self, namespace: str, deployment: str, timeout: float = 600.0
                       ) -> Iterator[RolloutSnapshot]:
        """``kubectl rollout status``: yield a snapshot whenever the status changes, until
        the rollout is complete, stalled (ProgressDeadlineExceeded) or ``timeout`` seconds
        pass (a last snapshot with state "timeout"). Watches the deployment; drops are
        resumed, 410 re-reads. Raises NotFound when the deployment is deleted meanwhile."""
        started = time.monotonic()
        deadline = started + timeout
        last: tuple[Any, ...] | None = None
        snapshot: RolloutSnapshot | None = None

        def snap(obj: Mapping[str, Any]) -> RolloutSnapshot:
            view = deployment_view(obj)
            state, message, done = rollout_state(obj)
            return RolloutSnapshot(namespace, deployment, state, message, done, view.desired,
                                   view.updated, view.ready, view.available, view.current,
                                   view.revision, time.monotonic() - started)

        obj = self.reads.read_deployment(namespace, deployment)
        snapshot = snap(obj)
        last = (snapshot.state, snapshot.message)
        yield snapshot
        if snapshot.done:
            return
        rv = obj["metadata"].get("resourceVersion")
        delay = 0.2
        last_error: AdapterError | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            stream: WatchStream | None = None
            try:
                stream = self.kube.open_watch(
                    "deployments", namespace, rv, field_selector=f"metadata.name={deployment}",
                    timeout_seconds=max(1, math.ceil(remaining)))
                for event in stream:
                    kind, body = event.get("type"), event.get("object") or {}
                    if kind == "ERROR":
                        if body.get("code") == 410:
                            obj = self.reads.read_deployment(namespace, deployment)
                            rv = obj["metadata"].get("resourceVersion")
                        else:
                            raise error_for_status(int(body.get("code") or 500),
                                                   str(body.get("message", "")),
                                                   Operation("watch", "deployments", namespace,
                                                             deployment), self.kube.context)
                    elif kind == "BOOKMARK":
                        rv = (body.get("metadata") or {}).get("resourceVersion") or rv
                        continue
                    elif kind == "DELETED":
                        raise NotFound(f'deployment "{deployment}" in namespace {namespace} was '
                                       "deleted while we waited for its rollout.")
                    else:
                        obj = body
                        rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                    snapshot = snap(obj)
                    key = (snapshot.state, snapshot.message)
                    if key != last:
                        last = key
                        yield snapshot
                    if snapshot.done:
                        return
                    if time.monotonic() >= deadline:
                        break
                    delay = 0.2
            except ApiException as exc:
                if exc.status != 410:
                    raise self.kube.fail(exc, Operation("watch", "deployments", namespace)) from exc
                obj = self.reads.read_deployment(namespace, deployment)
                rv = obj["metadata"].get("resourceVersion")
            except (Unreachable, Timeout) as exc:
                last_error = exc
                time.sleep(min(random.uniform(delay / 2, delay), max(0.0, deadline -
                                                                     time.monotonic())))
                delay = min(delay * 2, 5.0)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                last_error = self.kube.fail(exc, Operation("watch", "deployments", namespace))
                time.sleep(min(random.uniform(delay / 2, delay), max(0.0, deadline -
                                                                     time.monotonic())))
                delay = min(delay * 2, 5.0)
            finally:
                if stream is not None:
                    stream.close()
        assert snapshot is not None
        why = f" (last error: {last_error.message})" if last_error else ""
        yield RolloutSnapshot(namespace, deployment, "timeout",
                              f"timed out after {timeout:g}s waiting for deployment "
                              f"\"{deployment}\" rollout to finish: {snapshot.message}{why}",
                              True, snapshot.desired, snapshot.updated, snapshot.ready,
                              snapshot.available, snapshot.current, snapshot.revision,
                              time.monotonic() - started)


def _prune(value: Any) -> Any:
    """Drop None, empty maps and empty lists (apimachinery's semantic equality ignores the
    difference between nil and empty)."""
    if isinstance(value, Mapping):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _without_hash(template: Mapping[str, Any]) -> Any:
    cleaned = copy.deepcopy(dict(template))
    labels = (cleaned.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(TEMPLATE_HASH_LABEL, None)
    return _prune(cleaned)


def templates_equal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """kubectl's ``equalIgnoreHash``: pod templates equal apart from pod-template-hash."""
    return bool(_without_hash(as_json(a)) == _without_hash(as_json(b)))


def _env_value(entry: Mapping[str, Any]) -> str:
    if "value" in entry:
        return str(entry.get("value"))
    if entry.get("valueFrom") is not None:
        return "from " + json.dumps(entry["valueFrom"], sort_keys=True)
    return ""


def _container_changes(current: Mapping[str, Any],
                       target: Mapping[str, Any]) -> Iterator[TemplateChange]:
    def containers(template: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        spec = template.get("spec") or {}
        return {str(c.get("name")): c for c in spec.get("containers") or []}

    now, then = containers(current), containers(target)
    for name in list(now) + [n for n in then if n not in now]:
        a, b = now.get(name) or {}, then.get(name) or {}
        if a.get("image") != b.get("image"):
            yield TemplateChange("image", name, "", a.get("image"), b.get("image"))
        env_a = {str(e.get("name")): _env_value(e) for e in a.get("env") or []}
        env_b = {str(e.get("name")): _env_value(e) for e in b.get("env") or []}
        for var in list(env_a) + [v for v in env_b if v not in env_a]:
            if env_a.get(var) != env_b.get(var):
                yield TemplateChange("env", name, var, env_a.get(var), env_b.get(var))


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            name = item.get("name") if isinstance(item, Mapping) else None
            yield from _leaves(item, f"{path}[{name if name is not None else index}]")
    else:
        yield path, value


def _other_changes(current: Mapping[str, Any], target: Mapping[str, Any],
                   limit: int = 20) -> Iterator[TemplateChange]:
    """Template differences other than images and env (e.g. the restartedAt stamp)."""

    def strip(template: Mapping[str, Any]) -> Any:
        cleaned = _without_hash(template)
        for container in (cleaned.get("spec") or {}).get("containers") or []:
            container.pop("image", None)
            container.pop("env", None)
        return cleaned

    a, b = dict(_leaves(strip(current))), dict(_leaves(strip(target)))
    count = 0
    for path in sorted(set(a) | set(b)):
        if a.get(path) != b.get(path):
            count += 1
            if count > limit:
                yield TemplateChange("field", "", "…", None, "more differences")
                return
            yield TemplateChange(
                "field", "", path,
                None if path not in a else json.dumps(a[path]) if not isinstance(a[path], str)
                else a[path],
                None if path not in b else json.dumps(b[path]) if not isinstance(b[path], str)
                else b[path])


__all__ = ["KubeRollouts", "RolloutSnapshot", "TemplateChange", "TemplateDiff", "templates_equal"]
