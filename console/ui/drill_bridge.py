"""Drill mode inside the console: the Textual side of ``DrillMode`` (console/rehearsal/drill_mode.py).

``DrillBridge.attach(app)`` is called once by a console running on an in-process drill
(``settings.drill``). It polls the drill every second in a worker thread; the first time the
incident is mitigated or resolved it says so (a notification and a ``drill.*`` audit record —
kinds the scoring does not count as a response), and when it is resolved it writes the score
report beside the audit log and shows the score screen, once. ``toggle_pause`` (P) pauses or
resumes the drill clock; ``show_score`` (S) shows the score so far; ``finish`` (on quit)
rewrites the report with everything done up to then. A drill without an incident (``none``)
has nothing to score.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adapters.drill_admin import DrillAdminError
from console.domain.audit import AuditError, AuditLog, AuditWriteError
from console.domain.durations import format_elapsed
from console.rehearsal.drill_mode import DrillMode, DrillState, DrillUpdate
from console.rehearsal.score_model import DrillScore
from widgets.rows import ScoreCheckRow, ScoreLineRow, ScoreView
from widgets.score_screen import ScoreScreen

POLL_EVERY = 1.0  # seconds between status polls
DRILL_MITIGATED = "drill.mitigated"
DRILL_RESOLVED = "drill.resolved"
DRILL_CLOCK = "drill.clock"
DRILL_SCORED = "drill.scored"
NO_INCIDENT = "none"


class DrillBridge:
    """Drill mode for one console ``app`` (a ``WarroomApp``: its session's audit log, the main
    screen's rates and header, and Textual's ``run_worker``/``call_from_thread``/``notify``/
    ``push_screen``)."""

    def __init__(self, app: Any, mode: DrillMode) -> None:
        self.app = app
        self.mode = mode
        self.report_path: Path | None = None
        self.last_score: DrillScore | None = None
        self._polling = False
        self._shown_final = False
        self._finished = False
        self._unreachable = False

    @classmethod
    def attach(cls, app: Any) -> DrillBridge:
        """Start drill mode for ``app`` (polls unless the app runs on a frozen clock)."""
        settings = app.settings
        bridge = cls(app, DrillMode.for_cluster(settings.drill, wall_clock=settings.wall_clock))
        if not settings.frozen:
            app.set_interval(POLL_EVERY, bridge.poll)
            bridge.poll()
        return bridge

    @property
    def scored(self) -> bool:
        """Whether this drill has an incident to score."""
        return self.mode.scenario != NO_INCIDENT

    @property
    def audit(self) -> AuditLog | None:
        audit = self.app.session.audit
        return audit if isinstance(audit, AuditLog) else None

    def header_text(self, drill_time: str | None) -> str | None:
        """The header's drill clock with the speed, or ⏸ PAUSED."""
        return self.mode.clock_text(drill_time)

    # ---- polling ---------------------------------------------------------------------------
    def poll(self) -> None:
        if self._polling or self._finished:
            return
        self._polling = True
        self.app.run_worker(
            self._poll_worker, name="drill-poll", group="drill", thread=True, exit_on_error=False
        )

    def _error_ratio(self) -> float | None:
        if self.mode.target is None:
            return None
        sample = dict(self.app.main_screen.live.rates).get(self.mode.target)
        return getattr(sample, "error_ratio", None)

    def _poll_worker(self) -> None:
        try:
            update: DrillUpdate | None = self.mode.poll(
                self._error_ratio(), acted=self.app.main_screen.acted)
            error = None
        except (DrillAdminError, ValueError, TypeError) as exc:  # no answer, or a garbled one
            update, error = None, str(exc)
        self._call(self._polled, update, error)

    def _polled(self, update: DrillUpdate | None, error: str | None) -> None:
        self._polling = False
        if self._finished:
            return  # the console is closing
        if update is None:
            if not self._unreachable:
                self._unreachable = True
                self.app.notify(
                    error or "the drill cluster does not answer",
                    title="drill",
                    severity="warning",
                    timeout=10,
                )
            return
        self._unreachable = False
        if not self.scored:
            return
        state = update.state
        if update.mitigated_now and not state.resolved:
            self._record(DRILL_MITIGATED, f"drill: incident mitigated ({state.reason})")
            self.app.notify(state.reason, title="drill: mitigated", timeout=8)
        if update.resolved_now:
            self._record(DRILL_RESOLVED, f"drill: incident resolved ({state.reason})")
            self.app.notify(state.reason, title="drill: resolved", timeout=10)
            self._score(final=True, write=True)

    # ---- the score -------------------------------------------------------------------------
    def show_score(self) -> None:
        """The score so far (S); after resolution, the final one."""
        if not self.scored:
            self.app.notify("no incident in this drill: nothing to score")
            return
        # as of the last poll (at most a second old): a poll here could swallow a milestone
        self._score(final=self.mode.resolved_at is not None, write=False, always_show=True)

    def _score(self, final: bool, write: bool, always_show: bool = False) -> None:
        def work() -> None:
            try:
                result, path = self._compute(final, write)
            except (OSError, AuditError) as exc:
                message = getattr(exc, "message", None) or str(exc)
                self._call(
                    self.app.notify,
                    f"cannot score the drill: {message}",
                    title="drill score",
                    severity="error",
                )
                return
            self._call(self._scored, result, path, final, always_show)

        self.app.run_worker(
            work, name="drill-score", group="drill-score", thread=True, exit_on_error=False
        )

    def _compute(self, final: bool, write: bool) -> tuple[DrillScore, Path | None]:
        audit = self.audit
        records = audit.records() if audit is not None and audit.path.exists() else []
        if write and audit is not None:
            result, path = self.mode.write_report(records, audit.path, final)
            self.report_path = path
        else:
            result, path = self.mode.score(records, final), self.report_path
        self.last_score = result
        return result, path

    def _scored(
        self, result: DrillScore, path: Path | None, final: bool, always_show: bool
    ) -> None:
        if self._finished:
            return
        if final and path is not None:
            self._record(
                DRILL_SCORED,
                f"drill score {result.total}/100: report {path}",
                {"total": result.total, "report": str(path)},
            )
        if always_show or (final and not self._shown_final):
            self._shown_final = self._shown_final or final
            self.app.push_screen(ScoreScreen(score_view(result, path, final)))

    # ---- the drill clock -------------------------------------------------------------------
    def toggle_pause(self) -> None:
        def work() -> None:
            try:
                state: DrillState | None = self.mode.toggle_pause()
                error = None
            except DrillAdminError as exc:
                state, error = None, str(exc)
            self._call(self._toggled, state, error)

        self.app.run_worker(
            work, name="drill-clock", group="drill-clock", thread=True, exit_on_error=False
        )

    def _toggled(self, state: DrillState | None, error: str | None) -> None:
        if self._finished:
            return
        if state is None:
            self.app.notify(
                error or "the drill did not answer", title="drill clock", severity="error"
            )
            return
        word = "paused" if state.paused else "resumed"
        when = state.drill_time[11:19] or "?"
        self._record(
            DRILL_CLOCK,
            f"drill clock {word} at drill time {when}",
            {"paused": state.paused, "speed": state.speed},
            action=word,
        )
        self.app.notify(
            f"drill clock {word} at {when}" + ("" if state.paused else f" (×{state.speed:g})"),
            title="drill",
        )
        self.app.main_screen.refresh_header()

    # ---- quitting ----------------------------------------------------------------------------
    def finish(self) -> Path | None:
        """On quit (blocking): poll once more and write the report with all that was done."""
        if self._finished:
            return self.report_path
        self._finished = True
        try:
            if not self.scored or self.audit is None:
                return None
            with contextlib.suppress(DrillAdminError):
                self.mode.poll(self._error_ratio())
            with contextlib.suppress(OSError, AuditError):
                self._compute(final=True, write=True)
            return self.report_path
        finally:
            self.mode.close()

    # ---- helpers ---------------------------------------------------------------------------
    def _record(
        self,
        kind: str,
        message: str,
        params: dict[str, Any] | None = None,
        action: str | None = None,
    ) -> None:
        audit = self.audit
        if audit is None:
            return
        target = self.mode.target
        with contextlib.suppress(AuditWriteError, OSError):
            audit.append(
                kind,
                action=action or kind.partition(".")[2],
                target=f"deployment/{target.partition('/')[2]}" if target else None,
                params=params or {},
                message=message,
            )

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):
            self.app.call_from_thread(fn, *args)


def score_view(
    result: DrillScore, report_path: Path | str | None = None, final: bool = False
) -> ScoreView:
    """The ``ScoreView`` the score screen shows, from a drill's score."""
    return ScoreView(
        scenario=result.scenario,
        total=result.total,
        outcome=result.outcome,
        time_to_detect=format_elapsed(result.time_to_detect_s),
        time_to_mitigate=format_elapsed(result.time_to_mitigate_s),
        time_to_resolve=format_elapsed(result.time_to_resolve_s),
        checks=tuple(ScoreCheckRow(c.rule, c.ok, c.detail, c.points) for c in result.checks),
        unsafe=tuple(
            ScoreLineRow(
                u.what,
                u.points,
                f"+{format_elapsed(u.at_s)}" if u.at_s is not None else "",
                "unsafe",
            )
            for u in result.unsafe
        ),
        deductions=tuple(
            ScoreLineRow(d.reason, d.points, "", d.category) for d in result.deductions
        ),
        good=result.good,
        report_path=str(report_path) if report_path is not None else None,
        final=final,
    )
