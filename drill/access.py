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


# kube-apiserver's user for requests without credentials (when --anonymous-auth is on)
ANONYMOUS = Principal("system:anonymous", ("system:unauthenticated",), {("*", "*")})
# what RBAC's system:public-info-viewer lets anyone read
PUBLIC_PATHS = frozenset({"/version", "/version/", "/healthz", "/livez", "/readyz"})


class Access:
    def __init__(self, admin_token: str | None = None, *, anonymous_auth: bool = False) -> None:
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self._tokens: dict[str, Principal] = {self.admin_token: Principal("drill-admin")}
        # as kube-apiserver: on, a request with no credentials is system:anonymous (RBAC
        # then answers 403); off, it gets 401. Wrong credentials get 401 either way.
        self.anonymous_auth = anonymous_auth

    def add_token(self, token: str, user: str, denied: set[tuple[str, str]] | None = None) -> None:
        self._tokens[token] = Principal(user, denied=set(denied or ()))

    def revoke(self, token: str) -> None:
        self._tokens.pop(token, None)

    def deny(self, token: str, verb: str, resource: str) -> None:
        self._tokens[token].denied.add((verb, resource))

    def allow_all(self, token: str) -> None:
        self._tokens[token].denied.clear()

    def authenticate(self, authorization: str | None) -> Principal | None:
        """Who sent a request: its token's principal, ``ANONYMOUS`` for no credentials when
        anonymous auth is on, None (401) otherwise."""
        if not authorization and self.anonymous_auth:
            return ANONYMOUS
        return self.principal(authorization)

    def principal(self, authorization: str | None) -> Principal | None:
        # the scheme is case-insensitive, as kube-apiserver reads it (in-cluster python
        # clients send "bearer ...")
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self._tokens.get(token.strip())
