"""The adapters' one exception family, and the wording of Kubernetes API failures.

Every failure that crosses the adapter boundary is an ``AdapterError`` (or a subclass) whose
``message`` is a sentence a person can act on; ``detail`` keeps the raw cause for the audit log.
``Operation`` says what we were doing; ``error_for_status`` and ``translate`` word a Kubernetes
API failure from it. This module imports no third-party package at load time (metrics, probes
and shell use it without the kubernetes client); ``translate`` imports the client's exception
classes when it is called, by which time whoever raised one has imported them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import denials
from .error_bodies import bounded_detail, server_message

if TYPE_CHECKING:
    from kubernetes.client.exceptions import ApiException


class AdapterError(Exception):
    """An adapter failed; ``message`` says what happened and what to try next."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, detail={self.detail!r})"


class Unreachable(AdapterError):
    """The remote end could not be reached (DNS, refused, reset, TLS)."""


class Unauthorized(AdapterError):
    """The credentials were missing, expired or rejected (HTTP 401)."""


class Forbidden(AdapterError):
    """The credentials are valid but not allowed to do this (HTTP 403)."""


class PolicyDenied(Forbidden):
    """A 403 from a policy, not RBAC: an admission webhook, an admission policy, Pod Security
    or a quota refused the request; ``denied_by`` names it."""

    def __init__(self, message: str, detail: str | None = None, denied_by: str = "") -> None:
        super().__init__(message, detail)
        self.denied_by = denied_by


class NotFound(AdapterError):
    """The object or endpoint does not exist (HTTP 404)."""


class Conflict(AdapterError):
    """Someone else changed the object first, or it already exists (HTTP 409)."""


class Invalid(AdapterError):
    """A request (HTTP 400/422) or a configuration was rejected as malformed or wrong."""


class Gone(AdapterError):
    """The server no longer has the history asked for (HTTP 410 Expired): a watch's
    resourceVersion or a list's continue token was compacted away."""


class Timeout(AdapterError):
    """The operation did not finish within its time limit."""


# Singular names of the kinds the Kubernetes adapter reads, for messages.
_KIND_SINGULAR = {"pods": "pod", "deployments": "deployment", "replicasets": "replicaset",
                  "events": "event", "namespaces": "namespace"}


# ---- Kubernetes API failures, in words ---------------------------------------------------
@dataclass(frozen=True)
class Operation:
    """What we were doing when something failed: used to word error messages."""

    verb: str
    resource: str  # plural, optionally with "/subresource"
    namespace: str | None = None
    name: str | None = None

    @property
    def where(self) -> str:
        """"in namespace X" or "in all namespaces"."""
        return f"in namespace {self.namespace}" if self.namespace else "in all namespaces"

    @property
    def target(self) -> str:
        """The object (or collection) acted on, in words."""
        kind = _KIND_SINGULAR.get(self.resource.split("/")[0], self.resource)
        if self.name:
            return f'{kind} "{self.name}" {self.where}'
        return f"{self.resource} {self.where}"


def _server_message(exc: ApiException) -> str:
    """The Status message, or a bounded summary of a body that is not one (an HTML page)."""
    headers = getattr(exc, "headers", None) or {}
    content_type = str(headers.get("Content-Type", "") if hasattr(headers, "get") else "")
    return server_message(exc.body, content_type, exc.status, str(exc.reason or ""))


def _clause(text: str) -> str:
    """Server text to embed mid-sentence: no trailing full stop (we add our own)."""
    return text.strip().rstrip(".").rstrip()


def _status_and_text(code: int, server_message: str) -> tuple[str, str]:
    """("HTTP 502", text), or ("HTTP 502 Bad Gateway", rest) when the text is a summary of
    a non-JSON body that starts with its status line: said once, not twice."""
    text = _clause(server_message)
    if text.startswith(f"HTTP {code} ") and ": " in text:
        status, _, rest = text.partition(": ")
        return status, rest
    return f"HTTP {code}", text


def error_for_status(code: int, server_message: str, op: Operation, context: str = "",
                     server: str = "", detail: str | None = None) -> AdapterError:
    """An AdapterError for an HTTP status (or a watch ERROR event) answered to ``op``."""
    detail = detail or f"{code}: {server_message}"
    ctx = f" (context {context})" if context else ""
    if code == 401:
        return Unauthorized(
            f"The API server{' at ' + server if server else ''} rejected our credentials{ctx} "
            f"while trying to {op.verb} {op.resource}: the token or certificate is missing, "
            "expired or revoked. Log in again or fix the kubeconfig.", detail)
    if code == 403 and _anonymous(server_message):
        return _not_authenticated(op, ctx, server, detail)
    if code == 403 and server_message and not denials.is_rbac(server_message):
        denial = denials.read(server_message)  # a policy said no, not RBAC: show its words
        return PolicyDenied(
            f"The request to {op.verb} {op.target} was denied by {denial.who}{ctx}: "
            f"{_clause(denial.why)}. This is a cluster policy, not a "
            "missing permission: its owners can lift or except it.", detail, denial.who)
    if code == 403:
        return Forbidden(
            f"You are not allowed to {op.verb} {op.resource} {op.where}{ctx}. "
            "Ask a cluster admin for that permission or use a context that has it.", detail)
    if code == 404:
        if op.name:
            return NotFound(f"{op.target[0].upper()}{op.target[1:]} was not found "
                            f"({server_message or 'not found'}).", detail)
        return NotFound(f"Could not {op.verb} {op.resource} {op.where}: {server_message}.",
                        detail)
    if code == 409:
        return Conflict(
            f"{op.target[0].upper()}{op.target[1:]} was changed by someone else while we "
            f"tried to {op.verb} it ({server_message}). Check its current state and try again.",
            detail)
    if code in (400, 422):
        return Invalid(f"The API server refused to {op.verb} {op.target}: {server_message}",
                       detail)
    if code == 410:
        return Gone(f"The API server no longer has the requested history of "
                            f"{op.resource} (410 Gone): {server_message}", detail)
    if code == 429:
        status, text = _status_and_text(code, server_message)
        return AdapterError(
            f"The API server is throttling requests ({status}) and did not {op.verb} "
            f"{op.target}: {text or 'too many requests'}. Wait a moment and try again.",
            detail)
    if code == 504:
        return Timeout(f"The API server timed out trying to {op.verb} {op.target}: "
                       f"{server_message}", detail)
    status, text = _status_and_text(code, server_message)
    return AdapterError(
        f"The API server failed to {op.verb} {op.target} ({status}): "
        f"{text or 'no details'}. Try again shortly.", detail)


def _anonymous(server_message: str) -> bool:
    """A 403 for ``system:anonymous``: the server did not take our credentials (none sent,
    or an exec plugin that failed), which is not an RBAC problem."""
    return 'User "system:anonymous"' in server_message


def _not_authenticated(op: Operation, ctx: str, server: str, detail: str) -> Unauthorized:
    at = f" at {server}" if server else ""
    return Unauthorized(
        f"Not logged in{ctx}: the API server{at} took us for system:anonymous while we "
        f"tried to {op.verb} {op.resource}, so no credentials it accepts were sent. This is "
        "not missing RBAC: log in again (run your credential plugin's login, e.g. `aws sso "
        "login`) or fix the kubeconfig's user.", detail)


def _reason_text(reason: Any) -> str:
    text = str(reason)
    for needle, short in (("Connection refused", "connection refused"),
                          ("Name or service not known", "unknown host"),
                          ("nodename nor servname", "unknown host"),
                          ("No route to host", "no route to host"),
                          ("Connection reset", "connection reset"),
                          ("Remote end closed connection", "the server closed the connection "
                                                           "without answering"),
                          ("Connection aborted", "connection aborted"),
                          ("timed out", "timed out"),
                          ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted")):
        if needle in text:
            return short
    return text[:200]


def translate(exc: BaseException, op: Operation, context: str = "",
              server: str = "") -> AdapterError:
    """Turn any client/transport exception into our AdapterError family."""
    import urllib3
    from kubernetes.client.exceptions import ApiException, ApiValueError

    if isinstance(exc, AdapterError):
        return exc
    if isinstance(exc, ApiException):
        if exc.status is None or exc.status == 0:
            return AdapterError(f"Failed to {op.verb} {op.target}: {exc.reason}", str(exc))
        return error_for_status(int(exc.status), _server_message(exc), op, context, server,
                                f"HTTP {exc.status} {exc.reason}: {bounded_detail(exc.body)}")
    at = f" at {server}" if server else ""
    if isinstance(exc, urllib3.exceptions.MaxRetryError):
        reason = exc.reason
        if isinstance(reason, urllib3.exceptions.ReadTimeoutError):
            return Timeout(f"The API server{at} did not answer in time while we tried to "
                           f"{op.verb} {op.target}. It may be overloaded; try again.",
                           repr(exc))
        if isinstance(reason, urllib3.exceptions.SSLError):
            return Unreachable(f"TLS with the API server{at} failed ({_reason_text(reason)}); "
                               "check the kubeconfig's certificate-authority.", repr(exc))
        return Unreachable(
            f"Cannot reach the API server{at} ({_reason_text(reason)}) to {op.verb} "
            f"{op.resource}. Is the cluster up and is context {context or '(current)'} the "
            "right one?", repr(exc))
    if isinstance(exc, (urllib3.exceptions.ReadTimeoutError, TimeoutError)):
        return Timeout(f"The API server{at} stopped answering while we tried to {op.verb} "
                       f"{op.target}.", repr(exc))
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return Unreachable(f"Connecting to the API server{at} timed out.", repr(exc))
    if isinstance(exc, (urllib3.exceptions.ProtocolError, urllib3.exceptions.HTTPError,
                        ConnectionError, OSError)):
        return Unreachable(
            f"The connection to the API server{at} broke while we tried to {op.verb} "
            f"{op.resource} ({_reason_text(exc)}).", repr(exc))
    if isinstance(exc, (ApiValueError, ValueError, TypeError)):
        return Invalid(f"Bad request to {op.verb} {op.target}: {exc}", repr(exc))
    return AdapterError(f"Failed to {op.verb} {op.target}: {exc}", repr(exc))


__all__ = [
    "AdapterError",
    "Conflict",
    "Forbidden",
    "Gone",
    "Invalid",
    "NotFound",
    "Operation",
    "PolicyDenied",
    "Timeout",
    "Unauthorized",
    "Unreachable",
    "error_for_status",
    "translate",
]
