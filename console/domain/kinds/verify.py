"""Verification: the configured HTTP checks, all at once (key v). Changes nothing."""

from __future__ import annotations

from typing import Any

from adapters.kube_actions import ActionResult
from console.domain.action_kinds import ActionKind, register
from console.domain.actions import ActionRequest, ActionTools


def _run(tools: ActionTools, request: ActionRequest) -> Any:
    results = tools.probe(tools.checks)
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
