"""What may be shown on screen: text from adapters and servers, with secrets masked.

The audit log redacts every record (console/domain/audit.py); this is the same redaction for the
other way text leaves the process, the terminal (notifications, the action status line,
banners). It masks the values of secret-named environment variables, the credentials the
console connected with (``add``), and whatever ``adapters.redact`` recognises (bearer
tokens, Authorization headers, passwords in URLs, ...).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping

from adapters.redact import redact, secrets_from_env


class ScreenRedactor:
    """Callable: ``redactor(text)`` is ``text`` fit for the screen."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._secrets: tuple[str, ...] = tuple(secrets_from_env(os.environ if env is None
                                                                else env))
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        """Mask these exact strings too (e.g. ``KubeClient.secret_values()``)."""
        with self._lock:
            self._secrets = tuple(dict.fromkeys((*self._secrets, *(v for v in values if v))))

    def __call__(self, text: str) -> str:
        return redact(text, self._secrets) if isinstance(text, str) else text
