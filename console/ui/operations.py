"""Operating actions from the main screen: a key becomes an `ActionRequest`, pre-checked,
confirmed, run in a worker and shown while it runs.

Every action kind comes from the registry (console/domain/action_kinds.py); what differs by
kind is read from its declaration: what it acts on, what the console asks first (a replica
count, a revision), the modal's change line and warnings. The runner writes every action
record (console/domain/actions.py); the screen shows progress and the outcome.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import ProgressBar, Static

from adapters.errors import AdapterError
from adapters.kube_views import DeploymentView
from console.domain import action_kinds
from console.domain.action_kinds import ActionKind
from console.domain.actions import ActionOutcome, ActionRequest
from console.ui import rollout_ops
from console.ui import view_model as vm
from console.ui.messages import ActionFinished, ActionProgress, Notice, PrecheckDone, UndoHistory
from widgets.confirm_modal import ConfirmModal
from widgets.scale_modal import ScaleModal
from widgets.undo_modal import UndoModal

if TYPE_CHECKING:
    from console.ui.main_screen import MainScreen


def paused_at(dep: Any) -> str:
    """Where a paused rollout stopped: "paused at 2/5 new pods"."""
    return f"paused at {dep.updated}/{dep.desired} new pods"


def sequence_warning(request: ActionRequest, view: Any) -> str:
    where = f" ({paused_at(view)})" if isinstance(view, DeploymentView) else ""
    return (f"deployment/{request.target} is paused{where}: kubectl refuses to {request.kind} "
            f"a paused deployment. This runs {request.first} first, then {request.kind}, as one "
            f"audited sequence; if {request.kind} then fails, the deployment stays resumed")


class Operations:
    """The screen's one running action at a time, from key to outcome."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.settings = screen.settings
        self.running: str | None = None  # what runs now (an action or a runbook step)
        self._views: dict[int, Any] = {}  # id(request) -> (target view, change), until confirmed

    @property
    def session(self) -> Any:
        return self.screen.session

    def notify(self, message: str, **kwargs: Any) -> None:
        self.screen.app.notify(message, **kwargs)

    # ---- from a key to a request ------------------------------------------------------------
    def start(self, name: str, nudge: int | None = None) -> None:
        kind = action_kinds.get(name)
        if kind is None:
            return
        view = self._target(kind)
        if view is None or not self.ready():
            return
        session = self.session
        if kind.target == "checks":
            self.propose(kind, ActionRequest(kind.name, session.context, session.namespace,
                                             "http", {"checks": [c.name for c in view]}), None)
        elif kind.asks == "replicas":
            self._ask_replicas(kind, view, nudge)
        elif kind.asks == "revision" and kind.target == "rollout":
            rollout_ops.ask_revision(self, kind, view)
        elif kind.asks == "revision":
            context = session.context  # the focus may move while the history loads
            self.screen.run_worker(lambda: self._load_history(kind, view, context), thread=True,
                                   group="history", exit_on_error=False)
        elif kind.resume_when_paused and getattr(view, "paused", False):
            # kubectl refuses it on a paused deployment: offer resume-then-it as one sequence
            self.propose(kind, self._request(kind, view, first="resume"), view)
        else:
            self.propose(kind, self._request(kind, view), view)

    def _target(self, kind: ActionKind) -> Any:
        live = self.screen.live
        if kind.target == "deployment":
            dep = live.selected_deployment()
            if dep is None:
                self.notify("select a deployment first", severity="warning")
            return dep
        if kind.target == "pod":
            return live.selected_pod()
        if kind.target == "rollout":
            return rollout_ops.selected(self)
        checks = self.settings.checks
        if not checks:
            self.notify("no verification checks: add [[checks]] to the config file "
                        "(warroom config init)", severity="warning")
            return None
        dep = live.selected_deployment()
        mine = [c for c in checks if dep is not None and c.workload == dep.name]
        return tuple(mine or [c for c in checks if c.workload is None] or checks)

    def _request(self, kind: ActionKind, view: Any, context: str | None = None,
                 **params: Any) -> ActionRequest:
        """A request on ``view`` in ``context`` (default: the focused one's, where it is)."""
        generation = view.generation if isinstance(view, DeploymentView) else None
        return ActionRequest(kind.name, context or self.session.context, view.namespace,
                             view.name, params, seen_generation=generation)

    def ready(self) -> bool:
        if self.session.runner is None:
            self.notify(self.session.cannot_act or "not connected to a cluster yet",
                        severity="error")
            return False
        if self.running:
            self.notify(f"wait: {self.running} is still running", severity="warning")
            return False
        return True

    def _ask_replicas(self, kind: ActionKind, dep: DeploymentView, nudge: int | None) -> None:
        if nudge is not None:
            replicas = dep.desired + nudge * self.settings.scale_step
            if not 0 <= replicas <= self.settings.max_replicas:
                self.notify(f"replicas must stay between 0 and {self.settings.max_replicas}",
                            severity="warning")
                return
            self.propose(kind, self._request(kind, dep, replicas=replicas), dep)
            return

        def chosen(replicas: int | None) -> None:
            if replicas is not None:
                self.propose(kind, self._request(kind, dep, replicas=replicas), dep)

        self.screen.app.push_screen(
            ScaleModal(dep.key, dep.desired, max_replicas=self.settings.max_replicas), chosen)

    def _load_history(self, kind: ActionKind, dep: DeploymentView, context: str) -> None:
        """In a worker: the rollout history and each older revision's template diff."""
        link = self.session.link(context)
        kube = link.kube if link is not None else self.session.kube
        try:
            history = kube.history(dep.namespace, dep.name)
            diffs: dict[int, str] = {}
            for rev in history:
                if rev.revision and not rev.current:
                    diff = kube.template_diff(dep.namespace, dep.name, rev.revision)
                    diffs[rev.revision] = "\n".join(diff.lines()) or "no template change"
        except AdapterError as error:
            self.screen.post_message(Notice(error.message, "rollout history", "error", 5))
            return
        self.screen.post_message(UndoHistory(dep, history, diffs, context))

    def show_undo(self, message: UndoHistory) -> None:
        dep, history, diffs = message.deployment, message.history, message.diffs
        kind = action_kinds.get("undo")
        assert kind is not None
        if not [r for r in history if not r.current]:
            self.notify(f"deployment/{dep.name} has no previous revision to roll back to",
                        severity="warning")
            return
        warnings = []
        resume_first = dep.paused and kind.resume_when_paused
        if resume_first:
            warnings.append(f"the deployment is paused ({paused_at(dep)}): kubectl refuses to "
                            "roll back a paused deployment; this resumes it and rolls back, "
                            "as one audited sequence")
        oldest_kept = min((r.revision or 0) for r in history)
        if oldest_kept > 1:
            warnings.append(f"revisions before {oldest_kept} were pruned "
                            "(revisionHistoryLimit) and cannot be restored")

        def chosen(revision: int | None) -> None:
            if revision is not None:
                first = {"first": "resume"} if resume_first else {}
                request = self._request(kind, dep, message.context or None,
                                        to_revision=revision, **first)
                self.propose(kind, request, dep,
                             change=f"pod template → revision {revision}\n"
                                    f"{diffs.get(revision, '')}")

        self.screen.app.push_screen(
            UndoModal(dep.key, [vm.revision_row(r) for r in history], diffs, warnings,
                      resume_first=resume_first), chosen)

    # ---- pre-check, confirmation -------------------------------------------------------------
    def propose(self, kind: ActionKind, request: ActionRequest, view: Any, *,
                change: str | None = None) -> None:
        """Pre-check ``request`` in a worker (RBAC is a network request), then confirm it."""
        self._views[id(request)] = (view, change)
        runner = self.session.runner_for(request.context)  # the request's cluster

        def check() -> None:
            self.screen.post_message(PrecheckDone(request, runner.precheck(request, record=True)))

        self.screen.run_worker(check, thread=True, group="precheck", exit_on_error=False)

    def prechecked(self, message: PrecheckDone) -> None:
        request, reason = message.request, message.reason
        view, change = self._views.pop(id(request), (None, None))
        if reason:
            self.notify(reason, title=f"{request.describe()}: refused", severity="error",
                        timeout=10)
            return
        kind = request.action_kind
        assert kind is not None
        if not kind.confirm:
            self.run(request)
            return
        if change is None:
            change = kind.change(request, view) if kind.change else request.describe()
        warnings = kind.warnings(request, view)
        if request.first is not None:
            change = f"1. {request.lead().describe()}\n2. {change}"
            warnings = [sequence_warning(request, view), *warnings]
        modal = ConfirmModal(
            request.describe(), context=request.context, namespace=request.namespace,
            target=request.target_ref, change=change, warnings=warnings,
            typed_name=request.target if self.session.production_of(request.context) else None)

        def answered(ok: bool | None) -> None:
            if not ok:
                self.notify(f"cancelled: {request.describe()}")
            elif self.settings.two_person and kind.mutating:
                self.screen.approvals.propose(request)
            else:
                self.run(request)

        self.screen.app.push_screen(modal, answered)

    # ---- running -----------------------------------------------------------------------------
    def run(self, request: ActionRequest) -> None:
        self.show_running(request.describe())
        runner = self.session.runner_for(request.context)  # the request's cluster

        def work() -> None:
            try:
                outcome = runner.run(request, self.progress)
            except Exception as error:  # noqa: BLE001 - shown, never a traceback on screen
                message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
                outcome = ActionOutcome(False, message, 0.0)
            self.screen.post_message(ActionFinished(request, outcome))

        self.screen.run_worker(work, thread=True, group="actions", exit_on_error=False)

    def progress(self, message: str, fraction: float | None) -> None:
        """From a worker thread: the running action's progress."""
        self.screen.post_message(ActionProgress(message, fraction))

    def show_running(self, what: str) -> None:
        self.running = what
        status = self.screen.query_one("#action-status", Static)
        status.remove_class("-error")
        status.update(Text(f"▶ {self.screen.app.redact(what)}"))
        status.display = True
        bar = self.screen.query_one("#action-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True

    def show_progress(self, message: ActionProgress) -> None:
        if self.running is None:
            return  # a late progress report of an action already finished
        redacted = self.screen.app.redact(message.message)
        self.screen.query_one("#action-status", Static).update(Text(f"▶ {redacted}"))
        bar = self.screen.query_one("#action-progress", ProgressBar)
        if message.fraction is None:
            bar.update(total=None)
        else:
            bar.update(total=100, progress=round(message.fraction * 100))

    def hide_progress(self) -> None:
        """Hide the progress bar, and stop its animation: an indeterminate bar repaints 15
        times a second even while hidden."""
        bar = self.screen.query_one("#action-progress", ProgressBar)
        bar.display = False
        bar.update(total=100, progress=0)

    def finished(self, message: ActionFinished) -> None:
        request, outcome = message.request, message.outcome
        what = f"step {message.step}" if message.step else request.describe()
        self.running = None
        self.hide_progress()
        for live in self.screen.workloads.lives:  # the rates it moves are watched closely
            live.hurry_metrics()
        status = self.screen.query_one("#action-status", Static)
        mark = "✔" if outcome.ok else "✖"
        status.update(Text(f"{mark} {self.screen.app.redact(what)}: "
                           f"{self.screen.app.redact(outcome.message)}"))
        status.set_class(not outcome.ok, "-error")
        # outside text (cluster errors, other people's labels): plain, never markup
        self.notify(self.screen.app.redact(outcome.message), title=f"{mark} {what}",
                    severity="information" if outcome.ok else "error",
                    timeout=6 if outcome.ok else 15, markup=False)
