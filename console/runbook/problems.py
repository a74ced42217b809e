"""Turning pydantic validation errors into ``Problem``s: a human message, the key path and the
YAML line, found by following the error's location through the model types and the YAML nodes
together."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union

import yaml
from pydantic import BaseModel, ValidationError

from console.runbook.errors import Problem
from console.runbook.field_types import kind_of
from console.runbook.schema_checks import TaggedModel


def did_you_mean(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def display_loc(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


# ---- mapping validation errors to YAML lines -------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _tags(annotation: Any) -> dict[str, type[BaseModel]]:
    """For a union of ``TaggedModel`` models, tag → model; else empty."""
    if typing.get_origin(annotation) not in (Union, types.UnionType):
        return {}
    found: dict[str, type[BaseModel]] = {}
    for member in typing.get_args(annotation):
        member = _unwrap(member)
        if isinstance(member, type) and issubclass(member, TaggedModel):
            for tag in typing.get_args(member.model_fields["type"].annotation):
                found[tag] = member
    return found


def _fields_by_key(model: type[BaseModel]) -> dict[str, Any]:
    return {field.alias or name: field.annotation for name, field in model.model_fields.items()}


def _mapping_value(node: yaml.Node | None, key: str | int, *, want_key: bool = False
                   ) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    merges: list[yaml.Node] = []
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            if key_node.value == str(key):
                return key_node if want_key else value_node
            if key_node.tag == "tag:yaml.org,2002:merge":
                merges.extend(value_node.value if isinstance(value_node, yaml.SequenceNode)
                              else [value_node])
    for merged in merges:
        found = _mapping_value(merged, key, want_key=want_key)
        if found is not None:
            return found
    return None


@dataclass
class Located:
    node: yaml.Node | None
    where: str
    known_keys: list[str] | None = None  # for an unknown key: the keys its mapping accepts
    tags: list[str] | None = None  # for a step's type: the types allowed there


def locate(loc: Sequence[str | int], root: yaml.Node | None, *, extra_key: bool,
           model: type[BaseModel]) -> Located:
    """Follow a pydantic location through the model types and the YAML node tree together.

    The types tell a union tag (``('steps', 2, 'scale', 'replicas')``) from a key; the nodes
    give the line. Where the YAML stops matching (a missing key) the deepest node found is kept.
    """
    annotation: Any = model
    node = root
    parent: yaml.Node | None = None
    matched = root is not None
    shown: list[str | int] = []
    located = Located(root, "")
    for position, part in enumerate(loc):
        last = position == len(loc) - 1
        annotation = _unwrap(annotation)
        tags = _tags(annotation)
        if tags:
            if isinstance(part, str) and part in tags:
                annotation = tags[part]
                continue
            located.tags = list(tags)
            annotation = None
        if part == "[key]":  # the error is about a mapping key itself
            if matched and parent is not None and shown:
                node = _mapping_value(parent, shown[-1], want_key=True) or node
            continue
        origin = typing.get_origin(annotation)
        child_annotation: Any = None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = _fields_by_key(annotation)
            if last and extra_key:
                located.known_keys = sorted(fields)
            child_annotation = fields.get(str(part))
        elif origin is list:
            child_annotation = typing.get_args(annotation)[0]
        elif origin is dict:
            child_annotation = typing.get_args(annotation)[1]
        elif origin in (Union, types.UnionType) and isinstance(part, str):
            continue  # a plain union's member name, e.g. 'int' in int | str
        shown.append(part)
        if matched:
            child: yaml.Node | None = None
            if last and extra_key:
                child = _mapping_value(node, part, want_key=True)
            elif isinstance(node, yaml.MappingNode):
                child = _mapping_value(node, part)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and (
                    0 <= part < len(node.value)):
                child = node.value[part]
            if child is None:
                matched = False
            else:
                parent, node = node, child
        annotation = child_annotation
    located.node = node
    located.where = display_loc(shown)
    return located


def _listed(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)


def _translate(error: Mapping[str, Any], located: Located) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    got = kind_of(value)
    if kind == "missing":
        return "is required"
    if kind == "invalid_key":
        return f"key {value!r} must be text; quote it or remove it"
    if kind == "extra_forbidden":
        key = str(error["loc"][-1]) if error["loc"] else "?"
        known = located.known_keys or []
        listing = f"; known keys: {', '.join(known)}" if known else ""
        return f"unknown key {key!r}{did_you_mean(key, known)}{listing}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = located.tags or _listed(str(ctx.get("expected_tags", "")))
        tag = value.get("type") if isinstance(value, dict) else None
        if tag is None:
            return f"is required: one of {', '.join(tags)}"
        hint = did_you_mean(tag, tags) if isinstance(tag, str) else ""
        return f"must be one of {', '.join(tags)}, not {kind_of(tag)}{hint}"
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        return f"must be a mapping (key: value), not {got}"
    if kind == "string_type":
        hint = ""
        if isinstance(value, dict) and len(value) == 1 and None in value.values():
            hint = " (YAML reads a value starting with { as a mapping; quote the text)"
        elif type(value).__name__ in ("date", "datetime"):
            hint = " (quote it to keep it as text)"
        return f"must be a string, not {got}{hint}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, not {got}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, not {got}"
    if kind == "finite_number":
        return "must be a finite number"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, not {got}"
    if kind == "list_type":
        return f"must be a list, not {got}"
    if kind == "literal_error":
        expected = _listed(str(ctx.get("expected", "")))
        hint = did_you_mean(value, expected) if isinstance(value, str) else ""
        if isinstance(value, bool):
            hint = " (YAML reads unquoted yes/no/on/off as true/false; quote the word)"
        return f"must be one of {', '.join(expected)}, not {got}{hint}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, not {got}"
    if kind == "greater_than":
        return f"must be more than {ctx.get('gt')}, not {got}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}, not {got}"
    if kind == "less_than":
        return f"must be less than {ctx.get('lt')}, not {got}"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    message = str(error.get("msg", kind))
    return message[:1].lower() + message[1:]


def line_of(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def problems_from(exc: ValidationError, file: str, root: yaml.Node | None, *,
                  model: type[BaseModel], id_from_file: bool = False) -> list[Problem]:
    """One ``Problem`` per error (duplicates merged), by line; ``model`` is the validated type
    (``Runbook``): its fields tell a union tag from a key along the error's location."""
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc.append("type")
        located = locate(loc, root, model=model,
                         extra_key=error["type"] in ("extra_forbidden", "invalid_key"))
        message = _translate(error, located)
        if error["type"] == "invalid_key":
            located.where = locate(loc[:-1], root, extra_key=False, model=model).where
        if id_from_file and loc == ["id"]:
            message += " (taken from the file name; rename the file or set id:)"
        problem = Problem(file, line_of(located.node), message, where=located.where)
        if problem not in problems:
            problems.append(problem)
    return sorted(problems, key=lambda p: p.line or 0)


