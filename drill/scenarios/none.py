"""`none`: a healthy cluster and no incident, for exploring the console and the drill cluster."""

from __future__ import annotations

from typing import ClassVar

from .base import Scenario
from .registry import register


@register
class NoIncident(Scenario):
    """No fault at all: every pod is healthy and serves the baseline traffic.

    Replays nothing from the handbook; it is the control group of the drills.
    """

    name = "none"
    title = "No incident"
    brief = "A healthy cluster: nothing to recover, look around."
    difficulty = "easy"
    order = 0
    runbook = None
    target: ClassVar[tuple[str, str] | None] = None
    resolution = "nothing to do"
