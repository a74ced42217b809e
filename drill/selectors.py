"""Label and field selectors as the Kubernetes API parses them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import bad_request

Matcher = Callable[[dict[str, Any]], bool]

_SET_EXPR = re.compile(r"^\s*(!?)([\w./-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_EQ_EXPR = re.compile(r"^\s*([\w./-]+)\s*(==|!=|=)\s*([\w./-]*)\s*$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "=":
            return present and value == self.values[0]
        if self.op == "!=":
            return not present or value != self.values[0]
        if self.op == "in":
            return present and value in self.values
        if self.op == "notin":
            return not present or value not in self.values
        if self.op == "exists":
            return present
        return not present


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def parse_label_selector(text: str | None) -> list[Requirement]:
    if not text:
        return []
    requirements: list[Requirement] = []
    for part in _split_top_level(text):
        eq = _EQ_EXPR.match(part)
        if eq:
            key, op, value = eq.groups()
            requirements.append(Requirement(key, "!=" if op == "!=" else "=", (value,)))
            continue
        st = _SET_EXPR.match(part)
        if st:
            bang, key, op, values = st.groups()
            if op:
                items = tuple(v.strip() for v in values.split(",") if v.strip())
                requirements.append(Requirement(key, op, items))
            else:
                requirements.append(Requirement(key, "!exists" if bang else "exists"))
            continue
        raise bad_request(f'unable to parse requirement: invalid label selector "{text}"')
    return requirements


def labels_match(requirements: list[Requirement], labels: Mapping[str, str] | None) -> bool:
    labels = labels or {}
    return all(req.matches(labels) for req in requirements)


def format_match_labels(match_labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(match_labels.items()))


def _field_value(obj: dict[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return ""
        value = value.get(part)
    return "" if value is None else str(value)


_FIELD_ALIASES = {"spec.nodeName", "status.phase", "metadata.name", "metadata.namespace",
                  "involvedObject.kind", "involvedObject.name", "involvedObject.namespace",
                  "involvedObject.uid", "involvedObject.apiVersion",
                  "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                  "type", "source"}


def parse_field_selector(text: str | None) -> list[tuple[str, str, str]]:
    if not text:
        return []
    terms: list[tuple[str, str, str]] = []
    for part in text.split(","):
        if not part.strip():
            continue
        match = re.match(r"^\s*([\w.]+)\s*(==|!=|=)\s*(.*?)\s*$", part)
        if not match:
            raise bad_request(f'invalid field selector: "{text}"')
        field, op, value = match.groups()
        if field not in _FIELD_ALIASES:
            raise bad_request(
                f'"{field}" is not a known field selector: only "metadata.name", '
                '"metadata.namespace" and a few resource-specific fields are supported'
            )
        terms.append((field, "!=" if op == "!=" else "=", value))
    return terms


def fields_match(terms: list[tuple[str, str, str]], obj: dict[str, Any]) -> bool:
    for field, op, value in terms:
        actual = _field_value(obj, field)
        if (actual == value) != (op == "="):
            return False
    return True
