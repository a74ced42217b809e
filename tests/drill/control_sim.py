"""A store + control plane on a frozen drill clock, for controller and kubelet tests.

Time moves only through `Sim.run`, which advances the clock and ticks; no real sleeping.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from drill import rollout as ro
from drill.clock import DrillClock
from drill.control_plane import ControlPlane
from drill.events import EventRecorder
from drill.profiles import PodProfile
from drill.rollout import apply_deployment_defaults
from drill.store import Store

START = datetime(2024, 11, 9, 12, 0, 0, tzinfo=UTC)
Obj = dict[str, Any]


class Sim:
    def __init__(self, profiles: dict[str, PodProfile] | None = None,
                 max_events: int = 5000) -> None:
        self.clock = DrillClock(speed=0, start=START)
        self.store = Store(self.clock)
        self.events = EventRecorder(self.store, self.clock, max_events=max_events)
        self.profiles = profiles if profiles is not None else {}
        self.cp = ControlPlane(self.store, self.clock, self.events, self.profile_for)

    def profile_for(self, pod: Obj) -> PodProfile:
        image = pod["spec"]["containers"][0]["image"]
        return self.profiles.get(image, PodProfile())

    # ---- time ------------------------------------------------------------------------------
    def run(self, seconds: float, step: float = 1.0) -> None:
        """Advance drill time in `step`-second ticks."""
        remaining = seconds
        while remaining > 1e-9:
            delta = min(step, remaining)
            self.clock.advance(delta)
            self.cp.tick()
            remaining -= delta

    def until(self, predicate: Any, limit: float = 600, step: float = 1.0) -> float:
        """Run until `predicate()` holds; returns the drill seconds it took."""
        waited = 0.0
        self.cp.tick()
        while not predicate():
            assert waited < limit, f"not reached within {limit} drill seconds"
            self.run(step, step)
            waited += step
        return waited

    # ---- objects ---------------------------------------------------------------------------
    def deploy(self, name: str, image: str, replicas: int = 3, namespace: str = "shop",
               **spec: Any) -> Obj:
        body: Obj = {
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{
                        "name": name, "image": image,
                        "ports": [{"containerPort": 8080}],
                        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
                    }]},
                },
                **spec,
            },
        }
        apply_deployment_defaults(body)
        return self.store.create("deployments", body)

    def change(self, name: str, mutate: Any, namespace: str = "shop") -> Obj:
        return self.store.mutate("deployments", namespace, name, mutate)

    def set_image(self, name: str, image: str, namespace: str = "shop") -> Obj:
        def change(obj: Obj) -> None:
            obj["spec"]["template"]["spec"]["containers"][0]["image"] = image

        return self.change(name, change, namespace)

    def scale(self, name: str, replicas: int, namespace: str = "shop") -> Obj:
        def change(obj: Obj) -> None:
            obj["spec"]["replicas"] = replicas

        return self.change(name, change, namespace)

    def deployment(self, name: str, namespace: str = "shop") -> Obj:
        return self.store.get("deployments", namespace, name)

    def replicasets(self, name: str, namespace: str = "shop") -> list[Obj]:
        uid = self.deployment(name, namespace)["metadata"]["uid"]
        return [rs for rs in self.store.list("replicasets", namespace)
                if any(ref["uid"] == uid for ref in rs["metadata"].get("ownerReferences", []))]

    def pods(self, name: str, namespace: str = "shop", live: bool = True) -> list[Obj]:
        uids = {rs["metadata"]["uid"] for rs in self.replicasets(name, namespace)}
        pods = [pod for pod in self.store.list("pods", namespace)
                if any(ref["uid"] in uids for ref in pod["metadata"].get("ownerReferences", []))]
        if live:
            pods = [pod for pod in pods if not pod["metadata"].get("deletionTimestamp")]
        return pods

    def events_for(self, name: str, namespace: str = "shop") -> list[Obj]:
        return [e for e in self.store.list("events", namespace)
                if e["involvedObject"]["name"] == name]

    def condition(self, name: str, type_: str, namespace: str = "shop") -> Obj | None:
        for cond in self.deployment(name, namespace).get("status", {}).get("conditions", []):
            if cond["type"] == type_:
                return cond
        return None

    def rolled_out(self, name: str, namespace: str = "shop") -> bool:
        """kubectl rollout status's success test."""
        d = self.deployment(name, namespace)
        status = d.get("status", {})
        want = d["spec"]["replicas"]
        return (status.get("observedGeneration", 0) >= d["metadata"]["generation"]
                and status.get("updatedReplicas", 0) == want
                and status.get("replicas", 0) == want
                and status.get("availableReplicas", 0) == want)


def undo(sim: Sim, name: str, to_revision: int = 0, namespace: str = "shop") -> None:
    """What `kubectl rollout undo` does: copy the RS template (minus hash) into the deployment."""
    rss = sorted(sim.replicasets(name, namespace), key=ro.revision)
    current = ro.revision(sim.deployment(name, namespace))
    if to_revision == 0:
        target = [rs for rs in rss if ro.revision(rs) != current][-1]
    else:
        target = next(rs for rs in rss if ro.revision(rs) == to_revision)
    template = ro.template_without_hash(target["spec"]["template"])
    annotations = {k: v for k, v in target["metadata"]["annotations"].items()
                   if k not in ro.NOT_COPIED}

    def change(obj: Obj) -> None:
        obj["spec"]["template"] = copy.deepcopy(template)
        obj["metadata"]["annotations"] = {**annotations,
                                          ro.REVISION: obj["metadata"]["annotations"][ro.REVISION]}

    sim.change(name, change, namespace)


def ready(pod: Obj) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in pod.get("status", {}).get("conditions", []))


def container_status(pod: Obj) -> Obj:
    return pod["status"]["containerStatuses"][0]


def validate(obj: Obj) -> None:
    """Deserialize with the official client's pydantic models (strict, as python v37 is)."""
    models = {"Pod": client.V1Pod, "ReplicaSet": client.V1ReplicaSet,
              "Deployment": client.V1Deployment, "Event": client.CoreV1Event}
    models[obj["kind"]].from_dict(copy.deepcopy(obj))
