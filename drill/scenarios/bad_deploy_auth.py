"""`bad-deploy-auth`: the handbook's Example 1, "API Deployment Breaks Mobile App"."""

from __future__ import annotations

from typing import Any

from ..profiles import Endpoint, TrafficProfile
from .base import Scenario
from .registry import register
from .rehearsal import ROLLBACK_RULES, Rehearsal
from .routes import AUTH_PATHS

MOBILE_SHARE = 0.60  # "60% of users affected" (mobile app v1.2)
AUTH_SHARE = {"/auth/login": 0.35, "/auth/refresh": 0.55}  # retry storm: 90 % of requests


@register
class BadDeployAuth(Scenario):
    """Handbook Example 1: "New API version breaks authentication for mobile app v1.2".

    `shop/api` 1.7.0 switches to a new auth token format. The web app already uses it and
    works; mobile app v1.2 (60 % of users) still sends old-format tokens, and 1.7.0 answers
    its `/auth/login` and `/auth/refresh` calls with 500. The app retries in a tight loop, so
    auth calls swamp the mix: on 1.7.0 pods about 54 % of all requests fail. The handbook's
    decision: roll back the API (`kubectl rollout undo deployment/api`), then verify that
    `/auth/login` works again.
    """

    name = "bad-deploy-auth"
    title = "API deploy breaks mobile auth"
    brief = "api 1.7.0 rejects mobile v1.2 tokens: 60 % of users cannot log in."
    difficulty = "easy"
    order = 10
    rehearsal = Rehearsal(rules=ROLLBACK_RULES)
    runbook = "production-bug"
    handbook = "Example 1: API Deployment Breaks Mobile App"
    default_speed = 1.0
    bad_image = "registry.local/shop/api:1.7.0"
    good_image = "registry.local/shop/api:1.6.0"
    change_cause = "deploy api 1.7.0: new auth token format"
    resolution = "undo: kubectl rollout undo deployment/api (roll back the API), then verify /auth/login"
    bad_log_lines = (
        "ERROR POST /auth/refresh 500: token verify failed: unsupported token format v1 "
        "(client=mobile/1.2)",
        "ERROR POST /auth/login 500: cannot issue v1 token for client mobile/1.2",
        "INFO POST /auth/login 200 (client=web/3.4, token format v2)",
    )

    def bad_traffic(
        self, deployment: dict[str, Any], pod: dict[str, Any], healthy: TrafficProfile
    ) -> TrafficProfile:
        others = [ep for ep in healthy.endpoints if ep.path not in AUTH_PATHS]
        rest = 1.0 - sum(AUTH_SHARE.values())
        other_total = sum(ep.share for ep in others) or 1.0
        endpoints = [
            Endpoint(path, share, error_ratio=MOBILE_SHARE) for path, share in AUTH_SHARE.items()
        ]
        endpoints += [
            Endpoint(ep.path, ep.share / other_total * rest, ep.error_ratio, ep.latency_factor)
            for ep in others
        ]
        return TrafficProfile(tuple(endpoints))
