"""What every drill scenario shares: the incident's shape, its setup and the "is it over" check.

A scenario starts its incident the way it happens in reality: it changes the target
deployment's pod template to a bad image (with a `kubernetes.io/change-cause` annotation), and
the deployment controller rolls it out. Pods then behave per `pod_profile` (kubelet) and serve
per `traffic_profile` (traffic), both keyed on the pod's image, so a rollback through the API
(`kubectl rollout undo`) heals the cluster by itself. `status` tells when the drill is over.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar

from ..clock import DrillClock
from ..memory import healthy_working_set
from ..profiles import HEALTHY_POD, PodProfile, TrafficProfile
from ..seed import next_revision, seeded_app
from ..store import Store
from ..traffic import DeploymentRates
from ..workloads import (
    deployment_pods,
    image_repository,
    image_tag,
    pod_images,
    template_images,
)
from .rehearsal import Rehearsal
from .routes import healthy_traffic

Obj = dict[str, Any]
CHANGE_CAUSE = "kubernetes.io/change-cause"
NORMAL_ERROR_RATIO = 0.01  # handbook post-rollback check: "Error rates normal"
NORMAL_LATENCY_FACTOR = 2.0  # below the handbook's "2-5x slower: monitor" band


@dataclass(frozen=True)
class ScenarioStatus:
    """Whether the drill's incident is over, and why (not)."""

    resolved: bool
    reason: str
    resolution: str = ""  # the recovery the handbook prescribes
    mitigated: bool = False  # a stop-gap is in place (e.g. scaled up) but not the fix
    followups: tuple[str, ...] = ()  # still to do after resolution (e.g. migrate:down)
    steps: tuple[str, ...] = ()  # recovery steps the drill saw happen, in order
    unsafe: tuple[str, ...] = ()  # unsafe actions the drill recorded ("code: what happened")

    @property
    def clean(self) -> bool:
        """Resolved without any unsafe action on record."""
        return self.resolved and not self.unsafe


class ScenarioActionError(Exception):
    """A drill action that cannot be done: 400 unknown to the scenario, 409 not now."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ActionReport:
    """What a drill action (`POST /drill/v1/scenario/action`) did."""

    action: str
    message: str
    unsafe: str = ""  # why it was unsafe ("" when it was not)

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "ok": True, "message": self.message,
                "unsafe": bool(self.unsafe), "unsafeReason": self.unsafe}


@dataclass(frozen=True)
class RolloutView:
    """The target deployment's rollout, as `kubectl rollout status` would judge it."""

    exists: bool
    template_image: str = ""
    desired: int = 0
    updated: int = 0
    replicas: int = 0
    available: int = 0
    observed: bool = False
    available_condition: bool = False
    paused: bool = False
    restarted: bool = False
    pods: int = 0
    bad_pods: int = 0
    template_bad: bool = False

    @property
    def complete(self) -> bool:
        return (
            self.observed
            and self.updated == self.desired
            and self.replicas == self.desired
            and self.available == self.desired
        )


def inspect_rollout(store: Store, namespace: str, name: str, bad_image: str | None) -> RolloutView:
    deployment = store.try_get("deployments", namespace, name)
    if deployment is None:
        return RolloutView(exists=False)
    spec = deployment.get("spec", {})
    status = deployment.get("status", {})
    meta = deployment["metadata"]
    images = template_images(deployment)
    pods = deployment_pods(store, deployment)
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    annotations = (spec.get("template", {}).get("metadata") or {}).get("annotations") or {}
    return RolloutView(
        exists=True,
        template_image=_pick_image(images, bad_image),
        desired=int(spec.get("replicas", 1)),
        updated=int(status.get("updatedReplicas") or 0),
        replicas=int(status.get("replicas") or 0),
        available=int(status.get("availableReplicas") or 0),
        observed=int(status.get("observedGeneration") or 0) >= int(meta.get("generation") or 1),
        available_condition=conditions.get("Available") == "True",
        paused=bool(spec.get("paused")),
        restarted="kubectl.kubernetes.io/restartedAt" in annotations,
        pods=len(pods),
        bad_pods=sum(1 for pod in pods if bad_image and bad_image in pod_images(pod)),
        template_bad=bool(bad_image) and bad_image in images,
    )


def _pick_image(images: list[str], bad_image: str | None) -> str:
    """The template image of the container the scenario changes (same repository)."""
    if bad_image:
        repository = image_repository(bad_image)
        for image in images:
            if image_repository(image) == repository:
                return image
    return images[0] if images else ""


def completed_rehearsal(rehearsal: Rehearsal, target: tuple[str, str] | None) -> Rehearsal:
    """`rehearsal` on the scenario's target (the default one without a target), with the bad
    release's revision and the target's replicas taken from the seeded workload."""
    name = "/".join(target) if target else rehearsal.target
    if name == rehearsal.target and rehearsal.bad_revision is not None:
        return rehearsal
    app = seeded_app(*name.split("/", 1))
    return replace(rehearsal, target=name,
                   bad_revision=next_revision(app) if app else None,
                   initial_replicas=app.replicas if app else None)


def rates_of(traffic: Any, key: tuple[str, str]) -> DeploymentRates | None:
    """Current rates of one deployment from a `Traffic` or a `Traffic.current()` mapping."""
    if traffic is None:
        return None
    current = traffic.current() if hasattr(traffic, "current") else traffic
    if not isinstance(current, Mapping):
        return None
    return current.get(key)


class Scenario:
    """Base class: a healthy cluster with an incident on `target` via `bad_image`."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    brief: ClassVar[str] = ""  # one line
    difficulty: ClassVar[str] = "easy"  # easy | medium | hard
    order: ClassVar[int] = 100  # place in the registry (picker, `random`'s pool)
    runbook: ClassVar[str | None] = None  # the paired runbook in runbooks/
    handbook: ClassVar[str] = ""  # the handbook example or procedure it replays
    default_speed: ClassVar[float] = 1.0
    # drawn by `random`: the handbook's incidents; scenarios that need more than plain
    # Deployments (Argo Rollouts) are played by name only
    in_random_pool: ClassVar[bool] = True
    target: ClassVar[tuple[str, str] | None] = ("shop", "api")
    change_cause: ClassVar[str] = ""
    resolution: ClassVar[str] = ""  # the recovery that ends it, in the handbook's words
    bad_log_lines: ClassVar[tuple[str, ...]] = ()
    # drill actions it understands (`POST /drill/v1/scenario/action {"action": NAME}`)
    actions: ClassVar[tuple[str, ...]] = ()
    bad_image: str | None = None
    good_image: str | None = None
    # what the console's scorer needs to know (completed from the seed per subclass)
    rehearsal: ClassVar[Rehearsal] = Rehearsal()
    # the scenario's real database (drill/shop_db.ShopDatabase), when it plays on one
    database: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.rehearsal = completed_rehearsal(cls.rehearsal, cls.target)

    def __init__(self) -> None:
        cls = type(self)
        self.bad_image = cls.bad_image
        self.good_image = cls.good_image
        self.clock: DrillClock | None = None
        self.initial_replicas: int | None = None
        self.journal: list[dict[str, Any]] = []  # recovery steps seen: {"step", "at", "elapsed"}
        self.unsafe_actions: list[dict[str, Any]] = []  # {"code", "message", "at", "elapsed"}

    @classmethod
    def create(cls, seed: int | None = None) -> Scenario:
        """A fresh instance; scenarios that draw on the drill's `--seed` override this."""
        return cls()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # ---- wiring to a running drill cluster ----------------------------------------------
    def attach(self, cluster: Any) -> None:
        """Called by `DrillCluster` before `setup`, for scenarios that need more than the store
        (e.g. its `access` layer). Scenarios also work unattached (unit tests)."""

    def prepare_workload(self, store: Store, clock: DrillClock) -> None:
        """Called before the cluster's warm-up hour: workload of the scenario's own (a
        Rollout, say) that must be settled and serving when the incident starts."""

    def prepare(self, incident_at: datetime) -> None:
        """Called first by `DrillCluster` (before its hour of warm-up): start slow set-up
        (a database) with `in_background`; `attach` waits for it with `prepared`."""

    def in_background(self, work: Callable[[], None]) -> None:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # handed to `prepared`
                self._prepare_error = exc

        self._prepare_error: BaseException | None = None
        self._preparing = threading.Thread(target=run, name=f"prepare-{self.name}",
                                           daemon=True)
        self._preparing.start()

    def prepared(self, timeout: float = 120.0) -> None:
        """Wait for `prepare`'s background work; re-raise its failure."""
        thread = getattr(self, "_preparing", None)
        if thread is None:
            return
        thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError(f"scenario {self.name}: set-up did not finish in {timeout:g} s")
        error = self._prepare_error
        if isinstance(error, RuntimeError):
            raise error
        if error is not None:
            raise RuntimeError(f"scenario {self.name}: set-up failed: {error}") from error

    def close(self) -> None:
        """Called when the drill cluster stops: stop what `attach` started (a database)."""

    def runbook_values(self) -> dict[str, str]:
        """Values for the paired runbook's variables that only the drill knows (its database,
        its backups)."""
        return {}

    def tick(self, store: Store, clock: DrillClock) -> None:
        """Called on every cluster tick, after the controllers and traffic."""

    def details(self, store: Store) -> dict[str, Any]:
        """Scenario-specific state for `GET /drill/v1/status` ("details")."""
        return {}

    def act(self, action: str, store: Store) -> ActionReport:
        """Run a drill action: `ScenarioActionError(400)` if this scenario does not know it."""
        if action not in self.actions:
            known = ", ".join(self.actions) or "none"
            raise ScenarioActionError(
                400, f"scenario {self.name!r} does not know drill action {action!r} "
                f"(it knows: {known})")
        return self.do_action(action, store)

    def do_action(self, action: str, store: Store) -> ActionReport:
        raise ScenarioActionError(400, f"scenario {self.name!r} cannot run {action!r}")

    # ---- journal -------------------------------------------------------------------------
    def _moment(self) -> tuple[str, float]:
        if self.clock is None:
            return "", 0.0
        return self.clock.stamp(), round(self.clock.elapsed(), 3)

    def note_step(self, step: str) -> None:
        """Record that a recovery step happened (each step once, first time wins)."""
        if any(entry["step"] == step for entry in self.journal):
            return
        at, elapsed = self._moment()
        self.journal.append({"step": step, "at": at, "elapsed": elapsed})

    def note_unsafe(self, code: str, message: str) -> None:
        at, elapsed = self._moment()
        self.unsafe_actions.append({"code": code, "message": message, "at": at,
                                    "elapsed": elapsed})

    def step_names(self) -> tuple[str, ...]:
        return tuple(entry["step"] for entry in self.journal)

    def unsafe_names(self) -> tuple[str, ...]:
        return tuple(f"{entry['code']}: {entry['message']}" for entry in self.unsafe_actions)

    # ---- the incident --------------------------------------------------------------------
    def setup(self, store: Store, clock: DrillClock) -> None:
        """Deploy the bad revision: change the target's image and record why."""
        self.clock = clock
        if self.target is None or self.bad_image is None:
            return
        namespace, name = self.target
        deployment = store.get("deployments", namespace, name)
        current = _pick_image(template_images(deployment), self.bad_image)
        if current and current != self.bad_image:
            self.good_image = current
        self.initial_replicas = int(deployment.get("spec", {}).get("replicas", 1))
        bad_image = self.bad_image
        repository = image_repository(bad_image)
        cause = self.change_cause or f"deploy {name} {image_tag(bad_image)}"

        def change(obj: Obj) -> None:
            containers = obj["spec"]["template"]["spec"]["containers"]
            chosen = next(
                (c for c in containers if image_repository(c.get("image", "")) == repository),
                containers[0],
            )
            chosen["image"] = bad_image
            obj["metadata"].setdefault("annotations", {})[CHANGE_CAUSE] = cause

        deployment = store.mutate("deployments", namespace, name, change)
        self.after_setup(store, clock, deployment)

    def after_setup(self, store: Store, clock: DrillClock, deployment: Obj) -> None:
        """Hook for scenario-specific side effects of the bad deploy."""

    def is_bad(self, pod: Obj) -> bool:
        return bool(self.bad_image) and self.bad_image in pod_images(pod)

    def pod_profile(self, pod: Obj) -> PodProfile:
        """How the kubelet runs this pod: bad-image pods per `bad_pod_profile`."""
        return self.bad_pod_profile(pod) if self.is_bad(pod) else HEALTHY_POD

    def bad_pod_profile(self, pod: Obj) -> PodProfile:
        return PodProfile(log_lines=self.bad_log_lines)

    def traffic_profile(self, deployment: Obj, pod: Obj) -> TrafficProfile:
        """What a ready pod serves: the deployment's healthy mix, or `bad_traffic`."""
        healthy = healthy_traffic(deployment)
        return self.bad_traffic(deployment, pod, healthy) if self.is_bad(pod) else healthy

    def bad_traffic(self, deployment: Obj, pod: Obj, healthy: TrafficProfile) -> TrafficProfile:
        return healthy

    def pod_memory(self, pod: Obj, now: float) -> float:
        """Working-set bytes of the pod's running container at unix time `now`."""
        return healthy_working_set(pod, now)

    # ---- what shows ----------------------------------------------------------------------
    def symptom(self, store: Store, traffic_now: Any = None) -> str | None:
        """The incident's first visible sign as it stands now (None: nothing shows yet): the
        target's error ratio or latency over the handbook's "normal", or a restarted or
        OOM-killed pod. `traffic_now`: a `Traffic` or its `current()`."""
        if self.target is None or self.bad_image is None:
            return None
        rates = rates_of(traffic_now, self.target)
        if rates is not None and rates.error_ratio >= NORMAL_ERROR_RATIO:
            return f"error ratio {rates.error_ratio:.1%}"
        if rates is not None and rates.latency_factor >= NORMAL_LATENCY_FACTOR:
            return f"latency {rates.latency_factor:.1f}x baseline"
        deployment = store.try_get("deployments", *self.target)
        for pod in deployment_pods(store, deployment) if deployment else ():
            for status in pod.get("status", {}).get("containerStatuses") or ():
                if status.get("restartCount"):
                    return f"pod {pod['metadata']['name']} restarted"
        return None

    # ---- is it over? ---------------------------------------------------------------------
    def mitigation(self, view: RolloutView) -> str | None:
        """A stop-gap in place (e.g. scale-up), as text, or None."""
        return None

    def followups(self) -> tuple[str, ...]:
        return ()

    def status(self, store: Store, traffic_now: Any = None) -> ScenarioStatus:
        """Resolved when the target runs no bad pods, its rollout is complete and available,
        and (when traffic is given: a `Traffic` or its `current()`) serves normally again."""
        if self.target is None or self.bad_image is None:
            return ScenarioStatus(True, "no incident injected", self.resolution)
        namespace, name = self.target
        view = inspect_rollout(store, namespace, name, self.bad_image)
        bad_tag = image_tag(self.bad_image)
        stopgap = self.mitigation(view) if view.exists else None
        suffix = f" ({stopgap})" if stopgap else ""

        def pending(reason: str) -> ScenarioStatus:
            return ScenarioStatus(False, reason + suffix, self.resolution, stopgap is not None,
                                  steps=self.step_names(), unsafe=self.unsafe_names())

        if not view.exists:
            return pending(f"deployment {namespace}/{name} is gone")
        if view.template_bad:
            return pending(
                f"{namespace}/{name} still specifies {bad_tag}: "
                f"{view.bad_pods} of {view.pods} pods run it"
            )
        tag = image_tag(view.template_image)
        if view.bad_pods:
            return pending(f"rolling back to {tag}: {view.bad_pods} pods still on {bad_tag}")
        if not view.complete:
            return pending(
                f"rollout of {tag} in progress: {view.updated} of {view.desired} updated, "
                f"{view.available} available"
            )
        if not view.available_condition:
            return pending(f"{namespace}/{name} on {tag} is not Available")
        rates = rates_of(traffic_now, (namespace, name))
        if rates is not None and rates.error_ratio >= NORMAL_ERROR_RATIO:
            return pending(f"on {tag}, but the error ratio is still {rates.error_ratio:.1%}")
        if rates is not None and rates.latency_factor >= NORMAL_LATENCY_FACTOR:
            return pending(f"on {tag}, but latency is still {rates.latency_factor:.1f}x baseline")
        return ScenarioStatus(
            True,
            f"rolled back to {tag}: no pods on {bad_tag}, rollout complete and available",
            self.resolution,
            stopgap is not None,
            self.followups(),
            self.step_names(),
            self.unsafe_names(),
        )
