"""The scenario registry: each scenario module registers its class with `@register`; the
package (drill/scenarios/__init__.py) imports them all."""

from __future__ import annotations

from typing import TypeVar

from .base import Scenario

SCENARIOS: dict[str, type[Scenario]] = {}
NOT_INCIDENTS = frozenset({"none", "random"})  # a healthy cluster, and a pick of the others
S = TypeVar("S", bound=type[Scenario])


def register(cls: S) -> S:
    """Add a scenario class to the registry under its `name` (usable as a decorator); the
    registry stays ordered by the classes' `order`, then name."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    SCENARIOS[cls.name] = cls
    ordered = sorted(SCENARIOS.items(), key=lambda item: (item[1].order, item[0]))
    SCENARIOS.clear()
    SCENARIOS.update(ordered)
    return cls


def scenario_names() -> list[str]:
    return list(SCENARIOS)


def incident_names() -> tuple[str, ...]:
    """The incident scenarios, in registry order (what a `random` drill draws from)."""
    return tuple(name for name in SCENARIOS if name not in NOT_INCIDENTS)


def get_scenario(name: str, seed: int | None = None) -> Scenario:
    """A fresh instance of the named scenario; KeyError naming the known ones otherwise.

    `seed` (the drill's `--seed`) reaches scenarios that draw on it (`random`)."""
    try:
        cls = SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise KeyError(f"unknown scenario {name!r}; known scenarios: {known}") from None
    return cls.create(seed)
