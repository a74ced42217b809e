"""The drill cluster's starting workload: namespaces and deployments with rollout history.

Everything is written already settled, exactly as the controllers would have left it after
the last rollout three days ago: old ReplicaSets scaled to zero with their revisions and
change-causes, the current ReplicaSet with Running, Ready pods, and Deployment status and
conditions of a completed rollout. The control plane adopts it without creating anything.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import rollout as ro
from .clock import rfc3339
from .control_plane import ControlPlane
from .controllers import build_pod, new_pod_name
from .ownership import owner_reference
from .store import Store

Obj = dict[str, Any]

NAMESPACES = ("default", "kube-system", "shop", "auth")
LAST_ROLLOUT_AGE = timedelta(days=3)
REVISION_SPACING = timedelta(days=4)


@dataclass(frozen=True)
class SeedApp:
    namespace: str
    name: str
    replicas: int
    image: str
    port: int
    revisions: tuple[tuple[str, str], ...]  # (version, change-cause), oldest first
    env: tuple[tuple[str, str], ...] = ()


APPS: tuple[SeedApp, ...] = (
    SeedApp("shop", "api", 3, "registry.local/shop/api", 8080, (
        ("1.4.0", "deploy api 1.4.0: order history pagination"),
        ("1.5.0", "deploy api 1.5.0: faster checkout"),
        ("1.6.0", "deploy api 1.6.0: saved payment methods"),
    ), (("DB_POOL_SIZE", "20"),)),
    SeedApp("shop", "web", 2, "registry.local/shop/web", 3000, (
        ("2.7.1", "deploy web 2.7.1: cart badge fix"),
        ("2.8.0", "deploy web 2.8.0: new product page"),
    ), (("API_URL", "http://api.shop.svc:8080"),)),
    SeedApp("shop", "worker", 2, "registry.local/shop/worker", 9090, (
        ("0.9.0", "deploy worker 0.9.0: email receipts"),
        ("0.9.1", "deploy worker 0.9.1: retry failed webhooks"),
        ("0.10.0", "deploy worker 0.10.0: batch stock updates"),
    ), (("QUEUE", "orders"),)),
    SeedApp("auth", "login", 2, "registry.local/auth/login", 8443, (
        ("3.1.0", "deploy login 3.1.0: session cookies"),
        ("3.2.0", "deploy login 3.2.0: rate limit logins"),
        ("3.2.1", "deploy login 3.2.1: fix token refresh"),
        ("3.3.0", "deploy login 3.3.0: mobile auth v2"),
    ), (("TOKEN_TTL", "3600"),)),
)


def _template(app: SeedApp, version: str) -> Obj:
    env = [{"name": "LOG_LEVEL", "value": "info"}, {"name": "PORT", "value": str(app.port)}]
    env += [{"name": key, "value": value} for key, value in app.env]
    spec: Obj = {"containers": [{
        "name": app.name,
        "image": f"{app.image}:{version}",
        "ports": [{"name": "http", "containerPort": app.port}],
        "env": env,
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                      "limits": {"memory": "512Mi"}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": app.port},
                           "initialDelaySeconds": 2, "periodSeconds": 10},
    }]}
    ro.apply_pod_spec_defaults(spec)
    return {"metadata": {"labels": {"app": app.name}}, "spec": spec}


def _namespace(store: Store, name: str, created: str) -> None:
    if store.try_get("namespaces", None, name) is not None:
        return
    store.create("namespaces", {
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name},
                     "creationTimestamp": created},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    })


def seed_workload(store: Store, control_plane: ControlPlane, now: datetime) -> None:
    """Create the seeded namespaces and deployments (skipping those that already exist)."""
    for namespace in NAMESPACES:
        _namespace(store, namespace, rfc3339(now - timedelta(days=30)))
    for app in APPS:
        if store.try_get("deployments", app.namespace, app.name) is None:
            _seed_app(store, control_plane, app, now)


def seeded_app(namespace: str, name: str) -> SeedApp | None:
    """The seeded deployment `namespace/name`, if the seed has one."""
    return next((a for a in APPS if (a.namespace, a.name) == (namespace, name)), None)


def next_revision(app: SeedApp) -> int:
    """The revision number a new rollout of a seeded deployment gets (the scenario's deploy)."""
    return len(app.revisions) + 1


def _seed_app(store: Store, control_plane: ControlPlane, app: SeedApp, now: datetime) -> None:
    timeline = control_plane.timeline
    count = len(app.revisions)
    rolled_out = now - LAST_ROLLOUT_AGE
    times = [rolled_out - REVISION_SPACING * (count - 1 - i) for i in range(count)]
    version, cause = app.revisions[-1]
    deployment: Obj = {
        "metadata": {
            "name": app.name, "namespace": app.namespace, "labels": {"app": app.name},
            "annotations": {ro.REVISION: str(count), ro.CHANGE_CAUSE: cause},
            "creationTimestamp": rfc3339(times[0]),
        },
        "spec": {"replicas": app.replicas, "selector": {"matchLabels": {"app": app.name}},
                 "template": _template(app, version)},
    }
    ro.apply_deployment_defaults(deployment)
    surge = ro.max_surge(deployment)
    rs_names = [f"{app.name}-{ro.template_hash(_template(app, v))}" for v, _ in app.revisions]
    current_name = rs_names[-1]
    ready_at = rfc3339(rolled_out + timedelta(seconds=12))
    deployment["status"] = {
        "observedGeneration": 1,
        "replicas": app.replicas,
        "updatedReplicas": app.replicas,
        "readyReplicas": app.replicas,
        "availableReplicas": app.replicas,
        "unavailableReplicas": 0,
        "conditions": [
            {"type": "Available", "status": "True", "lastUpdateTime": ready_at,
             "lastTransitionTime": rfc3339(times[0] + timedelta(seconds=12)),
             "reason": ro.MIN_AVAILABLE, "message": "Deployment has minimum availability."},
            {"type": "Progressing", "status": "True", "lastUpdateTime": ready_at,
             "lastTransitionTime": rfc3339(times[0]), "reason": ro.NEW_RS_AVAILABLE,
             "message": f'ReplicaSet "{current_name}" has successfully progressed.'},
        ],
    }
    owner = store.create("deployments", deployment)
    for revision, ((version, cause), name, created) in enumerate(
            zip(app.revisions, rs_names, times, strict=True), start=1):
        current = revision == count
        replicas = app.replicas if current else 0
        template = _template(app, version)
        pod_hash = name.rsplit("-", 1)[1]
        template["metadata"]["labels"][ro.HASH_LABEL] = pod_hash
        rs = store.create("replicasets", {
            "metadata": {
                "name": name, "namespace": app.namespace,
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {
                    ro.CHANGE_CAUSE: cause,
                    ro.DESIRED_REPLICAS: str(app.replicas),
                    ro.MAX_REPLICAS: str(app.replicas + surge),
                    ro.REVISION: str(revision),
                },
                "ownerReferences": [owner_reference(owner)],
                "creationTimestamp": rfc3339(created),
            },
            "spec": {"replicas": replicas,
                     "selector": {"matchLabels": {"app": app.name, ro.HASH_LABEL: pod_hash}},
                     "template": copy.deepcopy(template)},
            "status": {"replicas": replicas, "fullyLabeledReplicas": replicas,
                       "readyReplicas": replicas, "availableReplicas": replicas,
                       "observedGeneration": 1},
        })
        if current:
            started = timeline.seconds(rfc3339(created)) + 5
            for _ in range(replicas):
                pod = build_pod(rs, new_pod_name(store, rs), rfc3339(created))
                pod["metadata"]["uid"] = store.new_uid()
                store.create("pods", control_plane.kubelet.settle(pod, started, ready_after=3))
