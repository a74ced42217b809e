"""Drill scenarios: incidents from the rollback handbook, selectable by name.

Each scenario is one module here whose class registers itself with `@register`; importing this
package imports every module in it, so a new scenario is one new file (plus its runbook in
runbooks/, if it has one). `SCENARIOS` maps a name to its class, in the classes' `order`;
`get_scenario(name, seed)` gives a fresh instance, `rehearsal_for(name)` what the console's
scorer needs to know about it.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import (
    ActionReport,
    RolloutView,
    Scenario,
    ScenarioActionError,
    ScenarioStatus,
    inspect_rollout,
)
from .registry import (
    NOT_INCIDENTS,
    SCENARIOS,
    get_scenario,
    incident_names,
    register,
    scenario_names,
)
from .rehearsal import Rehearsal, Rule


def _import_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_import_all()


def rehearsal_for(name: str) -> Rehearsal:
    """How a rehearsal of the named scenario is scored (the defaults for an unknown name)."""
    cls = SCENARIOS.get(name)
    return cls.rehearsal if cls is not None else Scenario.rehearsal


def rehearsal_on(target: str) -> Rehearsal | None:
    """The rehearsal data of a scenario played on `namespace/deployment`, if any is."""
    return next((cls.rehearsal for cls in SCENARIOS.values()
                 if cls.rehearsal.target == target), None)


def drill_actions() -> tuple[str, ...]:
    """Every drill action some scenario understands (`POST /drill/v1/scenario/action`)."""
    return tuple(dict.fromkeys(a for cls in SCENARIOS.values() for a in cls.actions))


def step_aliases() -> dict[str, str]:
    """Runbook step ids that stand for a drill step, from every scenario's rehearsal data."""
    return {step: drill for cls in SCENARIOS.values()
            for step, drill in cls.rehearsal.step_aliases}


__all__ = [
    "NOT_INCIDENTS",
    "SCENARIOS",
    "ActionReport",
    "Rehearsal",
    "RolloutView",
    "Rule",
    "Scenario",
    "ScenarioActionError",
    "ScenarioStatus",
    "drill_actions",
    "get_scenario",
    "incident_names",
    "inspect_rollout",
    "register",
    "rehearsal_for",
    "rehearsal_on",
    "scenario_names",
    "step_aliases",
]
