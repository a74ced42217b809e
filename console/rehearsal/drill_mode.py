"""Drill mode: the console's side of a rehearsal — milestones, the drill clock, the score.

``DrillMode`` watches a running drill through its admin API (``GET /drill/v1/status``) and
stamps, on the console's wall clock (the audit log's: console/rehearsal/scoring.py compares them with the
audit records), when it first sees the incident *mitigated* (the scenario says so, or the
target's error ratio is back under 1 % after having been over it) and *resolved*. It pauses and
resumes the drill clock, and scores the drill from the audit log (``score``), writing the
Markdown report beside it (``write_report``). The score screen's rows are made from the
``DrillScore`` by the console (console/ui/drill_bridge.py).

No Textual and no widgets here, and every method that talks to the drill blocks: the app calls
them from worker threads (console/ui/drill_bridge.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from adapters.drill_admin import DrillAdmin, DrillEndpoint
from console.domain.audit import AuditRecord, parse_timestamp
from console.rehearsal.scoring import DrillFacts, DrillScore, score, write_report
from drill.scenarios.random_pick import HIDDEN as HIDDEN_PICK

MITIGATED_ERROR_RATIO = 0.01  # the handbook's "error rates normal"


class DrillSource(Protocol):
    """The drill's admin API, as ``DrillAdmin`` offers it."""

    def status(self) -> dict[str, Any]: ...

    def clock(
        self, *, pause: bool = False, resume: bool = False, speed: float | None = None
    ) -> dict[str, Any]: ...


DATA_COUNTS = ("rows_at_risk", "rows_recovered", "rows_lost")


def _data_counts(details: object) -> tuple[tuple[str, int], ...]:
    """The row counts a database scenario reports (data-loss), once it has restored."""
    if not isinstance(details, Mapping) or not details.get("restored_from"):
        return ()
    return tuple((key, int(details[key])) for key in DATA_COUNTS
                 if isinstance(details.get(key), int) and not isinstance(details[key], bool))


@dataclass(frozen=True)
class DrillState:
    """What the drill says about itself (``GET /drill/v1/status``)."""

    scenario: str
    resolved: bool
    mitigated: bool
    clean: bool
    reason: str
    steps: tuple[str, ...]
    unsafe: tuple[str, ...]
    speed: float
    paused: bool
    drill_time: str  # RFC3339, drill clock
    incident_start: str  # RFC3339, drill clock
    picked: str | None = None  # a random drill's scenario, once revealed
    data: tuple[tuple[str, int], ...] = ()  # row counts from the drill's real database

    @classmethod
    def from_status(cls, data: Mapping[str, Any]) -> DrillState:
        details = data.get("details")
        picked = details.get("picked") if isinstance(details, Mapping) else None
        return cls(
            scenario=str(data.get("scenario") or "none"),
            resolved=bool(data.get("resolved")),
            mitigated=bool(data.get("mitigated")),
            clean=bool(data.get("clean")),
            reason=str(data.get("reason") or ""),
            steps=tuple(str(s) for s in data.get("steps") or ()),
            unsafe=tuple(str(u) for u in data.get("unsafe") or ()),
            speed=float(data.get("speed") or 0.0),
            paused=bool(data.get("paused")),
            drill_time=str(data.get("drillTime") or ""),
            incident_start=str(data.get("incidentStart") or ""),
            picked=picked if isinstance(picked, str) and picked != HIDDEN_PICK else None,
            data=_data_counts(details),
        )

    def drill_seconds_since_incident(self) -> float | None:
        try:
            return (
                parse_timestamp(self.drill_time) - parse_timestamp(self.incident_start)
            ).total_seconds()
        except ValueError:
            return None


@dataclass(frozen=True)
class DrillUpdate:
    """One poll: the drill's state and the milestones first seen by this poll."""

    state: DrillState
    mitigated_now: bool = False
    resolved_now: bool = False


class DrillMode:
    """Milestones, clock control and scoring of one drill (see the module doc).

    ``scenario`` is the drill's scenario name; ``hidden_pick`` the scenario a ``random`` drill
    really plays (scored as that one once the drill is over). ``target`` is
    ``namespace/deployment``; ``wall_clock`` stamps the milestones (the audit log's clock).
    """

    def __init__(
        self,
        source: DrillSource,
        *,
        scenario: str,
        target: str | None = None,
        initial_replicas: int | None = None,
        hidden_pick: str | None = None,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.source = source
        self.scenario = scenario
        self.target = target
        self.initial_replicas = initial_replicas
        self.hidden_pick = hidden_pick
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self.state: DrillState | None = None
        self.started: datetime | None = None
        self.mitigated_at: datetime | None = None
        self.resolved_at: datetime | None = None
        self._seen_bad = False

    @classmethod
    def for_cluster(
        cls, cluster: Any, wall_clock: Callable[[], datetime] | None = None, timeout: float = 5.0
    ) -> DrillMode:
        """For an in-process ``DrillCluster``: talks to it over its admin API all the same
        (its store belongs to its own event loop)."""
        endpoint = DrillEndpoint(cluster.url, cluster.tls.ca_pem, cluster.token)
        scenario = cluster.scenario
        target = "/".join(scenario.target) if getattr(scenario, "target", None) else None
        return cls(
            DrillAdmin(endpoint, timeout),
            scenario=scenario.name,
            target=target,
            initial_replicas=getattr(scenario, "initial_replicas", None),
            hidden_pick=getattr(scenario, "picked", None),
            wall_clock=wall_clock,
        )

    def close(self) -> None:
        close = getattr(self.source, "close", None)
        if callable(close):
            close()

    def now(self) -> datetime:
        return self._wall_clock() if self._wall_clock is not None else datetime.now(UTC)

    # ---- watching ------------------------------------------------------------------------
    def poll(self, error_ratio: float | None = None, acted: bool = True) -> DrillUpdate:
        """Ask the drill how it is doing; stamp milestones seen for the first time.

        ``error_ratio``: the target's current error ratio as the console's metrics show it.
        ``acted``: whether the responders have changed anything yet; until they have, errors
        that ebb by themselves (a leak's crash cycle between bursts) are no mitigation.
        Raises ``DrillAdminError`` when the drill does not answer."""
        state = DrillState.from_status(self.source.status())
        now = self.now()
        with self._lock:
            self.state = state
            if self.started is None:
                self.started = self._incident_start(state, now)
            if error_ratio is not None and error_ratio >= MITIGATED_ERROR_RATIO:
                self._seen_bad = True
            back_under = (
                self._seen_bad and acted
                and error_ratio is not None and error_ratio < MITIGATED_ERROR_RATIO
            )
            mitigated_now = self.mitigated_at is None and (
                state.mitigated or state.resolved or back_under
            )
            if mitigated_now:
                self.mitigated_at = now
            resolved_now = self.resolved_at is None and state.resolved
            if resolved_now:
                self.resolved_at = now
        return DrillUpdate(state, mitigated_now, resolved_now)

    @staticmethod
    def _incident_start(state: DrillState, now: datetime) -> datetime:
        """When the incident started, on the wall clock: drill seconds since it, scaled back."""
        since = state.drill_seconds_since_incident()
        if since is None or state.speed <= 0:
            return now
        return now - timedelta(seconds=max(0.0, since) / state.speed)

    # ---- the drill clock -----------------------------------------------------------------
    def toggle_pause(self) -> DrillState:
        """Pause a running drill clock, or resume a paused one; the state after it."""
        paused = DrillState.from_status(self.source.status()).paused
        state = DrillState.from_status(self.source.clock(pause=not paused, resume=paused))
        with self._lock:
            self.state = state
        return state

    def clock_text(self, drill_time: str | None) -> str | None:
        """The header's drill clock: "10:42:07 ×60", "10:42:07 ⏸ PAUSED"."""
        state = self.state
        if drill_time is None or state is None:
            return drill_time
        if state.paused:
            return f"{drill_time} ⏸ PAUSED"
        return f"{drill_time} ×{state.speed:g}"

    # ---- scoring -------------------------------------------------------------------------
    def scoring_name(self, final: bool = False) -> str:
        """The scenario the rules come from: a random drill's pick once it is known."""
        state = self.state
        if state is not None and state.picked:
            return state.picked
        if final and self.hidden_pick:
            return self.hidden_pick
        return self.scenario

    def facts(self, final: bool = False) -> DrillFacts:
        with self._lock:
            state = self.state
            return DrillFacts(
                scenario=self.scoring_name(final),
                started=self.started or self.now(),
                mitigated=self.mitigated_at,
                resolved=self.resolved_at,
                target=self.target,
                initial_replicas=self.initial_replicas,
                drill_steps=state.steps if state else (),
                drill_unsafe=state.unsafe if state else (),
                data=state.data if state else (),
            )

    def score(
        self, records: Iterable[Mapping[str, Any] | AuditRecord], final: bool = False
    ) -> DrillScore:
        return score(records, self.facts(final))

    def write_report(
        self,
        records: Iterable[Mapping[str, Any] | AuditRecord],
        audit_path: Path | str,
        final: bool = True,
    ) -> tuple[DrillScore, Path]:
        """Score the drill and write the Markdown report beside the audit log."""
        result = self.score(records, final)
        return result, write_report(result, audit_path)


__all__ = [
    "MITIGATED_ERROR_RATIO",
    "DrillMode",
    "DrillSource",
    "DrillState",
    "DrillUpdate",
]
