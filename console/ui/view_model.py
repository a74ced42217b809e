"""Turns adapter views and domain results into the immutable rows the widgets display."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from adapters.informer_status import WatchStatus
from adapters.kube_time import age_since
from adapters.kube_views import DeploymentView, PodView, RevisionView
from adapters.metrics import History, RateSample
from console.domain.advisor import Signals, Verdict, advise
from console.domain.audit import AuditRecord
from console.domain.pod_index import PodCounts
from console.runbook.outcomes import StepView
from widgets.rows import (
    AuditRow,
    DeploymentRow,
    HeaderInfo,
    PodRow,
    RateRow,
    RevisionRow,
    StepRow,
    VerdictRow,
)


def pod_row(pod: PodView, now: datetime | None = None) -> PodRow:
    """`now` (the cluster's clock) recomputes AGE, which the view fixed when it arrived."""
    age = age_since(pod.created, now) if now is not None and pod.created else pod.age
    return PodRow(key=pod.key, name=pod.name, ready=pod.ready, status=pod.status,
                  restarts=pod.restarts_text(now), age=age, revision=pod.revision, node=pod.node)


def step_row(step: StepView) -> StepRow:
    return StepRow(step.id, step.title, step.kind, step.status, step.detail, step.explain)


def deployment_row(view: DeploymentView) -> DeploymentRow:
    rollout = view.rollout if view.rollout in ("progressing", "complete", "stalled",
                                               "paused") else "progressing"
    if view.paused and rollout != "stalled":  # paused, even with every pod new: says so
        rollout = "paused"
    return DeploymentRow(key=view.key, namespace=view.namespace, name=view.name,
                         ready=view.ready, desired=view.desired, updated=view.updated,
                         available=view.available, revision=view.revision,
                         images=view.images, rollout=rollout)  # type: ignore[arg-type]


def revision_row(view: RevisionView) -> RevisionRow:
    return RevisionRow(revision=view.revision or 0, change_cause=view.change_cause or None,
                       images=view.images, current=view.current)


def _finite(values: Iterable[float | None]) -> tuple[float, ...]:
    return tuple(v for v in values if v is not None and math.isfinite(v))


def rate_row(key: str, sample: RateSample | None, history: History | None) -> RateRow:
    namespace, _, deployment = key.partition("/")
    errors = _finite(history.error_ratio) if history else ()
    p99 = tuple(v * 1000 for v in _finite(history.p99_s)) if history else ()
    if sample is None:
        return RateRow(key, namespace, deployment, None, None, None, None, errors, p99)
    return RateRow(key, namespace, deployment, sample.request_rate, sample.error_ratio,
                   None if sample.p99_s is None else sample.p99_s * 1000,
                   sample.latency_ratio, errors, p99)


def signals(sample: RateSample | None, pods: Iterable[PodView] | PodCounts,
            deployment: DeploymentView | None) -> Signals:
    """The advisor's inputs for one deployment; ``pods`` are its pods, or their counts as the
    console keeps them (``PodIndex.counts``).

    The share of failing requests stands in for the share of users affected: the console has
    no user-level data, and for request/response services the two track each other.
    """
    counts = pods if isinstance(pods, PodCounts) else count_pods(pods)
    error_ratio = sample.error_ratio if sample else None
    return Signals(
        error_ratio=error_ratio,
        users_affected=error_ratio,
        latency_ratio=sample.latency_ratio if sample else None,
        pods_crashing=counts.crashing,
        pods_total=deployment.desired if deployment else counts.total,
        ready_pods=deployment.ready if deployment else counts.ready,
    )


def count_pods(pods: Iterable[PodView]) -> PodCounts:
    counts = PodCounts()
    for pod in pods:
        counts.add(pod, 1)
    return counts


def verdict_row(verdict: Verdict) -> VerdictRow:
    reasons = verdict.reasons + tuple(f"unknown: {m}" for m in verdict.missing[:2])
    return VerdictRow(level=verdict.level, rule=verdict.rule, reasons=reasons)


def advise_row(sample: RateSample | None, pods: Iterable[PodView] | PodCounts,
               deployment: DeploymentView | None) -> VerdictRow:
    return verdict_row(advise(signals(sample, pods, deployment)))


def audit_row(record: AuditRecord) -> AuditRow:
    actor = record.actor
    who = actor.user if actor else "?"
    if actor and actor.ssh_client:
        who += "@" + actor.ssh_client.split()[0]
    if record.identity and record.identity.get("user"):
        who += f" as {record.identity['user']}"  # the cluster saw the impersonated user
    ok: bool | None = None
    if record.kind.endswith(".finished"):
        ok = True
    elif record.kind.endswith((".failed", ".refused", ".crashed")):
        ok = False
    result = record.result if isinstance(record.result, dict) else {}
    if record.kind == "runbook.step" and result.get("status") in ("done", "failed"):
        ok = result["status"] == "done"
    return AuditRow(time=record.time[11:19], actor=who, kind=record.kind,
                    target=record.target or "", message=record.message, ok=ok)


def credentials_text(expiry: datetime | None, now: datetime) -> str | None:
    """"credentials expire in 4 min" (None when the expiry is not known)."""
    if expiry is None:
        return None
    seconds = (expiry - now).total_seconds()
    if seconds <= 0:
        return "credentials expired: renewing"
    if seconds < 60:
        return "credentials expire in <1 min"
    return f"credentials expire in {int(seconds // 60)} min"


def header_info(status: WatchStatus | None, *, context: str, namespace: str,
                selector: str | None, incident_clock: str, production: bool,
                drill_time: str | None, read_only: bool,
                credentials: str | None = None, identity: str | None = None) -> HeaderInfo:
    """The status header: where the console is, whether its data is live, the clocks."""
    since = None
    if status is None:
        connection = "reconnecting"
    elif status.state == "live":
        connection = "live"
    elif status.state == "stale":
        connection = "stale"
        since = status.since.astimezone().strftime("%H:%M:%S") if status.since else None
    else:
        connection = "reconnecting"
    return HeaderInfo(context=context, namespace=namespace, selector=selector or None,
                      connection=connection,  # type: ignore[arg-type]
                      stale_since=since, incident_clock=incident_clock, production=production,
                      drill_time=drill_time, read_only=read_only, credentials=credentials,
                      identity=identity)
