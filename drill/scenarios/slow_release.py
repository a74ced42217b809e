"""`slow-release`: the handbook's Procedure 3, "Performance Degradation"."""

from __future__ import annotations

from typing import Any

from ..profiles import Endpoint, TrafficProfile
from .base import RolloutView, Scenario
from .registry import register
from .rehearsal import ROLLBACK_RULES, Rehearsal

SLOWDOWN = 12.0  # "> 10x slower": immediate rollback territory


@register
class SlowRelease(Scenario):
    """Handbook Procedure 3 (Performance Degradation), past the "> 10x slower" threshold.

    `shop/api` 1.7.0 moves product search onto a new ORM layer that issues one query per row:
    every endpoint answers 12x slower than baseline, without errors. Procedure 3: identify the
    bottleneck; quick mitigation is to scale up (it does not help here); if not resolved, roll
    back to the previous version (`kubectl rollout undo deployment/api`).
    """

    name = "slow-release"
    title = "Slow release: 12x latency"
    brief = "api 1.7.0 answers 12x slower than baseline: users time out."
    difficulty = "easy"
    order = 40
    rehearsal = Rehearsal(rules=ROLLBACK_RULES)
    runbook = "performance-degradation"
    handbook = "Procedure 3: Performance Degradation"
    default_speed = 1.0
    bad_image = "registry.local/shop/api:1.7.0"
    good_image = "registry.local/shop/api:1.6.0"
    change_cause = "deploy api 1.7.0: product search on the new ORM layer"
    resolution = "undo: kubectl rollout undo deployment/api (scale-up does not help)"
    bad_log_lines = (
        "WARN slow request GET /products 2.3s: 181 queries (SELECT * FROM products WHERE id = $1)",
        "WARN db pool exhausted: 20/20 connections busy, waited 740ms",
    )

    def bad_traffic(
        self, deployment: dict[str, Any], pod: dict[str, Any], healthy: TrafficProfile
    ) -> TrafficProfile:
        return TrafficProfile(
            tuple(
                Endpoint(ep.path, ep.share, ep.error_ratio, ep.latency_factor * SLOWDOWN)
                for ep in healthy.endpoints
            )
        )

    def mitigation(self, view: RolloutView) -> str | None:
        if self.initial_replicas is not None and view.desired > self.initial_replicas:
            return f"scaled up to {view.desired} replicas: latency is per request, still slow"
        return None
