"""A runbook's variables as the operator fills them in: which to ask for, and each value
checked with a message for its own field.

``questions`` lists what the runbook needs and was not given (by ``--set``, the config file,
the incident or the drill); ``check_values`` checks a filled-in form: empty fields without a
default, values that are not one line, then the runbook bound with them, each binding problem
put on the field whose value caused it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from console.runbook.errors import RunbookError
from console.runbook.schema import Runbook
from console.runbook.templates import substitute, template_variables

_PART = re.compile(r"\[(\d+)\]|\.?([A-Za-z_][A-Za-z0-9_]*)|\['([^']*)'\]")


@dataclass(frozen=True)
class Question:
    """One variable to ask for: what it is, an example, its default (as far as it can be
    worked out from the values known) and the value known so far."""

    name: str
    description: str
    example: str | None
    default: str | None
    value: str = ""


def missing(runbook: Runbook, values: Mapping[str, str]) -> list[str]:
    """The variables that have neither a value nor a default that can be worked out."""
    try:
        runbook.resolve(values)
    except RunbookError:
        pass
    else:
        return []
    out = []
    for name, spec in runbook.inputs():
        if values.get(name, "").strip():
            continue
        if spec.default is not None and all(values.get(v, "").strip()
                                            for v in template_variables(spec.default)):
            continue
        out.append(name)
    return out


def questions(runbook: Runbook, given: Mapping[str, str]) -> list[Question]:
    """What to ask: every input the runbook uses that was not given, in first-use order."""
    out = []
    for name, spec in runbook.inputs():
        if given.get(name, "").strip():
            continue
        default = spec.default
        if default is not None and all(given.get(v) for v in template_variables(default)):
            default = substitute(default, given)
        out.append(Question(name, " ".join(spec.description.split()), spec.example, default))
    return out


def check_values(runbook: Runbook, given: Mapping[str, str],
                 entered: Mapping[str, str]) -> dict[str, str]:
    """Problems with the form's values, by field (``""``: not one field's). Empty: fine."""
    errors: dict[str, str] = {}
    specs = dict(runbook.inputs())
    for name, text in entered.items():
        if any(ch in text for ch in "\r\n\0") or any(ord(ch) < 32 for ch in text):
            errors[name] = "must be one line of plain text"
    values = merged(given, entered)
    for name in missing(runbook, values):
        if name in errors or name not in entered:
            continue
        spec = specs.get(name)
        example = f" (e.g. {spec.example})" if spec is not None and spec.example else ""
        default = spec.default if spec is not None else None
        needs = [v for v in template_variables(default or "") if not values.get(v)]
        errors[name] = (f"needs a value{example}" if not needs
                        else f"needs a value, or {', '.join(needs)} for its default")
    if errors:
        return errors
    try:
        runbook.bind(values)
    except RunbookError as error:
        for problem in error.problems:
            field = _field_for(runbook, problem.where, entered, specs)
            errors.setdefault(field, problem.message)
    return errors


def merged(given: Mapping[str, str], entered: Mapping[str, str]) -> dict[str, str]:
    """The values known before the form, with what was typed (blank fields left out)."""
    return {**given, **{k: v.strip() for k, v in entered.items() if v.strip()}}


def _field_for(runbook: Runbook, where: str, entered: Mapping[str, str],
               specs: Mapping[str, Any]) -> str:
    """The form field whose value ended up at ``where`` (``steps[7].replicas``), else ``""``."""
    node: Any = runbook.model_dump(by_alias=True)
    for match in _PART.finditer(where):
        index, key, quoted = match.groups()
        try:
            node = node[int(index)] if index is not None else node[key or quoted]
        except (KeyError, IndexError, TypeError):
            return ""
    if not isinstance(node, str):
        return ""
    for name in template_variables(node):
        if entered.get(name, "").strip():
            return name
        spec = specs.get(name)  # a default such as {deployment}: the field it came from
        for used in template_variables(getattr(spec, "default", None) or ""):
            if used in entered:
                return used
        if name in entered:
            return name
    return ""


__all__ = ["Question", "check_values", "merged", "missing", "questions"]
