"""Operating Argo Rollouts from the main screen: the selected Rollout as an action's target,
and the revision question of `undo rollout` (the undo modal over its ReplicaSets).

The rest (pre-check, confirm, two-person rule, run, audit) is `Operations`' as for any kind.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from adapters.argo_views import RolloutView
from adapters.errors import AdapterError
from adapters.kube_views import revision_view
from console.domain.action_kinds import ActionKind
from console.domain.actions import ActionRequest
from console.ui import view_model as vm
from console.ui.messages import Notice
from widgets.undo_modal import UndoModal

if TYPE_CHECKING:
    from console.ui.operations import Operations


def selected(ops: Operations) -> RolloutView | None:
    return ops.screen.live.selected_rollout()


def ask_revision(ops: Operations, kind: ActionKind, view: RolloutView) -> None:
    """In a worker: the Rollout's revisions (its ReplicaSets), then the undo modal."""

    def load() -> None:
        argo = ops.session.kube.argo
        try:
            rollout = argo.get(view.namespace, view.name)
            replicasets = argo.revisions(view.namespace, rollout)
        except AdapterError as error:
            ops.screen.post_message(Notice(error.message, "rollout history", "error", 5))
            return
        ops.screen.app.call_from_thread(show, ops, kind, view, replicasets)

    ops.screen.run_worker(load, thread=True, group="history", exit_on_error=False)


def show(ops: Operations, kind: ActionKind, view: RolloutView, replicasets: list[Any]) -> None:
    history = [revision_view(rs) for rs in replicasets]
    newest = max((r.revision or 0) for r in history) if history else 0
    rows = [vm.revision_row(r) for r in reversed(history)]
    rows = [replace(row, current=row.revision == newest) for row in rows]
    if len(rows) < 2:
        ops.notify(f"rollout/{view.name} has no previous revision to roll back to",
                   severity="warning")
        return
    current = next((r.images for r in rows if r.current), ())
    diffs = {r.revision: (f"images: {', '.join(current)} → {', '.join(r.images)}"
                          if r.images != current else "no image change")
             for r in rows if not r.current}
    warnings = []
    if view.canary_running:
        warnings.append("a canary is running: undo to the stable revision skips its steps "
                        "(all traffic to stable once its pods are up); abort (a) is faster")

    def chosen(revision: int | None) -> None:
        if revision is not None:
            request = ActionRequest(kind.name, ops.session.context, view.namespace, view.name,
                                    {"to_revision": revision})
            ops.propose(kind, request, view, change=f"spec.template → revision {revision}\n"
                                                    f"{diffs.get(revision, '')}")

    ops.screen.app.push_screen(UndoModal(view.key, rows, diffs, warnings), chosen)


__all__ = ["ask_revision", "selected", "show"]
