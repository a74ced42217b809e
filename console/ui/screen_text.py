"""What may be shown on screen: text from adapters, servers and commands made safe.

The one place outside text becomes screen text. The audit log redacts every record
(console/domain/audit.py); this is the same redaction for the other way text leaves the
process, the terminal (notifications, the action status line, banners, logs and events). It
masks the values of secret-named environment variables, the credentials the console connected
with (``add``), and whatever ``adapters.redact`` recognises (bearer tokens, Authorization
headers, passwords in URLs, ...); then it makes terminal control characters visible
(``widgets.plain_text``: ``ESC`` → ``␛``), so a log line cannot retitle the terminal, write
the clipboard or move the cursor. What it returns is plain text: show it with
``markup=False`` or as a Rich ``Text``, never as markup.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping

from adapters.redact import redact, secrets_from_env
from widgets.plain_text import plain_text


class ScreenRedactor:
    """Callable: ``redactor(text)`` is ``text`` fit for the screen (secrets masked, control
    characters visible)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._secrets: tuple[str, ...] = tuple(secrets_from_env(os.environ if env is None
                                                                else env))
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        """Mask these exact strings too (e.g. ``KubeClient.secret_values()``)."""
        with self._lock:
            self._secrets = tuple(dict.fromkeys((*self._secrets, *(v for v in values if v))))

    def __call__(self, text: str) -> str:
        if not isinstance(text, str):
            return text
        return plain_text(redact(text, self._secrets))
