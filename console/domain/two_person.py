"""The two-person rule: a mutation proposed by one person runs only once another approves it.

Every path that changes things (an action key, a runbook step, a compensation, an abort that
runs undo steps) proposes through ``TwoPersonRule.propose`` when the rule is on, and runs only
in the console of the person who approved it (``approve``).

What the rule trusts, and what it does not:

- **Who proposed** is read from the ``proposal.made`` record in the audit log (hash-chained,
  checked with ``verify`` before it is believed), never from the incident state file, which
  anyone who can write the state directory can edit. The action approved is the one recorded
  there too: a proposal whose action in the state file differs is refused.
- **Who is a person** is the account (the uid of the console process), never environment
  variables such as ``SUDO_USER`` or ``SSH_CLIENT``: two sessions of one account are one
  person, and the rule says so ("needs two accounts") rather than pretend otherwise.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from console.domain.actor import Actor, two_person_refusal
from console.domain.audit import (
    PROPOSAL_APPROVED,
    PROPOSAL_MADE,
    AuditError,
    AuditLog,
    AuditRecord,
    verify,
)
from console.domain.incident import Proposal, ProposalError, SelfApprovalError, SharedIncident


@dataclass(frozen=True)
class Approved:
    """A proposal this console's operator approved: what to run and the two people."""

    proposal_id: str
    action: dict[str, Any]
    proposed_by: Actor
    approved_by: Actor


@dataclass(frozen=True)
class Waiting:
    """A pending proposal as the audit log tells it (its proposer, its action)."""

    proposal: Proposal
    action: dict[str, Any]
    proposed_by: Actor


class TwoPersonRule:
    """Propose and approve on one incident, as the operator of ``audit`` (``audit.actor``)."""

    def __init__(self, incident: SharedIncident, audit: AuditLog) -> None:
        self.incident = incident
        self.audit = audit

    @property
    def actor(self) -> Actor:
        return self.audit.actor

    # ---- proposing -----------------------------------------------------------------------
    def propose(self, action: Mapping[str, Any], describe: str, *,
                target: str | None = None, params: Mapping[str, Any] | None = None) -> str:
        """Record ``action`` as waiting for a second person: on record first (the audit log,
        which is what the approver believes), then in the incident. Returns its id."""
        proposal_id = f"p-{secrets.token_hex(4)}"
        self.audit.append(
            PROPOSAL_MADE, action=str(action.get("kind")), target=target,
            params={**(params or {}), "proposal": proposal_id, "proposed": dict(action)},
            message=f"{describe}: waiting for a second person to approve (A in another "
                    "console on this incident)")
        self.incident.propose(action, by=self.actor, proposal_id=proposal_id)
        return proposal_id

    # ---- reading -------------------------------------------------------------------------
    def waiting(self) -> tuple[list[Waiting], str | None]:
        """Pending proposals this operator may approve, oldest first, and why some others
        cannot be (e.g. made from this same account), if that is all there is."""
        found: list[Waiting] = []
        why: str | None = None
        records = self._records()
        for proposal in self.incident.pending_proposals():
            try:
                record = self._record_of(proposal.id, records)
            except SelfApprovalError as error:
                why = why or error.message
                continue
            proposer = record.actor or Actor(user="?")
            refusal = two_person_refusal(proposer, self.actor)
            if refusal is not None:
                if proposer.console_id != self.actor.console_id:
                    why = why or refusal
                continue
            found.append(Waiting(proposal, _proposed(record), proposer))
        return found, why

    def proposal(self, proposal_id: str) -> Waiting:
        """A pending proposal with its proposer and action as the audit log records them.

        Raises ``ProposalError`` when it is unknown or no longer pending, ``SelfApprovalError``
        when the audit log has no record of it to believe."""
        stored = self.incident.read().proposals.get(proposal_id)
        if stored is None:
            raise ProposalError(f"no proposal {proposal_id!r} in incident {self.incident.id}")
        if stored.status != "pending":
            who = stored.decided_by.label if stored.decided_by else "someone"
            raise ProposalError(f"proposal {proposal_id} was already {stored.status} by {who}")
        record = self._record_of(proposal_id, self._records())
        return Waiting(stored, _proposed(record), record.actor or Actor(user="?"))

    # ---- approving -----------------------------------------------------------------------
    def approve(self, proposal_id: str) -> Approved:
        """Approve a pending proposal as this console's operator; audited.

        Raises ``SelfApprovalError`` when the audit log does not show a proposal by another
        account, when the state file's action differs from the audited one, and
        ``ProposalError`` when it is no longer pending (another console decided first).
        """
        self._check_chain()
        record = self._record_of(proposal_id, self._records())
        proposer = record.actor or Actor(user="?")
        action = _proposed(record)
        refusal = two_person_refusal(proposer, self.actor)
        if refusal is not None:
            raise SelfApprovalError(refusal)
        stored = self.incident.read().proposals.get(proposal_id)
        if stored is not None and _normal(stored.action) != _normal(action):
            raise SelfApprovalError(
                f"proposal {proposal_id} in the incident file was changed since it was "
                "proposed (it differs from the audit log's record): not approved")
        decided = self.incident.approve(proposal_id, self.actor, proposer=proposer)
        self.audit.append(
            PROPOSAL_APPROVED, action=str(action.get("kind")), target=record.target,
            params={"proposal": proposal_id, "proposed_by": proposer.label,
                    "proposer_uid": proposer.uid, "approved_by": self.actor.label,
                    "approver_uid": self.actor.uid},
            message=f"approved: {record.message.split(': waiting for')[0]}")
        return Approved(proposal_id, action, decided.proposed_by, self.actor)

    # ---- plumbing ------------------------------------------------------------------------
    def _records(self) -> list[AuditRecord]:
        return [r for r in self.audit.records() if r.kind == PROPOSAL_MADE]

    def _record_of(self, proposal_id: str, records: list[AuditRecord]) -> AuditRecord:
        found = [r for r in records if r.params.get("proposal") == proposal_id]
        if not found:
            raise SelfApprovalError(
                f"proposal {proposal_id} is not in the audit log: who made it cannot be "
                "known, so it cannot be approved")
        if len(found) > 1:
            raise SelfApprovalError(
                f"proposal {proposal_id} is recorded {len(found)} times in the audit log: "
                "not approved")
        record = found[0]
        if not isinstance(record.params.get("proposed"), Mapping):
            raise SelfApprovalError(
                f"proposal {proposal_id}: its audit record does not say what was proposed")
        return record

    def _check_chain(self) -> None:
        try:
            report = verify(self.audit.path)
        except AuditError as error:
            raise SelfApprovalError(f"cannot check the audit log: {error.message}") from error
        if not report.ok:
            raise SelfApprovalError(
                f"the audit log fails verification ({report.problems[0]}): proposals cannot "
                "be approved until it is looked into (warroom audit verify)")


def _proposed(record: AuditRecord) -> dict[str, Any]:
    return dict(record.params.get("proposed") or {})


def _normal(value: Any) -> Any:
    """JSON-equal form (tuples and lists alike) for comparing the stored and audited action."""
    if isinstance(value, Mapping):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    return value


__all__ = ["Approved", "TwoPersonRule", "Waiting"]
