"""Server-side Table printing for the drill cluster, as kubectl expects it.

`kubectl get` asks for `application/json;as=Table;v=v1;g=meta.k8s.io` and prints the
`meta.k8s.io/v1` Table it gets back.  This module builds those tables for the resources the
drill cluster serves (pods, deployments, replicasets, events, namespaces), following the
column layout and cell semantics of `pkg/printers/internalversion/printers.go` and the age
format of apimachinery's `duration.HumanDuration`.  Unknown resources get the apiserver's
default table (Name, Created At).

Objects are plain dicts in Kubernetes JSON form; timestamps are RFC3339 strings.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "COLUMNS",
    "human_duration",
    "format_label_selector",
    "parse_timestamp",
    "pod_ready",
    "pod_restarts",
    "pod_status",
    "table",
    "translate_timestamp_since",
]

Obj = dict[str, Any]

# ---------------------------------------------------------------------------
# Durations and timestamps
# ---------------------------------------------------------------------------

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY_HOURS = 24
_YEAR_DAYS = 365


def human_duration(seconds: float | timedelta) -> str:
    """Format a duration the way apimachinery's `duration.HumanDuration` does.

    About two significant figures: "45s", "5m3s", "42m", "3h5m", "20h", "3d4h", "100d",
    "2y30d", "9y".  Up to one second in the future counts as "0s" (clock skew); anything
    further in the future is "<invalid>".
    """
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    if not math.isfinite(seconds):
        return "<invalid>"
    # Go: int(d.Seconds()) truncates toward zero; for d >= 0 every coarser unit is a floor
    # division, and floor(d / n) == floor(floor(d) / n), so whole seconds are enough.
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 2 * _MINUTE:
        return f"{s}s"
    minutes = s // _MINUTE
    if minutes < 10:
        rest = s % _MINUTE
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 3 * 60:
        return f"{minutes}m"
    hours = s // _HOUR
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    days = hours // _DAY_HOURS
    if hours < 8 * _DAY_HOURS:
        rest = hours % _DAY_HOURS
        return f"{days}d" if rest == 0 else f"{days}d{rest}h"
    if hours < 2 * _YEAR_DAYS * _DAY_HOURS:
        return f"{days}d"
    years = days // _YEAR_DAYS
    if hours < 8 * _YEAR_DAYS * _DAY_HOURS:
        rest = days % _YEAR_DAYS
        return f"{years}y" if rest == 0 else f"{years}y{rest}d"
    return f"{years}y"


_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_timestamp(value: str | datetime | None) -> datetime | None:
    """Parse an RFC3339 timestamp ("2026-11-24T19:08:10Z", optional fraction) to aware UTC.

    Returns None for missing, empty or unparseable values (Go's zero time).
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _aware(value)
    if not isinstance(value, str) or not value:
        return None
    match = _RFC3339.match(value.strip())
    if match is None:
        return None
    date, clock, fraction, zone = match.groups()
    micro = (fraction or "")[:6].ljust(6, "0")
    offset = "+00:00" if zone in ("Z", "z") else zone
    try:
        parsed = datetime.fromisoformat(f"{date}T{clock}.{micro}{offset}")
    except ValueError:
        return None
    return parsed.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def translate_timestamp_since(value: str | datetime | None, now: datetime) -> str:
    """Age of a timestamp as kubectl prints it; "<unknown>" when the timestamp is unset."""
    moment = parse_timestamp(value)
    if moment is None:
        return "<unknown>"
    return human_duration(_aware(now) - moment)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _container_cells(containers: Sequence[Any]) -> tuple[str, str]:
    """Comma-joined container names and images (kubectl's layoutContainerCells)."""
    items = [_dict(c) for c in containers]
    return ",".join(_str(c.get("name")) for c in items), ",".join(
        _str(c.get("image")) for c in items
    )


def _selector_string(selector: Any) -> str:
    """A LabelSelector rendered like labels.Selector.String(): sorted by key, "" if empty."""
    sel = _dict(selector)
    requirements: list[tuple[str, str]] = []
    for key, value in _dict(sel.get("matchLabels")).items():
        requirements.append((str(key), f"{key}={'' if value is None else value}"))
    for expr in _list(sel.get("matchExpressions")):
        expr = _dict(expr)
        key = _str(expr.get("key"))
        operator = _str(expr.get("operator"))
        values = sorted(str(v) for v in _list(expr.get("values")))
        if operator == "In":
            text = f"{key} in ({','.join(values)})"
        elif operator == "NotIn":
            text = f"{key} notin ({','.join(values)})"
        elif operator == "Exists":
            text = key
        elif operator == "DoesNotExist":
            text = f"!{key}"
        else:
            return "<invalid>"
        requirements.append((key, text))
    requirements.sort(key=lambda item: item[0])
    return ",".join(text for _, text in requirements)


def format_label_selector(selector: Any) -> str:
    """metav1.FormatLabelSelector: like the selector string, but "<none>" when empty."""
    text = _selector_string(selector)
    return text or "<none>"


# ---------------------------------------------------------------------------
# Pods (printPod)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _PodSummary:
    ready: int
    total: int
    reason: str
    restarts: int
    last_restart: datetime | None


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    if current is None or current < candidate:
        return candidate
    return current


def _last_termination(status: Obj) -> datetime | None:
    terminated = _dict(status.get("lastState")).get("terminated")
    if not isinstance(terminated, dict):
        return None
    return parse_timestamp(terminated.get("finishedAt"))


def _condition_true(pod_status: Obj, condition_type: str) -> bool:
    for condition in _list(pod_status.get("conditions")):
        condition = _dict(condition)
        if condition.get("type") == condition_type:
            return condition.get("status") == "True"
    return False


def _terminated_text(terminated: Obj) -> str:
    signal = _int(terminated.get("signal"))
    if signal != 0:
        return f"Signal:{signal}"
    return f"ExitCode:{_int(terminated.get('exitCode'))}"


def _summarize_pod(pod: Obj) -> _PodSummary:
    spec = _dict(pod.get("spec"))
    status = _dict(pod.get("status"))
    metadata = _dict(pod.get("metadata"))

    phase = _str(status.get("phase"))
    reason = _str(status.get("reason")) or phase
    for condition in _list(status.get("conditions")):
        condition = _dict(condition)
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    total = len(_list(spec.get("containers")))
    ready = 0
    restarts = 0
    last_restart: datetime | None = None
    sidecar_restarts = 0
    sidecar_last_restart: datetime | None = None

    init_specs = [_dict(c) for c in _list(spec.get("initContainers"))]
    sidecars = {_str(c.get("name")) for c in init_specs if c.get("restartPolicy") == "Always"}
    total += sum(1 for c in init_specs if c.get("restartPolicy") == "Always")

    initializing = False
    for index, container in enumerate(_list(status.get("initContainerStatuses"))):
        container = _dict(container)
        count = _int(container.get("restartCount"))
        finished = _last_termination(container)
        restarts += count
        last_restart = _later(last_restart, finished)
        is_sidecar = _str(container.get("name")) in sidecars
        if is_sidecar:
            sidecar_restarts += count
            sidecar_last_restart = _later(sidecar_last_restart, finished)
        state = _dict(container.get("state"))
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if isinstance(terminated, dict) and _int(terminated.get("exitCode")) == 0:
            continue
        if is_sidecar and container.get("started") is True:
            if container.get("ready") is True:
                ready += 1
            continue
        if isinstance(terminated, dict):
            term_reason = _str(terminated.get("reason"))
            reason = "Init:" + (term_reason or _terminated_text(terminated))
        elif (
            isinstance(waiting, dict)
            and _str(waiting.get("reason"))
            and waiting.get("reason") != "PodInitializing"
        ):
            reason = "Init:" + _str(waiting.get("reason"))
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _condition_true(status, "Initialized"):
        restarts = sidecar_restarts
        last_restart = sidecar_last_restart
        has_running = False
        for container in reversed(_list(status.get("containerStatuses"))):
            container = _dict(container)
            restarts += _int(container.get("restartCount"))
            last_restart = _later(last_restart, _last_termination(container))
            state = _dict(container.get("state"))
            waiting = state.get("waiting")
            terminated = state.get("terminated")
            if isinstance(waiting, dict) and _str(waiting.get("reason")):
                reason = _str(waiting.get("reason"))
            elif isinstance(terminated, dict):
                reason = _str(terminated.get("reason")) or _terminated_text(terminated)
            elif container.get("ready") is True and _is_running(state):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status, "Ready") else "NotReady"

    if metadata.get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    return _PodSummary(ready, total, reason, restarts, last_restart)


def _is_running(state: Obj) -> bool:
    """A container counts as running when state.running is set.

    A status without any state at all is treated as running too (the kubelet never reports
    that, but a hand-written drill object might, and "ready" should then be believed).
    """
    if isinstance(state.get("running"), dict):
        return True
    return not any(key in state for key in ("running", "waiting", "terminated"))


def pod_status(pod: Obj) -> str:
    """The STATUS column of `kubectl get pods` (Running, CrashLoopBackOff, OOMKilled, ...)."""
    return _summarize_pod(pod).reason


def pod_ready(pod: Obj) -> str:
    """The READY column: ready running containers / containers in the spec ("1/2")."""
    summary = _summarize_pod(pod)
    return f"{summary.ready}/{summary.total}"


def _restarts_text(summary: _PodSummary, now: datetime) -> str:
    if summary.restarts != 0 and summary.last_restart is not None:
        ago = human_duration(_aware(now) - summary.last_restart)
        return f"{summary.restarts} ({ago} ago)"
    return str(summary.restarts)


def pod_restarts(pod: Obj, now: datetime) -> str:
    """The RESTARTS column: total restarts, plus " (Xm ago)" from the latest termination."""
    return _restarts_text(_summarize_pod(pod), now)


def _pod_ip(status: Obj) -> str:
    for entry in _list(status.get("podIPs")):
        ip = _str(_dict(entry).get("ip"))
        if ip:
            return ip
        break
    return _str(status.get("podIP"))


def _readiness_gates(spec: Obj, status: Obj) -> str:
    gates = _list(spec.get("readinessGates"))
    if not gates:
        return "<none>"
    conditions = [_dict(c) for c in _list(status.get("conditions"))]
    true_count = 0
    for gate in gates:
        wanted = _dict(gate).get("conditionType")
        for condition in conditions:
            if condition.get("type") == wanted:
                if condition.get("status") == "True":
                    true_count += 1
                break
    return f"{true_count}/{len(gates)}"


_POD_COMPLETED_CONDITIONS: dict[str, list[Obj]] = {
    "Succeeded": [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ],
    "Failed": [
        {"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}
    ],
}


def _pod_cells(pod: Obj, now: datetime) -> list[Any]:
    metadata = _dict(pod.get("metadata"))
    spec = _dict(pod.get("spec"))
    status = _dict(pod.get("status"))
    summary = _summarize_pod(pod)
    return [
        _str(metadata.get("name")),
        f"{summary.ready}/{summary.total}",
        summary.reason,
        _restarts_text(summary, now),
        translate_timestamp_since(metadata.get("creationTimestamp"), now),
        _pod_ip(status) or "<none>",
        _str(spec.get("nodeName")) or "<none>",
        _str(status.get("nominatedNodeName")) or "<none>",
        _readiness_gates(spec, status),
    ]


def _pod_conditions(pod: Obj) -> list[Obj] | None:
    phase = _dict(pod.get("status")).get("phase")
    conditions = _POD_COMPLETED_CONDITIONS.get(phase) if isinstance(phase, str) else None
    return copy.deepcopy(conditions) if conditions else None


# ---------------------------------------------------------------------------
# Other resources
# ---------------------------------------------------------------------------


def _age(obj: Obj, now: datetime) -> str:
    return translate_timestamp_since(_dict(obj.get("metadata")).get("creationTimestamp"), now)


def _name(obj: Obj) -> str:
    return _str(_dict(obj.get("metadata")).get("name"))


def _template_containers(spec: Obj) -> list[Any]:
    return _list(_dict(_dict(spec.get("template")).get("spec")).get("containers"))


def _deployment_cells(obj: Obj, now: datetime) -> list[Any]:
    spec = _dict(obj.get("spec"))
    status = _dict(obj.get("status"))
    desired = _int(spec.get("replicas"), 1)
    names, images = _container_cells(_template_containers(spec))
    return [
        _name(obj),
        f"{_int(status.get('readyReplicas'))}/{desired}",
        _int(status.get("updatedReplicas")),
        _int(status.get("availableReplicas")),
        _age(obj, now),
        names,
        images,
        _selector_string(spec.get("selector")),
    ]


def _replicaset_cells(obj: Obj, now: datetime) -> list[Any]:
    spec = _dict(obj.get("spec"))
    status = _dict(obj.get("status"))
    desired = _int(spec.get("replicas"), 1)
    names, images = _container_cells(_template_containers(spec))
    return [
        _name(obj),
        desired,
        _int(status.get("replicas")),
        _int(status.get("readyReplicas")),
        _age(obj, now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


def _event_source(obj: Obj) -> str:
    source = _dict(obj.get("source"))
    component = _str(source.get("component")) or _str(obj.get("reportingComponent"))
    host = _str(source.get("host")) or _str(obj.get("reportingInstance"))
    return f"{component}, {host}" if host else component


def _event_cells(obj: Obj, now: datetime) -> list[Any]:
    first_ts = parse_timestamp(obj.get("firstTimestamp"))
    if first_ts is not None:
        first_seen = translate_timestamp_since(first_ts, now)
    else:
        first_seen = translate_timestamp_since(obj.get("eventTime"), now)
    last_ts = parse_timestamp(obj.get("lastTimestamp"))
    last_seen = translate_timestamp_since(last_ts, now) if last_ts is not None else first_seen

    count = _int(obj.get("count"))
    series = obj.get("series")
    if isinstance(series, dict):
        last_seen = translate_timestamp_since(series.get("lastObservedTime"), now)
        count = _int(series.get("count"))
    elif count == 0:
        count = 1

    involved = _dict(obj.get("involvedObject"))
    kind = _str(involved.get("kind")).lower()
    involved_name = _str(involved.get("name"))
    target = f"{kind}/{involved_name}" if involved_name else kind
    return [
        last_seen,
        _str(obj.get("type")),
        _str(obj.get("reason")),
        target,
        _str(involved.get("fieldPath")),
        _event_source(obj),
        _str(obj.get("message")).strip(),
        first_seen,
        count,
        _name(obj),
    ]


def _namespace_cells(obj: Obj, now: datetime) -> list[Any]:
    phase = _str(_dict(obj.get("status")).get("phase")) or "Active"
    return [_name(obj), phase, _age(obj, now)]


_ZERO_TIME = "0001-01-01T00:00:00Z"


def _default_cells(obj: Obj, now: datetime) -> list[Any]:
    # The apiserver's default table convertor prints the raw timestamp (zero time if unset).
    created = parse_timestamp(_dict(obj.get("metadata")).get("creationTimestamp"))
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ") if created is not None else _ZERO_TIME
    return [_name(obj), stamp]


# ---------------------------------------------------------------------------
# Column definitions and tables
# ---------------------------------------------------------------------------


def _col(
    name: str, description: str, type_: str = "string", fmt: str = "", priority: int = 0
) -> Obj:
    return {
        "name": name,
        "type": type_,
        "format": fmt,
        "description": description,
        "priority": priority,
    }


_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_CONTAINERS_DOC = "Names of each container in the template."
_IMAGES_DOC = "Images referenced by each container in the template."


def _name_col(priority: int = 0) -> Obj:
    return _col("Name", _NAME_DOC, fmt="name", priority=priority)


def _age_col() -> Obj:
    return _col("Age", _AGE_DOC)


COLUMNS: dict[str, list[Obj]] = {
    "pods": [
        _name_col(),
        _col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        _col("Status", "The aggregate status of the containers in this pod."),
        _col(
            "Restarts",
            "The number of times the containers in this pod have been restarted and when the "
            "last container in this pod has restarted.",
        ),
        _age_col(),
        _col(
            "IP",
            "IP address allocated to the pod. Routable at least within the cluster.",
            priority=1,
        ),
        _col("Node", "NodeName indicates in which node this pod is scheduled.", priority=1),
        _col(
            "Nominated Node",
            "nominatedNodeName is set only when this pod preempts other pods on the node.",
            priority=1,
        ),
        _col(
            "Readiness Gates",
            "If specified, all readiness gates will be evaluated for pod readiness.",
            priority=1,
        ),
    ],
    "deployments": [
        _name_col(),
        _col("Ready", "Number of the pod with ready state"),
        _col(
            "Up-to-date",
            "Total number of non-terminated pods targeted by this deployment "
            "that have the desired template spec.",
        ),
        _col(
            "Available",
            "Total number of available pods (ready for at least "
            "minReadySeconds) targeted by this deployment.",
        ),
        _age_col(),
        _col("Containers", _CONTAINERS_DOC, priority=1),
        _col("Images", _IMAGES_DOC, priority=1),
        _col("Selector", "Label selector for pods.", priority=1),
    ],
    "replicasets": [
        _name_col(),
        _col("Desired", "Replicas is the number of desired replicas.", type_="integer"),
        _col(
            "Current", "Replicas is the most recently observed number of replicas.", type_="integer"
        ),
        _col("Ready", "The number of ready replicas for this replica set.", type_="integer"),
        _age_col(),
        _col("Containers", _CONTAINERS_DOC, priority=1),
        _col("Images", _IMAGES_DOC, priority=1),
        _col(
            "Selector",
            "Selector is a label query over pods that should match the replica count.",
            priority=1,
        ),
    ],
    "events": [
        _col(
            "Last Seen", "The time at which the most recent occurrence of this event was recorded."
        ),
        _col(
            "Type", "Type of this event (Normal, Warning), new types could be added in the future"
        ),
        _col(
            "Reason",
            "This should be a short, machine understandable string that gives the "
            "reason for the transition into the object's current status.",
        ),
        _col("Object", "The object that this event is about."),
        _col(
            "Subobject",
            "If referring to a piece of an object instead of an entire object, "
            "this string should contain a valid JSON/Go field access statement.",
            priority=1,
        ),
        _col("Source", "The component reporting this event.", priority=1),
        _col("Message", "A human-readable description of the status of this operation."),
        _col("First Seen", "The time at which the event was first recorded.", priority=1),
        _col("Count", "The number of times this event has occurred.", priority=1),
        _name_col(priority=1),
    ],
    "namespaces": [
        _name_col(),
        _col("Status", "The status of the namespace"),
        _age_col(),
    ],
}

_DEFAULT_COLUMNS: list[Obj] = [
    _name_col(),
    _col("Created At", _AGE_DOC, type_="date"),
]

_CELLS: dict[str, Callable[[Obj, datetime], list[Any]]] = {
    "pods": _pod_cells,
    "deployments": _deployment_cells,
    "replicasets": _replicaset_cells,
    "events": _event_cells,
    "namespaces": _namespace_cells,
}


def _row(resource: str, obj: Obj, now: datetime) -> Obj:
    cells = _CELLS.get(resource, _default_cells)(obj, now)
    row: Obj = {
        "cells": cells,
        "object": {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": copy.deepcopy(_dict(obj.get("metadata"))),
        },
    }
    if resource == "pods":
        conditions = _pod_conditions(obj)
        if conditions:
            row["conditions"] = conditions
    return row


def table(
    resource: str,
    objects: Sequence[Mapping[str, Any]],
    now: datetime,
    include_column_definitions: bool = True,
) -> Obj:
    """Build a meta.k8s.io/v1 Table for `resource` (plural name, e.g. "pods").

    Every row carries all cells, wide (priority 1) ones included; kubectl hides those unless
    `-o wide`.  `metadata.resourceVersion` is left "" for the caller to fill in.  With
    `include_column_definitions=False` the column list is empty, as on watch events after
    the first.  Resources without a dedicated printer get the apiserver's default columns
    (Name, Created At).
    """
    now = _aware(now)
    columns = COLUMNS.get(resource, _DEFAULT_COLUMNS)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": ""},
        "columnDefinitions": copy.deepcopy(columns) if include_column_definitions else [],
        "rows": [_row(resource, dict(obj), now) for obj in objects],
    }
