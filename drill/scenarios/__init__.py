"""Drill scenarios: incidents from the rollback handbook, selectable by name.

`SCENARIOS` maps a name to its class; `get_scenario(name, seed)` gives a fresh instance. New
scenarios join with `register`.
"""

from __future__ import annotations

from .bad_deploy_auth import BadDeployAuth
from .bad_migration import BadMigration
from .base import (
    ActionReport,
    RolloutView,
    Scenario,
    ScenarioActionError,
    ScenarioStatus,
    inspect_rollout,
)
from .data_loss import DataLoss
from .memory_leak import MemoryLeak
from .none import NoIncident
from .random_pick import RandomIncident
from .security_breach import SecurityBreach
from .slow_release import SlowRelease

SCENARIOS: dict[str, type[Scenario]] = {}


def register(cls: type[Scenario]) -> type[Scenario]:
    """Add a scenario class to the registry under its `name` (usable as a decorator)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    SCENARIOS[cls.name] = cls
    return cls


for _cls in (NoIncident, BadDeployAuth, MemoryLeak, BadMigration, SlowRelease, DataLoss,
             SecurityBreach, RandomIncident):
    register(_cls)


def scenario_names() -> list[str]:
    return list(SCENARIOS)


def get_scenario(name: str, seed: int | None = None) -> Scenario:
    """A fresh instance of the named scenario; KeyError naming the known ones otherwise.

    `seed` (the drill's `--seed`) reaches scenarios that draw on it (`random`)."""
    try:
        cls = SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise KeyError(f"unknown scenario {name!r}; known scenarios: {known}") from None
    return cls.create(seed)


__all__ = [
    "SCENARIOS",
    "ActionReport",
    "RolloutView",
    "Scenario",
    "ScenarioActionError",
    "ScenarioStatus",
    "get_scenario",
    "inspect_rollout",
    "register",
    "scenario_names",
]
