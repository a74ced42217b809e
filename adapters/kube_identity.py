"""Impersonation: the kubeconfig user's ``as`` / ``as-groups`` / ``as-uid`` / ``as-user-extra``.

kubectl turns these into ``Impersonate-User``, one ``Impersonate-Group`` header per group,
``Impersonate-Uid`` and ``Impersonate-Extra-<key>`` on every request (client-go
``transport/round_trippers.go``, ``NewImpersonatingRoundTripper``); the API server checks the
base identity may ``impersonate`` them and then runs the request as that user. The official
Python client ignores these fields, so a break-glass kubeconfig would silently act as the base
identity: ``impersonation_of`` reads them and ``KubeApiClient`` (kube_transport) sends them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .errors import AdapterError, Forbidden


@dataclass(frozen=True)
class Impersonation:
    """Who the requests act as, on top of the kubeconfig user's own credentials."""

    user: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def headers(self) -> list[tuple[str, str]]:
        """The request headers, in kubectl's order; a header per group and extra value."""
        out = [("Impersonate-User", self.user)]
        if self.uid:
            out.append(("Impersonate-Uid", self.uid))
        out.extend(("Impersonate-Group", group) for group in self.groups)
        for key, values in self.extra:
            # client-go escapes the key as a header name (RFC 7230 token), %-encoding the rest
            out.extend((f"Impersonate-Extra-{quote(key, safe='')}", value) for value in values)
        return out

    @property
    def label(self) -> str:
        """For the header: ``as alice (groups: sre, oncall)``."""
        groups = f" (groups: {', '.join(self.groups)})" if self.groups else ""
        return f"as {self.user}{groups}"

    def to_dict(self) -> dict[str, Any]:
        """For audit records: the identity the cluster saw."""
        out: dict[str, Any] = {"user": self.user, "groups": list(self.groups)}
        if self.uid:
            out["uid"] = self.uid
        if self.extra:
            out["extra"] = {key: list(values) for key, values in self.extra}
        return out


def explain_denial(error: AdapterError, impersonation: Impersonation | None) -> AdapterError:
    """A 403 while impersonating names who was denied: the base identity, for the
    ``impersonate`` check itself, else the impersonated user."""
    if impersonation is None or not isinstance(error, Forbidden):
        return error
    if "cannot impersonate" in (error.detail or ""):
        message = (f"The kubeconfig's credentials may not impersonate {impersonation.user}"
                   f"{' with groups ' + ', '.join(impersonation.groups) if impersonation.groups else ''}"
                   " (its user entry sets 'as'): ask a cluster admin for the impersonate "
                   "permission, or use a kubeconfig without 'as'.")
    else:
        message = f"{error.message} (Requests run {impersonation.label}: the kubeconfig's 'as'.)"
    error.message = message
    error.args = (message,)
    return error


def _strings(value: Any, field: str, user: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list) or not all(
            isinstance(v, str) for v in value):
        raise AdapterError(f"The kubeconfig user {user!r} has a malformed {field!r} (expected "
                           "a list of strings).")
    return tuple(value)


def impersonation_of(user_entry: Mapping[str, Any] | None, name: str = "") -> Impersonation | None:
    """The impersonation a kubeconfig ``users[].user`` entry asks for; None when it asks for
    none. Groups, uid or extras without ``as`` are refused, as kubectl refuses them."""
    entry = user_entry or {}
    user = entry.get("as")
    groups = _strings(entry.get("as-groups"), "as-groups", name)
    uid = entry.get("as-uid")
    raw_extra = entry.get("as-user-extra") or {}
    if not isinstance(raw_extra, Mapping):
        raise AdapterError(f"The kubeconfig user {name!r} has a malformed 'as-user-extra' "
                           "(expected a map of lists).")
    extra = tuple((str(k), _strings(v, f"as-user-extra.{k}", name))
                  for k, v in raw_extra.items())
    if not user:
        if groups or uid or extra:
            raise AdapterError(f"The kubeconfig user {name!r} sets as-groups, as-uid or "
                               "as-user-extra without 'as': kubectl refuses to impersonate "
                               "groups without a user; add 'as: <user>'.")
        return None
    if not isinstance(user, str) or (uid is not None and not isinstance(uid, str)):
        raise AdapterError(f"The kubeconfig user {name!r} has a malformed 'as' or 'as-uid' "
                           "(expected strings).")
    return Impersonation(user, groups, uid or "", extra)


__all__ = ["Impersonation", "explain_denial", "impersonation_of"]
