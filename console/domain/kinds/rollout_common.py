"""What the Argo Rollouts action kinds share: they act on the selected Rollout with the
`kubectl argo rollouts` plugin's patches (adapters/kube_argo.py), and say in the confirm modal
what the canary will do."""

from __future__ import annotations

from typing import Any

from console.domain.actions import ActionRequest, ActionTools


def runner(verb: str) -> Any:
    """The kind's `run`: the plugin's command `verb` on the request's Rollout."""

    def run(tools: ActionTools, request: ActionRequest) -> Any:
        return tools.kube.argo.act(verb, request.namespace, request.target)

    return run


def where(view: Any) -> str:
    """"step 1/6, canary at 20 %" for a RolloutView (empty for anything else)."""
    step = getattr(view, "step_text", "")
    if not step:
        return ""
    return f"{step}, canary at {view.weight} %"


def describe(verb: str) -> Any:
    said = {"promote-full": "promote --full"}.get(verb, verb)
    return lambda r: f"{said} rollout/{r.target}"
