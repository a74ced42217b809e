"""The two-person rule on the main screen: with ``--two-person`` a confirmed mutation is
proposed in the shared incident instead of run; a second person, at another console on the
same incident, approves it with A and it runs there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.domain.actions import ActionRequest
from console.domain.actor import same_operator
from console.domain.audit import PROPOSAL_APPROVED, PROPOSAL_MADE
from console.domain.incident import ProposalError
from widgets.confirm_modal import ConfirmModal

if TYPE_CHECKING:
    from console.ui.main_screen import MainScreen


class Approvals:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._announced: set[str] = set()

    def propose(self, request: ActionRequest) -> None:
        session = self.screen.session
        state, audit = session.checklist, session.audit
        assert state is not None and audit is not None
        action = {"kind": request.kind, "context": request.context,
                  "namespace": request.namespace, "target": request.target,
                  "params": request.params, "seen_generation": request.seen_generation}
        proposal_id = state.incident.propose(action, by=state.actor)
        audit.append(PROPOSAL_MADE, action=request.kind, target=request.target_ref,
                     params={**request.params, "proposal": proposal_id},
                     message=f"{request.describe()}: waiting for a second person to "
                             "approve (A in another console on this incident)")
        self.screen.app.notify("waiting for a second person's approval (two-person rule)",
                               title=request.describe())

    def announce(self) -> None:
        """Say once, for each proposal another person made, that it waits for approval."""
        state = self.screen.session.checklist
        if state is None:
            return
        for proposal in state.incident.pending_proposals():
            if proposal.id in self._announced or same_operator(proposal.proposed_by, state.actor):
                continue
            self._announced.add(proposal.id)
            action = proposal.action
            self.screen.app.notify(
                f"{proposal.proposed_by.label} proposes {action.get('kind')} "
                f"{action.get('target')}: press A to review and approve",
                title="approval needed", severity="warning", timeout=30)

    def approve(self) -> None:
        session, ops = self.screen.session, self.screen.ops
        state = session.checklist
        if state is None or not ops.ready():
            return
        pending = [p for p in state.incident.pending_proposals()
                   if not same_operator(p.proposed_by, state.actor)]
        if not pending:
            self.screen.app.notify("no proposal waiting for your approval")
            return
        proposal = pending[0]
        a = proposal.action
        request = ActionRequest(a["kind"], a["context"], a["namespace"], a["target"],
                                dict(a.get("params") or {}), a.get("seen_generation"))

        def answered(ok: bool | None) -> None:
            if not ok:
                return
            try:
                approved = state.incident.approve(proposal.id, state.actor)
            except ProposalError as error:
                self.screen.app.notify(str(error), title=f"{request.describe()}: refused",
                                       severity="error", timeout=10)
                session.runner.refuse(request, str(error))
                return
            assert session.audit is not None
            session.audit.append(PROPOSAL_APPROVED, action=request.kind,
                                 target=request.target_ref,
                                 params={"proposal": proposal.id,
                                         "proposed_by": approved.proposed_by.label,
                                         "approved_by": state.actor.label},
                                 message=f"approved: {request.describe()}")
            ops.run(ActionRequest(request.kind, request.context, request.namespace,
                                  request.target,
                                  {**request.params, "proposed_by": approved.proposed_by.label,
                                   "approved_by": state.actor.label},
                                  request.seen_generation))

        self.screen.app.push_screen(ConfirmModal(
            f"Approve: {request.describe()}", context=request.context,
            namespace=request.namespace, target=request.target_ref,
            change=f"proposed by {proposal.proposed_by.label}",
            warnings=["two-person rule: you are the second person; approving runs it now"],
            confirm_label="Approve and run"), answered)
