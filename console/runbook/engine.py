"""The runbook engine: walks a bound runbook step by step, for the console (no Textual here).

One ``RunbookEngine`` per runbook in use. The screen shows ``steps_view()``, moves the cursor
with ``next()`` / ``previous()``, and turns the operator's intents into calls:

- ``check_off(step_id, note)`` ticks a manual step off; ``skip(step_id, reason)`` skips one;
- ``run_step(step_id, confirm, progress)`` runs an action step (``scale``, ``restart``,
  ``undo``, ``verify``, ``gate``, ``shell``, ``wait``). It blocks: call it from a worker
  thread. ``progress(message, fraction)`` is called from that thread (fraction may be None);
  ``confirm(prompt)`` too, for steps that need confirmation (the screen blocks on its modal);
- ``stop()`` interrupts waits, gates, verification rounds and shell commands promptly;
- ``abort(run_undos)`` applies the runbook's ``on_abort`` and runs the compensations
  (``undo:`` of the steps that took effect) in reverse order.

Rules the engine keeps:

- **On record first.** Every start, finish, failure, skip and check-off is a ``runbook.step``
  audit record (``action`` = step kind, ``target`` = step id, ``result`` = ``{status,
  detail}``). If the start record cannot be written the step does not run.
- **Progress is incident state.** Each status change is saved in the shared incident (one
  atomic write), so ``--resume`` comes back where it was and a second console sees it
  (``refresh()`` picks up other consoles' changes cheaply). ``blocked`` is not stored: it is a
  pending step whose ``requires`` are not all done.
- **Requires.** A step whose required steps are not *done* (skipped is not done) is refused
  with a message naming them.
- **Gates** pass only when the PromQL condition holds on every sample continuously for
  ``for`` seconds, measured with the engine's clock; empty results, NaN and query errors are
  unknown and reset the hold. An action step's ``verify:`` is waited for (rounds every
  ``interval`` until ``deadline``), not a fixed pause.
- **Compensations.** Once a step has failed, the ``undo:`` of every step with one that took
  effect before the failure is *due* (``compensations_due()``). Which ran is saved in the
  incident under ``step_progress["<runbook id>::compensations"]``, so none runs twice.
- **Stopping.** ``stop()`` ends a wait, gate or verification with the step back to pending
  (nothing changed), and kills a running shell command (the step fails: it may have done part
  of its work). A cluster action already sent is followed to the end of its rollout.
- **Time.** Gate holds, wait durations and verification deadlines use ``clock`` (default
  ``time.monotonic``); pauses go through ``sleeper(seconds)`` (default: a wait on the engine's
  stop event, so ``stop()`` cuts it short). Tests inject a fake pair to make "for 20s" quick.
- **Read-only.** With a read-only ``ActionRunner`` no mutating step (or compensation) runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from adapters.errors import AdapterError
from adapters.kubernetes import KubeClient
from adapters.metrics import MetricsClient
from adapters.probes import Check, Prober, ProbeResult
from adapters.shell import ShellResult, run_command
from console.domain.actions import ActionRefused, ActionRequest, ActionRunner
from console.domain.actor import Actor, process_console_id
from console.domain.audit import RUNBOOK_STEP, AuditLog, AuditWriteError, utc_timestamp
from console.domain.incident import Incident, IncidentError, SharedIncident, StepState
from console.runbook.field_types import format_duration
from console.runbook.schema import AnyStep, BoundRunbook, ShellStep
from console.runbook.schema_actions import ACTION_TYPES, Compensation, action_request
from console.runbook.schema_checks import GateCondition, GateOutcome
from console.runbook.schema_steps import GateStep, ManualAction, ShellAction, VerifyStep, WaitStep

Progress = Callable[[str, float | None], None]
Confirm = Callable[[str], bool]
Sleeper = Callable[[float], object]
ViewStatus = Literal["pending", "running", "done", "failed", "skipped", "blocked"]
CompensationStatus = Literal["done", "failed", "manual", "not run"]

RUNBOOK_ABORT = "runbook.abort"
# not runbook.step: scoring and post-mortems read a runbook.step "done" as the step done
RUNBOOK_COMPENSATION = "runbook.compensation"
COMPENSATIONS_SUFFIX = "::compensations"
_KEEP: Any = object()  # "leave the current step pointer alone"
_T = TypeVar("_T")


# ---- what the engine hands out -------------------------------------------------------------
@dataclass(frozen=True)
class StepView:
    """One step as the checklist shows it (``widgets.rows.StepRow`` takes the first six)."""

    id: str
    title: str
    kind: str
    status: ViewStatus
    detail: str = ""
    explain: str = ""
    current: bool = False
    optional: bool = False
    when: str | None = None
    mutating: bool = False
    needs_confirmation: bool = False
    requires: tuple[str, ...] = ()
    by: str | None = None  # label of who last changed it
    at: str | None = None  # UTC timestamp of the last change
    has_undo: bool = False
    undo_due: bool = False
    compensated: bool = False


@dataclass(frozen=True)
class StepOutcome:
    """What came of ``run_step`` / ``check_off`` / ``skip``.

    ``status`` is the step's status afterwards. ``refused`` means nothing was done (requires,
    confirmation declined, audit log unwritable, pre-check failed); ``interrupted`` that
    ``stop()`` ended it. ``compensations_due`` lists step ids whose ``undo:`` is now due.
    """

    step_id: str
    status: str
    ok: bool
    message: str
    refused: bool = False
    interrupted: bool = False
    duration_s: float = 0.0
    compensations_due: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompensationOutcome:
    """One compensation during ``abort``: ``manual`` ones are left for the operator."""

    step_id: str
    description: str
    status: CompensationStatus
    message: str


@dataclass(frozen=True)
class AbortOutcome:
    """What ``abort`` did. ``ran`` says whether compensations were run (per ``on_abort``)."""

    ok: bool
    ran: bool
    message: str
    results: tuple[CompensationOutcome, ...] = ()


class _Interrupted(Exception):
    """stop() was called while the step waited."""


# ---- the engine ----------------------------------------------------------------------------
class RunbookEngine:
    """Walks ``runbook`` for one console; thread-safe (run steps from worker threads)."""

    def __init__(
        self,
        runbook: BoundRunbook,
        *,
        incident: SharedIncident | None,
        audit: AuditLog,
        actions: ActionRunner | None = None,
        kube: KubeClient | None = None,
        metrics: MetricsClient | None = None,
        prober: Prober | None = None,
        context: str,
        namespace: str,
        clock: Callable[[], float] = time.monotonic,
        sleeper: Sleeper | None = None,
    ) -> None:
        self.runbook = runbook
        self.incident = incident
        self.audit = audit
        self.kube = kube if kube is not None else (actions.kube if actions else None)
        self.actions = actions if actions is not None else (
            ActionRunner(kube, audit) if kube is not None else None)
        self.metrics = metrics
        self.prober = prober
        self.context = context
        self.namespace = namespace
        self._clock = clock
        self._stop = threading.Event()
        self._sleeper: Sleeper = sleeper if sleeper is not None else self._stop.wait
        self._lock = threading.RLock()
        self._states: dict[str, StepState] = {}
        self._compensations: dict[str, StepState] = {}
        self._current: str | None = None
        self._version = -1
        self._stamp: Any = None
        self._live: dict[str, str] = {}  # step id → latest progress line (this console)
        self._running: set[str] = set()  # steps this engine is running now
        self.last_error: str | None = None  # last failure to save incident state
        self._ids = [step.id for step in runbook.steps]
        if incident is not None:
            self._stamp = incident.stamp()
            self._apply(incident.read(), force=True)
        if self._current is None:
            self._current = self._first_open()

    # ---- reading state ------------------------------------------------------------------
    @property
    def current(self) -> str | None:
        """The step id under the cursor (shared with other consoles through the incident)."""
        with self._lock:
            return self._current

    def status(self, step_id: str) -> str:
        """The stored status of a step (pending/running/done/failed/skipped)."""
        with self._lock:
            return self._state(step_id).status

    def steps_view(self) -> list[StepView]:
        """Every step with its status, detail and explanation, in runbook order."""
        with self._lock:
            due = set(self.compensations_due())
            views = []
            for step in self.runbook.steps:
                state = self._state(step.id)
                status: ViewStatus = state.status
                detail = self._live.get(step.id) or state.note
                missing = self._missing(step)
                if status == "pending" and missing:
                    status = "blocked"
                    detail = "needs " + _quoted_list(missing) + " done first"
                if status == "running" and step.id not in self._running:
                    detail = self._remote_running(step.id, state)
                comp = self._compensations.get(step.id)
                compensated = comp is not None and comp.status == "done"
                if compensated:
                    detail = (detail + " · " if detail else "") + "undone"
                elif step.id in due:
                    detail = (detail + " · " if detail else "") + "undo due"
                views.append(StepView(
                    id=step.id, title=step.title, kind=step.kind, status=status, detail=detail,
                    explain=step.explain, current=step.id == self._current,
                    optional=step.optional, when=step.when, mutating=step.is_mutating,
                    needs_confirmation=step.needs_confirmation,
                    requires=tuple(step.requires), by=state.by.label if state.by else None,
                    at=state.at, has_undo=_undo_of(step) is not None,
                    undo_due=step.id in due, compensated=compensated))
            return views

    def refresh(self) -> bool:
        """Pick up changes other consoles saved (one ``stat`` when nothing changed)."""
        if self.incident is None or not self.incident.changed_since(self._stamp):
            return False
        stamp = self.incident.stamp()
        try:
            incident = self.incident.read()
        except IncidentError as error:
            self.last_error = error.message
            return False
        self._stamp = stamp
        return self._apply(incident)

    # ---- the cursor ---------------------------------------------------------------------
    def next(self) -> str | None:
        """Move the cursor one step down (stays on the last step); returns the new step id."""
        return self._move(+1)

    def previous(self) -> str | None:
        """Move the cursor one step up (stays on the first step); returns the new step id."""
        return self._move(-1)

    def go_to(self, step_id: str) -> str:
        """Put the cursor on ``step_id``."""
        self._step(step_id)
        self._save_pointer(step_id)
        return step_id

    def _move(self, delta: int) -> str | None:
        with self._lock:
            if self._current is None:
                index = 0
            else:
                index = min(max(self._ids.index(self._current) + delta, 0), len(self._ids) - 1)
            target = self._ids[index]
        self._save_pointer(target)
        return target

    def _save_pointer(self, step_id: str | None) -> None:
        with self._lock:
            self._current = step_id
        if self.incident is None:
            return
        runbook_id = self.runbook.id

        def apply(incident: Incident) -> None:
            incident.current_step = (runbook_id, step_id) if step_id else None

        self._update(apply)

    # ---- manual steps, skipping ---------------------------------------------------------
    def check_off(self, step_id: str, note: str | None = None, by: Actor | None = None
                  ) -> StepOutcome:
        """Tick a manual step off (audited as ``runbook.step`` with status done)."""
        step = self._step(step_id)
        note = (note or "").strip()
        if step.kind != "manual":
            return self._refused(step, f"{step.id} is a {step.kind} step: run it, it is not "
                                       "checked off by hand", audit=False)
        if step.id in self._running_anywhere():
            return self._refused(step, f"{step.id} is running", audit=False)
        missing = self._missing(step)
        if missing:
            return self._refused(step, self._requires_message(step, missing), by=by)
        try:
            self._audit(step, "done", note, by=by)
        except AuditWriteError as error:
            return self._refused(step, f"not checked off: {error.message}", audit=False)
        warning = self._save(step.id, "done", note, by=by, advance=True)
        return StepOutcome(step.id, "done", True, _join("checked off", warning))

    def skip(self, step_id: str, reason: str, by: Actor | None = None) -> StepOutcome:
        """Skip a step (audited). A step that is not optional needs a reason."""
        step = self._step(step_id)
        reason = (reason or "").strip()
        if step.id in self._running_anywhere():
            return self._refused(step, f"{step.id} is running; stop it first", audit=False)
        if not step.optional and not reason:
            return self._refused(step, f"{step.id} is not optional: say why it is skipped",
                                 audit=False)
        try:
            self._audit(step, "skipped", reason, by=by)
        except AuditWriteError as error:
            return self._refused(step, f"not skipped: {error.message}", audit=False)
        warning = self._save(step.id, "skipped", reason, by=by, advance=True)
        return StepOutcome(step.id, "skipped", True, _join("skipped", warning))

    def reopen(self, step_id: str, reason: str = "", by: Actor | None = None) -> StepOutcome:
        """Put a finished step back to pending (a mis-click, or to run it again); audited."""
        step = self._step(step_id)
        if step.id in self._running_anywhere():
            return self._refused(step, f"{step.id} is running; stop it first", audit=False)
        try:
            self._audit(step, "pending", reason or "reopened", by=by)
        except AuditWriteError as error:
            return self._refused(step, f"not reopened: {error.message}", audit=False)
        warning = self._save(step.id, "pending", reason, by=by)
        return StepOutcome(step.id, "pending", True, _join("reopened", warning))

    # ---- running steps ------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        """True when the action runner is read-only: no step that changes things runs."""
        return bool(self.actions is not None and self.actions.read_only)

    def stop(self) -> None:
        """Interrupt every wait, gate, verification and shell command this engine runs."""
        self._stop.set()

    def run_step(self, step_id: str, confirm: Confirm | None = None,
                 progress: Progress | None = None) -> StepOutcome:
        """Run an action step to its end and return how it went. Blocking: use a worker."""
        step = self._step(step_id)
        report = _safe(progress)
        if step.kind == "manual":
            return self._refused(step, f"{step.id} is a manual step: check it off when done",
                                 audit=False)
        with self._lock:
            if step.id in self._running:
                return self._refused(step, f"{step.id} is already running", audit=False)
            elsewhere = self._running_elsewhere(step.id)
            if elsewhere:
                return self._refused(step, elsewhere, audit=False)
            if not self._running:
                self._stop.clear()
            self._running.add(step.id)
        try:
            return self._run(step, confirm, report)
        finally:
            with self._lock:
                self._running.discard(step.id)
                self._live.pop(step.id, None)

    def _run(self, step: AnyStep, confirm: Confirm | None, progress: Progress) -> StepOutcome:
        missing = self._missing(step)
        if missing:
            return self._refused(step, self._requires_message(step, missing))
        request: ActionRequest | None = None
        prompt = f"{step.title}: {step.describe()} (context {self.context})"
        if step.kind in ACTION_TYPES:
            try:
                request, prompt = self._plan_action(step)  # type: ignore[arg-type]
            except AdapterError as error:
                return self._refused(step, f"cannot prepare {step.describe()}: {error.message}")
            except _NoCluster as error:
                return self._refused(step, str(error))
            assert self.actions is not None
            refusal = self.actions.precheck(request)
            if refusal:
                return self._refused(step, refusal)
        elif step.is_mutating and self.read_only:
            return self._refused(step, "read-only mode: warroom was started with --read-only")
        if step.needs_confirmation:
            if confirm is None:
                return self._refused(step, f"{step.id} needs confirmation: {prompt}",
                                     audit=False)
            if not confirm(prompt):
                return self._refused(step, "not confirmed by the operator")
        try:
            self._audit(step, "running", step.describe(),
                        params=dict(request.params) if request else None)
        except AuditWriteError as error:
            return self._refused(step, f"not run: {error.message}", audit=False)
        before = self._state(step.id)
        warning = self._save(step.id, "running", step.describe())
        started = self._clock()
        interrupted = False
        try:
            status, message = self._execute(step, request, progress)
        except _Interrupted as stopped:
            interrupted = True
            status, message = stopped.args if stopped.args else ("pending", "stopped")
        except Exception as exc:  # noqa: BLE001 — never leave a step "running" on a bug
            status, message = "failed", f"internal error: {type(exc).__name__}: {exc}"
        duration = self._clock() - started
        unchanged = status == "pending"  # stopped while waiting, or not sent: nothing changed
        if unchanged and before.status not in ("pending", "running"):
            status = before.status  # e.g. a done verify step re-run and stopped stays done
            warning = _join(warning, self._save(step.id, state=before))
        else:
            warning = _join(warning, self._save(step.id, status, message,
                                                advance=status == "done" and not unchanged))
        recorded = "interrupted" if interrupted else ("refused" if unchanged else status)
        try:
            self._audit(step, recorded, message, duration_s=duration)
        except AuditWriteError as error:
            warning = _join(warning, f"audit log: {error.message}")
        due = tuple(self.compensations_due()) if status == "failed" else ()
        if due:
            message += "; compensation due for " + _quoted_list(due)
        return StepOutcome(step.id, status, status == "done" and not unchanged,
                           _join(message, warning), refused=unchanged and not interrupted,
                           interrupted=interrupted, duration_s=duration,
                           compensations_due=due)

    def _execute(self, step: AnyStep, request: ActionRequest | None, progress: Progress
                 ) -> tuple[str, str]:
        def live(message: str, fraction: float | None) -> None:
            with self._lock:
                self._live[step.id] = message
            progress(message, fraction)

        if request is not None:
            assert self.actions is not None
            try:
                outcome = self.actions.run(request, live)
            except ActionRefused as refused:  # its requested/started record failed: not sent
                return "pending", refused.message
            except AuditWriteError as error:
                return "failed", f"{request.describe()} ran but {error.message}"
            if not outcome.ok and outcome.duration_s == 0.0 and outcome.rollout is None:
                # the runner's last checks refused it (read-only, context, generation moved):
                # nothing was sent to the cluster, so nothing needs undoing
                return "pending", f"not run: {outcome.message}"
            if not outcome.ok:
                return "failed", outcome.message
            return self._verify_after(step, outcome.message, live)
        if isinstance(step, ShellStep):
            status, message = self._shell(step, live)
            if status != "done":
                return status, message
            return self._verify_after(step, message, live)
        if isinstance(step, VerifyStep):
            return self._verify(step, live)
        if isinstance(step, GateStep):
            return self._gate(step, live)
        if isinstance(step, WaitStep):
            return self._wait(step, live)
        return "failed", f"do not know how to run a {step.kind} step"

    def _verify_after(self, step: AnyStep, message: str, progress: Progress
                      ) -> tuple[str, str]:
        verification = getattr(step, "verify", None)
        if verification is None:
            return "done", message
        try:
            status, verdict = self._verify(verification, progress)
        except _Interrupted:
            raise _Interrupted("failed", f"{message}; stopped before verification finished"
                               ) from None
        if status == "done":
            return "done", f"{message}; verified: {verdict}"
        return "failed", f"{message}; verification failed: {verdict}"

    # ---- cluster actions ----------------------------------------------------------------
    def _plan_action(self, spec: Any) -> tuple[ActionRequest, str]:
        """The ActionRequest for a scale/restart/undo (step or compensation) and its prompt."""
        if self.kube is None or self.actions is None:
            raise _NoCluster(f"{spec.describe()}: no cluster connection")
        view = self.kube.get_deployment(spec.namespace, spec.deployment)
        request = action_request(spec, view, self.context)
        now = f"now revision {view.revision}, {view.desired} replicas"
        if view.images:
            now += ", " + ", ".join(view.images)
        prompt = (f"{request.describe()} in namespace {spec.namespace} on context "
                  f"{self.context} ({now})")
        return request, prompt

    # ---- verification, gates, waits -----------------------------------------------------
    def _verify(self, fields: Any, progress: Progress) -> tuple[str, str]:
        """Rounds of HTTP checks and gates every ``interval`` until they pass or ``deadline``."""
        try:
            checks = [Check(**check.probe_kwargs()) for check in fields.checks]
        except AdapterError as error:
            return "failed", error.message
        gates: list[GateCondition] = list(fields.gates)
        held: list[float | None] = [None] * len(gates)
        deadline = self._clock() + fields.deadline_s
        rounds = 0
        while True:
            rounds += 1
            results: list[ProbeResult] = self._probe(checks) if checks else []
            outcomes: list[GateOutcome] = []
            parts = [f"{r.name}: {'ok' if r.ok else 'FAIL'} ({r.message})" for r in results]
            for index, gate in enumerate(gates):
                values, error = self._query(gate.query)
                outcome = gate.evaluate(values)
                now = self._clock()
                if outcome == "pass":
                    since = held[index] if held[index] is not None else now
                    held[index] = since
                    if now - since < gate.for_s:
                        outcome = "unknown"  # passing, not for long enough yet
                        parts.append(f"{_gate_name(gate)}: holding {_secs(now - since)} of "
                                     f"{format_duration(gate.for_s)}")
                    else:
                        parts.append(f"{_gate_name(gate)}: ok ({_shown(values, gate)})")
                else:
                    held[index] = None
                    parts.append(f"{_gate_name(gate)}: " + (
                        f"{_shown(values, gate)}, not {gate.op} {gate.threshold:g}"
                        if outcome == "fail" else f"unknown ({error or 'no data'})"))
                outcomes.append(outcome)
            verdict = fields.judge([r.ok for r in results], outcomes)
            summary = "; ".join(parts)
            if verdict == "pass":
                progress(f"verified: {summary}", 1.0)
                return "done", summary
            now = self._clock()
            progress(f"round {rounds}: {summary}", None)
            if now >= deadline:
                return "failed", (f"not healthy within {format_duration(fields.deadline_s)} "
                                  f"({rounds} round(s)): {summary}")
            self._sleep(min(fields.interval_s, deadline - now),
                        ("pending", f"stopped after {rounds} round(s): {summary}"))

    def _probe(self, checks: Sequence[Check]) -> list[ProbeResult]:
        prober = self.prober or Prober()
        return _run_coroutine(prober.run_all(checks))

    def _query(self, expr: str) -> tuple[list[float] | None, str | None]:
        """The sample values of an instant query, or (None, why) when it cannot be known."""
        if self.metrics is None:
            return None, "no metrics source configured"
        try:
            samples = self.metrics.instant(expr)
        except AdapterError as error:
            return None, error.message
        values = [sample.value for sample in samples]
        if not values:
            return values, "the query returned no samples"
        if any(math.isnan(value) for value in values):
            return values, "the query returned NaN"
        return values, None

    def _gate(self, step: GateStep, progress: Progress) -> tuple[str, str]:
        condition = step.condition
        name = _gate_name(condition)
        target = f"{step.op} {step.threshold:g}"
        need = format_duration(step.for_s) if step.for_s else "one sample"
        started = self._clock()
        deadline = started + step.timeout_s
        since: float | None = None
        line = ""
        while True:
            values, error = self._query(step.query)
            outcome = step.evaluate(values)
            now = self._clock()
            fraction: float | None = None
            if outcome == "pass":
                since = now if since is None else since
                held = now - since
                if held >= step.for_s:
                    message = f"{name} = {_shown(values, condition)} {target}, held {_secs(held)}"
                    progress(message, 1.0)
                    return "done", message
                line = (f"{name} = {_shown(values, condition)} {target}: holding "
                        f"{_secs(held)} of {need}")
                fraction = held / step.for_s if step.for_s else None
            elif outcome == "fail":
                since = None
                line = (f"{name} = {_shown(values, condition)}, needs {target} for {need}"
                        " (not holding)")
                fraction = 0.0
            else:
                since = None
                line = f"{name} unknown: {error or 'no data'} — does not count as holding"
            progress(line, fraction)
            if now >= deadline:
                return "failed", (f"timed out after {format_duration(step.timeout_s)}: "
                                  f"{condition.describe()} did not hold; last: {line}")
            self._sleep(min(step.interval_s, deadline - now),
                        ("pending", f"stopped after {_secs(now - started)}; last: {line}"))

    def _wait(self, step: WaitStep, progress: Progress) -> tuple[str, str]:
        started = self._clock()
        deadline = started + step.duration_s
        while True:
            now = self._clock()
            remaining = deadline - now
            if remaining <= 0:
                return "done", f"waited {format_duration(step.duration_s)}"
            progress(f"{_secs(remaining)} left of {format_duration(step.duration_s)}",
                     (now - started) / step.duration_s)
            self._sleep(min(remaining, 1.0),
                        ("pending", f"stopped after {_secs(now - started)} of "
                                    f"{format_duration(step.duration_s)}"))

    def _sleep(self, seconds: float, on_stop: tuple[str, str]) -> None:
        """Sleep with the sleeper; raise ``_Interrupted(status, message)`` if stopped."""
        if not self._stop.is_set():
            self._sleeper(max(0.0, seconds))
        if self._stop.is_set():
            raise _Interrupted(*on_stop)

    # ---- shell --------------------------------------------------------------------------
    def _shell(self, spec: Any, progress: Progress) -> tuple[str, str]:
        argv = spec.argv
        command = argv if argv is not None else spec.command

        def on_line(stream: str, line: str) -> None:
            progress(line if stream == "stdout" else f"stderr: {line}", None)

        async def run() -> ShellResult | None:
            task = asyncio.ensure_future(run_command(
                command, timeout_s=spec.timeout_s, on_line=on_line, cwd=spec.cwd,
                use_shell=argv is None, expected_exit=spec.expected_exit))
            while not task.done():
                if self._stop.is_set():
                    task.cancel()  # run_command kills the command's process group
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                    return None
                await asyncio.wait({task}, timeout=0.05)
            return task.result()

        result = _run_coroutine(run())
        if result is None:
            raise _Interrupted("failed", "stopped: the command was killed before it finished")
        message = result.message
        if not result.ok and result.output_tail:
            message += f"; last output: {result.output_tail[-1]}"
        return ("done" if result.ok else "failed"), message

    # ---- requires -----------------------------------------------------------------------
    def _missing(self, step: AnyStep) -> list[str]:
        return [required for required in step.requires
                if self._state(required).status != "done"]

    def _requires_message(self, step: AnyStep, missing: Sequence[str]) -> str:
        states = {"pending": "", "skipped": "it was skipped", "failed": "it failed",
                  "running": "it is still running"}
        parts = []
        for required in missing:
            word = states.get(self._state(required).status, "")
            parts.append(f"'{required}'" + (f" ({word})" if word else ""))
        message = f"{step.id} needs {_and(parts)} to be done first"
        why = step.requires_why.strip()
        if why:
            return f"{message}: {why}"
        titles = "; ".join(self.runbook.step(required).title for required in missing)
        return f"{message}: {titles}"

    # ---- compensations and abort --------------------------------------------------------
    def compensations_due(self) -> list[str]:
        """Step ids whose ``undo:`` is due because a step failed, latest first.

        Due: steps with an ``undo:`` that took effect (done, or failed part-way) no later than
        the latest failed step, and were not compensated yet.
        """
        with self._lock:
            failed = [self._order_key(sid) for sid in self._ids
                      if self._state(sid).status == "failed"]
            if not failed:
                return []
            latest = max(failed)
            return [sid for sid in self.pending_compensations()
                    if self._order_key(sid) <= latest]

    def pending_compensations(self) -> list[str]:
        """Step ids with an ``undo:`` that took effect and is not compensated, latest first."""
        with self._lock:
            found = []
            for step in self.runbook.steps:
                if _undo_of(step) is None:
                    continue
                if self._state(step.id).status not in ("done", "failed"):
                    continue
                done = self._compensations.get(step.id)
                if done is not None and done.status == "done":
                    continue
                found.append(step.id)
            return sorted(found, key=self._order_key, reverse=True)

    def abort_question(self) -> str | None:
        """The question to put to the operator before ``abort``, or None when there is none
        (``on_abort`` is always/never, or nothing to undo)."""
        pending = self.pending_compensations()
        if self.runbook.on_abort != "ask" or not pending:
            return None
        what = "; ".join(f"{sid}: {_describe_compensation(self._undo(sid))}" for sid in pending)
        return f"Abort {self.runbook.id}: run {len(pending)} undo step(s) in reverse order? {what}"

    def abort(self, run_undos: bool | None = None, progress: Progress | None = None
              ) -> AbortOutcome:
        """Abort the runbook: per ``on_abort`` (always / never / ask → ``run_undos``), run
        the compensations of the steps that took effect, latest first, each audited.

        Stops at the first compensation that fails (earlier ones may depend on it). Manual
        compensations are reported for the operator to do by hand. Blocking: use a worker.
        """
        report = _safe(progress)
        with self._lock:
            if self._running:
                return AbortOutcome(False, False, f"{_quoted_list(sorted(self._running))} still "
                                                  "running: stop it and wait for it to end first")
            self._stop.clear()
        pending = self.pending_compensations()
        policy = self.runbook.on_abort
        if policy == "always":
            run = True
        elif policy == "never":
            run = False
        else:
            if run_undos is None and pending:
                raise ValueError(f"runbook {self.runbook.id} says on_abort: ask — pass the "
                                 "operator's answer as run_undos")
            run = bool(run_undos)
        try:
            self.audit.append(
                RUNBOOK_ABORT, action="abort", target=self.runbook.id,
                params={"runbook": self.runbook.id, "on_abort": policy, "run_undos": run_undos,
                        "compensations": pending},
                result={"status": "aborting" if run and pending else "aborted"},
                message=f"abort {self.runbook.id}", context=self.context,
                namespace=self.namespace)
        except AuditWriteError as error:
            return AbortOutcome(False, False, f"not aborted: {error.message}")
        if not pending:
            return AbortOutcome(True, False, "aborted; nothing to undo")
        if not run:
            why = ("the runbook says on_abort: never" if policy == "never"
                   else "the operator chose not to run them")
            results = tuple(CompensationOutcome(sid, _describe_compensation(self._undo(sid)),
                                                "not run", why) for sid in pending)
            return AbortOutcome(True, False, f"aborted; {len(pending)} undo step(s) not run "
                                             f"({why}): do them by hand if needed", results)
        results: list[CompensationOutcome] = []
        for index, sid in enumerate(pending):
            outcome = self._compensate(sid, report)
            results.append(outcome)
            if outcome.status == "failed":
                results.extend(
                    CompensationOutcome(rest, _describe_compensation(self._undo(rest)),
                                        "not run", f"stopped: undo of {sid} failed")
                    for rest in pending[index + 1:])
                return AbortOutcome(False, True, f"aborted; undo of {sid} failed: "
                                                 f"{outcome.message}", tuple(results))
        manual = [r.step_id for r in results if r.status == "manual"]
        message = f"aborted; {len(results) - len(manual)} undo step(s) done"
        if manual:
            message += f", {len(manual)} to do by hand ({_quoted_list(manual)})"
        return AbortOutcome(True, True, message, tuple(results))

    def _undo(self, step_id: str) -> Compensation:
        undo = _undo_of(self.runbook.step(step_id))
        assert undo is not None
        return undo

    def _compensate(self, step_id: str, progress: Progress) -> CompensationOutcome:
        comp = self._undo(step_id)
        what = _describe_compensation(comp)
        if isinstance(comp, ManualAction):
            return CompensationOutcome(step_id, what, "manual",
                                       f"do by hand: {comp.title}" + (
                                           f" — {comp.explain}" if comp.explain else ""))
        params: dict[str, Any] = {"runbook": self.runbook.id, "type": comp.type, "undo": what}
        request: ActionRequest | None = None
        if comp.type in ACTION_TYPES:
            try:
                request, _prompt = self._plan_action(comp)
            except (AdapterError, _NoCluster) as error:
                message = getattr(error, "message", str(error))
                return CompensationOutcome(step_id, what, "failed", f"not run: {message}")
            assert self.actions is not None
            refusal = self.actions.precheck(request)
            if refusal:
                return CompensationOutcome(step_id, what, "failed", f"not run: {refusal}")
            params.update(request.params)
        elif self.read_only:
            return CompensationOutcome(step_id, what, "failed", "not run: read-only mode")
        try:
            self._audit_compensation(step_id, "running", what, params)
        except AuditWriteError as error:
            return CompensationOutcome(step_id, what, "failed", f"not run: {error.message}")
        self._save_compensation(step_id, "running", what)
        started = time.monotonic()
        status, message = "failed", ""
        try:
            if request is not None:
                assert self.actions is not None
                result = self.actions.run(request, progress)
                status, message = ("done" if result.ok else "failed"), result.message
            elif isinstance(comp, ShellAction):
                status, message = self._shell(comp, progress)
        except _Interrupted as stopped:
            status, message = "failed", str(stopped.args[1] if len(stopped.args) > 1 else stopped)
        except (ActionRefused, AuditWriteError) as error:
            status, message = "failed", error.message
        except Exception as exc:  # noqa: BLE001 — record the failure, do not leave it running
            status, message = "failed", f"internal error: {type(exc).__name__}: {exc}"
        self._save_compensation(step_id, status, message)
        with contextlib.suppress(AuditWriteError):
            self._audit_compensation(step_id, status, message, params,
                                     duration_s=time.monotonic() - started)
        return CompensationOutcome(step_id, what, status, message)  # type: ignore[arg-type]

    def _audit_compensation(self, step_id: str, status: str, detail: str,
                            params: dict[str, Any], duration_s: float | None = None) -> None:
        self.audit.append(RUNBOOK_COMPENSATION, action="compensate", target=step_id,
                          params=params,
                          result={"status": status, "detail": detail}, duration_s=duration_s,
                          message=f"undo of {step_id}: {params.get('undo', '')}",
                          context=self.context, namespace=self.namespace)

    def _save_compensation(self, step_id: str, status: str, note: str) -> None:
        state = StepState(status=status, by=self.audit.actor, at=utc_timestamp(), note=note)  # type: ignore[arg-type]
        with self._lock:
            self._compensations[step_id] = state
        if self.incident is None:
            return
        key = self.runbook.id + COMPENSATIONS_SUFFIX

        def apply(incident: Incident) -> None:
            incident.step_progress.setdefault(key, {})[step_id] = state

        self._update(apply)

    # ---- state plumbing -----------------------------------------------------------------
    def _step(self, step_id: str) -> AnyStep:
        try:
            return self.runbook.step(step_id)
        except KeyError:
            raise KeyError(f"runbook {self.runbook.id} has no step {step_id!r}") from None

    def _state(self, step_id: str) -> StepState:
        return self._states.get(step_id) or StepState()

    def _order_key(self, step_id: str) -> tuple[str, int]:
        return (self._state(step_id).at or "", self._ids.index(step_id))

    def _first_open(self) -> str | None:
        for sid in self._ids:
            if self._state(sid).status not in ("done", "skipped"):
                return sid
        return self._ids[-1] if self._ids else None

    def _next_open(self, after: str) -> str | None:
        index = self._ids.index(after)
        for sid in self._ids[index + 1:]:
            if self._state(sid).status not in ("done", "skipped"):
                return sid
        return None

    def _running_anywhere(self) -> set[str]:
        with self._lock:
            return set(self._running)

    def _running_elsewhere(self, step_id: str) -> str | None:
        """Why the step must not start because another live console runs it, or None."""
        state = self._state(step_id)
        if state.status != "running" or state.by is None:
            return None
        by = state.by
        if by.console_id == process_console_id() or by.host != socket.gethostname():
            return None  # our own leftover, or another host: we cannot tell, so allow
        if not _alive(by.pid):
            return None  # the console that started it is gone: it was interrupted
        return (f"{step_id} is running in another console ({by.label}, since {state.at}); "
                "wait for it there")

    def _remote_running(self, step_id: str, state: StepState) -> str:
        """The detail of a step saved as running that this engine is not running."""
        who = state.by.label if state.by else "another console"
        if self._running_elsewhere(step_id) or (state.by and state.by.host != socket.gethostname()):
            return f"running in another console ({who})" + (f": {state.note}" if state.note else "")
        return f"interrupted: {who} started it and is gone; run it again or reopen it"

    def _apply(self, incident: Incident, force: bool = False) -> bool:
        with self._lock:
            if not force and incident.version <= self._version:
                return False
            self._version = incident.version
            known = set(self._ids)
            progress = incident.step_progress.get(self.runbook.id, {})
            states = {sid: st for sid, st in progress.items() if sid in known}
            # steps running here stay as we know them (our own write may be in flight)
            for sid in self._running:
                if sid in self._states:
                    states[sid] = self._states[sid]
            self._states = states
            compensations = incident.step_progress.get(self.runbook.id + COMPENSATIONS_SUFFIX, {})
            self._compensations = {sid: st for sid, st in compensations.items() if sid in known}
            current = incident.current_step
            if current and current[0] == self.runbook.id and current[1] in known:
                self._current = current[1]
            return True

    def _update(self, fn: Callable[[Incident], None]) -> str | None:
        """Apply ``fn`` to the shared incident; returns a warning if it could not be saved."""
        if self.incident is None:
            return None
        try:
            saved = self.incident.update(fn)
        except IncidentError as error:
            self.last_error = error.message
            return f"progress not saved: {error.message}"
        self._apply(saved)
        return None

    def _save(self, step_id: str, status: str = "pending", note: str = "", *,
              by: Actor | None = None, advance: bool = False,
              state: StepState | None = None) -> str | None:
        """Record a step's new state here and in the incident; returns a warning if the
        incident could not be saved. ``state`` puts back a previous state as it was."""
        if state is None:
            state = StepState(status=status, by=by or self.audit.actor,  # type: ignore[arg-type]
                              at=utc_timestamp(), note=note)
        status = state.status
        runbook_id = self.runbook.id
        with self._lock:
            self._states[step_id] = state
            pointer: Any = _KEEP
            if status == "running":
                pointer = step_id
            elif advance and self._current == step_id:
                pointer = self._next_open(step_id) or step_id
            if pointer is not _KEEP:
                self._current = pointer

        def apply(incident: Incident) -> None:
            incident.step_progress.setdefault(runbook_id, {})[step_id] = state
            if runbook_id not in incident.runbooks:
                incident.runbooks.append(runbook_id)
            if pointer is not _KEEP:
                incident.current_step = (runbook_id, pointer)

        return self._update(apply)

    def _audit(self, step: AnyStep, status: str, detail: str, *, by: Actor | None = None,
               params: dict[str, Any] | None = None, duration_s: float | None = None) -> None:
        self.audit.append(
            RUNBOOK_STEP, action=step.kind, target=step.id,
            params={"runbook": self.runbook.id, "step": step.id, "status": status,
                    "title": step.title, **(params or {})},
            result={"status": status, "detail": detail}, duration_s=duration_s,
            message=f"{self.runbook.id}/{step.id}: {step.describe()}", actor=by,
            context=self.context, namespace=self.namespace)

    def _refused(self, step: AnyStep, message: str, *, audit: bool = True,
                 by: Actor | None = None) -> StepOutcome:
        """Nothing was done; recorded (best effort) when the operator asked for something."""
        if audit:
            with contextlib.suppress(AuditWriteError):
                self._audit(step, "refused", message, by=by)
        return StepOutcome(step.id, self._state(step.id).status, False, message, refused=True)


class _NoCluster(Exception):
    """A cluster action without a cluster connection."""


# ---- helpers -------------------------------------------------------------------------------
def _undo_of(step: AnyStep) -> Compensation | None:
    return getattr(step, "undo", None)


def _describe_compensation(comp: Compensation) -> str:
    title = getattr(comp, "title", None)
    described = comp.describe()
    return f"{title} ({described})" if title and title != described else described


def _gate_name(condition: GateCondition) -> str:
    return condition.name or condition.query


def _shown(values: Sequence[float] | None, condition: GateCondition) -> str:
    """The value that decides the gate: the worst sample for the operator."""
    if not values:
        return "?"
    known = [v for v in values if not math.isnan(v)]
    if not known:
        return "NaN"
    worst = max(known) if condition.op in ("<", "<=") else min(known)
    text = f"{worst:.4g}"
    return text if len(values) == 1 else f"{text} (worst of {len(values)})"


def _secs(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 60 else format_duration(round(seconds))


def _quoted_list(ids: Sequence[str] | set[str]) -> str:
    return _and([f"'{i}'" for i in ids])


def _and(parts: Sequence[str]) -> str:
    parts = list(parts)
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _join(*parts: str | None) -> str:
    return "; ".join(part for part in parts if part)


def _safe(progress: Progress | None) -> Progress:
    """A progress callback whose failures (a screen gone away) never break a running step."""
    if progress is None:
        return lambda _message, _fraction: None

    def call(message: str, fraction: float | None) -> None:
        with contextlib.suppress(Exception):
            progress(message, fraction)

    return call


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run_coroutine(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to completion from synchronous code (a worker thread).

    If this thread already runs an event loop, the coroutine gets its own thread and loop.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


__all__ = [
    "COMPENSATIONS_SUFFIX",
    "RUNBOOK_COMPENSATION",
    "RUNBOOK_ABORT",
    "AbortOutcome",
    "CompensationOutcome",
    "Confirm",
    "Progress",
    "RunbookEngine",
    "Sleeper",
    "StepOutcome",
    "StepView",
]
