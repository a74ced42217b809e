"""The healthy request mix of each seeded deployment (what `none` serves everywhere).

Shares are of the deployment's requests; paths are route templates, as an HTTP framework
would label them. Deployments not listed serve a single `/` route.
"""

from __future__ import annotations

from typing import Any

from ..profiles import Endpoint, TrafficProfile

ROUTES: dict[str, tuple[Endpoint, ...]] = {
    "api": (
        Endpoint("/auth/login", 0.06),
        Endpoint("/auth/refresh", 0.10),
        Endpoint("/products", 0.29),
        Endpoint("/products/{id}", 0.20),
        Endpoint("/cart", 0.12),
        Endpoint("/orders", 0.08),
        Endpoint("/users/me", 0.10),
        Endpoint("/users/{id}", 0.05),
    ),
    "web": (
        Endpoint("/", 0.35),
        Endpoint("/product/{id}", 0.30),
        Endpoint("/checkout", 0.10),
        Endpoint("/static/{asset}", 0.25),
    ),
    "worker": (
        Endpoint("/tasks/email", 0.5),
        Endpoint("/tasks/invoice", 0.3),
        Endpoint("/tasks/thumbnail", 0.2),
    ),
    "login": (
        Endpoint("/auth/login", 0.45),
        Endpoint("/auth/refresh", 0.40),
        Endpoint("/auth/logout", 0.15),
    ),
}
DEFAULT_ROUTES: tuple[Endpoint, ...] = (Endpoint("/", 1.0),)

AUTH_PATHS = frozenset({"/auth/login", "/auth/refresh"})


def routes_for(deployment: dict[str, Any]) -> tuple[Endpoint, ...]:
    """The healthy endpoints of a deployment, by its name."""
    return ROUTES.get(deployment.get("metadata", {}).get("name", ""), DEFAULT_ROUTES)


def healthy_traffic(deployment: dict[str, Any]) -> TrafficProfile:
    return TrafficProfile(routes_for(deployment))
