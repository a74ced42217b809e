"""`bad-canary`: a progressive delivery gone wrong -- an Argo Rollouts canary at 20 % fails.

`shop/checkout` is an Argo Rollout (canary: 20 %, a 10-minute pause, an error-rate analysis,
50 %, a manual pause, 100 %). Release 2.4.0 fails a third of the requests it serves; at 20 %
of the traffic that is ~7 % of checkout's requests failing. The handbook's "quick rollback
ready" for gradual rollouts is the abort: all traffic back to the stable version at once,
canary scaled down (`kubectl argo rollouts abort checkout`). Waiting until the analysis
aborts it costs minutes of errors; rolling back other (healthy) workloads fixes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from .. import argo as a
from ..clock import DrillClock
from ..profiles import Endpoint, TrafficProfile
from ..store import Store
from ..workloads import deployment_pods, image_tag, is_ready, pod_images
from .base import CHANGE_CAUSE, NORMAL_ERROR_RATIO, Scenario, ScenarioStatus, rates_of
from .registry import register
from .rehearsal import COMMUNICATE, Rehearsal, Rule

NAMESPACE, NAME = "shop", "checkout"
IMAGE = "registry.local/shop/checkout"
GOOD, BAD = f"{IMAGE}:2.3.0", f"{IMAGE}:2.4.0"
BAD_ERROR_RATIO = 0.35
STEPS: list[dict[str, Any]] = [
    {"setWeight": 20},
    {"pause": {"duration": "10m"}},
    {"analysis": {"templates": [{"templateName": "error-rate"}],
                  "args": [{"name": "service", "value": NAME}]}},
    {"setWeight": 50},
    {"pause": {}},
    {"setWeight": 100},
]
ERROR_QUERY = (
    'sum(rate(http_requests_total{namespace="shop",deployment="{{args.service}}",'
    'code=~"5.."}[2m])) / sum(rate(http_requests_total{namespace="shop",'
    'deployment="{{args.service}}"}[2m]))')
ABORT_STEP = "abort-canary"


def _template_of(deployment: dict[str, Any]) -> str:
    return json.dumps(deployment.get("spec", {}).get("template"), sort_keys=True)


def rollout_object(image: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": {"app": NAME},
                     "annotations": {CHANGE_CAUSE: "deploy checkout 2.3.0"}},
        "spec": {
            "replicas": 5, "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": NAME}},
            "strategy": {"canary": {"steps": STEPS}},
            "template": {"metadata": {"labels": {"app": NAME}}, "spec": {"containers": [{
                "name": NAME, "image": image,
                "ports": [{"name": "http", "containerPort": 8080}]}]}},
        },
    }


def analysis_template() -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
        "metadata": {"name": "error-rate", "namespace": NAMESPACE},
        "spec": {"args": [{"name": "service"}], "metrics": [{
            "name": "error-rate", "interval": "1m", "count": 5, "failureLimit": 2,
            "successCondition": "result[0] < 0.05",
            "provider": {"prometheus": {"address": "http://prometheus.monitoring:9090",
                                        "query": ERROR_QUERY}},
        }]},
    }


@register
class BadCanary(Scenario):
    """Argo Rollouts canary of checkout 2.4.0 at 20 % raising errors for its share."""

    name = "bad-canary"
    title = "Canary at 20 % fails"
    brief = "checkout 2.4.0 canary (Argo Rollouts) fails a third of its 20 % of traffic."
    difficulty = "medium"
    order = 60
    in_random_pool = False  # needs Argo Rollouts: played by name
    runbook = "canary-failing"
    handbook = "Prevention: gradual rollouts (canary) with a quick rollback ready"
    target = (NAMESPACE, NAME)
    bad_image = BAD
    good_image = GOOD
    change_cause = "deploy checkout 2.4.0: new payment provider"
    resolution = ("abort the canary (kubectl argo rollouts abort checkout): traffic back to "
                  "stable at once; then undo the Rollout's template or fix forward")
    rehearsal = Rehearsal(target=f"{NAMESPACE}/{NAME}", rules=(
        Rule("required", "abort the canary (traffic back to stable at once)", ABORT_STEP,
             points=10),
        COMMUNICATE,
    ), check_paths=("/",))
    bad_log_lines = ("ERROR POST / 502: payment provider v2 rejected the request "
                     "(invalid merchant id)",)

    def __init__(self) -> None:
        super().__init__()
        self._templates: dict[tuple[str, str], str] = {}  # healthy deployments' pod templates
        self._abort_seen = False

    # ---- the workload and the incident --------------------------------------------------------
    def prepare_workload(self, store: Store, clock: DrillClock) -> None:
        if store.try_get("rollouts", NAMESPACE, NAME) is None:
            store.create("analysistemplates", analysis_template())
            store.create("rollouts", rollout_object(GOOD))

    def setup(self, store: Store, clock: DrillClock) -> None:
        self.clock = clock
        self.initial_replicas = 5
        self._templates = {
            (d["metadata"]["namespace"], d["metadata"]["name"]): _template_of(d)
            for d in store.list("deployments")}
        cause = self.change_cause

        def deploy(obj: dict[str, Any]) -> None:
            obj["spec"]["template"]["spec"]["containers"][0]["image"] = BAD
            obj["metadata"]["annotations"][CHANGE_CAUSE] = cause

        store.mutate("rollouts", NAMESPACE, NAME, deploy)

    def bad_traffic(self, deployment: dict[str, Any], pod: dict[str, Any],
                    healthy: TrafficProfile) -> TrafficProfile:
        return TrafficProfile(tuple(Endpoint(ep.path, ep.share, BAD_ERROR_RATIO,
                                             ep.latency_factor) for ep in healthy.endpoints))

    # ---- what the drill sees the operator do --------------------------------------------------
    def tick(self, store: Store, clock: DrillClock) -> None:
        for (namespace, name), template in self._templates.items():
            deployment = store.try_get("deployments", namespace, name)
            if deployment is not None and _template_of(deployment) != template:
                self._templates[(namespace, name)] = _template_of(deployment)
                self.note_unsafe("rollback-unrelated",
                                 f"rolled back or restarted deployment {namespace}/{name}, "
                                 f"which was healthy: the failing release is the checkout "
                                 f"canary")
        rollout = store.try_get("rollouts", NAMESPACE, NAME)
        status = (rollout or {}).get("status") or {}
        if status.get("abort") and not self._abort_seen:
            self._abort_seen = True
            run = (status.get("canary") or {}).get("currentStepAnalysisRunStatus") or {}
            if run.get("status") in (a.FAILED, a.ERROR):
                self.note_unsafe("waited-for-analysis",
                                 "the canary served errors until its analysis aborted it")
            else:
                self.note_step(ABORT_STEP)
        elif not status.get("abort"):
            self._abort_seen = False

    # ---- what shows and when it is over -------------------------------------------------------
    def _canary_pods(self, store: Store) -> tuple[int, int]:
        rollout = store.try_get("rollouts", NAMESPACE, NAME)
        pods = deployment_pods(store, rollout) if rollout else []
        ready = [p for p in pods if is_ready(p)]
        return sum(1 for p in ready if BAD in pod_images(p)), len(ready)

    def symptom(self, store: Store, traffic_now: Any = None) -> str | None:
        rates = rates_of(traffic_now, self.target) if self.target else None
        if rates is not None and rates.error_ratio >= NORMAL_ERROR_RATIO:
            return f"error ratio {rates.error_ratio:.1%}"
        return None

    def followups(self) -> tuple[str, ...]:
        return ("abort leaves spec.template on 2.4.0: undo the Rollout to the stable revision "
                "or fix forward before the next retry",)

    def status(self, store: Store, traffic_now: Any = None) -> ScenarioStatus:
        rollout = store.try_get("rollouts", NAMESPACE, NAME)

        def pending(reason: str) -> ScenarioStatus:
            return ScenarioStatus(False, reason, self.resolution, steps=self.step_names(),
                                  unsafe=self.unsafe_names())

        if rollout is None:
            return pending(f"rollout {NAMESPACE}/{NAME} is gone")
        status = rollout.get("status") or {}
        weight = ((status.get("canary") or {}).get("weights") or {}).get("canary", {})
        bad, ready = self._canary_pods(store)
        template_bad = BAD in str(rollout["spec"].get("template"))
        if template_bad and not status.get("abort"):
            return pending(f"canary of {image_tag(BAD)} at {weight.get('weight', 0)} % "
                           f"({bad} of {ready} ready pods)")
        if bad:
            return pending(f"canary traffic is 0 %, {bad} pods of {image_tag(BAD)} still up")
        rates = rates_of(traffic_now, (NAMESPACE, NAME))
        if rates is not None and rates.error_ratio >= NORMAL_ERROR_RATIO:
            return pending(f"traffic on stable, but the error ratio is still "
                           f"{rates.error_ratio:.1%}")
        how = "aborted: all traffic on stable" if status.get("abort") else \
            f"rolled back to {image_tag(GOOD)}"
        return ScenarioStatus(True, f"canary {how}, error ratio normal", self.resolution,
                              followups=self.followups() if template_bad else (),
                              steps=self.step_names(), unsafe=self.unsafe_names())

    def details(self, store: Store) -> dict[str, Any]:
        rollout = store.try_get("rollouts", NAMESPACE, NAME) or {}
        status = rollout.get("status") or {}
        return {"phase": status.get("phase"), "step": status.get("currentStepIndex"),
                "abort": bool(status.get("abort"))}
