"""The data of drill scoring: what goes in (``DrillFacts``) and what comes out (``DrillScore``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drill.scenarios import Rehearsal


@dataclass(frozen=True)
class DrillFacts:
    """What the drill knows about its own timeline (times on the audit log's clock).

    ``mitigated``: when the error ratio went back under the threshold (or the incident was
    otherwise contained); ``resolved``: when the drill reported it resolved. ``target`` is
    ``namespace/deployment`` (default: the scenario's); ``bad_revision`` the revision number of
    the bad release and ``initial_replicas`` the target's replicas before the incident
    (defaults: the drill's seeded workload). ``drill_steps`` and ``drill_unsafe`` are the
    drill's own ``ScenarioStatus.steps``/``unsafe`` (``"code: message"``), for what the audit
    log cannot show (e.g. a drill action run from a shell step). ``rehearsal``: the scenario's
    scoring data (default: looked up by ``scenario`` in the drill's registry).
    """

    scenario: str
    started: datetime | str
    mitigated: datetime | str | None = None
    resolved: datetime | str | None = None
    target: str | None = None
    bad_revision: int | None = None
    initial_replicas: int | None = None
    drill_steps: tuple[str, ...] = ()
    drill_unsafe: tuple[str, ...] = ()
    rehearsal: Rehearsal | None = None
    # what the drill read from its real database (data-loss): rows_lost, rows_recovered, ...
    data: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Deduction:
    points: int
    category: str  # time | order | unsafe
    reason: str


@dataclass(frozen=True)
class OrderCheck:
    rule: str
    ok: bool
    detail: str
    points: int = 0  # deducted when not ok (0 when it is counted as an unsafe action)


@dataclass(frozen=True)
class UnsafeAction:
    code: str
    what: str
    at_s: float | None  # seconds after the incident started, when known
    points: int


@dataclass(frozen=True)
class StepSeen:
    step: str
    at_s: float | None  # seconds after the start (None: only the drill saw it)
    source: str  # what showed it (an audit record, or "drill")


@dataclass(frozen=True)
class DrillScore:
    scenario: str
    total: int
    time_to_detect_s: float | None
    time_to_mitigate_s: float | None
    time_to_resolve_s: float | None
    checks: tuple[OrderCheck, ...]
    unsafe: tuple[UnsafeAction, ...]
    deductions: tuple[Deduction, ...]
    steps: tuple[StepSeen, ...] = ()
    good: tuple[str, ...] = ()
    data: tuple[str, ...] = ()  # the database's outcome, in words (rows lost, recovered)

    @property
    def resolved(self) -> bool:
        return self.time_to_resolve_s is not None

    @property
    def clean(self) -> bool:
        """Resolved with no unsafe action."""
        return self.resolved and not self.unsafe

    @property
    def outcome(self) -> str:
        if self.clean:
            return "clean"
        return "resolved with unsafe actions" if self.resolved else "not resolved"
