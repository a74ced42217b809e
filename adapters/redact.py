"""Secret redaction for everything that leaves the process: audit records and command output.

``redact`` rewrites free text, replacing secret values with ``***`` while keeping the key, scheme
or user name so the line still tells a reader what was there. It errs towards hiding too much:
a false positive costs a little clarity, a false negative leaks a credential into a log that
outlives the incident.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from .secret_patterns import (
    KEY_BODY_LINE,
    PRIVATE_KEY_BEGIN,
    PRIVATE_KEY_BLOCK,
    PRIVATE_KEY_END,
    PROGRAM_PASSWORD,
    USER_PASSWORD,
    token_pattern,
)

MASK = "***"

# Key names whose values are secret, in free text (JSON, YAML, logfmt, env, query strings).
# Short words (``pass``, ``pwd``, ``auth``, ``sig``) only as a whole part of the name:
# ``DB_PASS`` and a dockerconfig's ``"auth"`` are secret, ``passed`` and ``author`` are not.
_SECRET_WORDS = (
    r"token|passw(?:or)?d|secret|api[_-]?key|private[_-]?key|access[_-]?key"
    r"|client-key-data|client-certificate-data|signature|credential"
    r"|(?<![a-z])(?:pass(?:phrase)?|pwd|auth|sig)(?![a-z])"
)
# A whole identifier containing a secret word. The lookahead checks the word, the possessive
# run takes the identifier without backtracking (no quadratic blow-up on long identifiers).
_KEY = rf"(?=[\w.-]*?(?:{_SECRET_WORDS}))[\w.-]++"
# A quoted value (kept quoted), or an unquoted run that stops at separators. A value opening a
# nested object or list is left alone (its members are judged by their own keys), and so is a
# bare YAML block indicator (`|`, `>-`), whose value is on the following lines.
_VALUE = (
    r"""(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|(?![{\[])(?![|>][-+0-9]*[ \t]*(?:\n|\Z))[^\s"',;&}\]]+)"""
)
_SCHEME = r"(?:(?:bearer|basic|token|digest|negotiate)[ \t]+)"

_URL_USERINFO = re.compile(r"(?i)(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*://[^\s/?#:@]*):([^\s/?#]+)@")
_AUTHORIZATION = re.compile(
    rf"""(?i)\b((?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?{_SCHEME}?)([^\s"',;]+)"""
)
_COOKIE = re.compile(r"(?im)^([ \t]*(?:set-)?cookie[ \t]*:[ \t]*)(\S(?:.*\S)?)")
_BEARER = re.compile(r"(?i)\b(bearer[ \t]+)([A-Za-z0-9\-._~+/]+=*)")
_BASIC = re.compile(r"(?i)\b(basic[ \t]+)([A-Za-z0-9+/]{4,}={0,2})(?![\w+/=])")
# A YAML mapping line: the whole rest of the line is the value, spaces included.
_YAML_LINE = re.compile(
    rf"""(?im)^([ \t]*(?:-[ \t]+)?["']?{_KEY}["']?[ \t]*:[ \t]+)(?![|>{{\[#"'])(\S(?:[^\n]*\S)?)"""
)
# A YAML block scalar (`key: |` followed by more-indented lines): mask every line of the block.
_YAML_BLOCK = re.compile(
    rf"""(?im)^([ \t]*)((?:-[ \t]+)?["']?{_KEY}["']?[ \t]*:[ \t]*[|>][-+0-9]*[ \t]*\n)((?:\1[ \t]+\S[^\n]*(?:\n|$)|[ \t]*\n)+)"""
)
_KEY_REMAINDER = re.compile(r"[ \t]*[A-Za-z0-9+/=]{16,}")
_YAML_BLOCK_START = re.compile(
    rf"""(?i)[ \t]*(?:-[ \t]+)?["']?{_KEY}["']?[ \t]*:[ \t]*[|>][-+0-9]*[ \t\r]*"""
)
_KEY_VALUE = re.compile(
    rf"""(?i)((?<![\w.-])["']?{_KEY}["']?[ \t]*[:=][ \t]*)({_SCHEME}?)({_VALUE})"""
)
# Environment style with a generic KEY suffix: SIGNING_KEY=..., AWS_KEY_ID=... (upper case only,
# so ordinary prose and lower-case config keys such as `key: app` are left alone).
_ENV_KEY = re.compile(
    rf"""(?<![\w.-])(?=[A-Z0-9_]*?_KEY(?:_|[ \t]*=))([A-Z][A-Z0-9_]*+[ \t]*=[ \t]*)({_VALUE})"""
)
# Command-line flags with the value in the next word: --password hunter2, -token abc.
_FLAG_VALUE = re.compile(rf"""(?i)(?<![\w-])(--?{_KEY})([ \t]+)(?!-)([^\s"']+|"[^"]*"|'[^']*')""")
_FLAG_NOT_SECRET = re.compile(r"(?i)[-_](?:file|path|dir|name|ref)$")

_SECRET_KEY_NAME = re.compile(
    rf"(?i)(?:{_SECRET_WORDS}|apikey|authorization|cookie|[_-]key$)"
)
_ENV_SECRET_NAME = re.compile(r"(?i)token|secret|passw(?:or)?d|key|credential")
_WORKING_DIR = re.compile(r"(?:OLD)?PWD[ \t]*=")
_NOT_SECRET_VALUES = frozenset({"true", "false", "none", "null", "yes", "no"})
_MIN_SECRET_LEN = 4


def looks_secret_key(name: str) -> bool:
    """True if a key or flag name (``DB_PASSWORD``, ``api-key``, ``--token``) names a secret."""
    return bool(_SECRET_KEY_NAME.search(name))


def secrets_from_env(env: Mapping[str, str]) -> list[str]:
    """Values of variables named like secrets (TOKEN, SECRET, PASSWORD, KEY, ...).

    Values shorter than four characters, and flag-like values such as ``true``, are ignored:
    masking every ``1`` or ``true`` in the output would make it unreadable and protect nothing.
    """
    found: list[str] = []
    for name, value in env.items():
        if not _ENV_SECRET_NAME.search(name) or len(value) < _MIN_SECRET_LEN:
            continue
        if value.strip().lower() in _NOT_SECRET_VALUES or value in found:
            continue
        found.append(value)
    return found


def _mask_value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return f"{value[0]}{MASK}{value[0]}"
    return MASK


def _mask_basic(match: re.Match[str]) -> str:
    # "Basic" is also an English word; only mask what decodes to user:password.
    try:
        decoded = base64.b64decode(match.group(2) + "==", validate=False)
    except (binascii.Error, ValueError):
        return match.group(0)
    if b":" not in decoded:
        return match.group(0)
    return match.group(1) + MASK


def _mask_key_value(match: re.Match[str]) -> str:
    key, scheme, value = match.groups()
    if _WORKING_DIR.match(key) and value.startswith("/"):
        return match.group(0)  # the shell's PWD=/srv/app is a directory, not a password
    return key + scheme + _mask_value(value)


def _mask_block(match: re.Match[str]) -> str:
    indent, header, block = match.groups()
    trailing_newline = "\n" if block.endswith("\n") else ""
    return f"{indent}{header}{indent}  {MASK}{trailing_newline}"


def _mask_flag(match: re.Match[str]) -> str:
    flag, space, _value = match.groups()
    if _FLAG_NOT_SECRET.search(flag):
        return match.group(0)
    return f"{flag}{space}{MASK}"


def _private_key_shown(match: re.Match[str]) -> str:
    begin = PRIVATE_KEY_BEGIN.match(match.group(0))
    assert begin is not None
    return begin.group(0) + MASK + (match.group(3) or "")


def _mask_program_password(match: re.Match[str]) -> str:
    start = match.start(3) - match.start()
    return match.group(0)[:start] + _mask_value(match.group(3))


def _mask_user_password(match: re.Match[str]) -> str:
    flag, space, quote, user, _password = match.groups()
    return f"{flag}{space}{quote}{user}:{MASK}{quote if _password.endswith(quote) else ''}"


# Credentials this process holds (remember_secrets): masked in every text ``redact`` sees, so a
# token a client obtains after connecting (an exec plugin's refresh) is masked everywhere.
_remembered: tuple[str, ...] = ()
_remembered_lock = threading.Lock()
_MAX_REMEMBERED = 512


def remember_secrets(values: Iterable[str]) -> None:
    """Mask these exact strings in every later ``redact`` call, process-wide (thread-safe).

    For credentials the process itself holds: a client's token at connect and each token a
    credential plugin hands it later. Strings shorter than four characters are ignored.
    """
    global _remembered
    fresh = [v for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET_LEN and v != MASK]
    if not fresh:
        return
    with _remembered_lock:
        merged = tuple(dict.fromkeys((*_remembered, *fresh)))
        _remembered = merged[-_MAX_REMEMBERED:]


def _mask_exact(text: str, extra_secrets: Iterable[str]) -> str:
    # Longest first, so a secret that contains another is masked whole.
    candidates = {s for s in (*_remembered, *extra_secrets) if s and s != MASK}
    for secret in sorted(candidates, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with secrets replaced by ``***``.

    Covers bearer/basic authorization, cookies, ``user:password@`` in URLs, PEM private keys,
    secret-named keys in JSON/YAML/logfmt/env/query-string/command-line form (including
    kubeconfig ``token``, ``client-key-data`` and ``client-certificate-data``), and every exact
    string in ``extra_secrets``.
    """
    if not text:
        return text
    text = _mask_exact(text, extra_secrets)
    if "PRIVATE KEY" in text or "PuTTY" in text:
        text = PRIVATE_KEY_BLOCK.sub(_private_key_shown, text)
    text = token_pattern().sub(MASK, text)
    text = PROGRAM_PASSWORD.sub(_mask_program_password, text)
    text = USER_PASSWORD.sub(_mask_user_password, text)
    text = _URL_USERINFO.sub(rf"\1:{MASK}@", text)
    text = _AUTHORIZATION.sub(rf"\1{MASK}", text)
    text = _COOKIE.sub(rf"\1{MASK}", text)
    text = _BEARER.sub(rf"\1{MASK}", text)
    text = _BASIC.sub(_mask_basic, text)
    text = _YAML_BLOCK.sub(_mask_block, text)
    text = _YAML_LINE.sub(rf"\1{MASK}", text)
    text = _KEY_VALUE.sub(_mask_key_value, text)
    text = _ENV_KEY.sub(lambda m: m.group(1) + _mask_value(m.group(2)), text)
    text = _FLAG_VALUE.sub(_mask_flag, text)
    return text


class LineRedactor:
    """``redact`` for a stream read one line at a time (a command's stdout, a log).

    Secrets that span lines are followed from one call to the next: after the BEGIN line of a
    private key (shown as ``-----BEGIN ... PRIVATE KEY-----***``) the key's body lines are
    dropped, up to its END line or the first line that cannot be part of a key; after a YAML
    ``secret: |`` line, the block's lines become one ``***``. ``redactor(line)`` returns the
    line to show, or ``None`` for a line that is dropped. One instance per stream.
    """

    def __init__(self, extra_secrets: Iterable[str] = ()) -> None:
        self._secrets = tuple(extra_secrets)
        self._in_key = False
        self._yaml_indent: int | None = None  # indent of the ``key: |`` line while in its block
        self._yaml_masked = False

    def __call__(self, line: str) -> str | None:
        if self._in_key:
            end = PRIVATE_KEY_END.search(line)
            if end is not None:
                self._in_key = False
                return redact(line[end.start():], self._secrets)
            if KEY_BODY_LINE.fullmatch(line):
                return None
            self._in_key = False
            rest = _KEY_REMAINDER.match(line)  # the key cut short, other output on its line
            if rest is not None:
                return MASK + redact(line[rest.end():], self._secrets)
        if self._yaml_indent is not None:
            indent = len(line) - len(line.lstrip(" \t"))
            if not line.strip() or indent > self._yaml_indent:
                if self._yaml_masked:
                    return None
                self._yaml_masked = True
                return line[:indent] + MASK
            self._yaml_indent = None
        shown = redact(line, self._secrets)
        begin = PRIVATE_KEY_BEGIN.search(line)
        if begin is not None and not PRIVATE_KEY_END.search(line, begin.end()):
            self._in_key = True
        elif _YAML_BLOCK_START.fullmatch(line):
            self._yaml_indent = len(line) - len(line.lstrip(" \t"))
            self._yaml_masked = False
        return shown


def redact_obj(obj: Any, extra_secrets: Iterable[str] = ()) -> Any:
    """Return a redacted copy of nested dicts, lists and tuples.

    Scalar values under a secret-looking key become ``***`` (``None`` stays ``None``); nested
    containers under such a key are walked, so ``{"secret": {"name": "db"}}`` keeps its shape.
    Every other string goes through ``redact``. Other values are returned unchanged.
    """
    secrets = tuple(extra_secrets)
    return _redact_obj(obj, secrets)


def _redact_obj(obj: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(obj, str):
        return redact(obj, secrets)
    if isinstance(obj, Mapping):
        out: dict[Any, Any] = {}
        for key, value in obj.items():
            secret_key = isinstance(key, str) and looks_secret_key(key)
            if secret_key and value is not None and not isinstance(value, Mapping | list | tuple):
                out[key] = MASK
            else:
                out[key] = _redact_obj(value, secrets)
        return out
    if isinstance(obj, list):
        return [_redact_obj(item, secrets) for item in obj]
    if isinstance(obj, tuple):
        return tuple(_redact_obj(item, secrets) for item in obj)
    return obj


__all__ = [
    "MASK",
    "LineRedactor",
    "looks_secret_key",
    "redact",
    "redact_obj",
    "remember_secrets",
    "secrets_from_env",
]
