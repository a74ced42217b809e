"""Who refused a request with 403: RBAC, or a policy (admission webhook, admission policy,
Pod Security, a quota).

Both arrive as a Status with ``reason: Forbidden``; only the message tells them apart. RBAC's
authorizer words it ``<resource> is forbidden: User "u" cannot <verb> resource "<r>" in API
group "<g>" ...`` (``apiserver/pkg/endpoints/handlers/responsewriters``); a validating webhook's
refusal is ``admission webhook "<name>" denied the request: <its message>``
(``apiserver/pkg/admission/plugin/webhook/errors``, ``ToStatusErr``); a
ValidatingAdmissionPolicy's ``... ValidatingAdmissionPolicy '<name>' with binding '<b>'
denied request: <message>``. ``read`` returns who denied and why, for the message shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RBAC = re.compile(r'\bUser "[^"]*" cannot [\w*-]+ (?:resource|path) "')
_WEBHOOK = re.compile(r'admission webhook "(?P<name>[^"]+)" denied the request'
                      r'(?::\s*(?P<why>.*))?', re.S)
_POLICY = re.compile(r"ValidatingAdmissionPolicy '(?P<name>[^']+)'"
                     r"(?: with binding '(?P<binding>[^']+)')? denied request"
                     r"(?::\s*(?P<why>.*))?", re.S)
_POD_SECURITY = re.compile(r'violates PodSecurity "(?P<name>[^"]+)"(?::\s*(?P<why>.*))?', re.S)
_QUOTA = re.compile(r"exceeded quota: (?P<name>[^,]+)(?:,\s*(?P<why>.*))?", re.S)


@dataclass(frozen=True)
class Denial:
    """A policy's refusal: ``who`` in words (e.g. ``admission webhook
    "validation.gatekeeper.sh"``) and ``why``, the policy's own message."""

    who: str
    why: str


def is_rbac(message: str) -> bool:
    """The authorizer's RBAC wording (``User "x" cannot patch resource ...``)."""
    return bool(_RBAC.search(message or ""))


def read(message: str) -> Denial:
    """Who denied a non-RBAC 403, and why, from the Status message."""
    text = (message or "").strip()
    for pattern, label in ((_WEBHOOK, "admission webhook"),
                           (_POLICY, "ValidatingAdmissionPolicy"),
                           (_POD_SECURITY, "Pod Security admission")):
        found = pattern.search(text)
        if found:
            name = found.group("name")
            who = (f'{label} "{name}"' if label != "Pod Security admission"
                   else f'{label} (level "{name}")')
            if label == "ValidatingAdmissionPolicy" and found.group("binding"):
                who += f' (binding "{found.group("binding")}")'
            return Denial(who, (found.group("why") or "").strip() or text)
    found = _QUOTA.search(text)
    if found:
        return Denial(f'resource quota "{found.group("name").strip()}"', text)
    return Denial("a policy of the API server", text)


__all__ = ["Denial", "is_rbac", "read"]
