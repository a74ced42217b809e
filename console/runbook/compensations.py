"""Compensations and abort: the ``undo:`` of the steps that took effect, run latest first.

Once a step has failed, the ``undo:`` of every step with one that took effect before the
failure is *due* (``due()``). Which ran is saved in the incident under
``step_progress["<runbook id>::compensations"]``, so none runs twice. ``abort`` applies the
runbook's ``on_abort`` (always / never / ask the operator), audits the abort as
``runbook.abort`` and each compensation as ``runbook.compensation``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from adapters.errors import AdapterError
from console.domain.actions import ActionRefused, ActionRequest, ActionRunner
from console.domain.audit import AuditLog, AuditWriteError
from console.runbook.outcomes import (
    AbortOutcome,
    CompensationOutcome,
    Interrupted,
    NoCluster,
    Progress,
    quoted_list,
    safe_progress,
)
from console.runbook.progress import RunbookProgress
from console.runbook.schema import AnyStep, BoundRunbook
from console.runbook.schema_actions import ACTION_TYPES, ClusterAction, Compensation
from console.runbook.schema_steps import ManualAction, ShellAction, ShellFields

RUNBOOK_ABORT = "runbook.abort"
# not runbook.step: scoring and post-mortems read a runbook.step "done" as the step done
RUNBOOK_COMPENSATION = "runbook.compensation"


class Compensations:
    """The compensations of one runbook run; the engine delegates abort and "what is due"."""

    def __init__(self, runbook: BoundRunbook, progress: RunbookProgress, audit: AuditLog, *,
                 actions: ActionRunner | None,
                 plan: Callable[[ClusterAction], tuple[ActionRequest, str]],
                 shell: Callable[[ShellFields, Progress], tuple[str, str]],
                 stop_event: threading.Event, context: str, namespace: str) -> None:
        self.runbook = runbook
        self.progress = progress
        self.audit = audit
        self.actions = actions
        self.plan = plan  # the ActionRequest of a cluster action and its prompt
        self.shell = shell
        self.stop_event = stop_event
        self.context = context
        self.namespace = namespace

    @property
    def read_only(self) -> bool:
        return bool(self.actions is not None and self.actions.read_only)

    def due(self) -> list[str]:
        """Step ids whose ``undo:`` is due because a step failed, latest first.

        Due: steps with an ``undo:`` that took effect (done, or failed part-way) no later than
        the latest failed step, and were not compensated yet.
        """
        with self.progress.lock:
            failed = [self.progress.order_key(sid) for sid in self.progress.ids
                      if self.progress.state(sid).status == "failed"]
            if not failed:
                return []
            latest = max(failed)
            return [sid for sid in self.pending()
                    if self.progress.order_key(sid) <= latest]

    def pending(self) -> list[str]:
        """Step ids with an ``undo:`` that took effect and is not compensated, latest first."""
        with self.progress.lock:
            found = []
            for step in self.runbook.steps:
                if undo_of(step) is None:
                    continue
                if self.progress.state(step.id).status not in ("done", "failed"):
                    continue
                done = self.progress.compensations.get(step.id)
                if done is not None and done.status == "done":
                    continue
                found.append(step.id)
            return sorted(found, key=self.progress.order_key, reverse=True)

    def would_run(self, run_undos: bool | None) -> list[str]:
        """The compensations ``abort(run_undos)`` would run that change things (not the
        manual ones), latest first; empty when it would run none."""
        policy = self.runbook.on_abort
        if not (policy == "always" or (policy == "ask" and run_undos)):
            return []
        return [sid for sid in self.pending() if not isinstance(self._undo(sid), ManualAction)]

    def question(self) -> str | None:
        """The question to put to the operator before ``abort``, or None when there is none
        (``on_abort`` is always/never, or nothing to undo)."""
        pending = self.pending()
        if self.runbook.on_abort != "ask" or not pending:
            return None
        what = "; ".join(f"{sid}: {describe_compensation(self._undo(sid))}" for sid in pending)
        return f"Abort {self.runbook.id}: run {len(pending)} undo step(s) in reverse order? {what}"

    def abort(self, run_undos: bool | None = None, progress: Progress | None = None
              ) -> AbortOutcome:
        """Abort the runbook: per ``on_abort`` (always / never / ask → ``run_undos``), run
        the compensations of the steps that took effect, latest first, each audited.

        Stops at the first compensation that fails (earlier ones may depend on it). Manual
        compensations are reported for the operator to do by hand. Blocking: use a worker.
        """
        report = safe_progress(progress)
        with self.progress.lock:
            if self.progress.running:
                return AbortOutcome(False, False, f"{quoted_list(sorted(self.progress.running))} still "
                                                  "running: stop it and wait for it to end first")
            self.stop_event.clear()
        pending = self.pending()
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
            results = tuple(CompensationOutcome(sid, describe_compensation(self._undo(sid)),
                                                "not run", why) for sid in pending)
            return AbortOutcome(True, False, f"aborted; {len(pending)} undo step(s) not run "
                                             f"({why}): do them by hand if needed", results)
        results: list[CompensationOutcome] = []
        for index, sid in enumerate(pending):
            outcome = self._compensate(sid, report)
            results.append(outcome)
            if outcome.status == "failed":
                results.extend(
                    CompensationOutcome(rest, describe_compensation(self._undo(rest)),
                                        "not run", f"stopped: undo of {sid} failed")
                    for rest in pending[index + 1:])
                return AbortOutcome(False, True, f"aborted; undo of {sid} failed: "
                                                 f"{outcome.message}", tuple(results))
        manual = [r.step_id for r in results if r.status == "manual"]
        message = f"aborted; {len(results) - len(manual)} undo step(s) done"
        if manual:
            message += f", {len(manual)} to do by hand ({quoted_list(manual)})"
        return AbortOutcome(True, True, message, tuple(results))

    def _undo(self, step_id: str) -> Compensation:
        undo = undo_of(self.runbook.step(step_id))
        assert undo is not None
        return undo

    def _compensate(self, step_id: str, progress: Progress) -> CompensationOutcome:
        comp = self._undo(step_id)
        what = describe_compensation(comp)
        if isinstance(comp, ManualAction):
            return CompensationOutcome(step_id, what, "manual",
                                       f"do by hand: {comp.title}" + (
                                           f" — {comp.explain}" if comp.explain else ""))
        params: dict[str, Any] = {"runbook": self.runbook.id, "type": comp.type, "undo": what}
        request: ActionRequest | None = None
        if comp.type in ACTION_TYPES:
            try:
                request, _prompt = self.plan(comp)
            except (AdapterError, NoCluster) as error:
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
        self.progress.save_compensation(step_id, "running", what)
        started = time.monotonic()
        status, message = "failed", ""
        try:
            if request is not None:
                assert self.actions is not None
                result = self.actions.run(request, progress)
                status, message = ("done" if result.ok else "failed"), result.message
            elif isinstance(comp, ShellAction):
                status, message = self.shell(comp, progress)
        except Interrupted as stopped:
            status, message = "failed", str(stopped.args[1] if len(stopped.args) > 1 else stopped)
        except (ActionRefused, AuditWriteError) as error:
            status, message = "failed", error.message
        except Exception as exc:  # noqa: BLE001 — record the failure, do not leave it running
            status, message = "failed", f"internal error: {type(exc).__name__}: {exc}"
        self.progress.save_compensation(step_id, status, message)
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



def undo_of(step: AnyStep) -> Compensation | None:
    return getattr(step, "undo", None)


def describe_compensation(comp: Compensation) -> str:
    title = getattr(comp, "title", None)
    described = comp.describe()
    return f"{title} ({described})" if title and title != described else described

