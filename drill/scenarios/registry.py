"""The scenario registry: each scenario module registers its class with `@register`."""

from __future__ import annotations

from typing import TypeVar

from .base import Scenario

SCENARIOS: dict[str, type[Scenario]] = {}
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
