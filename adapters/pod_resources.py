"""What a pod's spec and status say about memory and crashes, for the pod table and advisor.

`last_termination` is the "Last State: Terminated, Reason: OOMKilled, Finished: ..." that
`kubectl describe pod` prints (the latest over the pod's containers); `memory_limit` the largest
`resources.limits.memory` of its containers (None when none declares one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubernetes.utils.quantity import parse_quantity

from .kube_json import as_list, as_map, as_str
from .kube_time import parse_time


def last_termination(status: Any) -> tuple[str, datetime | None]:
    """(reason, finishedAt) of the latest `lastState.terminated` over the containers."""
    reason, finished = "", None
    for cs in as_list(as_map(status).get("containerStatuses")):
        terminated = as_map(as_map(as_map(cs).get("lastState")).get("terminated"))
        if not terminated:
            continue
        when = parse_time(terminated.get("finishedAt"))
        if finished is None or (when is not None and when > finished):
            finished = when
            reason = as_str(terminated.get("reason")) or (
                f"ExitCode:{as_str(terminated.get('exitCode'))}")
    return reason, finished


def memory_limit(spec: Any) -> int | None:
    """The largest memory limit of the pod's containers, in bytes (None without one)."""
    found: int | None = None
    for container in as_list(as_map(spec).get("containers")):
        limits = as_map(as_map(as_map(container).get("resources")).get("limits"))
        if "memory" not in limits:
            continue
        try:
            value = int(parse_quantity(str(limits["memory"])))
        except ValueError:
            continue
        found = value if found is None else max(found, value)
    return found
