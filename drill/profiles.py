"""How a simulated pod behaves and serves traffic: the seam between scenarios and the simulation.

A scenario maps each pod (by its deployment and container image) to a `PodProfile` (what the
simulated kubelet does with it) and a `TrafficProfile` (what its requests look like). The
default for both is a healthy pod.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PodProfile:
    """Kubelet behaviour of one pod, in drill seconds."""

    schedule_delay: float = 1.0  # Pending -> ContainerCreating
    start_delay: float = 2.0  # ContainerCreating -> Running
    ready_delay: float = 3.0  # Running -> Ready (readiness probe passes)
    crash_after: float | None = None  # container exits this long after each start
    crash_reason: str = "Error"  # "OOMKilled" (exit 137) or "Error" (exit 1)
    readiness_fails: bool = False  # runs but never becomes Ready
    memory_limit_mib: int = 512
    log_lines: tuple[str, ...] = ()  # extra lines this pod logs (scenario flavour)


@dataclass(frozen=True)
class Endpoint:
    """One HTTP route of a deployment's simulated traffic."""

    path: str
    share: float  # share of the deployment's requests
    error_ratio: float = 0.0  # share of those answered 5xx
    latency_factor: float = 1.0  # multiplies the baseline latency


@dataclass(frozen=True)
class TrafficProfile:
    """What one ready pod of a deployment serves."""

    endpoints: tuple[Endpoint, ...] = field(default_factory=lambda: (Endpoint("/", 1.0),))


HEALTHY_POD = PodProfile()
HEALTHY_TRAFFIC = TrafficProfile()
