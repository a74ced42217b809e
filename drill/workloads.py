"""Read-only helpers over stored workload objects: which pods a deployment selects, readiness,
images and start times. Shared by the traffic simulation and the scenarios.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .clock import parse_rfc3339
from .selectors import Requirement

Obj = dict[str, Any]

_EXPRESSION_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}


def deployment_selector(deployment: Obj) -> list[Requirement]:
    """The deployment's `spec.selector` as label requirements (empty when it has none)."""
    selector = deployment.get("spec", {}).get("selector") or {}
    requirements = [
        Requirement(key, "=", (value,))
        for key, value in sorted((selector.get("matchLabels") or {}).items())
    ]
    for expression in selector.get("matchExpressions") or []:
        op = _EXPRESSION_OPS.get(expression.get("operator", ""))
        if op is not None:
            values = tuple(expression.get("values") or ())
            requirements.append(Requirement(expression.get("key", ""), op, values))
    return requirements


def deployment_pods(store: Any, deployment: Obj) -> list[Obj]:
    """Pods the deployment's selector picks in its namespace, minus terminating ones.

    This is what a Service with the same selector would route to; an empty selector selects
    nothing.
    """
    requirements = deployment_selector(deployment)
    if not requirements:
        return []
    namespace = deployment["metadata"].get("namespace")
    pods = store.list("pods", namespace, labels=requirements)
    return [pod for pod in pods if not is_terminating(pod)]


def is_terminating(pod: Obj) -> bool:
    return bool(pod.get("metadata", {}).get("deletionTimestamp"))


def is_ready(pod: Obj) -> bool:
    """True when the pod has condition Ready=True and is not being deleted."""
    if is_terminating(pod):
        return False
    for condition in pod.get("status", {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def pod_images(pod: Obj) -> list[str]:
    return [c.get("image", "") for c in pod.get("spec", {}).get("containers") or []]


def template_images(deployment: Obj) -> list[str]:
    template = deployment.get("spec", {}).get("template", {})
    return [c.get("image", "") for c in template.get("spec", {}).get("containers") or []]


def pod_started_at(pod: Obj) -> datetime | None:
    """When the pod's (first) container last started; falls back to pod start and creation."""
    status = pod.get("status", {})
    for container in status.get("containerStatuses") or []:
        started = (container.get("state") or {}).get("running", {}).get("startedAt")
        if started:
            return parse_rfc3339(started)
    for stamp in (status.get("startTime"), pod.get("metadata", {}).get("creationTimestamp")):
        if stamp:
            return parse_rfc3339(stamp)
    return None


def image_tag(image: str | None) -> str:
    """`registry.local/shop/api:1.6.0` -> `1.6.0` (the whole reference when untagged)."""
    if not image:
        return ""
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return image
    return tag


def image_repository(image: str) -> str:
    """`registry.local/shop/api:1.6.0` -> `registry.local/shop/api`."""
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return image
    return name
