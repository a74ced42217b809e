"""Immutable views of Kubernetes objects, as the console shows them.

The builders take an object either as Kubernetes JSON (a dict, as the API sends it: the
informer works on those for speed) or as an official-client model (``V1Pod`` ...), and compute
what kubectl would print: pod STATUS, READY and RESTARTS follow ``printPod`` in
``pkg/printers/internalversion/printers.go``; ages follow apimachinery's ``HumanDuration``;
the rollout state of a deployment follows ``kubectl rollout status``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from sys import intern
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


# ---- small readers ---------------------------------------------------------------------
def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _seq(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any, default: int = 0) -> int:
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


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse_time(value: Any) -> datetime | None:
    """An RFC3339 timestamp (or datetime) as an aware UTC datetime; None when unset/invalid."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python < 3.11 style safety: trim fractions longer than microseconds (MicroTime is fine).
    if "." in text:
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        zone = tail[len(digits):]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def human_duration(seconds: float | timedelta) -> str:
    """A duration as apimachinery's ``duration.HumanDuration`` prints it ("5m3s", "3d4h")."""
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    if not math.isfinite(seconds):
        return "<invalid>"
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return f"{days}d" if hours % 24 == 0 else f"{days}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        return f"{years}y" if days % 365 == 0 else f"{years}y{days % 365}d"
    return f"{years}y"


def age_since(moment: datetime | None, now: datetime | None = None) -> str:
    """kubectl's ``translateTimestampSince``: "<unknown>" for an unset time."""
    if moment is None:
        return "<unknown>"
    return human_duration((now or datetime.now(UTC)) - moment)


def format_selector(selector: Any) -> str:
    """A LabelSelector (matchLabels/matchExpressions) as a label-selector query string."""
    sel = _map(selector)
    parts: list[tuple[str, str]] = [
        (str(k), f"{k}={'' if v is None else v}") for k, v in _map(sel.get("matchLabels")).items()
    ]
    for expr in _seq(sel.get("matchExpressions")):
        expr = _map(expr)
        key, op = _str(expr.get("key")), _str(expr.get("operator"))
        values = ",".join(sorted(str(v) for v in _seq(expr.get("values"))))
        text = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                "Exists": key, "DoesNotExist": f"!{key}"}.get(op)
        if text is None:
            raise ValueError(f"unsupported label selector operator {op!r}")
        parts.append((key, text))
    parts.sort(key=lambda item: item[0])
    return ",".join(text for _, text in parts)


def container_images(template_spec: Any) -> tuple[str, ...]:
    """Images of a pod spec's containers, in order."""
    return tuple(_str(_map(c).get("image")) for c in _seq(_map(template_spec).get("containers")))


def controller_of(meta: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(kind, name, uid) of the controlling owner reference, if any."""
    for ref in _seq(meta.get("ownerReferences")):
        ref = _map(ref)
        if ref.get("controller"):
            return _str(ref.get("kind")), _str(ref.get("name")), _str(ref.get("uid"))
    return None


def revision_of(meta: Mapping[str, Any]) -> int | None:
    """The ``deployment.kubernetes.io/revision`` annotation as an int, if set and valid."""
    value = _map(meta.get("annotations")).get(REVISION_ANNOTATION)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# ---- pods ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PodView:
    """A pod as a row of ``kubectl get pods -o wide``, plus its ownership and revision.

    Slotted, and its repeated strings (namespace, node, owners, status, image ...) shared
    through ``sys.intern``: a console holds one per pod, 10,000 of them on a big cluster."""

    name: str
    namespace: str
    ready: str  # "ready/total"
    status: str  # as kubectl prints it: Running, CrashLoopBackOff, OOMKilled, Terminating ...
    restarts: int
    age: str
    node: str = ""
    revision: str = ""  # the owning ReplicaSet's revision if known, else the template hash
    pod_template_hash: str = ""
    deployment: str = ""  # owning deployment ("" for bare pods)
    replicaset: str = ""  # owning ReplicaSet
    ip: str = ""
    last_restart: datetime | None = None
    created: datetime | None = None
    deleting: bool = False
    resource_version: str = ""
    images: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``namespace/name``: the key the informer and the UI use."""
        return f"{self.namespace}/{self.name}"

    def restarts_text(self, now: datetime | None = None) -> str:
        """RESTARTS as kubectl prints it: "3 (2m ago)"; ``now`` is the cluster's clock (the
        local one if None: a drill's clock runs ahead of it)."""
        if self.restarts and self.last_restart is not None:
            return f"{self.restarts} ({age_since(self.last_restart, now)} ago)"
        return str(self.restarts)


def _is_restartable_init(container: Mapping[str, Any] | None) -> bool:
    return bool(container) and _str(_map(container).get("restartPolicy")) == "Always"


def _has_condition(status: Mapping[str, Any], kind: str, value: str = "True") -> bool:
    return any(_map(c).get("type") == kind and _map(c).get("status") == value
               for c in _seq(status.get("conditions")))


def _later(a: datetime | None, b: Any) -> datetime | None:
    moment = parse_time(b)
    if moment is None:
        return a
    return moment if a is None or moment > a else a


def pod_status(pod: Any) -> tuple[str, str, int, datetime | None]:
    """(STATUS, READY, restarts, last restart) exactly as kubectl's ``printPod`` computes them."""
    obj = as_json(pod)
    meta, spec, status = _map(obj.get("metadata")), _map(obj.get("spec")), _map(obj.get("status"))
    containers = _seq(spec.get("containers"))
    init_specs = {_str(_map(c).get("name")): _map(c) for c in _seq(spec.get("initContainers"))}
    total = len(containers) + sum(1 for c in init_specs.values() if _is_restartable_init(c))
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None
    phase = _str(status.get("phase"))
    reason = _str(status.get("reason")) or phase
    for cond in _seq(status.get("conditions")):
        cond = _map(cond)
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    initializing = False
    init_statuses = _seq(status.get("initContainerStatuses"))
    for index, cs in enumerate(init_statuses):
        cs = _map(cs)
        state = _map(cs.get("state"))
        restarts += _int(cs.get("restartCount"))
        terminated_last = _map(_map(cs.get("lastState")).get("terminated"))
        if terminated_last:
            last_restart = _later(last_restart, terminated_last.get("finishedAt"))
        sidecar = _is_restartable_init(init_specs.get(_str(cs.get("name"))))
        if sidecar:
            sidecar_restarts += _int(cs.get("restartCount"))
            if terminated_last:
                last_sidecar_restart = _later(last_sidecar_restart,
                                              terminated_last.get("finishedAt"))
        terminated = _map(state.get("terminated"))
        waiting = _map(state.get("waiting"))
        if terminated and _int(terminated.get("exitCode")) == 0:
            continue
        if sidecar and cs.get("started") is True:
            if cs.get("ready"):
                ready += 1
            continue
        if terminated:
            if not _str(terminated.get("reason")):
                signal = _int(terminated.get("signal"))
                reason = (f"Init:Signal:{signal}" if signal
                          else f"Init:ExitCode:{_int(terminated.get('exitCode'))}")
            else:
                reason = "Init:" + _str(terminated.get("reason"))
        elif _str(waiting.get("reason")) and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + _str(waiting.get("reason"))
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _has_condition(status, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(_seq(status.get("containerStatuses"))):
            cs = _map(cs)
            state = _map(cs.get("state"))
            restarts += _int(cs.get("restartCount"))
            terminated_last = _map(_map(cs.get("lastState")).get("terminated"))
            if terminated_last:
                last_restart = _later(last_restart, terminated_last.get("finishedAt"))
            waiting = _map(state.get("waiting"))
            terminated = state.get("terminated")
            if waiting and _str(waiting.get("reason")):
                reason = _str(waiting.get("reason"))
            elif isinstance(terminated, Mapping) and _str(terminated.get("reason")):
                reason = _str(terminated.get("reason"))
            elif isinstance(terminated, Mapping):
                signal = _int(terminated.get("signal"))
                reason = (f"Signal:{signal}" if signal
                          else f"ExitCode:{_int(terminated.get('exitCode'))}")
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _has_condition(status, "Ready") else "NotReady"

    if meta.get("deletionTimestamp") and _str(status.get("reason")) == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return reason, f"{ready}/{total}", restarts, last_restart


def deployment_of_replicaset(rs_name: str, template_hash: str) -> str:
    """The deployment a ReplicaSet named ``<deployment>-<hash>`` belongs to ("" if unsure)."""
    suffix = f"-{template_hash}"
    if template_hash and rs_name.endswith(suffix):
        return rs_name[: -len(suffix)]
    return ""


def pod_view(pod: Any, *, replicaset: RevisionView | None = None,
             now: datetime | None = None) -> PodView:
    """Build a PodView; ``replicaset`` (the owning RS, when known) supplies the revision."""
    obj = as_json(pod)
    meta, spec, status = _map(obj.get("metadata")), _map(obj.get("spec")), _map(obj.get("status"))
    labels = _map(meta.get("labels"))
    text, ready, restarts, last_restart = pod_status(obj)
    template_hash = _str(labels.get(TEMPLATE_HASH_LABEL))
    owner = controller_of(meta)
    rs_name = owner[1] if owner and owner[0] == "ReplicaSet" else ""
    deployment = ""
    revision = template_hash
    if replicaset is not None and replicaset.name == rs_name:
        deployment = replicaset.deployment
        if replicaset.revision is not None:
            revision = str(replicaset.revision)
    if not deployment and rs_name:
        deployment = deployment_of_replicaset(rs_name, template_hash)
    created = parse_time(meta.get("creationTimestamp"))
    return PodView(
        name=_str(meta.get("name")),
        namespace=intern(_str(meta.get("namespace"))),
        ready=intern(ready),
        status=intern(text),
        restarts=restarts,
        age=intern(age_since(created, now)),
        node=intern(_str(spec.get("nodeName"))),
        revision=intern(revision),
        pod_template_hash=intern(template_hash),
        deployment=intern(deployment),
        replicaset=intern(rs_name),
        ip=_str(status.get("podIP")),
        last_restart=last_restart,
        created=created,
        deleting=bool(meta.get("deletionTimestamp")),
        resource_version=_str(meta.get("resourceVersion")),
        images=tuple(intern(image) for image in container_images(spec)),
    )


# ---- deployments -----------------------------------------------------------------------
@dataclass(frozen=True)
class ConditionView:
    """One status condition (Progressing, Available ...)."""

    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_update: datetime | None = None
    last_transition: datetime | None = None


def condition_views(status: Any) -> tuple[ConditionView, ...]:
    """The ``status.conditions`` of an object as ConditionViews."""
    return tuple(
        ConditionView(
            type=_str(c.get("type")), status=_str(c.get("status")), reason=_str(c.get("reason")),
            message=_str(c.get("message")), last_update=parse_time(c.get("lastUpdateTime")),
            last_transition=parse_time(c.get("lastTransitionTime")),
        )
        for c in (_map(c) for c in _seq(_map(status).get("conditions")))
    )


ROLLOUT_COMPLETE = "complete"
ROLLOUT_PROGRESSING = "progressing"
ROLLOUT_STALLED = "stalled"
ROLLOUT_PAUSED = "paused"
PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"


@dataclass(frozen=True)
class DeploymentView:
    """A deployment's spec, status and rollout state."""

    namespace: str
    name: str
    desired: int
    updated: int
    ready: int
    available: int
    current: int = 0  # status.replicas: pods of all its ReplicaSets
    unavailable: int = 0
    revision: int | None = None
    images: tuple[str, ...] = ()
    rollout: str = ROLLOUT_PROGRESSING  # progressing | complete | stalled | paused
    rollout_message: str = ""  # kubectl rollout status's sentence for the current state
    conditions: tuple[ConditionView, ...] = ()
    generation: int = 0
    observed_generation: int = 0
    resource_version: str = ""
    paused: bool = False
    selector: str = ""
    change_cause: str = ""
    created: datetime | None = None
    age: str = ""
    uid: str = ""

    @property
    def key(self) -> str:
        """``namespace/name``."""
        return f"{self.namespace}/{self.name}"

    @property
    def ready_text(self) -> str:
        """READY as ``kubectl get deployments`` prints it: "ready/desired"."""
        return f"{self.ready}/{self.desired}"

    def condition(self, kind: str) -> ConditionView | None:
        """The condition of the given type, if reported."""
        return next((c for c in self.conditions if c.type == kind), None)


def rollout_state(deployment: Any) -> tuple[str, str, bool]:
    """(state, message, done) as ``kubectl rollout status`` decides them.

    state is complete / progressing / stalled / paused; message is kubectl's sentence (without
    the trailing newline); done is True for complete and stalled (the command exits).
    """
    obj = as_json(deployment)
    meta, spec, status = _map(obj.get("metadata")), _map(obj.get("spec")), _map(obj.get("status"))
    name = _str(meta.get("name"))
    if _int(meta.get("generation")) <= _int(status.get("observedGeneration")):
        for cond in _seq(status.get("conditions")):
            cond = _map(cond)
            if cond.get("type") == "Progressing" and cond.get("reason") == PROGRESS_DEADLINE_EXCEEDED:
                return ROLLOUT_STALLED, f'deployment "{name}" exceeded its progress deadline', True
        desired = _int(spec.get("replicas"), 1)
        updated = _int(status.get("updatedReplicas"))
        replicas = _int(status.get("replicas"))
        available = _int(status.get("availableReplicas"))
        waiting = f'Waiting for deployment "{name}" rollout to finish: '
        state = ROLLOUT_PAUSED if spec.get("paused") else ROLLOUT_PROGRESSING
        if updated < desired:
            return state, f"{waiting}{updated} out of {desired} new replicas have been updated...", False
        if replicas > updated:
            return state, f"{waiting}{replicas - updated} old replicas are pending termination...", False
        if available < updated:
            return state, f"{waiting}{available} of {updated} updated replicas are available...", False
        return ROLLOUT_COMPLETE, f'deployment "{name}" successfully rolled out', True
    state = ROLLOUT_PAUSED if spec.get("paused") else ROLLOUT_PROGRESSING
    return state, "Waiting for deployment spec update to be observed...", False


def deployment_view(deployment: Any, *, now: datetime | None = None) -> DeploymentView:
    """Build a DeploymentView from a Deployment."""
    obj = as_json(deployment)
    meta, spec, status = _map(obj.get("metadata")), _map(obj.get("spec")), _map(obj.get("status"))
    template = _map(spec.get("template"))
    state, message, _ = rollout_state(obj)
    created = parse_time(meta.get("creationTimestamp"))
    try:
        selector = format_selector(spec.get("selector"))
    except ValueError:
        selector = "<invalid>"
    return DeploymentView(
        namespace=_str(meta.get("namespace")),
        name=_str(meta.get("name")),
        desired=_int(spec.get("replicas"), 1),
        updated=_int(status.get("updatedReplicas")),
        ready=_int(status.get("readyReplicas")),
        available=_int(status.get("availableReplicas")),
        current=_int(status.get("replicas")),
        unavailable=_int(status.get("unavailableReplicas")),
        revision=revision_of(meta),
        images=container_images(template.get("spec")),
        rollout=state,
        rollout_message=message,
        conditions=condition_views(status),
        generation=_int(meta.get("generation")),
        observed_generation=_int(status.get("observedGeneration")),
        resource_version=_str(meta.get("resourceVersion")),
        paused=bool(spec.get("paused")),
        selector=selector,
        change_cause=_str(_map(meta.get("annotations")).get(CHANGE_CAUSE_ANNOTATION)),
        created=created,
        age=age_since(created, now),
        uid=_str(meta.get("uid")),
    )


# ---- replicasets / revisions -----------------------------------------------------------
@dataclass(frozen=True)
class RevisionView:
    """One revision of a deployment: a ReplicaSet, as ``kubectl rollout history`` lists it."""

    revision: int | None
    change_cause: str
    images: tuple[str, ...]
    template_hash: str
    name: str  # the ReplicaSet's name
    replicas: int
    namespace: str = ""
    deployment: str = ""  # owning deployment
    ready_replicas: int = 0
    available_replicas: int = 0
    current: bool = False  # the deployment's current revision (set by ``history``)
    created: datetime | None = None
    resource_version: str = ""
    uid: str = ""

    @property
    def key(self) -> str:
        """``namespace/name`` of the ReplicaSet."""
        return f"{self.namespace}/{self.name}"


def revision_view(replicaset: Any, *, current_revision: int | None = None) -> RevisionView:
    """Build a RevisionView from a ReplicaSet."""
    obj = as_json(replicaset)
    meta, spec, status = _map(obj.get("metadata")), _map(obj.get("spec")), _map(obj.get("status"))
    template = _map(spec.get("template"))
    labels = _map(meta.get("labels"))
    owner = controller_of(meta)
    revision = revision_of(meta)
    name = _str(meta.get("name"))
    template_hash = _str(labels.get(TEMPLATE_HASH_LABEL)) or _str(
        _map(_map(template.get("metadata")).get("labels")).get(TEMPLATE_HASH_LABEL))
    deployment = owner[1] if owner and owner[0] == "Deployment" else ""
    return RevisionView(
        revision=revision,
        change_cause=_str(_map(meta.get("annotations")).get(CHANGE_CAUSE_ANNOTATION)),
        images=container_images(template.get("spec")),
        template_hash=template_hash,
        name=name,
        replicas=_int(spec.get("replicas"), 1),
        namespace=_str(meta.get("namespace")),
        deployment=deployment,
        ready_replicas=_int(status.get("readyReplicas")),
        available_replicas=_int(status.get("availableReplicas")),
        current=revision is not None and revision == current_revision,
        created=parse_time(meta.get("creationTimestamp")),
        resource_version=_str(meta.get("resourceVersion")),
        uid=_str(meta.get("uid")),
    )


# ---- events ----------------------------------------------------------------------------
@dataclass(frozen=True)
class EventView:
    """A core/v1 Event as ``kubectl get events`` shows it."""

    namespace: str
    name: str
    type: str  # Normal | Warning
    reason: str
    message: str
    object: str  # "kind/name", kind lower-case as kubectl prints it
    involved_kind: str = ""
    involved_name: str = ""
    source: str = ""
    count: int = 1
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    age: str = ""  # LAST SEEN
    resource_version: str = ""

    @property
    def key(self) -> str:
        """``namespace/name`` of the Event object."""
        return f"{self.namespace}/{self.name}"

    @property
    def warning(self) -> bool:
        """True for Warning events."""
        return self.type == "Warning"


def event_view(event: Any, *, now: datetime | None = None) -> EventView:
    """Build an EventView from a core/v1 Event."""
    obj = as_json(event)
    meta = _map(obj.get("metadata"))
    involved = _map(obj.get("involvedObject"))
    source = _map(obj.get("source"))
    series = _map(obj.get("series"))
    first = parse_time(obj.get("firstTimestamp")) or parse_time(obj.get("eventTime"))
    last = parse_time(obj.get("lastTimestamp")) or _later(None, series.get("lastObservedTime")) \
        or first or parse_time(meta.get("creationTimestamp"))
    kind = _str(involved.get("kind"))
    name = _str(involved.get("name"))
    source_text = _str(source.get("component")) or _str(obj.get("reportingComponent"))
    if source.get("host"):
        source_text = f"{source_text}, {source['host']}"
    count = _int(obj.get("count")) or _int(series.get("count")) or 1
    return EventView(
        namespace=_str(meta.get("namespace")),
        name=_str(meta.get("name")),
        type=_str(obj.get("type")) or "Normal",
        reason=_str(obj.get("reason")),
        message=_str(obj.get("message")).strip(),
        object=f"{kind.lower()}/{name}" if kind else name,
        involved_kind=kind,
        involved_name=name,
        source=source_text,
        count=count,
        first_seen=first,
        last_seen=last,
        age=age_since(last, now),
        resource_version=_str(meta.get("resourceVersion")),
    )


__all__ = [
    "CHANGE_CAUSE_ANNOTATION",
    "ConditionView",
    "DeploymentView",
    "EventView",
    "PodView",
    "REVISION_ANNOTATION",
    "RevisionView",
    "TEMPLATE_HASH_LABEL",
    "age_since",
    "as_json",
    "condition_views",
    "container_images",
    "deployment_of_replicaset",
    "deployment_view",
    "event_view",
    "format_selector",
    "human_duration",
    "parse_time",
    "pod_status",
    "pod_view",
    "revision_of",
    "revision_view",
    "rollout_state",
]
