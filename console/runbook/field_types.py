"""Scalar field types of the runbook schema: durations, names, numbers, HTTP methods and
comparison operators, each rejecting bad input with a message an operator can act on."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo

from console.runbook.templates import SINGLE_TEMPLATE, has_template, is_bound

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")  # DNS-1123 subdomain
_K8S_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")  # DNS-1123 label (namespaces)
_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_MAX_DURATION_S = 30 * 86400.0
MAX_REPLICAS = 10_000
_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_OPS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def kind_of(value: object) -> str:
    """How a wrong value is named in a message: ``the number 3``, ``a list``, ``'text'``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:39] + "…")
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def parse_duration(value: object) -> float:
    """Seconds from ``90``, ``1.5``, ``"90s"``, ``"2m"``, ``"1h30m"`` or ``"500ms"``.

    Raises ``ValueError`` with a human message for anything else, negatives included.
    """
    if isinstance(value, bool):
        raise ValueError(f"must be a duration such as 90s, 2m or 1h30m, not {kind_of(value)}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("-"):
            raise ValueError(f"must not be negative, not {value!r}")
        try:
            seconds = float(text)
        except ValueError:
            parts = _DURATION_PART.findall(text)
            if not text or "".join(n + u for n, u in parts) != text:
                raise ValueError(
                    f"must be a duration such as 90s, 2m or 1h30m, not {value!r}") from None
            seconds = sum(int(n) * _DURATION_UNITS[u] for n, u in parts)
    else:
        raise ValueError(f"must be a duration such as 90s, 2m or 1h30m, not {kind_of(value)}")
    if math.isnan(seconds):
        raise ValueError("must be a duration, not NaN")
    if seconds < 0:
        raise ValueError(f"must not be negative, not {value!r}")
    if seconds > _MAX_DURATION_S:
        raise ValueError(f"must be at most 30d, not {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """``120.0`` → ``"2m"``, ``5400`` → ``"1h30m"``, ``0.5`` → ``"500ms"``."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms" if seconds else "0s"
    whole = int(seconds)
    if whole != seconds:
        return f"{seconds:g}s"
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if whole >= size:
            out += f"{whole // size}{unit}"
            whole %= size
    return out


def _positive_duration(value: object) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
PositiveDuration = Annotated[float, BeforeValidator(_positive_duration)]


def _text(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        raise ValueError("must not be empty")
    return value


Text = Annotated[str, BeforeValidator(_text)]


def _identifier(value: object) -> object:
    if isinstance(value, str) and not _ID.fullmatch(value):
        raise ValueError(
            f"must be letters, digits, '-', '_' or '.' (at most 64, starting with a letter or "
            f"digit), not {value!r}")
    return value


Identifier = Annotated[str, BeforeValidator(_identifier)]


def int_ref(low: int, high: int, *, nonzero: bool = False) -> Any:
    """A whole number in [low, high], or (before binding) a single ``{variable}``."""

    def check(value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):
            text = value.strip()
            if SINGLE_TEMPLATE.fullmatch(text) and not is_bound(info):
                return text
            if re.fullmatch(r"[-+]?\d{1,12}", text):
                value = int(text)
            else:
                raise ValueError(
                    f"must be a whole number or a single {{variable}}, not {value!r}")
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, not {kind_of(value)}")
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}, not {value}")
        if nonzero and value == 0:
            raise ValueError("must not be 0")
        return value

    return BeforeValidator(check)


def status_codes(value: object) -> object:
    codes = value if isinstance(value, list) else [value]
    for code in codes:
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            raise ValueError(
                f"must be an HTTP status code (100-599) or a list of them, not {kind_of(code)}")
    if not codes:
        raise ValueError("lists no status codes")
    return codes


def http_method(value: object) -> object:
    if isinstance(value, str):
        upper = value.strip().upper()
        if upper not in _HTTP_METHODS:
            raise ValueError(f"must be one of {', '.join(_HTTP_METHODS)}, not {value!r}")
        return upper
    return value


def comparison_op(value: object) -> object:
    if isinstance(value, str):
        if value.strip() in _OPS:
            return _OPS[value.strip()]
        hint = ' (in YAML, quote it: op: ">")' if not value.strip() else ""
        raise ValueError(f"must be one of <, <=, >, >=, not {value!r}{hint}")
    return value


def k8s_name(value: str, info: ValidationInfo, *, namespace: bool = False) -> str:
    if not is_bound(info) and has_template(value):
        return value
    if namespace and (len(value) > 63 or not _K8S_LABEL.fullmatch(value)):
        raise ValueError(f"{value!r} is not a valid namespace (at most 63 lowercase letters, "
                         "digits and '-')")
    if not namespace and (len(value) > 253 or not _K8S_NAME.fullmatch(value)):
        raise ValueError(f"{value!r} is not a valid deployment name (lowercase letters, digits, "
                         "'-' and '.')")
    return value
