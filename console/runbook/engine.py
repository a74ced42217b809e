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
- **Progress is incident state** (``progress.RunbookProgress``). Each status change is saved in
  the shared incident, so ``--resume`` comes back where it was and a second console sees it.
  ``blocked`` is not stored: it is a pending step whose ``requires`` are not all done.
- **Requires.** A step whose required steps are not *done* (skipped is not done) is refused
  with a message naming them.
- **Gates** pass only when the PromQL condition holds on every sample continuously for
  ``for`` seconds, measured with the engine's clock; empty results, NaN and query errors are
  unknown and reset the hold. An action step's ``verify:`` is waited for (rounds every
  ``interval`` until ``deadline``), not a fixed pause (``gate_steps``; shell in ``shell_steps``).
- **Compensations** (``compensations.Compensations``). Once a step has failed, the ``undo:`` of
  every step with one that took effect before the failure is *due* (``compensations_due()``).
- **Stopping.** ``stop()`` ends a wait, gate or verification with the step back to pending
  (nothing changed), and kills a running shell command (the step fails: it may have done part
  of its work). A cluster action already sent is followed to the end of its rollout.
- **Time.** Gate holds, wait durations and verification deadlines use ``clock`` (default
  ``time.monotonic``); pauses go through ``sleeper(seconds)`` (default: a wait on the engine's
  stop event, so ``stop()`` cuts it short). Tests inject a fake pair to make "for 20s" quick.
- **Read-only.** With a read-only ``ActionRunner`` no mutating step (or compensation) runs.
- **Claimed once.** After confirmation a step is claimed in the incident file under its lock
  (``RunbookProgress.claim``): of two consoles confirming it at once, one runs it and the other
  is told who holds it.
- **Two people** (``two_person=True``, ``proposals.py``). A mutating step, and an abort that
  would run undo steps, are proposed instead of run, whoever confirms them; ``run_proposal``
  in another person's console (another account) approves one and runs it there.
"""


from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from adapters.errors import AdapterError
from adapters.kubernetes import KubeClient
from adapters.metrics import MetricsClient
from adapters.postgres import DatabaseConfig
from adapters.probes import Check, Prober, ProbeResult
from console.domain.actions import ActionRefused, ActionRequest, ActionRunner
from console.domain.actor import Actor
from console.domain.audit import RUNBOOK_STEP, AuditLog, AuditWriteError
from console.domain.incident import SharedIncident
from console.domain.two_person import TwoPersonRule
from console.runbook.compensations import Compensations
from console.runbook.db_steps import DbRefused, DbSteps
from console.runbook.gate_steps import (
    query_values,
    run_gate,
    run_verification,
    run_wait,
    verify_after,
)
from console.runbook.outcomes import (
    AbortOutcome,
    Confirm,
    Interrupted,
    NoCluster,
    Progress,
    Sleeper,
    StepOutcome,
    StepView,
    and_list,
    join_messages,
    quoted_list,
    safe_progress,
)
from console.runbook.progress import RunbookProgress
from console.runbook.proposals import RunbookProposals
from console.runbook.schema import AnyStep, BoundRunbook, ShellStep
from console.runbook.schema_actions import ACTION_TYPES, ClusterAction, action_request
from console.runbook.schema_checks import VerificationFields
from console.runbook.schema_db import DB_STEPS
from console.runbook.schema_steps import GateStep, ShellFields, VerifyStep, WaitStep
from console.runbook.shell_steps import run_coroutine, run_shell


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
        two_person: bool = False,
        database: DatabaseConfig | None = None,
    ) -> None:
        if two_person and incident is None:
            raise ValueError("the two-person rule needs a shared incident")
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
        self._idle = threading.Condition()  # notified whenever a step stops running
        self._sleeper: Sleeper = sleeper if sleeper is not None else self._stop.wait
        self._progress = RunbookProgress(runbook, incident, audit.actor)
        self._lock = self._progress.lock
        self._running = self._progress.running  # steps this engine is running now
        self._live = self._progress.live  # step id → latest progress line (this console)
        self._compensations = Compensations(
            runbook, self._progress, audit, actions=self.actions, plan=self._plan_action,
            shell=self._shell, stop_event=self._stop, context=context, namespace=namespace)
        self._db = DbSteps(database, incident_id=incident.id if incident else None,
                           kube=self.kube,
                           namespace=namespace, stop=self._stop)
        self._proposals = RunbookProposals(
            TwoPersonRule(incident, audit), runbook, context=context, namespace=namespace,
        ) if two_person and incident is not None else None

    # ---- reading state ------------------------------------------------------------------
    @property
    def current(self) -> str | None:
        """The step id under the cursor (shared with other consoles through the incident)."""
        with self._lock:
            return self._progress.current

    def status(self, step_id: str) -> str:
        """The stored status of a step (pending/running/done/failed/skipped)."""
        with self._lock:
            return self._progress.state(step_id).status

    def steps_view(self) -> list[StepView]:
        """Every step with its status, detail and explanation, in runbook order."""
        with self._lock:
            return self._progress.views(set(self.compensations_due()))

    def refresh(self) -> bool:
        """Pick up changes other consoles saved (one ``stat`` when nothing changed)."""
        return self._progress.refresh()

    # ---- the cursor ---------------------------------------------------------------------
    def next(self) -> str | None:
        """Move the cursor one step down (stays on the last step); returns the new step id."""
        return self._progress.move(+1)

    def previous(self) -> str | None:
        """Move the cursor one step up (stays on the first step); returns the new step id."""
        return self._progress.move(-1)

    def go_to(self, step_id: str) -> str:
        """Put the cursor on ``step_id``."""
        self._step(step_id)
        self._progress.save_pointer(step_id)
        return step_id

    # ---- manual steps, skipping ---------------------------------------------------------
    def check_off(self, step_id: str, note: str | None = None, by: Actor | None = None
                  ) -> StepOutcome:
        """Tick a manual step off (audited as ``runbook.step`` with status done)."""
        step = self._step(step_id)
        note = (note or "").strip()
        if step.kind != "manual":
            return self._refused(step, f"{step.id} is a {step.kind} step: run it, it is not "
                                       "checked off by hand", audit=False)
        if step.id in self._progress.running_here():
            return self._refused(step, f"{step.id} is running", audit=False)
        missing = self._progress.missing(step)
        if missing:
            return self._refused(step, requires_message(self.runbook, self._progress, step, missing), by=by)
        try:
            self._audit(step, "done", note, by=by)
        except AuditWriteError as error:
            return self._refused(step, f"not checked off: {error.message}", audit=False)
        warning = self._progress.save(step.id, "done", note, by=by, advance=True)
        return StepOutcome(step.id, "done", True, join_messages("checked off", warning))

    def skip(self, step_id: str, reason: str, by: Actor | None = None) -> StepOutcome:
        """Skip a step (audited). A step that is not optional needs a reason."""
        step = self._step(step_id)
        reason = (reason or "").strip()
        if step.id in self._progress.running_here():
            return self._refused(step, f"{step.id} is running; stop it first", audit=False)
        if not step.optional and not reason:
            return self._refused(step, f"{step.id} is not optional: say why it is skipped",
                                 audit=False)
        try:
            self._audit(step, "skipped", reason, by=by)
        except AuditWriteError as error:
            return self._refused(step, f"not skipped: {error.message}", audit=False)
        warning = self._progress.save(step.id, "skipped", reason, by=by, advance=True)
        return StepOutcome(step.id, "skipped", True, join_messages("skipped", warning))

    def reopen(self, step_id: str, reason: str = "", by: Actor | None = None) -> StepOutcome:
        """Put a finished step back to pending (a mis-click, or to run it again); audited."""
        step = self._step(step_id)
        if step.id in self._progress.running_here():
            return self._refused(step, f"{step.id} is running; stop it first", audit=False)
        try:
            self._audit(step, "pending", reason or "reopened", by=by)
        except AuditWriteError as error:
            return self._refused(step, f"not reopened: {error.message}", audit=False)
        warning = self._progress.save(step.id, "pending", reason, by=by)
        return StepOutcome(step.id, "pending", True, join_messages("reopened", warning))

    # ---- running steps ------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        """True when the action runner is read-only: no step that changes things runs."""
        return bool(self.actions is not None and self.actions.read_only)

    def stop(self) -> None:
        """Interrupt every wait, gate, verification and shell command this engine runs."""
        self._stop.set()

    def shut_down(self, timeout: float) -> bool:
        """``stop()``, then wait up to ``timeout`` s for the running steps to end (commands
        killed, interruption on record); True when none is left running."""
        self.stop()
        with self._idle:
            return self._idle.wait_for(lambda: not self._running, timeout)

    def run_step(self, step_id: str, confirm: Confirm | None = None,
                 progress: Progress | None = None) -> StepOutcome:
        """Run an action step to its end and return how it went. Blocking: use a worker."""
        step = self._step(step_id)
        if step.kind == "manual":
            return self._refused(step, f"{step.id} is a manual step: check it off when done",
                                 audit=False)
        return self._run_once(step, confirm, safe_progress(progress), None)

    def run_proposal(self, proposal_id: str, confirm: Confirm | None = None,
                     progress: Progress | None = None) -> StepOutcome | AbortOutcome:
        """Approve another person's proposal (a step, or an abort running undo steps) and run
        it here; ``confirm`` asks this operator first. Blocking: use a worker."""
        if self._proposals is None:
            return AbortOutcome(False, False, "the two-person rule is not on in this console")
        self.refresh()
        review = self._proposals.review(proposal_id, self._compensations.would_run)
        if review.refusal is not None:
            return AbortOutcome(False, False, review.refusal)
        if review.step_id is not None:
            return self._run_once(self._step(review.step_id), confirm, safe_progress(progress),
                                  (proposal_id, review.proposer))
        refusal = self._proposals.approve(proposal_id, f"abort {self.runbook.id}",
                                          review.proposer, confirm)
        if refusal is not None:
            return AbortOutcome(False, False, refusal)
        return self._compensations.abort(review.run_undos, progress)

    def _run_once(self, step: AnyStep, confirm: Confirm | None, report: Progress,
                  approval: tuple[str, str] | None) -> StepOutcome:
        with self._lock:
            if step.id in self._running:
                return self._refused(step, f"{step.id} is already running", audit=False)
            elsewhere = self._progress.running_elsewhere(step.id)
            if elsewhere:
                return self._refused(step, elsewhere, audit=False)
            if not self._running:
                self._stop.clear()
            self._running.add(step.id)
        try:
            return self._run(step, confirm, report, approval)
        finally:
            with self._lock:
                self._running.discard(step.id)
                self._live.pop(step.id, None)
            with self._idle:
                self._idle.notify_all()

    def _run(self, step: AnyStep, confirm: Confirm | None, progress: Progress,
             approval: tuple[str, str] | None = None) -> StepOutcome:
        missing = self._progress.missing(step)
        if missing:
            return self._refused(step, requires_message(self.runbook, self._progress, step, missing))
        request: ActionRequest | None = None
        prompt = f"{step.title}: {step.describe()} (context {self.context})"
        if step.kind in ACTION_TYPES:
            try:
                request, prompt = self._plan_action(step)  # type: ignore[arg-type]
            except AdapterError as error:
                return self._refused(step, f"cannot prepare {step.describe()}: {error.message}")
            except NoCluster as error:
                return self._refused(step, str(error))
            assert self.actions is not None
            refusal = self.actions.precheck(request)
            if refusal:
                return self._refused(step, refusal)
        elif step.is_mutating and self.read_only:
            return self._refused(step, "read-only mode: warroom was started with --read-only")
        if isinstance(step, DB_STEPS):
            try:
                prompt = self._db.plan(step)
            except DbRefused as refused:
                return self._refused(step, str(refused))
        if approval is not None:  # another person proposed it: approving is confirming
            assert self._proposals is not None
            refusal = self._proposals.approve(approval[0], prompt, approval[1], confirm)
            if refusal is not None:
                return self._refused(step, refusal)
        elif step.needs_confirmation:
            if confirm is None:
                return self._refused(step, f"{step.id} needs confirmation: {prompt}",
                                     audit=False)
            if not confirm(prompt):
                return self._refused(step, "not confirmed by the operator")
        if approval is None and self._proposals is not None and step.is_mutating:
            return self._proposals.propose_step(step, self._progress.state(step.id).status)
        before = self._progress.state(step.id)
        held = self._progress.claim(step.id, step.describe())  # after confirming: atomic
        if held:
            return self._refused(step, held)
        try:
            self._audit(step, "running", step.describe(),
                        params=dict(request.params) if request else None)
        except AuditWriteError as error:
            self._progress.release(step.id, before if before.at else None)
            return self._refused(step, f"not run: {error.message}", audit=False)
        warning = None
        started = self._clock()
        interrupted = False
        try:
            status, message = self._execute(step, request, progress)
        except Interrupted as stopped:
            interrupted = True
            status, message = stopped.args if stopped.args else ("pending", "stopped")
        except Exception as exc:  # noqa: BLE001 — never leave a step "running" on a bug
            status, message = "failed", f"internal error: {type(exc).__name__}: {exc}"
        duration = self._clock() - started
        unchanged = status == "pending"  # stopped while waiting, or not sent: nothing changed
        if unchanged and before.status not in ("pending", "running"):
            status = before.status  # e.g. a done verify step re-run and stopped stays done
            warning = join_messages(warning, self._progress.save(step.id, state=before))
        else:
            warning = join_messages(warning, self._progress.save(step.id, status, message,
                                                advance=status == "done" and not unchanged))
        recorded = "interrupted" if interrupted else ("refused" if unchanged else status)
        try:
            self._audit(step, recorded, message, duration_s=duration)
        except AuditWriteError as error:
            warning = join_messages(warning, f"audit log: {error.message}")
        due = tuple(self.compensations_due()) if status == "failed" else ()
        if due:
            message += "; compensation due for " + quoted_list(due)
        return StepOutcome(step.id, status, status == "done" and not unchanged,
                           join_messages(message, warning), refused=unchanged and not interrupted,
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
            return verify_after(step, outcome.message, live, self._verify)
        if isinstance(step, ShellStep):
            status, message = self._shell(step, live)
            if status != "done":
                return status, message
            return verify_after(step, message, live, self._verify)
        if isinstance(step, VerifyStep):
            return self._verify(step, live)
        if isinstance(step, GateStep):
            return run_gate(step, live, query=self._query, clock=self._clock, sleep=self._sleep)
        if isinstance(step, WaitStep):
            return run_wait(step, live, clock=self._clock, sleep=self._sleep)
        if isinstance(step, DB_STEPS):
            return self._db.run(step, live)
        return "failed", f"do not know how to run a {step.kind} step"

    # ---- cluster actions ----------------------------------------------------------------
    def _plan_action(self, spec: ClusterAction) -> tuple[ActionRequest, str]:
        return plan_action(spec, self.kube, self.actions, self.context)

    # ---- verification, gates, waits, shell ----------------------------------------------
    def _verify(self, fields: VerificationFields, progress: Progress) -> tuple[str, str]:
        return run_verification(fields, progress, probe=self._probe, query=self._query,
                                clock=self._clock, sleep=self._sleep)

    def _probe(self, checks: Sequence[Check]) -> list[ProbeResult]:
        prober = self.prober or Prober()
        return run_coroutine(prober.run_all(checks))

    def _query(self, expr: str, budget_s: float | None = None
               ) -> tuple[list[float] | None, str | None]:
        return query_values(self.metrics, expr, budget_s)

    def _sleep(self, seconds: float, on_stop: tuple[str, str]) -> None:
        """Sleep with the sleeper; raise ``Interrupted(status, message)`` if stopped."""
        if not self._stop.is_set():
            self._sleeper(max(0.0, seconds))
        if self._stop.is_set():
            raise Interrupted(*on_stop)

    def _shell(self, spec: ShellFields, progress: Progress) -> tuple[str, str]:
        return run_shell(spec, progress, self._stop)

    # ---- compensations and abort --------------------------------------------------------
    def compensations_due(self) -> list[str]:
        """Step ids whose ``undo:`` is due because a step failed, latest first."""
        return self._compensations.due()

    def pending_compensations(self) -> list[str]:
        """Step ids with an ``undo:`` that took effect and is not compensated, latest first."""
        return self._compensations.pending()

    def abort_question(self) -> str | None:
        """The question to put to the operator before ``abort``, or None when there is none
        (``on_abort`` is always/never, or nothing to undo)."""
        return self._compensations.question()

    def abort(self, run_undos: bool | None = None, progress: Progress | None = None
              ) -> AbortOutcome:
        """Abort the runbook: per ``on_abort`` (always / never / ask → ``run_undos``), run
        the compensations of the steps that took effect, latest first, each audited.

        Stops at the first compensation that fails (earlier ones may depend on it). Manual
        compensations are reported for the operator to do by hand. Blocking: use a worker.
        """
        if self._proposals is not None:  # two-person rule: undo steps change things too
            undos = self._compensations.would_run(run_undos)
            if undos:
                return self._proposals.propose_abort(run_undos, undos)
        return self._compensations.abort(run_undos, progress)

    # ---- plumbing -----------------------------------------------------------------------
    def _step(self, step_id: str) -> AnyStep:
        try:
            return self.runbook.step(step_id)
        except KeyError:
            raise KeyError(f"runbook {self.runbook.id} has no step {step_id!r}") from None

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
        return StepOutcome(step.id, self._progress.state(step.id).status, False, message, refused=True)


def plan_action(spec: ClusterAction, kube: KubeClient | None, actions: ActionRunner | None,
                context: str) -> tuple[ActionRequest, str]:
    """The ActionRequest for a scale/restart/undo (step or compensation) and its prompt."""
    if kube is None or actions is None:
        raise NoCluster(f"{spec.describe()}: no cluster connection")
    view = kube.get_deployment(spec.namespace, spec.deployment)
    request = action_request(spec, view, context)
    now = f"now revision {view.revision}, {view.desired} replicas"
    if view.images:
        now += ", " + ", ".join(view.images)
    return request, (f"{request.describe()} in namespace {spec.namespace} on context "
                     f"{context} ({now})")


def requires_message(runbook: BoundRunbook, progress: RunbookProgress, step: AnyStep,
                     missing: Sequence[str]) -> str:
    """Why ``step`` cannot run yet: the required steps not done, and why they come first."""
    states = {"pending": "", "skipped": "it was skipped", "failed": "it failed",
              "running": "it is still running"}
    parts = []
    for required in missing:
        word = states.get(progress.state(required).status, "")
        parts.append(f"'{required}'" + (f" ({word})" if word else ""))
    message = f"{step.id} needs {and_list(parts)} to be done first"
    why = step.requires_why.strip()
    if why:
        return f"{message}: {why}"
    titles = "; ".join(runbook.step(required).title for required in missing)
    return f"{message}: {titles}"
