"""Rollout arithmetic of the deployment controller, on plain JSON dicts.

Semantics follow Kubernetes' `pkg/controller/deployment/util`: API defaults, the pod-template
hash, template equality ignoring the hash label, maxSurge/maxUnavailable fenceposts, revision
and replica annotations, proportional-scaling fractions and the Deployment conditions.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable
from typing import Any

Obj = dict[str, Any]

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
NOT_COPIED = frozenset({LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS,
                        MAX_REPLICAS, ROLLBACK_TO})
MAX_REVISION_HISTORY_CHARS = 2000

# Condition reasons (deployment_util.go).
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"

_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_MAX_INT32 = 2**31 - 1


# ---- defaults ------------------------------------------------------------------------------
def _default_container(container: Obj) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    if "imagePullPolicy" not in container:
        image = str(container.get("image", ""))
        tagged = ":" in image.rsplit("/", 1)[-1] or "@" in image
        latest = image.endswith(":latest")
        container["imagePullPolicy"] = "Always" if latest or not tagged else "IfNotPresent"
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if not isinstance(probe, dict):
            continue
        if isinstance(probe.get("httpGet"), dict):
            probe["httpGet"].setdefault("scheme", "HTTP")
        probe.setdefault("timeoutSeconds", 1)
        probe.setdefault("periodSeconds", 10)
        probe.setdefault("successThreshold", 1)
        probe.setdefault("failureThreshold", 3)


def apply_pod_spec_defaults(spec: Obj) -> None:
    """SetDefaults_PodSpec and SetDefaults_Container, as applied to pod templates."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for container in spec.get("containers") or []:
        _default_container(container)
    for container in spec.get("initContainers") or []:
        _default_container(container)


def apply_deployment_defaults(obj: Obj) -> Obj:
    """Fill the apps/v1 Deployment defaults in place (the server calls this on create and
    update, as the API server's defaulting does). Returns `obj`."""
    spec = obj.setdefault("spec", {})
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    strategy = spec.get("strategy")
    if not isinstance(strategy, dict):
        strategy = spec["strategy"] = {}
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            rolling = strategy["rollingUpdate"] = {}
        if rolling.get("maxUnavailable") is None:
            rolling["maxUnavailable"] = "25%"
        if rolling.get("maxSurge") is None:
            rolling["maxSurge"] = "25%"
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = 600
    if spec.get("paused") is False:  # `paused` is omitempty: the API server never shows false
        del spec["paused"]
    template = spec.setdefault("template", {})
    template_meta = template.setdefault("metadata", {})
    if not spec.get("selector") and template_meta.get("labels"):
        spec["selector"] = {"matchLabels": dict(template_meta["labels"])}
    apply_pod_spec_defaults(template.setdefault("spec", {}))
    obj.setdefault("status", {})
    return obj


def needs_defaults(obj: Obj) -> bool:
    probe = copy.deepcopy(obj)
    apply_deployment_defaults(probe)
    return probe.get("spec") != obj.get("spec")


# ---- templates -----------------------------------------------------------------------------
def _normalized(value: Any) -> Any:
    """Drop null, empty maps and empty lists: Go's semantic equality treats them as unset."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = _normalized(item)
            if item is None or item == {} or item == []:
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        return [_normalized(item) for item in value]
    return value


def template_without_hash(template: Obj | None) -> Obj:
    result = copy.deepcopy(template or {})
    labels = result.get("metadata", {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return result


def templates_equal(a: Obj | None, b: Obj | None) -> bool:
    """Template equality ignoring the pod-template-hash label (EqualIgnoreHash)."""
    return _normalized(template_without_hash(a)) == _normalized(template_without_hash(b))


def template_hash(template: Obj, collision_count: int = 0) -> str:
    """A stable 10-character name suffix for a pod template (FNV-1a 64 over canonical JSON)."""
    text = json.dumps(_normalized(template_without_hash(template)), sort_keys=True,
                      separators=(",", ":"))
    if collision_count:
        text += f"#{collision_count}"
    return hash_suffix(text)


def hash_suffix(text: str) -> str:
    """FNV-1a 64 of ``text`` as 10 characters of the safe alphabet (no vowels)."""
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    chars = []
    for _ in range(10):
        value, digit = divmod(value, len(_HASH_ALPHABET))
        chars.append(_HASH_ALPHABET[digit])
    return "".join(chars)


# ---- strategy arithmetic -------------------------------------------------------------------
def replicas_of(obj: Obj | None) -> int:
    if obj is None:
        return 0
    value = obj.get("spec", {}).get("replicas")
    return 1 if value is None else int(value)


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """GetScaledValueFromIntOrPercent: an int, or a "N%" share of `total`."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError(f"invalid value for IntOrString: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.endswith("%"):
        percent = int(text[:-1])
        exact = percent * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(text)


def is_rolling(d: Obj) -> bool:
    return d.get("spec", {}).get("strategy", {}).get("type", "RollingUpdate") == "RollingUpdate"


def resolve_fenceposts(d: Obj) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) resolved against spec.replicas; never both zero."""
    rolling = d.get("spec", {}).get("strategy", {}).get("rollingUpdate") or {}
    desired = replicas_of(d)
    surge = scaled_value(rolling.get("maxSurge", "25%"), desired, True)
    unavailable = scaled_value(rolling.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(d: Obj) -> int:
    return resolve_fenceposts(d)[0] if is_rolling(d) else 0


def max_unavailable(d: Obj) -> int:
    desired = replicas_of(d)
    if not is_rolling(d) or desired == 0:
        return 0
    return min(resolve_fenceposts(d)[1], desired)


def spec_count(rss: Iterable[Obj | None]) -> int:
    return sum(replicas_of(rs) for rs in rss if rs is not None)


def status_count(rss: Iterable[Obj | None], field: str) -> int:
    return sum(int(rs.get("status", {}).get(field) or 0) for rs in rss if rs is not None)


def active(rss: Iterable[Obj | None]) -> list[Obj]:
    return [rs for rs in rss if rs is not None and replicas_of(rs) > 0]


def by_creation(rs: Obj) -> tuple[str, str]:
    meta = rs["metadata"]
    return (meta.get("creationTimestamp", ""), meta["name"])


def new_rs_new_replicas(d: Obj, all_rss: list[Obj], new_rs: Obj) -> int:
    """How far the new ReplicaSet may scale up now (NewRSNewReplicas)."""
    if not is_rolling(d):
        return replicas_of(d)
    surge = max_surge(d)
    current = spec_count(all_rss)
    max_total = replicas_of(d) + surge
    if current >= max_total:
        return replicas_of(new_rs)
    scale_up = min(max_total - current, replicas_of(d) - replicas_of(new_rs))
    return replicas_of(new_rs) + scale_up


# ---- annotations ---------------------------------------------------------------------------
def annotation_int(obj: Obj | None, key: str) -> int | None:
    if obj is None:
        return None
    value = obj.get("metadata", {}).get("annotations", {}).get(key)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def revision(rs: Obj) -> int:
    return annotation_int(rs, REVISION) or 0


def max_revision(rss: Iterable[Obj]) -> int:
    return max((revision(rs) for rs in rss), default=0)


def set_replicas_annotations(rs: Obj, desired: int, max_replicas: int) -> bool:
    annotations = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(max_replicas))):
        if annotations.get(key) != value:
            annotations[key] = value
            changed = True
    return changed


def replicas_annotations_need_update(rs: Obj, desired: int, max_replicas: int) -> bool:
    annotations = rs.get("metadata", {}).get("annotations", {})
    return (annotations.get(DESIRED_REPLICAS) != str(desired)
            or annotations.get(MAX_REPLICAS) != str(max_replicas))


def set_new_rs_annotations(d: Obj, rs: Obj, new_revision: int, exists: bool) -> bool:
    """Copy the Deployment's annotations and stamp the revision (SetNewReplicaSetAnnotations).

    A reused old ReplicaSet keeps its previous revision in the revision-history annotation.
    """
    annotations = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in (d["metadata"].get("annotations") or {}).items():
        if key in NOT_COPIED or annotations.get(key) == value:
            continue
        annotations[key] = value
        changed = True
    had_revision = REVISION in annotations
    old_text = annotations.get(REVISION, "")
    try:
        old_revision = int(old_text) if old_text else 0
    except ValueError:
        return changed
    if old_revision < new_revision:
        annotations[REVISION] = str(new_revision)
        changed = True
        if had_revision:
            history = annotations.get(REVISION_HISTORY, "")
            entries = [entry for entry in history.split(",") if entry]
            entries.append(old_text)
            while len(",".join(entries)) > MAX_REVISION_HISTORY_CHARS and len(entries) > 1:
                entries.pop(0)
            annotations[REVISION_HISTORY] = ",".join(entries)
    if not exists and set_replicas_annotations(rs, replicas_of(d), replicas_of(d) + max_surge(d)):
        changed = True
    return changed


# ---- proportional scaling ------------------------------------------------------------------
def is_saturated(d: Obj, rs: Obj | None) -> bool:
    if rs is None:
        return False
    desired = annotation_int(rs, DESIRED_REPLICAS)
    if desired is None:
        return False
    want = replicas_of(d)
    return (replicas_of(rs) == want and desired == want
            and int(rs.get("status", {}).get("availableReplicas") or 0) == want)


def find_active_or_latest(new_rs: Obj | None, old_rss: list[Obj]) -> Obj | None:
    if new_rs is None and not old_rss:
        return None
    newest_first = sorted(old_rss, key=by_creation, reverse=True)
    live = active([*newest_first, new_rs])
    if not live:
        return new_rs if new_rs is not None else newest_first[0]
    return live[0] if len(live) == 1 else None


def _round_half_away(value: float) -> int:
    return int(math.floor(value + 0.5)) if value >= 0 else -int(math.floor(-value + 0.5))


def _fraction(rs: Obj, d: Obj) -> int:
    if replicas_of(d) == 0:
        return -replicas_of(rs)
    max_now = replicas_of(d) + max_surge(d)
    max_before = annotation_int(rs, MAX_REPLICAS)
    if not max_before:
        max_before = int(d.get("status", {}).get("replicas") or 0)
        if max_before == 0:
            return 0
    return _round_half_away(replicas_of(rs) * max_now / max_before) - replicas_of(rs)


def proportion(rs: Obj, d: Obj, to_add: int, added: int) -> int:
    """GetReplicaSetProportion: this ReplicaSet's share of a deployment resize."""
    if replicas_of(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


# ---- conditions ----------------------------------------------------------------------------
def new_condition(type_: str, status: str, reason: str, message: str, stamp: str) -> Obj:
    return {"type": type_, "status": status, "lastUpdateTime": stamp,
            "lastTransitionTime": stamp, "reason": reason, "message": message}


def get_condition(status: Obj, type_: str) -> Obj | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == type_:
            return condition
    return None


def set_condition(status: Obj, condition: Obj) -> None:
    """SetDeploymentCondition: no-op when status and reason are unchanged; keeps the
    transition time when only the reason changes; the condition moves to the end."""
    current = get_condition(status, condition["type"])
    if current is not None and current.get("status") == condition["status"] \
            and current.get("reason") == condition["reason"]:
        return
    if current is not None and current.get("status") == condition["status"]:
        condition["lastTransitionTime"] = current.get("lastTransitionTime")
    remove_condition(status, condition["type"])
    status.setdefault("conditions", []).append(condition)


def remove_condition(status: Obj, type_: str) -> None:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    status["conditions"] = conditions


def has_progress_deadline(d: Obj) -> bool:
    deadline = d.get("spec", {}).get("progressDeadlineSeconds")
    return deadline is not None and int(deadline) != _MAX_INT32


def deployment_complete(d: Obj, status: Obj) -> bool:
    want = replicas_of(d)
    return (int(status.get("updatedReplicas") or 0) == want
            and int(status.get("replicas") or 0) == want
            and int(status.get("availableReplicas") or 0) == want
            and int(status.get("observedGeneration") or 0) >= d["metadata"].get("generation", 1))


def deployment_progressing(d: Obj, new_status: Obj) -> bool:
    old = d.get("status") or {}

    def get(status: Obj, field: str) -> int:
        return int(status.get(field) or 0)

    old_old = get(old, "replicas") - get(old, "updatedReplicas")
    new_old = get(new_status, "replicas") - get(new_status, "updatedReplicas")
    return (get(new_status, "updatedReplicas") > get(old, "updatedReplicas")
            or new_old < old_old
            or get(new_status, "readyReplicas") > get(old, "readyReplicas")
            or get(new_status, "availableReplicas") > get(old, "availableReplicas"))
