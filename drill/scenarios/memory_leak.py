"""`memory-leak`: the handbook's Example 3, "Memory Leak Crashes Production"."""

from __future__ import annotations

import zlib
from typing import Any

from ..clock import parse_rfc3339
from ..memory import MIB, leaking_working_set
from ..profiles import Endpoint, PodProfile, TrafficProfile
from ..workloads import pod_started_at
from .base import RolloutView, Scenario
from .registry import register
from .rehearsal import ROLLBACK_RULES, Rehearsal, Rule

CRASH_EVERY = 7200.0  # "servers crash every 2 hours" (drill seconds)
STAGGER = 0.3  # pods leak at different rates (their share of the cached pages differs), so
# they are OOM-killed between 70 % and 100 % of CRASH_EVERY after they start, not all at once
MEMORY_LIMIT_MIB = 512
DROPPED_AFTER_KILL = 300.0  # drill seconds a restarted pod fails requests (cold caches,
# clients still holding connections to the killed process)


def crash_after(pod: dict[str, Any]) -> float:
    """Drill seconds from a container start to its OOM kill, per pod name (deterministic)."""
    name = pod.get("metadata", {}).get("name", "")
    unit = zlib.crc32(name.encode()) / 2**32  # [0, 1)
    return CRASH_EVERY * (1.0 - STAGGER * unit)


def killed_recently(pod: dict[str, Any], now: float) -> bool:
    """The pod's container was OOM-killed less than `DROPPED_AFTER_KILL` drill seconds ago."""
    for status in pod.get("status", {}).get("containerStatuses") or ():
        terminated = (status.get("lastState") or {}).get("terminated") or {}
        finished = terminated.get("finishedAt")
        if terminated.get("reason") == "OOMKilled" and finished:
            if now - parse_rfc3339(finished).timestamp() < DROPPED_AFTER_KILL:
                return True
    return False


@register
class MemoryLeak(Scenario):
    """Handbook Example 3: "New version has memory leak, servers crash every 2 hours".

    `shop/api` 1.7.0 keeps every response in an unbounded cache: each pod's heap grows until
    it is OOM-killed about 2 drill hours after it starts. As a pod ages, GC pauses make it
    slower; near the limit it fails requests; while pods restart the survivors are
    overloaded. The handbook's actions: scale up to buy time (`kubectl scale
    deployment/api --replicas=10`), restart crashed pods, then roll back (`kubectl rollout undo
    deployment/api`) and verify stability. Scale-up mitigates, only the undo resolves.
    """

    name = "memory-leak"
    title = "Memory leak crashes production"
    brief = "api 1.7.0 leaks memory: pods are OOM-killed every 2 hours."
    difficulty = "medium"
    order = 20
    rehearsal = Rehearsal(rules=ROLLBACK_RULES + (
        Rule("good", "scaled up to buy time before the rollback", "rollback", "scale-up"),
    ))
    runbook = "performance-degradation"
    handbook = "Example 3: Memory Leak Crashes Production"
    # 4 drill hours per real minute: GC pauses double latency ~20 s after the first frame and
    # the first OOM kill comes 21-30 s in (pods leak at staggered rates; at 60x the first
    # sign took over a minute)
    default_speed = 240.0
    bad_image = "registry.local/shop/api:1.7.0"
    good_image = "registry.local/shop/api:1.6.0"
    change_cause = "deploy api 1.7.0: response cache for product pages"
    resolution = (
        "scale-up + undo: kubectl scale deployment/api --replicas=10 to buy time, "
        "then kubectl rollout undo deployment/api"
    )
    bad_log_lines = (
        "INFO heap used 196MiB of 512MiB (+1.7MiB/min), response cache 41k entries",
        "WARN heap used 455MiB of 512MiB: full GC reclaimed 3MiB, pause 1.4s",
        "ERROR java.lang.OutOfMemoryError: Java heap space (ResponseCache.put)",
    )

    def bad_pod_profile(self, pod: dict[str, Any]) -> PodProfile:
        return PodProfile(
            crash_after=crash_after(pod),
            crash_reason="OOMKilled",
            memory_limit_mib=MEMORY_LIMIT_MIB,
            log_lines=self.bad_log_lines,
        )

    def heap_fraction(self, pod: dict[str, Any]) -> float:
        """How far the pod's current container is along its way to the OOM kill (0..1)."""
        started = pod_started_at(pod)
        if self.clock is None or started is None:
            return 0.0
        age = (self.clock.now() - started).total_seconds()
        return min(1.0, max(0.0, age / crash_after(pod)))

    def bad_traffic(
        self, deployment: dict[str, Any], pod: dict[str, Any], healthy: TrafficProfile
    ) -> TrafficProfile:
        fraction = self.heap_fraction(pod)
        latency = 1.0 + 2.5 * fraction**2  # GC pressure grows with the heap
        errors = 0.3 * max(0.0, (fraction - 0.85) / 0.15)  # allocation failures near the end
        if self.clock is not None and killed_recently(pod, self.clock.now().timestamp()):
            errors += 0.15  # dropped connections and cold caches after the kill
            latency += 1.5
        desired = int(deployment.get("spec", {}).get("replicas", 1))
        ready = int(deployment.get("status", {}).get("readyReplicas") or 0)
        if desired > 0 and ready < desired:  # survivors overloaded while others restart
            errors += 0.25 * (1.0 - ready / desired)
        errors = min(1.0, errors)
        return TrafficProfile(
            tuple(
                Endpoint(ep.path, ep.share, max(ep.error_ratio, errors), ep.latency_factor * latency)
                for ep in healthy.endpoints
            )
        )

    def pod_memory(self, pod: dict[str, Any], now: float) -> float:
        if not self.is_bad(pod):
            return super().pod_memory(pod, now)
        return leaking_working_set(pod, now, crash_after(pod), MEMORY_LIMIT_MIB * MIB)

    def mitigation(self, view: RolloutView) -> str | None:
        if self.initial_replicas is not None and view.desired > self.initial_replicas:
            return f"scaled up to {view.desired} replicas: buys time, pods still leak"
        if view.restarted and view.template_bad:
            return "restarted: fresh pods buy about 2 hours"
        return None
