"""The adapters' one exception family.

Every failure that crosses the adapter boundary is an ``AdapterError`` (or a subclass) whose
``message`` is a sentence a person can act on; ``detail`` keeps the raw cause for the audit log.
"""

from __future__ import annotations


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


class NotFound(AdapterError):
    """The object or endpoint does not exist (HTTP 404)."""


class Conflict(AdapterError):
    """Someone else changed the object first, or it already exists (HTTP 409)."""


class Invalid(AdapterError):
    """A request (HTTP 400/422) or a configuration was rejected as malformed or wrong."""


class Timeout(AdapterError):
    """The operation did not finish within its time limit."""


__all__ = [
    "AdapterError",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "Timeout",
    "Unauthorized",
    "Unreachable",
]
