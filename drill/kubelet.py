"""A simulated kubelet (and scheduler): pods move through their lifecycle on the drill clock.

Pending -> scheduled to a node, ContainerCreating -> Running -> Ready, with the delays of the
pod's `PodProfile`. A profile with `crash_after` makes the container exit (OOMKilled 137 or
Error 1) and restart after a CrashLoopBackOff back-off of 10 s doubling to 300 s (reset after
10 minutes of running); `readiness_fails` keeps the pod running but never Ready. Graceful
deletion marks the pod terminating and removes it shortly after. Every step records the
Events a real kubelet would.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import not_found
from .events import EventRecorder
from .profiles import PodProfile
from .store import Store
from .timeline import Timeline

Obj = dict[str, Any]
ProfileFor = Callable[[Obj], PodProfile]

NODES: tuple[tuple[str, str], ...] = (
    ("drill-node-1", "10.0.0.11"),
    ("drill-node-2", "10.0.0.12"),
    ("drill-node-3", "10.0.0.13"),
)
BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET_AFTER = 600.0  # a container that ran this long starts back-off afresh
CRASH_VISIBLE = 1.0  # how long the terminated state shows before back-off begins
MAX_REMOVAL_DELAY = 2.0  # graceful deletion completes after min(grace, this)
DEFAULT_PROBE_PERIOD = 10.0
IMAGE_SIZE_BYTES = 48_234_496


@dataclass
class PodRuntime:
    """What the kubelet knows about one pod beyond its stored status."""

    uid: str
    namespace: str
    name: str
    profile: PodProfile
    token: int = 0  # bumped to cancel the pod's pending transitions
    node: str = ""
    host_ip: str = ""
    pod_ip: str = ""
    start_time: str = ""
    phase: str = "Pending"
    state: Obj = field(default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    last_state: Obj = field(default_factory=dict)
    started: bool = False
    ready: bool = False
    restarts: int = 0
    run_id: int = 0  # container instances started so far
    run_started: float = 0.0
    backoff: float = 0.0
    deleting: bool = False
    sandbox_ready: bool = False


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def image_id(image: str) -> str:
    repository = image.rsplit("@", 1)[0]
    last = repository.rsplit("/", 1)
    if ":" in last[-1]:
        repository = repository.rsplit(":", 1)[0]
    return f"docker-pullable://{repository}@sha256:{_digest(image)}"


def container_id(uid: str, container: str, run_id: int) -> str:
    return f"docker://{_digest(f'{uid}/{container}/{run_id}')}"


def go_duration(seconds: float) -> str:
    """Go's time.Duration formatting for whole seconds: 10s, 1m20s, 5m0s."""
    whole = int(seconds)
    minutes, secs = divmod(whole, 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def _set_condition(conditions: list[Obj], previous: dict[str, Obj], type_: str, status: str,
                   stamp: str, reason: str | None = None, message: str | None = None) -> None:
    old = previous.get(type_)
    transition = old["lastTransitionTime"] if old and old.get("status") == status else stamp
    condition: Obj = {"type": type_, "status": status, "lastProbeTime": None,
                      "lastTransitionTime": transition}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    conditions.append(condition)


class Kubelet:
    """Drives every pod's lifecycle; all transitions are timers on the shared timeline."""

    def __init__(self, store: Store, timeline: Timeline, events: EventRecorder,
                 profile_for: ProfileFor) -> None:
        self.store = store
        self.timeline = timeline
        self.events = events
        self.profile_for = profile_for
        self.pods: dict[str, PodRuntime] = {}  # by uid
        self._node_load: dict[str, int] = {name: 0 for name, _ in NODES}
        self._node_ips: dict[str, int] = {name: 0 for name, _ in NODES}
        self._images: dict[str, set[str]] = {name: set() for name, _ in NODES}

    # ---- observing the store ---------------------------------------------------------------
    def observe(self, kind: str, pod: Obj) -> None:
        uid = pod["metadata"].get("uid", "")
        if kind == "ADDED":
            self._register(pod)
        elif kind == "DELETED":
            self._forget(uid)

    def _register(self, pod: Obj) -> None:
        meta = pod["metadata"]
        rt = PodRuntime(meta["uid"], meta.get("namespace", ""), meta["name"],
                        self.profile_for(pod))
        self.pods[rt.uid] = rt
        now = self.timeline.current()
        node = pod.get("spec", {}).get("nodeName")
        status = pod.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            return
        if not node:
            self._at(rt, now + rt.profile.schedule_delay, self._schedule)
            return
        self._adopt(rt, pod, node, status, now)
        if meta.get("deletionTimestamp"):
            rt.deleting = True
            rt.token += 1
            self.timeline.schedule(now, lambda: self._remove(rt))

    def _adopt(self, rt: PodRuntime, pod: Obj, node: str, status: Obj, now: float) -> None:
        """Take over a pod that was already scheduled (seeded, or present at start-up)."""
        rt.node = node
        self._node_load[node] = self._node_load.get(node, 0) + 1
        rt.host_ip = status.get("hostIP") or dict(NODES).get(node, "10.0.0.10")
        rt.pod_ip = status.get("podIP", "")
        rt.start_time = status.get("startTime", "")
        rt.phase = status.get("phase", "Pending")
        rt.sandbox_ready = bool(rt.pod_ip)
        for container in pod.get("spec", {}).get("containers") or []:
            self._images.setdefault(node, set()).add(container.get("image", ""))
        statuses = status.get("containerStatuses") or []
        if not statuses:
            self._at(rt, now + rt.profile.start_delay, self._start)
            return
        first = statuses[0]
        rt.state = dict(first.get("state") or {})
        rt.last_state = dict(first.get("lastState") or {})
        rt.ready = bool(first.get("ready"))
        rt.started = bool(first.get("started"))
        rt.restarts = int(first.get("restartCount") or 0)
        waiting = rt.state.get("waiting") or {}
        if "running" in rt.state:
            rt.run_id = rt.restarts + 1
            rt.run_started = self.timeline.seconds(rt.state["running"]["startedAt"])
            self._plan_run(rt, now)
        elif "terminated" in rt.state:  # caught between a crash and its back-off
            rt.run_id = rt.restarts + 1
            rt.backoff = BACKOFF_INITIAL
            self._at(rt, now, self._back_off)
        elif waiting.get("reason") == "CrashLoopBackOff":
            rt.run_id = rt.restarts
            rt.backoff = BACKOFF_INITIAL
            self._at(rt, now, self._restart)
        else:  # still creating its container
            rt.run_id = 0
            self._at(rt, now + rt.profile.start_delay, self._start)

    def _forget(self, uid: str) -> None:
        rt = self.pods.pop(uid, None)
        if rt is None:
            return
        rt.token += 1
        if rt.node:
            self._node_load[rt.node] = max(0, self._node_load.get(rt.node, 0) - 1)

    def reprofile(self) -> None:
        """Re-read every live pod's profile (a scenario changed behaviour mid-drill) and
        re-plan its running container."""
        now = self.timeline.current()
        for rt in list(self.pods.values()):
            pod = self.store.try_get("pods", rt.namespace, rt.name)
            if pod is None or rt.deleting:
                continue
            profile = self.profile_for(pod)
            if profile == rt.profile:
                continue
            rt.profile = profile
            if "running" in rt.state:
                self._plan_run(rt, now)

    # ---- timers ----------------------------------------------------------------------------
    def _at(self, rt: PodRuntime, due: float, step: Callable[[PodRuntime], None]) -> None:
        token = rt.token

        def fire() -> None:
            if rt.token == token and self.pods.get(rt.uid) is rt:
                step(rt)

        self.timeline.schedule(due, fire)

    def _plan_run(self, rt: PodRuntime, now: float) -> None:
        """Schedule readiness and crash of the running container (run started at
        `rt.run_started`, possibly in the past)."""
        rt.token += 1
        profile = rt.profile
        ready_at = max(now, rt.run_started + profile.ready_delay)
        if profile.readiness_fails:
            self._at(rt, ready_at, self._probe_fails)
        elif not rt.ready:
            self._at(rt, ready_at, self._become_ready)
        if profile.crash_after is not None:
            self._at(rt, max(now, rt.run_started + profile.crash_after), self._crash)

    # ---- lifecycle steps -------------------------------------------------------------------
    def _schedule(self, rt: PodRuntime) -> None:
        pod = self._pod(rt)
        if pod is None:
            return
        node, host_ip = min(NODES, key=lambda item: (self._node_load.get(item[0], 0), item[0]))
        self._node_load[node] += 1
        rt.node, rt.host_ip = node, host_ip
        rt.start_time = self.timeline.stamp()
        rt.state = {"waiting": {"reason": "ContainerCreating"}}
        self._write(rt, node=node)
        self.events.record(pod, "Scheduled",
                           f"Successfully assigned {rt.namespace}/{rt.name} to {node}",
                           component="default-scheduler")
        for container in self._containers(pod):
            image = container.get("image", "")
            if image not in self._images[node]:
                self._container_event(pod, rt, container, "Pulling", f'Pulling image "{image}"')
        self._at(rt, self.timeline.now + rt.profile.start_delay, self._start)

    def _start(self, rt: PodRuntime) -> None:
        pod = self._pod(rt)
        if pod is None:
            return
        if not rt.pod_ip:
            rt.pod_ip = self._allocate_ip(rt.node)
        rt.sandbox_ready = True
        for container in self._containers(pod):
            image = container.get("image", "")
            if image in self._images[rt.node]:
                message = f'Container image "{image}" already present on machine'
            else:
                took = max(rt.profile.start_delay, 0.001)
                message = (f'Successfully pulled image "{image}" in {took:.3f}s ({took:.3f}s '
                           f"including waiting). Image size: {IMAGE_SIZE_BYTES} bytes.")
            self._container_event(pod, rt, container, "Pulled", message)
            self._images[rt.node].add(image)
        self._run_container(rt, pod)

    def _restart(self, rt: PodRuntime) -> None:
        pod = self._pod(rt)
        if pod is None:
            return
        for container in self._containers(pod):
            image = container.get("image", "")
            self._container_event(pod, rt, container, "Pulled",
                                  f'Container image "{image}" already present on machine')
        self._run_container(rt, pod)

    def _run_container(self, rt: PodRuntime, pod: Obj) -> None:
        now = self.timeline.now
        rt.run_id += 1
        rt.run_started = now
        rt.phase = "Running"
        rt.state = {"running": {"startedAt": self.timeline.stamp(now)}}
        rt.started = True
        rt.ready = False
        self._write(rt)
        for container in self._containers(pod):
            name = container.get("name", "")
            self._container_event(pod, rt, container, "Created", f"Created container: {name}")
            self._container_event(pod, rt, container, "Started", f"Started container {name}")
        self._plan_run(rt, now)

    def _become_ready(self, rt: PodRuntime) -> None:
        rt.ready = True
        self._write(rt)

    def _probe_fails(self, rt: PodRuntime) -> None:
        pod = self._pod(rt)
        if pod is None:
            return
        now = self.timeline.now
        if rt.ready:
            rt.ready = False
            self._write(rt)
        container = self._containers(pod)[0] if self._containers(pod) else {}
        probe = container.get("readinessProbe") or {}
        period = float(probe.get("periodSeconds") or DEFAULT_PROBE_PERIOD)
        # Every failed probe up to the end of this tick, aggregated into one event update.
        count = 1 + max(0, math.floor((self.timeline.horizon - now) / period))
        last = now + (count - 1) * period
        self._container_event(pod, rt, container, "Unhealthy",
                              f"Readiness probe failed: {self._probe_failure(probe, rt)}",
                              type_="Warning", count=count, at=last)
        self._at(rt, last + period, self._probe_fails)

    @staticmethod
    def _probe_failure(probe: Obj, rt: PodRuntime) -> str:
        if "tcpSocket" in probe:
            port = probe["tcpSocket"].get("port", 8080)
            return f"dial tcp {rt.pod_ip}:{port}: connect: connection refused"
        if "exec" in probe:
            return "command terminated with non-zero exit code: exit status 1"
        return "HTTP probe failed with statuscode: 503"

    def _crash(self, rt: PodRuntime) -> None:
        pod = self._pod(rt)
        if pod is None:
            return
        now = self.timeline.now
        oom = rt.profile.crash_reason == "OOMKilled"
        terminated = {
            "exitCode": 137 if oom else 1,
            "reason": "OOMKilled" if oom else "Error",
            "startedAt": self.timeline.stamp(rt.run_started),
            "finishedAt": self.timeline.stamp(now),
        }
        ran = now - rt.run_started
        if rt.backoff == 0 or ran >= BACKOFF_RESET_AFTER:
            rt.backoff = BACKOFF_INITIAL
        else:
            rt.backoff = min(rt.backoff * 2, BACKOFF_MAX)
        rt.state = {"terminated": terminated}
        rt.started = False
        rt.ready = False
        rt.token += 1
        self._write(rt)
        if oom:
            for container in self._containers(pod):
                self.events.record(
                    pod, "OOMKilling",
                    f"Memory cgroup out of memory: Killed process {1000 + rt.run_id} "
                    f"({container.get('name', '')}) total-vm:{rt.profile.memory_limit_mib * 2048}kB, "
                    f"anon-rss:{rt.profile.memory_limit_mib * 1024}kB, file-rss:0kB",
                    type="Warning", component="kernel-monitor", host=rt.node)
        self._at(rt, now + CRASH_VISIBLE, self._back_off)

    def _back_off(self, rt: PodRuntime) -> None:
        pod = self._pod(rt)
        if pod is None:
            return
        terminated = rt.state.get("terminated") or {}
        rt.restarts += 1
        rt.last_state = {"terminated": terminated}
        crashed_at = self.timeline.seconds(terminated["finishedAt"]) if terminated else \
            self.timeline.now
        delay = go_duration(rt.backoff)
        names = [c.get("name", "") for c in self._containers(pod)]
        rt.state = {"waiting": {
            "reason": "CrashLoopBackOff",
            "message": f"back-off {delay} restarting failed container={names[0] if names else ''} "
                       f"pod={rt.name}_{rt.namespace}({rt.uid})",
        }}
        self._write(rt)
        for container in self._containers(pod):
            self._container_event(
                pod, rt, container, "BackOff",
                f"Back-off restarting failed container {container.get('name', '')} in pod "
                f"{rt.name}_{rt.namespace}({rt.uid})", type_="Warning")
        self._at(rt, max(self.timeline.now, crashed_at + rt.backoff), self._restart)

    # ---- deletion --------------------------------------------------------------------------
    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None = None) -> Obj:
        """Graceful delete: mark terminating now, remove after min(grace, 2) drill seconds.

        Returns the pod as the API answers a DELETE: terminating, or gone when grace is 0.
        """
        pod = self.store.try_get("pods", namespace, name)
        if pod is None:
            raise not_found("pods", "", name)
        spec_grace = pod.get("spec", {}).get("terminationGracePeriodSeconds", 30)
        grace = int(spec_grace if grace_seconds is None else grace_seconds)
        grace = max(grace, 0)
        rt = self.pods.get(pod["metadata"]["uid"])
        if grace == 0:
            return self.store.delete("pods", namespace, name)
        now = self.timeline.current()
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            current = int(meta.get("deletionGracePeriodSeconds") or grace)
            if grace >= current:
                return pod
        deadline = self.timeline.stamp(now + grace)

        def mark(obj: Obj) -> None:
            obj["metadata"]["deletionTimestamp"] = deadline
            obj["metadata"]["deletionGracePeriodSeconds"] = grace

        first = not meta.get("deletionTimestamp")
        pod = self.store.mutate("pods", namespace, name, mark)
        if rt is not None:
            rt.token += 1
            rt.deleting = True
            if first and rt.started:
                for container in self._containers(pod):
                    self._container_event(pod, rt, container, "Killing",
                                          f"Stopping container {container.get('name', '')}")
        uid = pod["metadata"]["uid"]
        self.timeline.schedule(now + min(grace, MAX_REMOVAL_DELAY),
                               lambda: self._remove_uid(namespace, name, uid))
        return pod

    def _remove(self, rt: PodRuntime) -> None:
        self._remove_uid(rt.namespace, rt.name, rt.uid)

    def _remove_uid(self, namespace: str, name: str, uid: str) -> None:
        pod = self.store.try_get("pods", namespace, name)
        if pod is not None and pod["metadata"].get("uid") == uid:
            self.store.delete("pods", namespace, name)

    # ---- status ----------------------------------------------------------------------------
    def _pod(self, rt: PodRuntime) -> Obj | None:
        pod = self.store.try_get("pods", rt.namespace, rt.name)
        if pod is None or pod["metadata"].get("uid") != rt.uid:
            self._forget(rt.uid)
            return None
        return pod

    @staticmethod
    def _containers(pod: Obj) -> list[Obj]:
        return list(pod.get("spec", {}).get("containers") or [])

    def _allocate_ip(self, node: str) -> str:
        index = [name for name, _ in NODES].index(node) if node in dict(NODES) else 0
        count = self._node_ips.get(node, 0)
        self._node_ips[node] = count + 1
        block = (index * 64 + (count // 254) % 64) % 256
        return f"10.244.{block}.{count % 254 + 1}"

    def _write(self, rt: PodRuntime, node: str | None = None) -> None:
        stamp = self.timeline.stamp()

        def change(pod: Obj) -> None:
            if node:
                pod["spec"]["nodeName"] = node
            pod["status"] = self.render_status(rt, pod, stamp)

        if self.store.try_get("pods", rt.namespace, rt.name) is not None:
            self.store.mutate("pods", rt.namespace, rt.name, change)

    def render_status(self, rt: PodRuntime, pod: Obj, stamp: str) -> Obj:
        """The pod status the kubelet reports for `rt` (keeps unchanged transition times)."""
        old = pod.get("status") or {}
        previous = {c.get("type", ""): c for c in old.get("conditions") or []}
        containers = self._containers(pod)
        names = [c.get("name", "") for c in containers]
        conditions: list[Obj] = []
        _set_condition(conditions, previous, "PodReadyToStartContainers",
                       "True" if rt.sandbox_ready else "False", stamp)
        _set_condition(conditions, previous, "Initialized", "True", stamp)
        unready = None if rt.ready else "containers with unready status: [" + " ".join(names) + "]"
        reason = None if rt.ready else "ContainersNotReady"
        ready = "True" if rt.ready else "False"
        _set_condition(conditions, previous, "Ready", ready, stamp, reason, unready)
        _set_condition(conditions, previous, "ContainersReady", ready, stamp, reason, unready)
        _set_condition(conditions, previous, "PodScheduled", "True", stamp)
        statuses = []
        # lastState is the instance before the current one; in back-off there is no current.
        last_run = rt.run_id if "waiting" in rt.state else rt.run_id - 1
        for container in containers:
            name = container.get("name", "")
            image = container.get("image", "")
            entry: Obj = {
                "name": name,
                "image": image,
                "imageID": image_id(image) if rt.run_id else "",
                "ready": rt.ready,
                "restartCount": rt.restarts,
                "started": rt.started,
                "state": self._with_id(rt.state, rt.uid, name, rt.run_id),
                "lastState": self._with_id(rt.last_state, rt.uid, name, last_run),
            }
            if rt.run_id:
                entry["containerID"] = container_id(rt.uid, name, rt.run_id)
            statuses.append(entry)
        status: Obj = {
            "phase": rt.phase,
            "conditions": conditions,
            "hostIP": rt.host_ip,
            "hostIPs": [{"ip": rt.host_ip}],
            "startTime": rt.start_time,
            "containerStatuses": statuses,
            "qosClass": old.get("qosClass") or qos_class(pod),
        }
        if rt.pod_ip:
            status["podIP"] = rt.pod_ip
            status["podIPs"] = [{"ip": rt.pod_ip}]
        return status

    @staticmethod
    def _with_id(state: Obj, uid: str, name: str, run_id: int) -> Obj:
        terminated = state.get("terminated")
        if not terminated or run_id <= 0:
            return copy.deepcopy(state)
        return {"terminated": {**terminated, "containerID": container_id(uid, name, run_id)}}

    def settle(self, pod: Obj, started: float, ready_after: float = 0.0) -> Obj:
        """A copy of a new pod as the kubelet would report it once Running and Ready, having
        started its container at drill second `started` (the seed uses this)."""
        result = {**pod, "spec": dict(pod.get("spec", {}))}
        meta = pod["metadata"]
        rt = PodRuntime(meta.get("uid", ""), meta.get("namespace", ""), meta["name"],
                        self.profile_for(pod))
        node, host_ip = min(NODES, key=lambda item: (self._node_load.get(item[0], 0), item[0]))
        rt.node, rt.host_ip = node, host_ip
        rt.pod_ip = self._allocate_ip(node)
        rt.sandbox_ready = True
        rt.start_time = self.timeline.stamp(started - 3)
        rt.phase = "Running"
        rt.run_id = 1
        rt.run_started = started
        rt.state = {"running": {"startedAt": self.timeline.stamp(started)}}
        rt.started = True
        rt.ready = True
        result["spec"]["nodeName"] = node
        ready_stamp = self.timeline.stamp(started + ready_after)
        result["status"] = self.render_status(rt, pod, ready_stamp)
        for condition in result["status"]["conditions"]:
            if condition["type"] in ("PodScheduled", "Initialized"):
                condition["lastTransitionTime"] = rt.start_time
            elif condition["type"] == "PodReadyToStartContainers":
                condition["lastTransitionTime"] = self.timeline.stamp(started - 1)
        return result

    # ---- events ----------------------------------------------------------------------------
    def _container_event(self, pod: Obj, rt: PodRuntime, container: Obj, reason: str,
                         message: str, type_: str = "Normal", count: int = 1,
                         at: float | None = None) -> None:
        self.events.record(
            pod, reason, message, type=type_, component="kubelet", host=rt.node,
            field_path=f"spec.containers{{{container.get('name', '')}}}", count=count,
            when=self.timeline.moment(at) if at is not None else None)


def qos_class(pod: Obj) -> str:
    """BestEffort, Guaranteed or Burstable, from the containers' requests and limits."""
    containers = pod.get("spec", {}).get("containers") or []
    any_resources = False
    guaranteed = True
    for container in containers:
        resources = container.get("resources") or {}
        limits = resources.get("limits") or {}
        requests = resources.get("requests") or limits
        if limits or requests:
            any_resources = True
        for resource in ("cpu", "memory"):
            if resource not in limits or requests.get(resource) != limits.get(resource):
                guaranteed = False
    if not any_resources:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
