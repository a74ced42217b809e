"""Verification: the configured HTTP checks (key v): the selected workload's, else all.
Changes nothing."""

from __future__ import annotations

from typing import Any

from adapters.kube_actions import ActionResult
from console.domain.action_kinds import ActionKind, register
from console.domain.actions import ActionRequest, ActionTools


def _run(tools: ActionTools, request: ActionRequest) -> Any:
    named = request.params.get("checks") or []  # the ones chosen for the selected workload
    results = tools.probe([c for c in tools.checks if c.name in named] or tools.checks)
    ok = all(r.ok for r in results)
    summary = "; ".join(f"{'✔' if r.ok else '✖'} {r.name}: {r.message}" for r in results)
    return ActionResult(ok, summary, {"passed": sum(r.ok for r in results),
                                      "checks": len(results)})


VERIFY = register(ActionKind(
    order=40,
    name="verify", key="v", label="Verify", title="Verify",
    help="v: run the HTTP verification checks",
    target="checks", describe=lambda r: f"verify: {len(r.params.get('checks', []))} HTTP checks",
    run=_run, mutating=False, confirm=False, scoring="verify"))
