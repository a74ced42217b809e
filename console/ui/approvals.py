"""The two-person rule on the main screen: with ``--two-person`` a confirmed mutation (an action
key, a runbook step, an abort running undo steps) is proposed in the shared incident instead of
run; a second person, logged in with their own account at another console on the same
incident, approves it with A and it runs there: an action through the runner, a runbook step
or abort through that console's runbook engine (console/domain/two_person.py says who counts
as a second person and where the proposer is read from)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.domain.actions import ActionRequest
from console.domain.incident import IncidentError
from console.domain.two_person import TwoPersonRule, Waiting
from console.runbook.proposals import ABORT_PROPOSAL, STEP_PROPOSAL
from widgets.confirm_modal import ConfirmModal

if TYPE_CHECKING:
    from console.ui.main_screen import MainScreen


class Approvals:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._announced: set[str] = set()

    def _rule(self) -> TwoPersonRule | None:
        state = self.screen.session.checklist
        return TwoPersonRule(state.incident, state.audit) if state is not None else None

    def _notify(self, message: str, **kwargs: object) -> None:
        """Proposals carry other people's text (labels, targets): shown plain, never markup."""
        self.screen.app.notify(self.screen.app.redact(message), markup=False,  # type: ignore[arg-type]
                               **kwargs)

    def propose(self, request: ActionRequest) -> None:
        rule = self._rule()
        assert rule is not None
        action = {"kind": request.kind, "context": request.context,
                  "namespace": request.namespace, "target": request.target,
                  "params": request.params, "seen_generation": request.seen_generation}
        try:
            rule.propose(action, request.describe(), target=request.target_ref,
                         params=request.params)
        except (IncidentError, OSError) as error:
            self._notify(getattr(error, "message", str(error)),
                         title=f"{request.describe()}: not proposed", severity="error",
                         timeout=10)
            return
        self._notify("waiting for a second person's approval (two-person rule)",
                     title=request.describe())

    def announce(self) -> None:
        """Say once, for each proposal another person made, that it waits for approval."""
        rule = self._rule()
        if rule is None:
            return
        try:
            waiting, _why = rule.waiting()
        except IncidentError:
            return
        for found in waiting:
            if found.proposal.id in self._announced:
                continue
            self._announced.add(found.proposal.id)
            self._notify(f"{found.proposed_by.label} proposes {_what(found)}: press A to "
                         "review and approve", title="approval needed", severity="warning",
                         timeout=30)

    def approve(self) -> None:
        ops = self.screen.ops
        rule = self._rule()
        if rule is None or not ops.ready():
            return
        try:
            waiting, why = rule.waiting()
        except IncidentError as error:
            self._notify(error.message, title="approve", severity="error", timeout=10)
            return
        if not waiting:
            if why:
                self._notify(why, title="cannot approve", severity="error", timeout=15)
            else:
                self._notify("no proposal waiting for your approval")
            return
        found = waiting[0]
        if found.action.get("kind") in (STEP_PROPOSAL, ABORT_PROPOSAL):
            self.screen.runbook.approve(found.proposal.id, _what(found))
            return
        a = found.action
        request = ActionRequest(a["kind"], a["context"], a["namespace"], a["target"],
                                dict(a.get("params") or {}), a.get("seen_generation"))

        def answered(ok: bool | None) -> None:
            if not ok:
                return
            session = self.screen.session
            try:
                approved = rule.approve(found.proposal.id)
            except (IncidentError, OSError) as error:
                message = getattr(error, "message", str(error))
                self._notify(message, title=f"{request.describe()}: refused",
                             severity="error", timeout=15)
                session.runner_for(request.context).refuse(request, message)
                return
            ops.run(ActionRequest(request.kind, request.context, request.namespace,
                                  request.target,
                                  {**request.params,
                                   "proposed_by": approved.proposed_by.label,
                                   "approved_by": approved.approved_by.label},
                                  request.seen_generation))

        self.screen.app.push_screen(ConfirmModal(
            f"Approve: {request.describe()}", context=request.context,
            namespace=request.namespace, target=request.target_ref,
            change=f"proposed by {found.proposed_by.label}",
            warnings=["two-person rule: you are the second person; approving runs it now"],
            confirm_label="Approve and run"), answered)


def _what(found: Waiting) -> str:
    action = found.action
    if action.get("kind") == STEP_PROPOSAL:
        return f"runbook step {action.get('step')} ({action.get('describe')})"
    if action.get("kind") == ABORT_PROPOSAL:
        return f"abort {action.get('runbook')}, undoing {', '.join(action.get('compensations') or [])}"
    return f"{action.get('kind')} {action.get('target')}"
