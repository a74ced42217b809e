"""Who may do what on the drill cluster: bearer tokens and per-token denied verbs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field


@dataclass
class Principal:
    user: str
    groups: tuple[str, ...] = ("system:authenticated",)
    # (verb, resource) pairs this principal may not do; resource may be "*" or "deployments/scale"
    denied: set[tuple[str, str]] = field(default_factory=set)

    def allowed(self, verb: str, resource: str) -> bool:
        for denied_verb, denied_resource in self.denied:
            if denied_verb in (verb, "*") and denied_resource in (resource, "*"):
                return False
        return True


class Access:
    def __init__(self, admin_token: str | None = None) -> None:
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self._tokens: dict[str, Principal] = {self.admin_token: Principal("drill-admin")}

    def add_token(self, token: str, user: str, denied: set[tuple[str, str]] | None = None) -> None:
        self._tokens[token] = Principal(user, denied=set(denied or ()))

    def revoke(self, token: str) -> None:
        self._tokens.pop(token, None)

    def deny(self, token: str, verb: str, resource: str) -> None:
        self._tokens[token].denied.add((verb, resource))

    def allow_all(self, token: str) -> None:
        self._tokens[token].denied.clear()

    def principal(self, authorization: str | None) -> Principal | None:
        if not authorization or not authorization.startswith("Bearer "):
            return None
        return self._tokens.get(authorization[len("Bearer "):].strip())
