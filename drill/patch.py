"""The three PATCH flavours of the Kubernetes API.

JSON Patch and JSON Merge Patch come from well-kept libraries; strategic merge patch is
Kubernetes-specific (lists of named things merge by key), so it is written here for the few
list fields Deployments and Pods carry.
"""

from __future__ import annotations

import copy
from typing import Any

import json_merge_patch
import jsonpatch

from .errors import ApiError

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

# list field name -> key its items merge on
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
}


def apply_patch(target: dict[str, Any], patch: Any, content_type: str) -> dict[str, Any]:
    media = content_type.split(";")[0].strip()
    if media == JSON_PATCH:
        if not isinstance(patch, list):
            raise ApiError(400, "json patch must be a list of operations")
        try:
            return jsonpatch.apply_patch(target, patch)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise ApiError(422, f"the server rejected our request due to an error in our request: {exc}") from exc
    if not isinstance(patch, dict):
        raise ApiError(400, "patch body must be a JSON object")
    if media == MERGE_PATCH:
        return json_merge_patch.merge(copy.deepcopy(target), patch)
    if media == STRATEGIC_PATCH:
        return strategic_merge(target, patch)
    if media == APPLY_PATCH:
        raise ApiError(415, "apply patches (server-side apply) are not supported by the drill cluster")
    raise ApiError(415, f"the body of the request was in an unknown format - accepted media types include: {JSON_PATCH}, {MERGE_PATCH}, {STRATEGIC_PATCH}")


def strategic_merge(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(target)
    _merge_dict(result, patch)
    return result


def _merge_dict(target: dict[str, Any], patch: dict[str, Any]) -> None:
    if patch.get("$patch") == "replace":
        target.clear()
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if key.startswith("$setElementOrder/") or key.startswith("$deleteFromPrimitiveList/"):
            continue
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            if value.get("$patch") == "delete":
                target.pop(key, None)
            else:
                _merge_dict(target[key], value)
        elif isinstance(value, list) and key in _MERGE_KEYS and isinstance(target.get(key), list):
            target[key] = _merge_list(target[key], value, _MERGE_KEYS[key])
        else:
            target[key] = _strip_directives(value)


def _merge_list(current: list[Any], patch: list[Any], merge_key: str) -> list[Any]:
    merged = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            merged.append(item)
            continue
        index = next(
            (i for i, existing in enumerate(merged)
             if isinstance(existing, dict) and existing.get(merge_key) == item[merge_key]),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                merged.pop(index)
        elif index is None:
            merged.append(_strip_directives(item))
        else:
            _merge_dict(merged[index], item)
    return merged


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value
