"""Per-pod memory of the drill cluster, as cAdvisor would report it through the kubelet.

A healthy container holds a steady working set well under its limit (a per-pod offset and a
slow wobble, so the series look alive); a scenario may make a pod's memory climb (the
`memory-leak` scenario: linear heap growth until the kernel OOM-kills the container at its
limit). The traffic simulation samples `Scenario.pod_memory` for every running container and
exports it as `container_memory_working_set_bytes`, with `container_spec_memory_limit_bytes`
from the container's `resources.limits.memory` (0 when it declares none, as cAdvisor does).
"""

from __future__ import annotations

import math
import re
import zlib
from typing import Any

from .workloads import pod_started_at

Obj = dict[str, Any]
MIB = 1024 * 1024
HEALTHY_BASE_MIB = 170.0  # a settled JVM/Go service: about two thirds of its 256Mi request
HEALTHY_SPREAD_MIB = 40.0  # per-pod offset, deterministic by pod name

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T|m)?$")
_FACTORS = {None: 1, "Ki": 1024, "Mi": MIB, "Gi": 1024 * MIB, "Ti": 1024**2 * MIB,
            "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "m": 1e-3}


def quantity_bytes(text: Any) -> float | None:
    """A memory quantity (`512Mi`, `1G`, `268435456`) in bytes; None when unreadable."""
    match = _QUANTITY.match(str(text or "").strip())
    if match is None:
        return None
    return float(match.group(1)) * _FACTORS[match.group(2)]


def limit_bytes(container: Obj) -> float | None:
    """The container's `resources.limits.memory` in bytes, None when it declares none."""
    limits = (container.get("resources") or {}).get("limits") or {}
    return quantity_bytes(limits.get("memory")) if "memory" in limits else None


def running_containers(pod: Obj) -> list[str]:
    """Names of the pod's containers that are running now."""
    return [s.get("name", "") for s in pod.get("status", {}).get("containerStatuses") or ()
            if "running" in (s.get("state") or {})]


def healthy_working_set(pod: Obj, now: float) -> float:
    """Bytes a healthy container of `pod` holds at unix time `now`."""
    name = pod.get("metadata", {}).get("name", "")
    unit = zlib.crc32(name.encode()) / 2**32
    wobble = 6.0 * math.sin(2 * math.pi * now / 1800.0 + 2 * math.pi * unit)
    return (HEALTHY_BASE_MIB + HEALTHY_SPREAD_MIB * unit + wobble) * MIB


def leaking_working_set(pod: Obj, now: float, crash_after: float, limit: float) -> float:
    """Bytes of a container whose heap grows linearly from the healthy level at its start to
    `limit` `crash_after` seconds later (when the kernel kills it)."""
    started = pod_started_at(pod)
    base = healthy_working_set(pod, now)
    if started is None or crash_after <= 0:
        return base
    fraction = min(1.0, max(0.0, (now - started.timestamp()) / crash_after))
    return base + (limit - base) * fraction
