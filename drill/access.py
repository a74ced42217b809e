"""Who may do what on the drill cluster: bearer tokens, per-token denied verbs, impersonation.

Impersonation follows kube-apiserver (``WithImpersonation``): ``Impersonate-User``,
``Impersonate-Group`` (repeatable), ``Impersonate-Uid`` and ``Impersonate-Extra-<key>`` are each
checked as the verb ``impersonate`` on ``users`` / ``groups`` / ``uids`` / ``userextras`` for
the authenticated identity; the request then runs as the impersonated user (groups plus
``system:authenticated``) with that user's rules: ``deny_user``'s, else those of a token of that
user name, else none (the drill allows what nobody denied).
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError

IMPERSONATED = (("Impersonate-User", "users"), ("Impersonate-Uid", "uids"),
                ("Impersonate-Group", "groups"))
EXTRA_PREFIX = "impersonate-extra-"


@dataclass
class Principal:
    user: str
    groups: tuple[str, ...] = ("system:authenticated",)
    # (verb, resource) pairs this principal may not do; resource may be "*" or "deployments/scale"
    denied: set[tuple[str, str]] = field(default_factory=set)
    uid: str = ""
    impersonated_by: str = ""  # the authenticated user behind an impersonated request

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
        self._user_rules: dict[str, set[tuple[str, str]]] = {}
        # who each request ran as, newest last: tests compare kubectl and the console with it
        self.seen: deque[dict[str, Any]] = deque(maxlen=2000)

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

    def deny_user(self, user: str, verb: str, resource: str) -> None:
        """A rule for ``user`` when impersonated (tokens carry their own)."""
        self._user_rules.setdefault(user, set()).add((verb, resource))

    def _rules_of(self, user: str) -> set[tuple[str, str]]:
        if user in self._user_rules:
            return set(self._user_rules[user])
        for principal in self._tokens.values():
            if principal.user == user:
                return set(principal.denied)
        return set()

    def impersonated(self, principal: Principal, headers: Mapping[str, str]) -> Principal:
        """``principal``, or whom it impersonates (headers checked as kube-apiserver does:
        403 Forbidden when it may not impersonate one of them, 400 for groups, uid or extras
        without a user)."""
        getall = getattr(headers, "getall", None)
        wanted: list[tuple[str, str]] = []
        for header, resource in IMPERSONATED:
            values = getall(header, []) if getall else (
                [headers[header]] if header in headers else [])
            wanted.extend((resource, value) for value in values)
        extras: dict[str, list[str]] = {}
        for name, value in headers.items():
            if name.lower().startswith(EXTRA_PREFIX):
                key = name[len(EXTRA_PREFIX):].lower()
                extras.setdefault(key, []).append(value)
                wanted.append((f"userextras/{key}", value))
        if not wanted:
            return principal
        users = [value for resource, value in wanted if resource == "users"]
        if len(users) != 1 or not users[0]:
            raise ApiError(400, "impersonating groups, uid or extra requires exactly one "
                                "Impersonate-User header")
        for resource, value in wanted:
            if not principal.allowed("impersonate", resource):
                kind, _, sub = resource.partition("/")
                raise ApiError(403, f'{kind} "{value}" is forbidden: User "{principal.user}" '
                                    f'cannot impersonate resource "{resource}" in API group '
                                    '"" at the cluster scope',
                               details={"name": value, "kind": kind})
        groups = tuple(value for resource, value in wanted if resource == "groups")
        if users[0] != "system:anonymous" and "system:authenticated" not in groups:
            groups += ("system:authenticated",)
        uid = next((value for resource, value in wanted if resource == "uids"), "")
        return Principal(users[0], groups, self._rules_of(users[0]), uid=uid,
                         impersonated_by=principal.user)

    def saw(self, principal: Principal, method: str, path: str) -> None:
        self.seen.append({"user": principal.user, "groups": list(principal.groups),
                          "uid": principal.uid, "impersonated_by": principal.impersonated_by,
                          "method": method, "path": path})
