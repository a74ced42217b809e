"""View rows: the immutable data the console hands to the widgets.

The console builds these from adapter views and domain state; widgets only display them. A
``None`` figure means "not known" and is shown as "?" or "n/a" — never as 0, because at 3 a.m.
a missing error rate that reads "0 %" looks like good news.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Rollout = Literal["progressing", "complete", "stalled", "paused"]
Level = Literal["ROLL BACK NOW", "MONITOR", "OK", "UNKNOWN"]
StepStatus = Literal["pending", "running", "done", "failed", "skipped", "blocked"]
Connection = Literal["connecting", "live", "reconnecting", "stale"]  # connecting: no answer yet


@dataclass(frozen=True, slots=True)
class PodRow:
    """One pod. ``key`` is stable across updates (``namespace/name``)."""

    key: str
    name: str
    ready: str  # "ready/total", as kubectl prints it
    status: str  # Running, CrashLoopBackOff, OOMKilled, Pending, Terminating, ...
    restarts: int | str  # a count, or kubectl's "3 (2m ago)"
    age: str
    revision: str
    node: str = ""
    last_exit: str = ""  # the last termination, abbreviated: "OOM 12m" (OOMKilled 12m ago)


@dataclass(frozen=True)
class DeploymentRow:
    """One deployment and its rollout state. ``key`` is ``namespace/name``."""

    key: str
    namespace: str
    name: str
    ready: int | None
    desired: int | None
    updated: int | None
    available: int | None
    revision: int | None
    images: tuple[str, ...]
    rollout: Rollout
    # a console on several contexts groups the list by context: ``group`` is the context's
    # place (0, 1, ...); a row with a ``heading`` is the group's header row, not a deployment
    group: int | None = None
    heading: str = ""


@dataclass(frozen=True)
class RateRow:
    """Traffic figures of one deployment; ``None`` = unknown.

    ``error_ratio`` is 0..1, ``latency_ratio`` is p99 / baseline p99. The histories are the last
    minutes, oldest first, on a common grid (unknown points left out).
    """

    key: str
    namespace: str
    deployment: str
    request_rate: float | None
    error_ratio: float | None
    p99_ms: float | None
    latency_ratio: float | None
    error_history: tuple[float, ...] = ()
    p99_history: tuple[float, ...] = ()
    no_data: str = ""  # the series looked for when the metrics had none: never "0 %"
    memory_bytes: float | None = None  # working set of the largest container
    memory_limit: float | None = None  # the pods' memory limit, when they declare one
    memory_history: tuple[float, ...] = ()
    memory_full_in: str | None = None  # "12m": when the climbing working set hits the limit
    restarts_last_hour: int = 0  # container restarts of the running pods in the last hour


@dataclass(frozen=True)
class VerdictRow:
    """The rollback advisor's verdict and the handbook rule that fired."""

    level: Level
    rule: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepRow:
    """One runbook step. ``explain`` says why the step exists / what it does."""

    key: str
    title: str
    kind: str  # manual | scale | restart | undo | verify | shell | gate
    status: StepStatus
    detail: str = ""
    explain: str = ""


@dataclass(frozen=True)
class AuditRow:
    """One audit record as shown on screen. ``ok`` is None for records that are not results."""

    time: str
    actor: str
    kind: str
    target: str
    message: str
    ok: bool | None = None


@dataclass(frozen=True)
class RevisionRow:
    """One revision of a deployment, as ``kubectl rollout history`` lists it."""

    revision: int
    change_cause: str | None
    images: tuple[str, ...]
    current: bool = False


@dataclass(frozen=True)
class HeaderInfo:
    """What the status header shows: where we are, whether the data is live, the clocks."""

    context: str
    namespace: str
    connection: Connection
    selector: str | None = None  # the label selector watched, if any
    stale_since: str | None = None  # HH:MM:SS
    incident_clock: str = ""
    production: bool = False
    drill_time: str | None = None
    read_only: bool = False
    credentials: str | None = None  # "credentials expire in 4 min", when known
    identity: str | None = None  # impersonation: "as alice (groups: sre)"
    showing: str | None = None  # a `/` filter in force: "showing 12 of 10,000 pods"
    contexts: tuple[ContextState, ...] = ()  # a console on several contexts: each one's state
    severity: str | None = None  # the incident's: critical | high | medium | low
    status: str | None = None  # investigating | identified | mitigated | resolved | closed
    host: str | None = None  # the bastion: "load 0.42 mem 61% disk 12.0 GiB free"
    host_warning: str | None = None  # "audit disk low: 812.0 KiB free (1% free)"


@dataclass(frozen=True)
class ContextState:
    """One context of a console on several: its connection state in a word (connected,
    connecting, reconnecting, stale, denied, failed), production mark, and whether it is the
    focused one (the pod table's, the keys')."""

    name: str
    state: str
    production: bool = False
    focused: bool = False


@dataclass(frozen=True)
class ScenarioRow:
    """One drill scenario in the picker: what it rehearses and the runbook it pairs with."""

    name: str
    title: str
    brief: str  # one line
    difficulty: str  # easy | medium | hard
    runbook: str | None = None
    handbook: str = ""
    speed: float = 1.0  # the scenario's default drill speed


@dataclass(frozen=True)
class ScoreCheckRow:
    """One handbook-order rule of a drill score and whether it held."""

    rule: str
    ok: bool
    detail: str
    points: int = 0  # deducted (0 when it held, or when it counts as an unsafe action)


@dataclass(frozen=True)
class ScoreLineRow:
    """A deduction or an unsafe action: what, when (``+1m 05s`` or ""), points deducted."""

    text: str
    points: int
    when: str = ""
    category: str = ""  # time | order | unsafe


@dataclass(frozen=True)
class ScoreView:
    """A drill's score as the score screen shows it (times already formatted, "—" = never)."""

    scenario: str
    total: int
    outcome: str  # clean | resolved with unsafe actions | not resolved
    time_to_detect: str
    time_to_mitigate: str
    time_to_resolve: str
    checks: tuple[ScoreCheckRow, ...] = ()
    unsafe: tuple[ScoreLineRow, ...] = ()
    deductions: tuple[ScoreLineRow, ...] = ()
    good: tuple[str, ...] = ()
    report_path: str | None = None  # where the Markdown report was written
    final: bool = False  # the drill is over (resolved or quit), not a score so far
