"""A minimal memory working set per running container, for the cAdvisor-like series.

Stand-in until the drill has a per-pod memory model of its own: a running container uses
about 45 % of its memory limit (its request when it has no limit, 128 MiB when it has
neither), give or take 10 % per pod, steady over time. Pods that are not running use none.
`working_set_bytes` is the drill's truth that the presets' memory queries must reproduce.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

Obj = dict[str, Any]

_QUANTITY = re.compile(r"^([0-9.]+)([KMGTPE]i?|[kmgtpe]|)$")
_FACTORS = {"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
            "m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
            "Ei": 2**60}
DEFAULT_BYTES = 128 * 2**20


def quantity_bytes(text: object) -> float | None:
    """`512Mi` -> 536870912.0; None when it is not a quantity."""
    match = _QUANTITY.match(str(text).strip()) if text is not None else None
    if match is None:
        return None
    try:
        return float(match.group(1)) * _FACTORS[match.group(2)]
    except (KeyError, ValueError):
        return None


def memory_limit_bytes(container: Obj) -> float | None:
    """The container's `resources.limits.memory` in bytes, when it has one."""
    return quantity_bytes((container.get("resources") or {}).get("limits", {}).get("memory"))


def is_running(pod: Obj, container_name: str) -> bool:
    for status in pod.get("status", {}).get("containerStatuses") or []:
        if status.get("name") == container_name:
            return "running" in (status.get("state") or {})
    return False


def working_set_bytes(pod: Obj, container: Obj) -> float | None:
    """The container's working set now, or None when it is not running."""
    if not is_running(pod, container.get("name", "")):
        return None
    resources = container.get("resources") or {}
    limit = memory_limit_bytes(container)
    request = quantity_bytes((resources.get("requests") or {}).get("memory"))
    base = 0.45 * limit if limit else (request or DEFAULT_BYTES)
    uid = pod.get("metadata", {}).get("uid") or pod.get("metadata", {}).get("name", "")
    spread = (zlib.crc32(f"{uid}/{container.get('name', '')}".encode()) % 2001) / 10000 - 0.1
    return float(round(base * (1.0 + spread)))
