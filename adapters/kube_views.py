"""Immutable views of Kubernetes objects, as the console shows them.

The builders take an object either as Kubernetes JSON (a dict, as the API sends it: the
informer works on those for speed) or as an official-client model (``V1Pod`` ...), and compute
what kubectl would print: pod STATUS, READY and RESTARTS follow ``printPod`` in
``pkg/printers/internalversion/printers.go``; ages follow apimachinery's ``HumanDuration``
(``kube_time``); the rollout state of a deployment follows ``kubectl rollout status``. Field
readers, selectors and owner references are in ``kube_json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from sys import intern
from typing import Any

from .kube_json import (
    CHANGE_CAUSE_ANNOTATION,
    TEMPLATE_HASH_LABEL,
    as_int,
    as_json,
    as_list,
    as_map,
    as_str,
    container_images,
    controller_of,
    format_selector,
    revision_of,
)
from .kube_time import age_since, later, parse_time
from .pod_resources import last_termination, memory_limit

ROLLOUT_HASH_LABEL = "rollouts-pod-template-hash"  # Argo Rollouts' ReplicaSets and pods
ROLLOUT_REVISION = "rollout.argoproj.io/revision"


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
    labels: str = ""  # "app=api,tier=web" (sorted; pod-template-hash left out), for `/`
    last_termination: str = ""  # lastState.terminated.reason: OOMKilled, Error ...
    terminated_at: datetime | None = None  # ... and its finishedAt
    memory_limit: int | None = None  # bytes, the largest container limit (None: no limit)

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
    return bool(container) and as_str(as_map(container).get("restartPolicy")) == "Always"


def _has_condition(status: Mapping[str, Any], kind: str, value: str = "True") -> bool:
    return any(as_map(c).get("type") == kind and as_map(c).get("status") == value
               for c in as_list(status.get("conditions")))


def pod_status(pod: Any) -> tuple[str, str, int, datetime | None]:
    """(STATUS, READY, restarts, last restart) exactly as kubectl's ``printPod`` computes them."""
    obj = as_json(pod)
    meta, spec = as_map(obj.get("metadata")), as_map(obj.get("spec"))
    status = as_map(obj.get("status"))
    containers = as_list(spec.get("containers"))
    init_specs = {as_str(as_map(c).get("name")): as_map(c)
                  for c in as_list(spec.get("initContainers"))}
    total = len(containers) + sum(1 for c in init_specs.values() if _is_restartable_init(c))
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None
    phase = as_str(status.get("phase"))
    reason = as_str(status.get("reason")) or phase
    for cond in as_list(status.get("conditions")):
        cond = as_map(cond)
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    initializing = False
    init_statuses = as_list(status.get("initContainerStatuses"))
    for index, cs in enumerate(init_statuses):
        cs = as_map(cs)
        state = as_map(cs.get("state"))
        restarts += as_int(cs.get("restartCount"))
        terminated_last = as_map(as_map(cs.get("lastState")).get("terminated"))
        if terminated_last:
            last_restart = later(last_restart, terminated_last.get("finishedAt"))
        sidecar = _is_restartable_init(init_specs.get(as_str(cs.get("name"))))
        if sidecar:
            sidecar_restarts += as_int(cs.get("restartCount"))
            if terminated_last:
                last_sidecar_restart = later(last_sidecar_restart,
                                             terminated_last.get("finishedAt"))
        terminated = as_map(state.get("terminated"))
        waiting = as_map(state.get("waiting"))
        if terminated and as_int(terminated.get("exitCode")) == 0:
            continue
        if sidecar and cs.get("started") is True:
            if cs.get("ready"):
                ready += 1
            continue
        if terminated:
            if not as_str(terminated.get("reason")):
                signal = as_int(terminated.get("signal"))
                reason = (f"Init:Signal:{signal}" if signal
                          else f"Init:ExitCode:{as_int(terminated.get('exitCode'))}")
            else:
                reason = "Init:" + as_str(terminated.get("reason"))
        elif as_str(waiting.get("reason")) and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + as_str(waiting.get("reason"))
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _has_condition(status, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(as_list(status.get("containerStatuses"))):
            cs = as_map(cs)
            state = as_map(cs.get("state"))
            restarts += as_int(cs.get("restartCount"))
            terminated_last = as_map(as_map(cs.get("lastState")).get("terminated"))
            if terminated_last:
                last_restart = later(last_restart, terminated_last.get("finishedAt"))
            waiting = as_map(state.get("waiting"))
            terminated = state.get("terminated")
            if waiting and as_str(waiting.get("reason")):
                reason = as_str(waiting.get("reason"))
            elif isinstance(terminated, Mapping) and as_str(terminated.get("reason")):
                reason = as_str(terminated.get("reason"))
            elif isinstance(terminated, Mapping):
                signal = as_int(terminated.get("signal"))
                reason = (f"Signal:{signal}" if signal
                          else f"ExitCode:{as_int(terminated.get('exitCode'))}")
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _has_condition(status, "Ready") else "NotReady"

    if meta.get("deletionTimestamp") and as_str(status.get("reason")) == "NodeLost":
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
    meta, spec = as_map(obj.get("metadata")), as_map(obj.get("spec"))
    status = as_map(obj.get("status"))
    labels = as_map(meta.get("labels"))
    text, ready, restarts, last_restart = pod_status(obj)
    template_hash = as_str(labels.get(TEMPLATE_HASH_LABEL)) or as_str(
        labels.get(ROLLOUT_HASH_LABEL))
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
    terminated = last_termination(status)
    return PodView(
        name=as_str(meta.get("name")),
        namespace=intern(as_str(meta.get("namespace"))),
        ready=intern(ready),
        status=intern(text),
        restarts=restarts,
        age=intern(age_since(created, now)),
        node=intern(as_str(spec.get("nodeName"))),
        revision=intern(revision),
        pod_template_hash=intern(template_hash),
        deployment=intern(deployment),
        replicaset=intern(rs_name),
        ip=as_str(status.get("podIP")),
        last_restart=last_restart,
        created=created,
        deleting=bool(meta.get("deletionTimestamp")),
        resource_version=as_str(meta.get("resourceVersion")),
        images=tuple(intern(image) for image in container_images(spec)),
        labels=labels_text(labels),
        last_termination=intern(terminated[0]),
        terminated_at=terminated[1],
        memory_limit=memory_limit(spec),
    )


def labels_text(labels: Mapping[str, Any]) -> str:
    """Labels as one interned "k=v,k=v" string, sorted, without pod-template-hash (which
    differs per ReplicaSet: the pods of one workload then share one string)."""
    return intern(",".join(f"{k}={as_str(v)}" for k, v in sorted(labels.items())
                           if k != TEMPLATE_HASH_LABEL and isinstance(k, str)))


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
            type=as_str(c.get("type")), status=as_str(c.get("status")),
            reason=as_str(c.get("reason")),
            message=as_str(c.get("message")), last_update=parse_time(c.get("lastUpdateTime")),
            last_transition=parse_time(c.get("lastTransitionTime")),
        )
        for c in (as_map(c) for c in as_list(as_map(status).get("conditions")))
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
    meta, spec = as_map(obj.get("metadata")), as_map(obj.get("spec"))
    status = as_map(obj.get("status"))
    name = as_str(meta.get("name"))
    if as_int(meta.get("generation")) <= as_int(status.get("observedGeneration")):
        for cond in as_list(status.get("conditions")):
            cond = as_map(cond)
            if cond.get("type") == "Progressing" and cond.get("reason") == PROGRESS_DEADLINE_EXCEEDED:
                return ROLLOUT_STALLED, f'deployment "{name}" exceeded its progress deadline', True
        desired = as_int(spec.get("replicas"), 1)
        updated = as_int(status.get("updatedReplicas"))
        replicas = as_int(status.get("replicas"))
        available = as_int(status.get("availableReplicas"))
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
    meta, spec = as_map(obj.get("metadata")), as_map(obj.get("spec"))
    status = as_map(obj.get("status"))
    template = as_map(spec.get("template"))
    state, message, _ = rollout_state(obj)
    created = parse_time(meta.get("creationTimestamp"))
    try:
        selector = format_selector(spec.get("selector"))
    except ValueError:
        selector = "<invalid>"
    return DeploymentView(
        namespace=as_str(meta.get("namespace")),
        name=as_str(meta.get("name")),
        desired=as_int(spec.get("replicas"), 1),
        updated=as_int(status.get("updatedReplicas")),
        ready=as_int(status.get("readyReplicas")),
        available=as_int(status.get("availableReplicas")),
        current=as_int(status.get("replicas")),
        unavailable=as_int(status.get("unavailableReplicas")),
        revision=revision_of(meta),
        images=container_images(template.get("spec")),
        rollout=state,
        rollout_message=message,
        conditions=condition_views(status),
        generation=as_int(meta.get("generation")),
        observed_generation=as_int(status.get("observedGeneration")),
        resource_version=as_str(meta.get("resourceVersion")),
        paused=bool(spec.get("paused")),
        selector=selector,
        change_cause=as_str(as_map(meta.get("annotations")).get(CHANGE_CAUSE_ANNOTATION)),
        created=created,
        age=age_since(created, now),
        uid=as_str(meta.get("uid")),
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
    meta, spec = as_map(obj.get("metadata")), as_map(obj.get("spec"))
    status = as_map(obj.get("status"))
    template = as_map(spec.get("template"))
    labels = as_map(meta.get("labels"))
    owner = controller_of(meta)
    revision = revision_of(meta)
    name = as_str(meta.get("name"))
    template_hash = as_str(labels.get(TEMPLATE_HASH_LABEL)) or as_str(
        as_map(as_map(template.get("metadata")).get("labels")).get(TEMPLATE_HASH_LABEL)) or \
        as_str(labels.get(ROLLOUT_HASH_LABEL))
    # the workload it belongs to: a Deployment, or an Argo Rollout (its own revision count)
    deployment = owner[1] if owner and owner[0] in ("Deployment", "Rollout") else ""
    if revision is None and owner and owner[0] == "Rollout":
        revision = as_int(as_map(meta.get("annotations")).get(ROLLOUT_REVISION), 0) or None
    return RevisionView(
        revision=revision,
        change_cause=as_str(as_map(meta.get("annotations")).get(CHANGE_CAUSE_ANNOTATION)),
        images=container_images(template.get("spec")),
        template_hash=template_hash,
        name=name,
        replicas=as_int(spec.get("replicas"), 1),
        namespace=as_str(meta.get("namespace")),
        deployment=deployment,
        ready_replicas=as_int(status.get("readyReplicas")),
        available_replicas=as_int(status.get("availableReplicas")),
        current=revision is not None and revision == current_revision,
        created=parse_time(meta.get("creationTimestamp")),
        resource_version=as_str(meta.get("resourceVersion")),
        uid=as_str(meta.get("uid")),
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
    meta = as_map(obj.get("metadata"))
    involved = as_map(obj.get("involvedObject"))
    source = as_map(obj.get("source"))
    series = as_map(obj.get("series"))
    first = parse_time(obj.get("firstTimestamp")) or parse_time(obj.get("eventTime"))
    last = parse_time(obj.get("lastTimestamp")) or later(None, series.get("lastObservedTime")) \
        or first or parse_time(meta.get("creationTimestamp"))
    kind = as_str(involved.get("kind"))
    name = as_str(involved.get("name"))
    source_text = as_str(source.get("component")) or as_str(obj.get("reportingComponent"))
    if source.get("host"):
        source_text = f"{source_text}, {source['host']}"
    count = as_int(obj.get("count")) or as_int(series.get("count")) or 1
    return EventView(
        namespace=as_str(meta.get("namespace")),
        name=as_str(meta.get("name")),
        type=as_str(obj.get("type")) or "Normal",
        reason=as_str(obj.get("reason")),
        message=as_str(obj.get("message")).strip(),
        object=f"{kind.lower()}/{name}" if kind else name,
        involved_kind=kind,
        involved_name=name,
        source=source_text,
        count=count,
        first_seen=first,
        last_seen=last,
        age=age_since(last, now),
        resource_version=as_str(meta.get("resourceVersion")),
    )


__all__ = [
    "ConditionView",
    "DeploymentView",
    "EventView",
    "PodView",
    "RevisionView",
    "condition_views",
    "deployment_of_replicaset",
    "deployment_view",
    "event_view",
    "pod_status",
    "pod_view",
    "revision_view",
    "rollout_state",
]
