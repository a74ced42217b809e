"""Turns adapter views and domain results into the immutable rows the widgets display."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from adapters.informer_status import WatchStatus
from adapters.kube_time import age_since, human_duration
from adapters.kube_views import DeploymentView, PodView, RevisionView
from adapters.metrics import History, RateSample
from console.domain.advisor import Signals, Verdict, advise
from console.domain.audit import AuditRecord
from console.domain.audit_disk import BastionHealth, human_bytes
from console.domain.memory_trend import time_to_limit
from console.domain.pod_index import PodCounts
from console.domain.restart_log import RecentRestarts
from console.runbook.outcomes import StepView
from widgets.rows import (
    AuditRow,
    ContextState,
    DeploymentRow,
    HeaderInfo,
    PodRow,
    RateRow,
    RevisionRow,
    StepRow,
    VerdictRow,
)

EXIT_ABBREVIATIONS = {"OOMKilled": "OOM", "Error": "Err", "Completed": "Done",
                      "ContainerCannotRun": "NoRun", "DeadlineExceeded": "Deadline",
                      "Evicted": "Evict"}


def last_exit_text(reason: str, at: datetime | None, now: datetime | None) -> str:
    """The last termination in a few cells: "OOM 12m" for OOMKilled 12 minutes ago."""
    if not reason:
        return ""
    short = EXIT_ABBREVIATIONS.get(reason, reason[:8])
    return f"{short} {age_since(at, now)}" if at is not None else short


def pod_row(pod: PodView, now: datetime | None = None) -> PodRow:
    """`now` (the cluster's clock) recomputes AGE, which the view fixed when it arrived."""
    age = age_since(pod.created, now) if now is not None and pod.created else pod.age
    return PodRow(key=pod.key, name=pod.name, ready=pod.ready, status=pod.status,
                  restarts=pod.restarts_text(now), age=age, revision=pod.revision, node=pod.node,
                  last_exit=last_exit_text(pod.last_termination, pod.terminated_at, now))


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


def rate_row(key: str, sample: RateSample | None, history: History | None,
             memory_limit: float | None = None, no_data: str | None = None) -> RateRow:
    """``memory_limit``: the pods' declared limit (bytes), for "full in" and the scale;
    ``no_data``: the series the metrics query looked for and found nothing of."""
    namespace, _, deployment = key.partition("/")
    errors = _finite(history.error_ratio) if history else ()
    p99 = tuple(v * 1000 for v in _finite(history.p99_s)) if history else ()
    memory = _finite(history.memory_bytes) if history else ()
    full_in = None
    if history is not None and history.memory_bytes:
        seconds = time_to_limit(history.times, history.memory_bytes, memory_limit)
        full_in = None if seconds is None else ("now" if seconds < 1 else human_duration(seconds))
    figures = dict(memory_limit=memory_limit, memory_history=memory, memory_full_in=full_in,
                   no_data=no_data or "")
    if sample is None:
        return RateRow(key, namespace, deployment, None, None, None, None, errors, p99,
                       **figures)  # type: ignore[arg-type]
    return RateRow(key, namespace, deployment, sample.request_rate, sample.error_ratio,
                   None if sample.p99_s is None else sample.p99_s * 1000,
                   sample.latency_ratio, errors, p99, memory_bytes=sample.memory_bytes,
                   **figures)  # type: ignore[arg-type]


def memory_note(row: RateRow, deployment: DeploymentView | None) -> str | None:
    """"memory climbs on revision 4 (1.7.0): at the limit in 12m", or None."""
    if row.memory_full_in is None or deployment is None:
        return None
    tags = ", ".join(image.rpartition(":")[2] for image in deployment.images) or "?"
    revision = f"revision {deployment.revision}" if deployment.revision else "this revision"
    when = "at the limit now" if row.memory_full_in == "now" else \
        f"at the limit in {row.memory_full_in}"
    return f"memory climbs on {revision} ({tags}): {when}"


def signals(sample: RateSample | None, pods: Iterable[PodView] | PodCounts,
            deployment: DeploymentView | None, restarts: RecentRestarts | None = None,
            scaled_from: int | None = None, memory: str | None = None,
            no_data: str | None = None) -> Signals:
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
        restarts_last_hour=restarts.total if restarts else 0,
        oom_kills_last_hour=restarts.oom if restarts else 0,
        scaled_from=scaled_from,
        memory_note=memory,
        no_data=no_data,
    )


def count_pods(pods: Iterable[PodView]) -> PodCounts:
    counts = PodCounts()
    for pod in pods:
        counts.add(pod, 1)
    return counts


def verdict_row(verdict: Verdict) -> VerdictRow:
    reasons = verdict.reasons + tuple(
        f"unknown: {m}" for m in verdict.missing[:2] if not m.startswith("no data: "))
    if not any(r.startswith("no data: ") for r in reasons):
        reasons += tuple(m for m in verdict.missing if m.startswith("no data: "))
    return VerdictRow(level=verdict.level, rule=verdict.rule, reasons=reasons)


def advise_row(sample: RateSample | None, pods: Iterable[PodView] | PodCounts,
               deployment: DeploymentView | None, restarts: RecentRestarts | None = None,
               scaled_from: int | None = None, memory: str | None = None,
               no_data: str | None = None) -> VerdictRow:
    return verdict_row(advise(signals(sample, pods, deployment, restarts, scaled_from, memory,
                                      no_data)))


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
                credentials: str | None = None, identity: str | None = None,
                showing: str | None = None,
                contexts: tuple[ContextState, ...] = (),
                severity: str | None = None,
                incident_status: str | None = None,
                bastion: BastionHealth | None = None) -> HeaderInfo:
    """The status header: where the console is, whether its data is live, the clocks."""
    since = None
    if status is None:  # no answer yet: the first connection is under way
        connection = "connecting"
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
                      identity=identity, showing=showing, contexts=contexts,
                      severity=severity, status=incident_status, host=host_text(bastion),
                      host_warning=host_warning(bastion))


def host_text(bastion: BastionHealth | None) -> str | None:
    """"load 0.42 mem 61% disk 12.0 GiB free": the bastion's own health, from psutil."""
    if bastion is None or bastion.host is None:
        return None
    host = bastion.host
    disk = (f" disk {human_bytes(host.disk_free_bytes)} free"
            if host.disk_free_bytes is not None else "")
    return f"load {host.load_avg[0]:.2f} mem {host.mem_percent:.0f}%{disk}"


def host_warning(bastion: BastionHealth | None) -> str | None:
    """The refusal when the audit log cannot be written, else the low-disk warning."""
    if bastion is None:
        return None
    if bastion.refusal:
        return "audit log cannot be written: actions refused"
    return bastion.warning
