"""Runbook templates: ``{variable}`` syntax, substitution and the builtin variables.

Any string may use ``{deployment}``, ``{namespace}``, ``{previous_revision}`` and the variables
the runbook declares under ``variables:``. ``{{name}}`` is a literal ``{name}`` and ``${name}``
(a shell variable) is left alone; other braces, such as PromQL label matchers, are text. In a
``shell: true`` command string the values are shell-quoted when substituted. Binding a runbook
(``Runbook.bind``) substitutes them all and re-validates the result.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationInfo

BUILTIN_VARIABLES: dict[str, str] = {
    "deployment": "the deployment the incident is about",
    "namespace": "its namespace",
    "previous_revision": "the deployment's revision before the current one",
}
NAME = r"[A-Za-z_][A-Za-z0-9_]*"  # a variable name
# One pass: ``{{name}}`` is an escaped literal, ``{name}`` a variable (not ``${name}``).
_TEMPLATE = re.compile(r"\{\{(" + NAME + r")\}\}|(?<![{$])\{(" + NAME + r")\}(?!\})")
SINGLE_TEMPLATE = re.compile(r"\{(" + NAME + r")\}")


def template_variables(text: str) -> list[str]:
    """The variable names used in ``text``, in order (escaped ``{{x}}`` not included)."""
    return [m.group(2) for m in _TEMPLATE.finditer(text) if m.group(2)]


def substitute(text: str, values: Mapping[str, str], *, quote: bool = False) -> str:
    """Replace ``{name}`` by ``values[name]`` (shell-quoted with ``quote``); ``{{x}}`` → ``{x}``."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return "{" + match.group(1) + "}"
        value = values[match.group(2)]
        return shlex.quote(value) if quote else value

    return _TEMPLATE.sub(replace, text)


def has_template(text: str) -> bool:
    return bool(template_variables(text))


def is_bound(info: ValidationInfo) -> bool:
    return bool(isinstance(info.context, dict) and info.context.get("bound"))



def substitute_tree(value: Any, values: Mapping[str, str], *, quote: bool = False) -> Any:
    if isinstance(value, str):
        return substitute(value, values, quote=quote)
    if isinstance(value, list):
        return [substitute_tree(item, values) for item in value]
    if isinstance(value, dict):
        shell_string = value.get("type") == "shell" and value.get("shell") is True
        return {key: substitute_tree(item, values, quote=shell_string and key == "command")
                for key, item in value.items()}
    return value


def builtin_list() -> str:
    return ", ".join("{" + name + "}" for name in BUILTIN_VARIABLES)

