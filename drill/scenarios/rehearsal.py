"""What a scenario tells the console's scorer: its target, what its handbook procedure allows,
and the handbook-order rules a rehearsal of it is judged by (console/rehearsal/scoring.py).

Plain frozen data, so the console reads it without branching on scenario names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One handbook-order rule.

    ``before``: when ``then`` happened (its first, or ``last``, occurrence), ``first`` must have
    happened before it. ``follows``: when ``first`` happened, ``then`` must happen after its
    last occurrence. ``required``: ``then`` must happen. ``good``: noted when ``first`` came
    before ``then``, never deducted. A broken rule with ``unsafe`` is an unsafe action instead
    of an order deduction.
    """

    kind: str  # before | follows | required | good
    text: str
    then: str
    first: str = ""
    points: int = 10
    last: bool = False
    unsafe: str = ""


COMMUNICATE = Rule("required", "communicate step checked", "communicate")
ROLLBACK_RULES: tuple[Rule, ...] = (
    Rule("follows", "verify (a verify step or gate) after the rollback", "verify", "rollback"),
    COMMUNICATE,
)
API_CHECK_PATHS = ("/auth/login", "/products", "/users/me")


@dataclass(frozen=True)
class Rehearsal:
    """How a rehearsal of one scenario is watched and scored.

    ``target``: ``namespace/deployment`` the console watches and the scorer judges actions on;
    ``bad_revision`` and ``initial_replicas``: the bad release's revision number and the
    target's replicas before the incident, in the drill's seeded workload (filled in from the
    seed by ``Scenario``). ``offline_step``: the handbook step that takes the target offline on
    purpose (scaling it to 0, or undoing it, counts as that step; without one, scaling to 0 is
    unsafe). ``restart_step``: the step a restart of the target also counts as. ``rules``: the
    handbook-order rules. ``step_aliases``: runbook step ids of the scenario's runbook that
    stand for a drill step (``(step id, drill step)`` pairs). ``check_paths``: the target's
    routes the console's verification checks call.
    """

    target: str = "shop/api"
    bad_revision: int | None = None
    initial_replicas: int | None = None
    offline_step: str | None = None
    restart_step: str | None = None
    rules: tuple[Rule, ...] = (COMMUNICATE,)
    step_aliases: tuple[tuple[str, str], ...] = ()
    check_paths: tuple[str, ...] = API_CHECK_PATHS

    @property
    def namespace(self) -> str:
        return self.target.partition("/")[0]

    @property
    def deployment(self) -> str:
        return self.target.partition("/")[2]


__all__ = ["API_CHECK_PATHS", "COMMUNICATE", "ROLLBACK_RULES", "Rehearsal", "Rule"]
