"""Every scenario shows its first symptom within ~30 s of the first frame at its default speed
(issue 21): computed on the drill clock, advanced tick by tick as the running cluster does."""

from __future__ import annotations

import pytest

from drill.cluster import TICK_SECONDS, DrillCluster
from drill.scenarios import get_scenario, incident_names, scenario_names

FIRST_SYMPTOM_WITHIN_S = 30.0  # wall seconds at the scenario's default speed


def first_symptom(name: str, within_s: float) -> tuple[float, str] | None:
    """(wall seconds after the first frame, what shows) of the first symptom, or None."""
    speed = get_scenario(name).default_speed
    cluster = DrillCluster(scenario=name, speed=0)  # frozen: we move it
    wall = 0.0
    while wall <= within_s:
        seen = cluster.scenario.symptom(cluster.store, cluster.traffic)
        if seen is not None:
            return wall, seen
        cluster.clock.advance(TICK_SECONDS * speed)  # one tick of the real ticker
        cluster.tick()
        wall += TICK_SECONDS
    return None


@pytest.mark.parametrize("name", incident_names() + ("random",))
def test_first_symptom_shows_within_30_seconds_at_default_speed(name: str) -> None:
    found = first_symptom(name, FIRST_SYMPTOM_WITHIN_S)
    assert found is not None, f"{name}: no symptom within {FIRST_SYMPTOM_WITHIN_S:g} s"
    wall, what = found
    assert wall <= FIRST_SYMPTOM_WITHIN_S, (name, wall, what)


def test_a_healthy_drill_shows_nothing() -> None:
    assert "none" in scenario_names()
    assert first_symptom("none", 5.0) is None


def test_symptoms_are_what_a_responder_sees() -> None:
    assert "error ratio" in (first_symptom("bad-deploy-auth", 30.0) or (0, ""))[1]
    assert "latency" in (first_symptom("slow-release", 30.0) or (0, ""))[1]
    assert "leaked token" in (first_symptom("security-breach", 30.0) or (0, ""))[1]
