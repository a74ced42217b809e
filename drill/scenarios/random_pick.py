"""`random`: one of the incident scenarios, picked from the drill's `--seed`, named at the end."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from ..clock import DrillClock
from ..profiles import PodProfile, TrafficProfile
from ..store import Store
from .base import ActionReport, Scenario, ScenarioStatus
from .registry import SCENARIOS, get_scenario, incident_names, register

HIDDEN = "hidden until the drill ends"


def pool() -> tuple[str, ...]:
    """The incidents a random drill draws from: every registered one but `none` and itself."""
    return tuple(name for name in incident_names() if SCENARIOS[name].in_random_pool)


def pick(seed: int, choices: tuple[str, ...] | None = None) -> str:
    """The scenario a random drill with this seed plays (same seed, same pick)."""
    choices = pool() if choices is None else choices
    return choices[random.Random(seed).randrange(len(choices))]


@register
class RandomIncident(Scenario):
    """A seeded surprise: one of the handbook incidents (Examples 1-3, Procedure 3, Recovering
    from Data Loss, Recovering from Security Breach), picked from the drill's `--seed` so a
    rehearsal can be repeated. The pick plays exactly as its own scenario does; `status()`
    names it once the drill is resolved (and `details()["picked"]` from then on)."""

    name = "random"
    title = "Random incident"
    brief = "A surprise incident, picked from --seed: find out what is wrong."
    difficulty = "medium"
    order = 1000  # after every incident it may pick
    runbook = None  # the picked scenario's (set per instance)
    handbook = "one of the handbook's examples or recovery procedures, named at the end"
    resolution = "revealed when the drill ends"

    def __init__(self, seed: int = 7, resolve: Callable[[str], Scenario] | None = None) -> None:
        super().__init__()
        self.seed = seed
        self.picked = pick(seed)
        self.inner = (resolve or get_scenario)(self.picked)
        self.revealed = False
        inner = self.inner
        self.runbook = inner.runbook  # the console needs the right one
        self.rehearsal = inner.rehearsal  # and the pick's target and checks
        self.default_speed = inner.default_speed
        self.target = inner.target
        self.actions = inner.actions
        self.bad_image = inner.bad_image
        self.good_image = inner.good_image

    @classmethod
    def create(cls, seed: int | None = None) -> Scenario:
        return cls(7 if seed is None else seed)

    # ---- everything plays as the picked scenario -----------------------------------------
    def attach(self, cluster: Any) -> None:
        self.inner.attach(cluster)

    def prepare_workload(self, store: Store, clock: DrillClock) -> None:
        self.inner.prepare_workload(store, clock)

    def setup(self, store: Store, clock: DrillClock) -> None:
        self.clock = clock
        self.inner.setup(store, clock)
        self.good_image = self.inner.good_image
        self.initial_replicas = self.inner.initial_replicas

    def tick(self, store: Store, clock: DrillClock) -> None:
        self.inner.tick(store, clock)

    def pod_profile(self, pod: dict[str, Any]) -> PodProfile:
        return self.inner.pod_profile(pod)

    def traffic_profile(self, deployment: dict[str, Any], pod: dict[str, Any]) -> TrafficProfile:
        return self.inner.traffic_profile(deployment, pod)

    def pod_memory(self, pod: dict[str, Any], now: float) -> float:
        return self.inner.pod_memory(pod, now)

    def symptom(self, store: Store, traffic_now: Any = None) -> str | None:
        return self.inner.symptom(store, traffic_now)

    def act(self, action: str, store: Store) -> ActionReport:
        return self.inner.act(action, store)

    def details(self, store: Store) -> dict[str, Any]:
        return {**self.inner.details(store), "picked": self.picked if self.revealed else HIDDEN,
                "seed": self.seed}

    def status(self, store: Store, traffic_now: Any = None) -> ScenarioStatus:
        state = self.inner.status(store, traffic_now)
        if state.resolved:
            self.revealed = True
        if not self.revealed:
            return ScenarioStatus(False, state.reason, self.resolution, state.mitigated, (),
                                  state.steps, state.unsafe)
        inner = self.inner
        return ScenarioStatus(
            state.resolved,
            f"{state.reason} — random pick (seed {self.seed}): {inner.name}, "
            f"\"{inner.title}\" ({inner.handbook})",
            state.resolution, state.mitigated, state.followups, state.steps, state.unsafe)

    def reveal(self) -> str:
        """The pick's name and brief, for the end-of-drill report (also reveals it)."""
        self.revealed = True
        return f"{self.inner.name}: {self.inner.brief}"
