"""Actions the operator takes: checked, confirmed, run, followed and written to the audit log.

The screen builds an `ActionRequest` for a registered `ActionKind` (console/domain/action_kinds.py),
asks `ActionRunner.precheck` whether it may run (read-only mode, the context shown, RBAC),
confirms with the operator, then calls `run` in a worker thread. The runner is the only writer
of action records: a request refused before it ran leaves one `action.refused` record; one that
runs leaves `action.requested`, `action.started` and `action.finished` or `action.failed` (or
`action.refused`, when the last checks before the call stop it). If the audit log cannot be
written the action does not run.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from adapters.errors import AdapterError
from adapters.kube_actions import ActionResult
from adapters.kube_retry import retry_notices
from adapters.kube_rollouts import RolloutSnapshot
from adapters.kubernetes import KubeClient
from adapters.probes import Check, Prober, ProbeResult
from console.domain import action_kinds
from console.domain.action_kinds import ActionKind
from console.domain.audit import (
    ACTION_FAILED,
    ACTION_FINISHED,
    ACTION_REFUSED,
    ACTION_REQUESTED,
    ACTION_STARTED,
    AuditLog,
    AuditWriteError,
)

Progress = Callable[[str, float | None], None]

# precheck's reason when the permission check itself failed (outage): not a denial
PERMISSION_UNKNOWN = "cannot check permissions"
# params of a sequence's request its first step carries too (the two-person rule's names)
SEQUENCE_SHARED = ("proposed_by", "approved_by")
READ_ONLY = "read-only mode: warroom was started with --read-only"


class ActionRefused(Exception):
    """The action was not run; `message` says why (shown in the modal and the audit log)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ActionRequest:
    kind: str  # the name of a registered ActionKind: scale | restart | undo | delete-pod | ...
    context: str
    namespace: str
    target: str  # deployment name, or pod name for delete-pod
    params: dict[str, Any] = field(default_factory=dict)
    # generation of the deployment when the operator looked at it: if it moved, ask again
    seen_generation: int | None = None

    @property
    def action_kind(self) -> ActionKind | None:
        return action_kinds.get(self.kind)

    @property
    def target_ref(self) -> str:
        kind = self.action_kind
        return kind.target_ref(self.target) if kind else f"deployment/{self.target}"

    @property
    def first(self) -> str | None:
        """The action run first, as one sequence with this one (``resume``), if any."""
        first = self.params.get("first")
        return first if isinstance(first, str) and first else None

    def describe(self) -> str:
        kind = self.action_kind
        text = kind.describe(self) if kind else f"{self.kind} {self.target}"
        if self.first:  # "rollout resume, then rollout undo deployment/api ..."
            text = f"{self.lead().describe().removesuffix(' ' + self.target_ref)}, then {text}"
        return text

    def lead(self) -> ActionRequest:
        """The first step of a sequence (``first``), on the same target."""
        assert self.first is not None
        who = {k: v for k, v in self.params.items() if k in SEQUENCE_SHARED}
        return ActionRequest(self.first, self.context, self.namespace, self.target,
                             {**who, "sequence": "", "then": self.kind}, self.seen_generation)


@dataclass(frozen=True)
class ActionOutcome:
    ok: bool
    message: str
    duration_s: float
    rollout: RolloutSnapshot | None = None
    details: Mapping[str, Any] = field(default_factory=dict)  # the action's own result details


@dataclass
class ActionTools:
    """What an action kind's `run` may use: the cluster client and the HTTP prober with the
    configured verification checks."""

    kube: KubeClient
    prober: Prober | None = None
    checks: Sequence[Check] = ()

    def probe(self, checks: Sequence[Check]) -> list[ProbeResult]:
        prober = self.prober or Prober()
        return asyncio.run(prober.run_all(list(checks)))


def prober_for(ca_file: str | None) -> Prober:
    """The prober for verification checks, trusting ``ca_file`` when one is given."""
    verify: bool | ssl.SSLContext = (
        ssl.create_default_context(cafile=ca_file) if ca_file else True)
    return Prober(verify=verify)


class ActionRunner:
    def __init__(self, kube: KubeClient, audit: AuditLog, *, read_only: bool = False,
                 rollout_timeout: float = 600.0, prober: Prober | None = None,
                 checks: Sequence[Check] = (),
                 audit_refusal: Callable[[], str | None] | None = None) -> None:
        self.kube = kube
        # why the audit log cannot be written now (a full disk), checked before every mutation
        self.audit_refusal = audit_refusal
        self.audit = audit
        self.read_only = read_only
        self.rollout_timeout = rollout_timeout
        self.tools = ActionTools(kube, prober, checks)
        # the kubeconfig's impersonation ("as: alice"): action records say whom the cluster saw
        impersonation = getattr(kube, "impersonation", None)
        self.identity = ({**impersonation.to_dict(), "kubeconfig_user": getattr(kube, "user", "")}
                         if impersonation is not None else None)

    # ---- before the confirm modal ----------------------------------------------------
    def refusal(self, request: ActionRequest, *, at_call: bool = False) -> str | None:
        """Why this action may not run, or None: the one pre-check, used by the connect-time
        probe, before the confirm modal and, without the RBAC review (a network request: call
        it from a worker), ``at_call`` right before the action runs."""
        kind = action_kinds.get(request.kind)
        if kind is None:
            return f"unknown action {request.kind!r}"
        if kind.mutating and self.read_only:
            return READ_ONLY
        if kind.mutating and self.audit_refusal is not None:
            unwritable = self.audit_refusal()
            if unwritable:
                return unwritable
        if request.context != self.kube.context:
            if at_call:
                return (f"refused: the client is connected to {self.kube.context!r}, "
                        f"not {request.context!r}")
            return (f"the screen shows context {request.context!r} but the client is connected "
                    f"to {self.kube.context!r}; refusing to act on a context you cannot see")
        if at_call or kind.permission is None:
            return None
        verb, resource = kind.permission
        try:
            review = self.kube.can_i(verb, resource, request.namespace)
        except AdapterError as error:
            return f"{PERMISSION_UNKNOWN}: {error.message}"
        if not review.allowed:
            return (f"forbidden: you may not {verb} {resource} in namespace {request.namespace}"
                    + (f" ({review.reason})" if review.reason else ""))
        return None

    def precheck(self, request: ActionRequest, *, record: bool = False) -> str | None:
        """`refusal` with RBAC (also of the action to run ``first``), then the kinds'
        preconditions on the deployment as it is now (one GET); with ``record`` a refusal is
        written to the audit log."""
        reason = self.refusal(request)
        if reason is None and request.first is not None:
            lead = action_kinds.get(request.first)
            kind = request.action_kind
            if lead is None or kind is None or lead.target != kind.target or lead.asks != "nothing":
                reason = f"cannot run {request.first!r} before {request.kind!r}"
            else:
                reason = self.refusal(request.lead())
        if reason is None:
            reason = self._precondition(request)
        if reason and record:
            self.refuse(request, reason)
        return reason

    def _precondition(self, request: ActionRequest) -> str | None:
        steps = [request.lead(), request] if request.first is not None else [request]
        checks = [(step, kind) for step in steps
                  if (kind := step.action_kind) is not None and kind.precondition is not None
                  and kind.target == "deployment"]
        if not checks:
            return None
        try:
            view = self.kube.get_deployment(request.namespace, request.target)
        except AdapterError as error:
            return error.message
        for step, kind in checks:
            assert kind.precondition is not None
            reason = kind.precondition(step, view)
            if reason:
                return reason
        return None

    def refuse(self, request: ActionRequest, reason: str) -> None:
        """Record that ``request`` was not run (refused before or at confirmation)."""
        try:
            self._record(ACTION_REFUSED, request, dict(request.params), message=reason)
        except (AuditWriteError, ActionRefused):
            pass  # the refusal is on screen; a log that cannot be written refuses everything

    def denied_kinds(self, context: str, namespace: str) -> dict[str, str]:
        """Each mutating kind the connected user may not run here, with the reason (the probe
        at connect; a permission check that itself failed is not a denial: asked again)."""
        denied: dict[str, str] = {}
        for kind in action_kinds.kinds():
            if not kind.mutating or kind.permission is None:
                continue
            reason = self.refusal(ActionRequest(kind.name, context, namespace, "-"))
            if reason and not reason.startswith(PERMISSION_UNKNOWN):
                denied[kind.name] = reason
        return denied

    def current_generation(self, namespace: str, deployment: str) -> int | None:
        return self.kube.get_deployment(namespace, deployment).generation

    # ---- after confirmation ------------------------------------------------------------
    def run(self, request: ActionRequest, progress: Progress | None = None) -> ActionOutcome:
        """Record, run and follow one confirmed action (a sequence when it names an action
        to run ``first``). Never raises for cluster errors."""
        progress = progress or (lambda _msg, _frac: None)
        if request.first is not None:
            return self._run_sequence(request, progress)
        return self._run_one(request, progress)

    def _run_sequence(self, request: ActionRequest, progress: Progress) -> ActionOutcome:
        """``first`` (not followed: an undo must not wait for the rollout it reverts), then
        ``request`` on the generation the first step left, linked by ``params.sequence``."""
        sequence = uuid.uuid4().hex[:12]
        lead = request.lead()
        lead = replace(lead, params={**lead.params, "sequence": sequence})
        params = {k: v for k, v in request.params.items() if k != "first"}
        lead_outcome = self._run_one(lead, progress, follow=False)
        generation = lead_outcome.details.get("generation")
        main = replace(request, params={**params, "after": lead.kind, "sequence": sequence},
                       seen_generation=generation if isinstance(generation, int) else None)
        if not lead_outcome.ok:
            message = (f"not run: {lead.describe()} failed first ({lead_outcome.message})")
            self._record(ACTION_REFUSED, main, dict(main.params), message=message,
                         result={"ok": False, "sequence": sequence})
            return ActionOutcome(False, message, lead_outcome.duration_s)
        outcome = self._run_one(main, progress, done_first=(lead.describe(),
                                                           lead_outcome.message))
        if outcome.ok:
            return replace(outcome, message=f"{lead_outcome.message}; {outcome.message}",
                           duration_s=lead_outcome.duration_s + outcome.duration_s)
        return outcome

    def _run_one(self, request: ActionRequest, progress: Progress, *, follow: bool = True,
                 done_first: tuple[str, str] | None = None) -> ActionOutcome:
        """One action's records and call. ``done_first``: (what, outcome) of the step of its
        sequence that already took effect, said in a failure record."""
        params = dict(request.params)
        self._record(ACTION_REQUESTED, request, params, message=request.describe())
        refusal = self._last_checks(request)
        if refusal:
            if done_first is not None:
                refusal = _after_first(done_first, refusal)
            self._record(ACTION_REFUSED, request, params, message=refusal, result={"ok": False})
            return ActionOutcome(False, refusal, 0.0)
        kind = action_kinds.get(request.kind)
        assert kind is not None  # _last_checks refused unknown kinds
        started = time.monotonic()
        self._record(ACTION_STARTED, request, params, message=request.describe())
        progress(f"{request.describe()}…", None)
        snapshot: RolloutSnapshot | None = None
        retries: list[str] = []

        def retrying(text: str) -> None:  # the server asked us to retry (429, Retry-After)
            retries.append(text)
            progress(text, None)

        try:
            with retry_notices(retrying):
                result: ActionResult = kind.run(self.tools, request)
            message = result.message
            if follow and kind.follows_rollout and result.details.get("changed", True):
                snapshot = self._follow(request, progress)
                ok = snapshot is not None and snapshot.ok
                if snapshot is not None:
                    message = f"{result.message}; {snapshot.message}"
            else:
                ok = result.ok
        except AdapterError as error:
            duration = time.monotonic() - started
            failure: dict[str, Any] = {"ok": False, "error": error.message}
            if retries:
                failure["retried"] = len(retries)
            said = error.message
            if done_first is not None:
                failure["done_first"] = done_first[0]
                said = _after_first(done_first, error.message)
            self._record(ACTION_FAILED, request, params, message=said,
                         result=failure, duration_s=duration)
            return ActionOutcome(False, said, duration)
        duration = time.monotonic() - started
        record_kind = ACTION_FINISHED if ok else ACTION_FAILED
        result_doc: dict[str, Any] = {"ok": ok, **_jsonable_details(result.details)}
        if retries:
            result_doc["retried"] = len(retries)  # requests the server asked us to repeat
        if snapshot is not None:
            result_doc["rollout"] = snapshot.state
        if not ok and done_first is not None:
            result_doc["done_first"] = done_first[0]
            message = _after_first(done_first, message)
        self._record(record_kind, request, params, message=message, result=result_doc,
                     duration_s=duration)
        return ActionOutcome(ok, message, duration, snapshot, dict(result.details))

    def _last_checks(self, request: ActionRequest) -> str | None:
        reason = self.refusal(request, at_call=True)
        if reason is not None:
            return reason
        kind = action_kinds.get(request.kind)
        if (request.seen_generation is not None and kind is not None
                and kind.target == "deployment"):
            try:
                now = self.current_generation(request.namespace, request.target)
            except AdapterError as error:
                return error.message
            if now != request.seen_generation:
                return (f"deployment/{request.target} changed since you confirmed "
                        f"(generation {request.seen_generation} → {now}); review and confirm again")
        return None

    def _follow(self, request: ActionRequest, progress: Progress) -> RolloutSnapshot | None:
        last: RolloutSnapshot | None = None
        for snapshot in self.kube.rollout_status(request.namespace, request.target,
                                                 timeout=self.rollout_timeout):
            last = snapshot
            fraction = (snapshot.available / snapshot.desired) if snapshot.desired else None
            progress(snapshot.message, 1.0 if snapshot.done and snapshot.ok else fraction)
            if snapshot.done:
                break
        return last

    def _record(self, kind: str, request: ActionRequest, params: dict[str, Any], *,
                message: str, result: Any = None, duration_s: float | None = None) -> None:
        try:
            self.audit.append(kind, action=request.kind, target=request.target_ref,
                              params=params, result=result, duration_s=duration_s,
                              message=message, context=request.context,
                              namespace=request.namespace, identity=self.identity)
        except AuditWriteError as error:
            if kind in (ACTION_REQUESTED, ACTION_STARTED):
                raise ActionRefused(f"not run: {error.message}") from error
            raise


def _after_first(done_first: tuple[str, str], failure: str) -> str:
    """A second step's failure, saying that the first step of its sequence took effect."""
    what, outcome = done_first
    return (f"{failure} — the first step already took effect ({what}: {outcome}); "
            "it was not reverted")


def _jsonable_details(details: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in details.items():
        if isinstance(value, str | int | float | bool) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out
