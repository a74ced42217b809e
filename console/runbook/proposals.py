"""The two-person rule for a runbook engine: mutating steps and aborts that run undo steps are
proposed, not run; the console of the person who approves one runs it through its own engine.

A step proposal names the runbook, the step and a digest of the step as bound (its command,
target, replicas...), with the context and namespace: the approving console runs it only if
its own runbook binds that step the same way, so what runs is what was proposed. An abort
proposal names the undo steps it would run; the approver's console runs the abort only while
those are still the ones due. Who proposed is read from the audit log (``TwoPersonRule``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from console.domain.actor import two_person_refusal
from console.domain.audit import AuditWriteError
from console.domain.incident import IncidentError
from console.domain.two_person import TwoPersonRule
from console.runbook.outcomes import AbortOutcome, Confirm, StepOutcome, quoted_list
from console.runbook.schema import AnyStep, BoundRunbook

STEP_PROPOSAL = "runbook.step"
ABORT_PROPOSAL = "runbook.abort"
WAITING = ("waiting for a second person to approve it (A in another console on this "
           "incident, logged in with their own account)")


@dataclass(frozen=True)
class Review:
    """What a proposal asks this engine to do, or why it will not (``refusal``)."""

    refusal: str | None = None
    step_id: str | None = None  # a step proposal
    run_undos: bool | None = None  # an abort proposal
    proposer: str = ""


class RunbookProposals:
    """Propose and approve the steps and aborts of one bound runbook."""

    def __init__(self, rule: TwoPersonRule, runbook: BoundRunbook, *, context: str,
                 namespace: str) -> None:
        self.rule = rule
        self.runbook = runbook
        self.context = context
        self.namespace = namespace

    def _action(self, kind: str, **fields: Any) -> dict[str, Any]:
        return {"kind": kind, "runbook": self.runbook.id, "context": self.context,
                "namespace": self.namespace, **fields}

    def propose_step(self, step: AnyStep, status: str) -> StepOutcome:
        """Record a proposal to run ``step`` (instead of running it)."""
        action = self._action(STEP_PROPOSAL, step=step.id, describe=step.describe(),
                              digest=step_digest(step))
        what = f"{self.runbook.id}/{step.id}: {step.describe()}"
        try:
            proposal = self.rule.propose(action, what, target=step.id,
                                         params={"runbook": self.runbook.id, "step": step.id})
        except (AuditWriteError, IncidentError) as error:
            return StepOutcome(step.id, status, False, f"not proposed: {error.message}",
                               refused=True)
        return StepOutcome(step.id, status, False, f"proposed: {step.describe()}; {WAITING}",
                           refused=True, proposal=proposal)

    def propose_abort(self, run_undos: bool | None, undos: list[str]) -> AbortOutcome:
        """Record a proposal to abort, running the undo steps ``undos``."""
        action = self._action(ABORT_PROPOSAL, run_undos=run_undos, compensations=undos)
        what = f"abort {self.runbook.id}, undoing {quoted_list(undos)}"
        try:
            proposal = self.rule.propose(action, what, target=self.runbook.id,
                                         params={"runbook": self.runbook.id})
        except (AuditWriteError, IncidentError) as error:
            return AbortOutcome(False, False, f"not proposed: {error.message}")
        return AbortOutcome(False, False, f"proposed: {what}; {WAITING}", proposal=proposal)

    def review(self, proposal_id: str, would_undo: Callable[[bool | None], list[str]]
               ) -> Review:
        """What ``proposal_id`` asks of this engine; refused when this operator cannot be the
        second person or the proposal is not for this runbook as bound here."""
        try:
            found = self.rule.proposal(proposal_id)
        except IncidentError as error:
            return Review(refusal=error.message)
        action, proposer = found.action, found.proposed_by
        refusal = two_person_refusal(proposer, self.rule.actor)
        if refusal is not None:
            return Review(refusal=refusal)
        where = (action.get("runbook"), action.get("context"), action.get("namespace"))
        if where != (self.runbook.id, self.context, self.namespace):
            return Review(refusal=(
                f"proposal {proposal_id} is for runbook {where[0]} on {where[1]}/{where[2]}; "
                f"this console follows {self.runbook.id} on {self.context}/{self.namespace}"))
        if action.get("kind") == STEP_PROPOSAL:
            step_id = str(action.get("step"))
            try:
                step = self.runbook.step(step_id)
            except KeyError:
                return Review(refusal=f"runbook {self.runbook.id} has no step {step_id!r}")
            if action.get("digest") != step_digest(step):
                return Review(refusal=(
                    f"step {step_id} is bound differently in this console (other runbook "
                    "variables or version) than where it was proposed: not run"))
            return Review(step_id=step_id, proposer=proposer.label)
        if action.get("kind") == ABORT_PROPOSAL:
            run_undos = action.get("run_undos")
            if list(action.get("compensations") or []) != would_undo(run_undos):
                return Review(refusal="the undo steps due changed since the abort was "
                                      "proposed: propose it again")
            return Review(run_undos=run_undos, proposer=proposer.label)
        return Review(refusal=f"proposal {proposal_id} is not a runbook step or abort")

    def approve(self, proposal_id: str, what: str, proposer: str,
                confirm: Confirm | None) -> str | None:
        """Ask the approver (``confirm``), then approve; returns why not, or None."""
        if confirm is not None and not confirm(f"Approve and run: {what} (proposed by "
                                               f"{proposer})"):
            return "not approved by the operator"
        try:
            self.rule.approve(proposal_id)
        except (IncidentError, AuditWriteError) as error:
            return f"not run: {error.message}"
        return None


def step_digest(step: AnyStep) -> str:
    """SHA-256 of the step as bound: what would run, to the last argument."""
    return hashlib.sha256(step.model_dump_json().encode()).hexdigest()


__all__ = ["ABORT_PROPOSAL", "STEP_PROPOSAL", "Review", "RunbookProposals", "step_digest"]
