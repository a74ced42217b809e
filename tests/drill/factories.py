"""Hand-built drill objects for traffic, PromQL and scenario tests (no controllers needed).

`add_deployment` stores a Deployment (label app=<name>) plus pods as the deployment and
ReplicaSet controllers would have left them after a finished rollout; `rollout` replaces the
pods with ones on another image, as a completed rolling update (or undo) would.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from drill.clock import DrillClock, rfc3339
from drill.store import Store

START = datetime(2024, 11, 9, 12, 0, 0, tzinfo=UTC)
Obj = dict[str, Any]


def make_cluster(speed: float = 0.0) -> tuple[Store, DrillClock]:
    """A frozen clock (tests move it with `advance`) and an empty store."""
    clock = DrillClock(speed=speed, start=START)
    return Store(clock), clock


def _hash(image: str) -> str:
    return hashlib.sha256(image.encode()).hexdigest()[:10]


def add_deployment(
    store: Store,
    namespace: str,
    name: str,
    image: str,
    replicas: int = 3,
    ready: int | None = None,
) -> Obj:
    """A deployment whose rollout of `image` is complete, with `ready` (default all) ready pods."""
    deployment = {
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }
    store.create("deployments", deployment)
    return rollout(store, namespace, name, image, ready=ready)


def add_pod(store: Store, namespace: str, name: str, image: str, ready: bool = True) -> Obj:
    """A pod of deployment `name` running `image`, started now."""
    stamp = store.clock.stamp()
    pod_hash = _hash(image)
    pod = {
        "metadata": {
            "generateName": f"{name}-{pod_hash}-",
            "namespace": namespace,
            "labels": {"app": name, "pod-template-hash": pod_hash},
        },
        "spec": {"containers": [{"name": name, "image": image}]},
        "status": {
            "phase": "Running",
            "startTime": stamp,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [
                {"name": name, "image": image, "ready": ready,
                 "state": {"running": {"startedAt": stamp}}}
            ],
        },
    }
    return store.create("pods", pod)


def pods_of(store: Store, namespace: str, name: str) -> list[Obj]:
    return [
        pod for pod in store.list("pods", namespace)
        if pod["metadata"]["labels"].get("app") == name
    ]


def rollout(
    store: Store,
    namespace: str,
    name: str,
    image: str,
    ready: int | None = None,
    replicas: int | None = None,
) -> Obj:
    """Finish a rollout of `image`: template, pods and status as after `kubectl rollout status`."""

    def set_template(obj: Obj) -> None:
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = image
        if replicas is not None:
            obj["spec"]["replicas"] = replicas

    deployment = store.mutate("deployments", namespace, name, set_template)
    desired = deployment["spec"]["replicas"]
    for pod in pods_of(store, namespace, name):
        store.delete("pods", namespace, pod["metadata"]["name"])
    count = desired if ready is None else ready
    for i in range(desired):
        add_pod(store, namespace, name, image, ready=i < count)

    def set_status(obj: Obj) -> None:
        obj["status"] = {
            "observedGeneration": obj["metadata"]["generation"],
            "replicas": desired,
            "updatedReplicas": desired,
            "readyReplicas": count,
            "availableReplicas": count,
            "conditions": [
                {"type": "Available", "status": "True" if count or not desired else "False",
                 "lastUpdateTime": rfc3339(store.clock.now())},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        }

    return store.mutate("deployments", namespace, name, set_status)


def set_ready(store: Store, namespace: str, name: str, ready: int) -> None:
    """Mark only the first `ready` pods of the deployment Ready (others NotReady)."""
    for i, pod in enumerate(pods_of(store, namespace, name)):
        status = "True" if i < ready else "False"

        def change(obj: Obj, status: str = status) -> None:
            obj["status"]["conditions"] = [{"type": "Ready", "status": status}]

        store.mutate("pods", namespace, pod["metadata"]["name"], change)


def seed_shop(store: Store, api_image: str = "registry.local/shop/api:1.6.0") -> None:
    """The seeded workload, as the tests need it: shop/api, shop/web, shop/worker, auth/login."""
    add_deployment(store, "shop", "api", api_image, replicas=3)
    add_deployment(store, "shop", "web", "registry.local/shop/web:2.3.0", replicas=2)
    add_deployment(store, "shop", "worker", "registry.local/shop/worker:1.1.0", replicas=1)
    add_deployment(store, "auth", "login", "registry.local/auth/login:3.0.2", replicas=2)


def run(clock: DrillClock, traffic: Any, seconds: float, step: float = 5.0) -> None:
    """Advance drill time by `seconds` in `step`s, ticking the traffic after each."""
    elapsed = 0.0
    while elapsed < seconds - 1e-9:
        dt = min(step, seconds - elapsed)
        clock.advance(dt)
        traffic.tick()
        elapsed += dt
