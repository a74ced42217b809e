"""Reading Kubernetes objects as JSON: defensive field readers, selectors, owners, revisions.

Objects come either as Kubernetes JSON (dicts, as the API sends them) or as official-client
models (``V1Pod`` ...); ``as_json`` turns the latter into the former. The readers never raise on
a missing or mistyped field: a server that omits something yields an empty value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
TEMPLATE_HASH_LABEL = "pod-template-hash"

Obj = Mapping[str, Any]

_serializer: Any = None


def as_json(obj: Any) -> Obj:
    """Kubernetes JSON (camelCase keys) for a dict or an official-client model object."""
    if isinstance(obj, Mapping):
        return obj
    global _serializer
    if _serializer is None:
        from kubernetes.client import ApiClient

        _serializer = ApiClient()
    result = _serializer.sanitize_for_serialization(obj)
    if not isinstance(result, Mapping):
        raise TypeError(f"not a Kubernetes object: {type(obj).__name__}")
    return result


# ---- field readers ---------------------------------------------------------------------
def as_map(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def as_int(value: Any, default: int = 0) -> int:
    """An int, or an int in a string; ``default`` for anything else (bools included)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def as_str(value: Any) -> str:
    """``value`` if it is a string, else ""."""
    return value if isinstance(value, str) else ""


# ---- selectors, owners, revisions -----------------------------------------------------
def format_selector(selector: Any) -> str:
    """A LabelSelector (matchLabels/matchExpressions) as a label-selector query string."""
    sel = as_map(selector)
    parts: list[tuple[str, str]] = [
        (str(k), f"{k}={'' if v is None else v}") for k, v in as_map(sel.get("matchLabels")).items()
    ]
    for expr in as_list(sel.get("matchExpressions")):
        expr = as_map(expr)
        key, op = as_str(expr.get("key")), as_str(expr.get("operator"))
        values = ",".join(sorted(str(v) for v in as_list(expr.get("values"))))
        text = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                "Exists": key, "DoesNotExist": f"!{key}"}.get(op)
        if text is None:
            raise ValueError(f"unsupported label selector operator {op!r}")
        parts.append((key, text))
    parts.sort(key=lambda item: item[0])
    return ",".join(text for _, text in parts)


def container_images(template_spec: Any) -> tuple[str, ...]:
    """Images of a pod spec's containers, in order."""
    containers = as_list(as_map(template_spec).get("containers"))
    return tuple(as_str(as_map(c).get("image")) for c in containers)


def controller_of(meta: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(kind, name, uid) of the controlling owner reference, if any."""
    for ref in as_list(meta.get("ownerReferences")):
        ref = as_map(ref)
        if ref.get("controller"):
            return as_str(ref.get("kind")), as_str(ref.get("name")), as_str(ref.get("uid"))
    return None


def revision_of(meta: Mapping[str, Any]) -> int | None:
    """The ``deployment.kubernetes.io/revision`` annotation as an int, if set and valid."""
    value = as_map(meta.get("annotations")).get(REVISION_ANNOTATION)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


__all__ = [
    "CHANGE_CAUSE_ANNOTATION",
    "REVISION_ANNOTATION",
    "TEMPLATE_HASH_LABEL",
    "Obj",
    "as_int",
    "as_json",
    "as_list",
    "as_map",
    "as_str",
    "container_images",
    "controller_of",
    "format_selector",
    "revision_of",
]
