"""AnalysisRuns in the drill: Prometheus metrics measured against the drill's own series.

An AnalysisRun's `spec.metrics` (copied from AnalysisTemplates) each have a
`provider.prometheus.query`, a `successCondition` such as `result[0] < 0.05`, an `interval`,
a `count` and a `failureLimit`. Every `interval` of drill time the query is evaluated by the
drill's PromQL engine (drill/promql.py, the same one behind `/api/v1/query`; the drill answers
any `address` itself) and a measurement recorded with its value as Argo writes it (`[0.19]`
for a one-sample vector). A vector without samples cannot be judged: the measurement is an
Error ("no data"); NaN fails every comparison. More failures than `failureLimit` fail the
metric and the run, which aborts its Rollout (drill/argo_rollouts.py).
"""

from __future__ import annotations

import copy
import math
import operator
import re
from typing import Any

from . import argo as a
from . import promql
from .clock import DrillClock, parse_rfc3339
from .ownership import owner_reference
from .store import Store

Obj = dict[str, Any]
DEFAULT_INTERVAL = 60.0
CONSECUTIVE_ERROR_LIMIT = 4  # Argo's default consecutiveErrorLimit
_CONDITION = re.compile(r"^\s*result(\[0\])?\s*(<=|>=|==|!=|<|>)\s*(-?[0-9.eE+-]+)\s*$")
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}


def new_analysis_run(rollout: Obj, name: str, templates: list[Obj], pod_hash: str,
                     args: list[Obj], stamp: str) -> Obj:
    """The AnalysisRun a Rollout's analysis step creates from its templates."""
    metrics: list[Obj] = []
    for template in templates:
        metrics.extend(copy.deepcopy((template.get("spec") or {}).get("metrics") or []))
    values = {arg.get("name"): arg.get("value") for arg in args}
    for metric in metrics:
        query = ((metric.get("provider") or {}).get("prometheus") or {}).get("query")
        if isinstance(query, str):
            for key, value in values.items():
                if isinstance(value, str):
                    query = query.replace("{{args." + str(key) + "}}", value)
            metric["provider"]["prometheus"]["query"] = query
    meta = rollout["metadata"]
    return {
        "metadata": {
            "name": name, "namespace": meta["namespace"],
            "labels": {a.HASH_LABEL: pod_hash, "rollout-type": "Step"},
            "ownerReferences": [owner_reference(rollout)],
        },
        "spec": {"metrics": metrics, "args": copy.deepcopy(args)},
        "status": {"phase": a.PENDING, "startedAt": stamp},
    }


def judge(condition: str, values: list[float]) -> bool | None:
    """Whether `condition` holds for the query's values; None when it cannot be judged
    (no values, or a condition the drill does not understand)."""
    parts = [p.strip() for p in re.split(r"&&|\band\b", condition)]
    verdict = True
    for part in parts:
        match = _CONDITION.match(part)
        if match is None or not values:
            return None
        verdict = verdict and _OPS[match.group(2)](values[0], float(match.group(3)))
    return verdict


class AnalysisController:
    def __init__(self, store: Store, clock: DrillClock, traffic: Any) -> None:
        self.store = store
        self.clock = clock
        self.traffic = traffic

    def tick(self) -> None:
        for run in self.store.list("analysisruns"):
            phase = (run.get("status") or {}).get("phase", a.PENDING)
            if phase in a.TERMINAL:
                continue
            self.sync(run)

    def sync(self, run: Obj) -> None:
        status = copy.deepcopy(run.get("status") or {})
        now = self.clock.now()
        if (run.get("spec") or {}).get("terminate"):
            status["phase"] = a.SUCCESSFUL
            status["message"] = "Run Terminated"
            self._write(run, status)
            return
        results = {r["name"]: r for r in status.get("metricResults") or []}
        for metric in (run.get("spec") or {}).get("metrics") or []:
            result = results.setdefault(metric["name"], {
                "name": metric["name"], "phase": a.RUNNING, "measurements": [],
                "count": 0, "successful": 0, "failed": 0, "inconclusive": 0, "error": 0,
                "consecutiveError": 0})
            if result["phase"] in a.TERMINAL:
                continue
            interval = a.duration_seconds(metric.get("interval")) or DEFAULT_INTERVAL
            last = result["measurements"][-1] if result["measurements"] else None
            if last is not None and (now - parse_rfc3339(last["finishedAt"])
                                     ).total_seconds() < interval:
                continue
            result["measurements"].append(self._measure(metric))
            self._tally(metric, result)
        status["metricResults"] = list(results.values())
        status["phase"], status["message"] = _run_phase(status["metricResults"])
        self._write(run, status)

    def _measure(self, metric: Obj) -> Obj:
        stamp = self.clock.stamp()
        query = ((metric.get("provider") or {}).get("prometheus") or {}).get("query", "")
        measurement: Obj = {"startedAt": stamp, "finishedAt": stamp}
        try:
            data = promql.query(self.traffic, query)
        except promql.PromQLError as exc:
            return {**measurement, "phase": a.ERROR, "message": str(exc)}
        values = _values(data)
        measurement["value"] = (f"[{', '.join(_fmt(v) for v in values)}]"
                                if data.get("resultType") == "vector" else
                                ",".join(_fmt(v) for v in values))
        verdict = judge(str(metric.get("successCondition") or ""), values)
        if verdict is None:
            measurement["phase"] = a.ERROR
            measurement["message"] = ("no data: the query returned no samples" if not values
                                      else "cannot evaluate the successCondition")
        else:
            measurement["phase"] = a.SUCCESSFUL if verdict else a.FAILED
        return measurement

    def _tally(self, metric: Obj, result: Obj) -> None:
        last = result["measurements"][-1]
        result["count"] += 1
        key = {a.SUCCESSFUL: "successful", a.FAILED: "failed", a.ERROR: "error"}[last["phase"]]
        result[key] += 1
        result["consecutiveError"] = result["consecutiveError"] + 1 \
            if last["phase"] == a.ERROR else 0
        failure_limit = int(metric.get("failureLimit") or 0)
        count = int(metric.get("count") or 1)
        if result["failed"] > failure_limit:
            result["phase"] = a.FAILED
            result["message"] = (f'Metric "{metric["name"]}" assessed Failed due to failed '
                                 f"({result['failed']}) > failureLimit ({failure_limit})")
        elif result["consecutiveError"] > CONSECUTIVE_ERROR_LIMIT:
            result["phase"] = a.ERROR
            result["message"] = (f'Metric "{metric["name"]}" assessed Error due to '
                                 f"consecutiveErrors ({result['consecutiveError']}) > "
                                 f"consecutiveErrorLimit ({CONSECUTIVE_ERROR_LIMIT})")
        elif result["count"] >= count:
            result["phase"] = a.SUCCESSFUL

    def _write(self, run: Obj, status: Obj) -> None:
        def change(obj: Obj) -> None:
            obj["status"] = status
        self.store.mutate("analysisruns", run["metadata"]["namespace"],
                          run["metadata"]["name"], change)


def _values(data: Obj) -> list[float]:
    result = data.get("result")
    if data.get("resultType") == "scalar" and isinstance(result, list):
        return [float(result[1])]
    if data.get("resultType") == "vector" and isinstance(result, list):
        return [float(sample["value"][1]) for sample in result]
    return []


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return f"{value:.4g}"


def _run_phase(results: list[Obj]) -> tuple[str, str]:
    for phase in (a.FAILED, a.ERROR):
        for result in results:
            if result["phase"] == phase:
                return phase, result.get("message", "")
    if results and all(r["phase"] == a.SUCCESSFUL for r in results):
        return a.SUCCESSFUL, ""
    return a.RUNNING, ""
