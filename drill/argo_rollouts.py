"""A small Argo Rollouts canary controller for the drill cluster.

Per Rollout (canary strategy): one ReplicaSet per pod template (`<name>-<hash>`, label
`rollouts-pod-template-hash`, annotation `rollout.argoproj.io/revision`). The stable
ReplicaSet (`status.stableRS`) keeps all replicas while a canary runs, as with a traffic
router; the canary gets ceil(replicas x weight / 100) pods and `status.canary.weights` tells
the drill's traffic (drill/traffic.py) how to split requests. Steps:

- `setWeight: N` -- scale the canary, go on once its pods are available;
- `pause: {}` -- add a `CanaryPauseStep` pause condition and wait for a promote (the
  condition cleared); `pause: {duration: 5m}` -- go on by itself after the duration;
- `analysis: {templates: [{templateName}]}` -- create an AnalysisRun from the templates
  (drill/argo_analysis.py measures it); Successful goes on, Failed or Error aborts.

`status.abort` (the plugin's abort) sends all traffic back to stable at once, scales the canary
down and resets `currentStepIndex` to 0 (phase Degraded); clearing it (retry) starts the steps
again. `status.promoteFull` skips the remaining steps. A template equal to the stable one (an
undo) skips the steps. Past the last step the canary becomes stable.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

from . import argo as a
from .argo_analysis import new_analysis_run
from .clock import DrillClock, parse_rfc3339
from .events import EventRecorder
from .ownership import OwnerIndex, owner_reference
from .store import Store

Obj = dict[str, Any]
MAX_STEPS_PER_SYNC = 20


class RolloutController:
    def __init__(self, store: Store, clock: DrillClock, events: EventRecorder,
                 index: OwnerIndex) -> None:
        self.store = store
        self.clock = clock
        self.events = events
        self.index = index

    def tick(self) -> None:
        for rollout in self.store.list("rollouts"):
            self.sync(rollout)

    # ---- one rollout -----------------------------------------------------------------------
    def sync(self, rollout: Obj) -> None:
        meta = rollout["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        spec = rollout.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        steps = a.steps_of(rollout)
        pod_hash = a.template_hash(spec.get("template") or {})
        rss = self._owned(rollout)
        new_rs = rss.get(pod_hash) or self._create_rs(rollout, pod_hash, rss)
        rss[pod_hash] = new_rs
        status: Obj = copy.deepcopy(rollout.get("status") or {})
        stable_hash = status.get("stableRS") or pod_hash
        if stable_hash not in rss:
            stable_hash = pod_hash
        status["stableRS"] = stable_hash
        if status.get("currentPodHash") != pod_hash:
            self._new_revision(rollout, status, pod_hash, stable_hash, len(steps))
            new_rs = self._bump_revision(new_rs, rss)
            rss[pod_hash] = new_rs
        canary: Obj = status.setdefault("canary", {})
        if pod_hash == stable_hash:
            weight = 0
            self._scale_all(rss, {pod_hash: replicas})
            status["currentStepIndex"] = len(steps)
            available = _available(new_rs)
            self._phase(status, a.HEALTHY if available >= replicas else a.PROGRESSING,
                        "" if available >= replicas else "more replicas need to be updated")
            status.pop("abort", None)
            status.pop("promoteFull", None)
        elif status.get("abort"):
            weight = 0
            self._scale_all(rss, {stable_hash: replicas})
            status["currentStepIndex"] = 0
            status.pop("pauseConditions", None)
            status.pop("controllerPause", None)
            if not status.get("abortedAt"):
                status["abortedAt"] = self.clock.stamp()
                reason = status.get("message") if str(status.get("message", "")).startswith(
                    "RolloutAborted") else None
                message = reason or (f"RolloutAborted: Rollout aborted update to revision "
                                     f"{new_rs['metadata']['annotations'].get(a.REVISION)}")
                status["message"] = message
                self.events.record(rollout, "RolloutAborted", message, "Warning", a.COMPONENT)
            self._terminate_analysis(namespace, name, keep=None)
            status["phase"] = a.DEGRADED
        else:
            status.pop("abortedAt", None)
            weight = self._progress(rollout, status, rss, pod_hash, stable_hash, steps,
                                    replicas)
            stable_hash = status["stableRS"]
            if stable_hash == pod_hash:
                weight = 0
        canary["weights"] = {
            "canary": {"weight": weight, "podTemplateHash": pod_hash},
            "stable": {"weight": 100 - weight, "podTemplateHash": stable_hash},
        }
        self._counts(status, rss, pod_hash, rollout)
        self._write(namespace, name, status, rss[pod_hash]["metadata"]["annotations"].get(
            a.REVISION, "1"))

    def _progress(self, rollout: Obj, status: Obj, rss: dict[str, Obj], pod_hash: str,
                  stable_hash: str, steps: list[Obj], replicas: int) -> int:
        """Walk the steps from `currentStepIndex`; the canary weight in force."""
        namespace, name = rollout["metadata"]["namespace"], rollout["metadata"]["name"]
        index = int(status.get("currentStepIndex") or 0)
        if status.get("promoteFull"):
            index = len(steps)
        for _ in range(MAX_STEPS_PER_SYNC):
            weight = a.weight_at(steps, index)
            canary_rs = rss[pod_hash]
            self._scale_all(rss, {stable_hash: replicas,
                                  pod_hash: math.ceil(replicas * weight / 100)})
            if (rollout.get("spec") or {}).get("paused"):
                self._phase(status, a.PAUSED, "manually paused")
                break
            if index >= len(steps):  # promote: the canary becomes stable once available
                if _available(canary_rs) >= replicas:
                    status["stableRS"] = pod_hash
                    status.pop("promoteFull", None)
                    self._scale_all(rss, {pod_hash: replicas})
                    self._terminate_analysis(namespace, name, keep=None)
                    self._phase(status, a.HEALTHY, "")
                    self.events.record(rollout, "RolloutCompleted",
                                       f"Rollout completed update to revision "
                                       f"{canary_rs['metadata']['annotations'].get(a.REVISION)}"
                                       f" ({pod_hash})", component=a.COMPONENT)
                    weight = 0
                else:
                    self._phase(status, a.PROGRESSING, "more replicas need to be updated")
                break
            step = steps[index]
            if "setWeight" in step:
                if _available(canary_rs) >= math.ceil(replicas * weight / 100):
                    index = self._step_done(rollout, status, index)
                    continue
                self._phase(status, a.PROGRESSING, "more replicas need to be updated")
                break
            if "pause" in step:
                if self._paused(rollout, status, step.get("pause") or {}):
                    break
                index = self._step_done(rollout, status, index)
                continue
            if "analysis" in step:
                run = self._analysis(rollout, status, step["analysis"] or {}, pod_hash, index)
                phase = (run.get("status") or {}).get("phase", a.PENDING)
                if phase == a.SUCCESSFUL:
                    index = self._step_done(rollout, status, index)
                    continue
                if phase in (a.FAILED, a.ERROR):
                    status["abort"] = True
                    status["message"] = (f"RolloutAborted: {run['metadata']['name']}: "
                                         f"{(run.get('status') or {}).get('message', phase)}")
                    status["currentStepIndex"] = index
                    return 0
                self._phase(status, a.PROGRESSING, f"analysis {run['metadata']['name']}")
                break
            index = self._step_done(rollout, status, index)  # a step the drill does not play
        status["currentStepIndex"] = index
        return a.weight_at(steps, index) if status["stableRS"] != pod_hash else 0

    def _step_done(self, rollout: Obj, status: Obj, index: int) -> int:
        status.pop("pauseConditions", None)
        status.pop("controllerPause", None)
        self.events.record(rollout, "RolloutStepCompleted",
                           f"Rollout step {index + 1}/{len(a.steps_of(rollout))} completed",
                           component=a.COMPONENT)
        return index + 1

    def _paused(self, rollout: Obj, status: Obj, pause: Obj) -> bool:
        """True while a pause step holds the rollout."""
        conditions = status.get("pauseConditions") or []
        if not conditions and status.get("controllerPause"):
            return False  # promoted: the operator cleared the pause condition
        if not conditions:
            status["pauseConditions"] = [{"reason": a.CANARY_PAUSE,
                                          "startTime": self.clock.stamp()}]
            status["controllerPause"] = True
            conditions = status["pauseConditions"]
        duration = a.duration_seconds(pause.get("duration"))
        if duration is not None:
            started = parse_rfc3339(conditions[0]["startTime"])
            if (self.clock.now() - started).total_seconds() >= duration:
                return False
        self._phase(status, a.PAUSED, a.CANARY_PAUSE)
        return True

    def _analysis(self, rollout: Obj, status: Obj, analysis: Obj, pod_hash: str,
                  index: int) -> Obj:
        meta = rollout["metadata"]
        run_name = f"{meta['name']}-{pod_hash}-{index}"
        run = self.store.try_get("analysisruns", meta["namespace"], run_name)
        if run is None:
            templates = [self.store.try_get("analysistemplates", meta["namespace"],
                                            ref.get("templateName", ""))
                         for ref in analysis.get("templates") or []]
            run = self.store.create("analysisruns", new_analysis_run(
                rollout, run_name, [t for t in templates if t], pod_hash,
                analysis.get("args") or [], self.clock.stamp()))
        phase = (run.get("status") or {}).get("phase", a.PENDING)
        status.setdefault("canary", {})["currentStepAnalysisRunStatus"] = {
            "name": run_name, "status": phase,
            **({"message": run["status"]["message"]}
               if (run.get("status") or {}).get("message") else {})}
        return run

    def _terminate_analysis(self, namespace: str, name: str, keep: str | None) -> None:
        for run in self.store.list("analysisruns", namespace):
            ref = (run["metadata"].get("ownerReferences") or [{}])[0]
            if ref.get("name") != name or run["metadata"]["name"] == keep:
                continue
            if (run.get("status") or {}).get("phase") in a.TERMINAL or \
                    (run.get("spec") or {}).get("terminate"):
                continue
            self.store.mutate("analysisruns", namespace, run["metadata"]["name"],
                              lambda obj: obj["spec"].__setitem__("terminate", True))

    # ---- ReplicaSets -----------------------------------------------------------------------
    def _owned(self, rollout: Obj) -> dict[str, Obj]:
        found: dict[str, Obj] = {}
        for key in self.index.children("replicasets", rollout["metadata"]["uid"]):
            rs = self.store.try_get("replicasets", *key)
            if rs is not None:
                found[rs["metadata"]["labels"].get(a.HASH_LABEL, "")] = rs
        return found

    def _create_rs(self, rollout: Obj, pod_hash: str, rss: dict[str, Obj]) -> Obj:
        meta = rollout["metadata"]
        template = copy.deepcopy(rollout["spec"].get("template") or {})
        template.setdefault("metadata", {}).setdefault("labels", {})[a.HASH_LABEL] = pod_hash
        selector = copy.deepcopy(rollout["spec"].get("selector") or {})
        selector.setdefault("matchLabels", {})[a.HASH_LABEL] = pod_hash
        revision = max((_revision(rs) for rs in rss.values()), default=0) + 1
        rs = self.store.create("replicasets", {
            "metadata": {
                "name": f"{meta['name']}-{pod_hash}", "namespace": meta["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {a.REVISION: str(revision)},
                "ownerReferences": [owner_reference(rollout)],
            },
            "spec": {"replicas": 0, "selector": selector, "template": template},
            "status": {"replicas": 0, "fullyLabeledReplicas": 0, "readyReplicas": 0,
                       "availableReplicas": 0, "observedGeneration": 1},
        })
        return rs

    def _bump_revision(self, rs: Obj, rss: dict[str, Obj]) -> Obj:
        """A template that matches an older ReplicaSet (an undo) makes it the newest revision."""
        newest = max((_revision(other) for other in rss.values()), default=0)
        if _revision(rs) >= newest:
            return rs
        return self.store.mutate("replicasets", rs["metadata"]["namespace"],
                                 rs["metadata"]["name"], lambda obj: obj["metadata"][
                                     "annotations"].__setitem__(a.REVISION, str(newest + 1)))

    def _scale_all(self, rss: dict[str, Obj], wanted: dict[str, int]) -> None:
        for pod_hash, rs in list(rss.items()):
            replicas = wanted.get(pod_hash, 0)
            if int(rs["spec"].get("replicas", 0)) != replicas:
                rss[pod_hash] = self.store.mutate(
                    "replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"],
                    _setter(replicas))

    # ---- status ----------------------------------------------------------------------------
    def _new_revision(self, rollout: Obj, status: Obj, pod_hash: str, stable_hash: str,
                      steps: int) -> None:
        status["currentPodHash"] = pod_hash
        status["currentStepIndex"] = steps if pod_hash == stable_hash else 0
        for key in ("abort", "abortedAt", "pauseConditions", "controllerPause", "promoteFull"):
            status.pop(key, None)
        status.get("canary", {}).pop("currentStepAnalysisRunStatus", None)
        if status.get("message", "").startswith("RolloutAborted"):
            status["message"] = ""

    def _phase(self, status: Obj, phase: str, message: str) -> None:
        status["phase"] = phase
        status["message"] = message

    def _counts(self, status: Obj, rss: dict[str, Obj], pod_hash: str, rollout: Obj) -> None:
        meta = rollout["metadata"]
        status["replicas"] = sum(int((rs.get("status") or {}).get("replicas") or 0)
                                 for rs in rss.values())
        status["updatedReplicas"] = int((rss[pod_hash].get("status") or {}).get("replicas") or 0)
        status["readyReplicas"] = sum(int((rs.get("status") or {}).get("readyReplicas") or 0)
                                      for rs in rss.values())
        status["availableReplicas"] = sum(_available(rs) for rs in rss.values())
        status["observedGeneration"] = str(meta.get("generation", 1))
        labels = (rollout["spec"].get("selector") or {}).get("matchLabels") or {}
        status["selector"] = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def _write(self, namespace: str, name: str, status: Obj, revision: str) -> None:
        """Status, and the current revision on the Rollout (as Argo annotates it)."""
        self.store.mutate("rollouts", namespace, name, _status_setter(status, revision))


def _setter(replicas: int) -> Callable[[Obj], None]:
    def change(obj: Obj) -> None:
        obj["spec"]["replicas"] = replicas
    return change


def _status_setter(status: Obj, revision: str) -> Callable[[Obj], None]:
    def change(obj: Obj) -> None:
        obj["status"] = status
        obj["metadata"].setdefault("annotations", {})[a.REVISION] = revision
    return change


def _available(rs: Obj) -> int:
    return int((rs.get("status") or {}).get("availableReplicas") or 0)


def _revision(rs: Obj) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(a.REVISION, "0"))
    except ValueError:
        return 0
