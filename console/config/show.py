"""`warroom config show`: every setting's effective value and where it came from."""

from __future__ import annotations

import json
from typing import Any

from adapters.redact import looks_secret_key, redact
from console.config.sources import Resolved

_SECRET_KEYS = ("metrics.bearer_token", "metrics.basic_auth")


def shown_value(name: str, value: Any) -> str:
    """A value as TOML-ish text, secrets masked (credentials, DSN passwords, secret headers)."""
    if name in _SECRET_KEYS:
        return "(set, not shown)"
    if name == "metrics.headers" and isinstance(value, dict):
        value = {k: "***" if looks_secret_key(k) else v for k, v in value.items()}
    if name == "checks":
        value = [{k: v for k, v in c.model_dump(exclude_defaults=True).items() if k != "headers"}
                 for c in value]
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return redact(text)


def show_lines(resolved: Resolved) -> list[str]:
    """One line per setting: ``name = value    # source``, aligned."""
    config = resolved.config
    head = [f"# config file: {config.path}" if config else "# config file: none",
            f"# context: {resolved.context or '(none)'}"
            + ("" if resolved.context_table or not resolved.context
               else " (no [context] table for it)")]
    rows = [(name, shown_value(name, item.value), item.source)
            for name, item in resolved.values.items()]
    width = max(len(n) + len(v) for n, v, _ in rows) + 3
    return head + [f"{f'{n} = {v}':<{width}}  # {s}" for n, v, s in rows]


__all__ = ["show_lines", "shown_value"]
