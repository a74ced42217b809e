"""The runbook model: a handbook procedure or checklist, its variables and steps.

Semantics the engine implements (documented here because the data encodes them):

- ``confirm`` (default: true for mutating steps) asks the operator before the step runs.
- ``requires`` names earlier steps that must be *done* (not skipped) before this one runs; the
  handbook's "Before restoring: TAKE CURRENT BACKUP!" is ``restore`` requiring ``backup``;
  the optional ``requires_why`` says why, in the words the refusal shows.
- ``when`` is a condition in words ("if data at risk"); the operator decides whether it holds.
  ``optional`` steps may be skipped.
- ``verify:`` on an action step re-runs its checks and gates every ``interval`` until all pass
  (up to ``tolerance`` failing HTTP checks per round are accepted) or ``deadline`` passes.
- ``undo:`` on an action step is its compensation, run (per the runbook's ``on_abort``:
  always, never, or ask the operator) when the step or a later one fails.
- A gate passes only when every returned sample satisfies ``op threshold`` continuously for
  ``for``; an empty result, a NaN or a query error is *unknown*, never a pass. It fails when
  ``timeout`` runs out.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from console.runbook.errors import BindError, Problem
from console.runbook.field_types import Identifier, Text
from console.runbook.problems import did_you_mean, display_loc, problems_from
from console.runbook.schema_actions import ActionStep, ActionStepBase
from console.runbook.schema_checks import StrictModel, TaggedModel
from console.runbook.schema_db import DbBackupStep, DbMigrateStep, DbRestoreStep, SqlGateStep
from console.runbook.schema_steps import GateStep, ManualStep, ShellFields, VerifyStep, WaitStep
from console.runbook.shell_templates import check_bound_values, check_shell_templates
from console.runbook.templates import (
    BUILTIN_VARIABLES,
    NAME,
    builtin_list,
    substitute,
    substitute_tree,
    template_variables,
)

_VARIABLE_NAME = re.compile(NAME)

class ShellStep(ActionStepBase, ShellFields):
    type: Literal["shell"]

    def describe(self) -> str:
        return ShellFields.describe(self)


AnyStep = (ManualStep | ActionStep | VerifyStep | GateStep | ShellStep | WaitStep | DbBackupStep
           | DbRestoreStep | DbMigrateStep | SqlGateStep)
Step = Annotated[AnyStep, Field(discriminator="type")]


def _variable_spec(value: object) -> object:
    if isinstance(value, str):
        return {"description": value}
    if value is None:
        raise ValueError("needs a description (a string, or description: and default:)")
    return value


class Variable(StrictModel):
    """A value the operator supplies when the runbook starts (``default`` may use builtins)."""

    description: Text
    default: str | None = None
    example: str | None = None

    @field_validator("default", mode="before")
    @classmethod
    def _default(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


def _variable_name(value: object) -> object:
    if isinstance(value, str) and not _VARIABLE_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a variable name (letters, digits and _)")
    return value


class Runbook(StrictModel):
    """A handbook procedure or checklist. Validated on construction; see ``load_runbook``."""

    id: Identifier
    title: Text
    summary: str = ""
    source: str = ""
    kind: Literal["procedure", "checklist"]
    on_abort: Literal["always", "never", "ask"] = "ask"
    variables: dict[Annotated[str, BeforeValidator(_variable_name)],
                    Annotated[Variable, BeforeValidator(_variable_spec)]] = Field(
        default_factory=dict)
    steps: Annotated[list[Step], Field(min_length=1)]

    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Runbook:
        if isinstance(info.context, dict) and info.context.get("defer_checks"):
            return self
        problems = self.check()
        if problems:
            raise ValueError("; ".join(f"{display_loc(loc)}: {msg}" for loc, msg in problems))
        return self

    # -- whole-runbook checks (the loader maps their locations to lines) --
    def check(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Cross-field problems: ids, ``requires``, step types of checklists, variables."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        seen: dict[str, int] = {}
        for index, step in enumerate(self.steps):
            loc: tuple[str | int, ...] = ("steps", index, step.type)
            if step.id in seen:
                problems.append((loc + ("id",), f"duplicate step id {step.id!r}, first used by "
                                 f"steps[{seen[step.id]}]"))
            else:
                seen[step.id] = index
            if self.kind == "checklist" and step.is_mutating:
                problems.append((loc + ("type",), f"a checklist cannot have a {step.type} step "
                                 "(it changes things); use a procedure runbook"))
            all_ids = [s.id for s in self.steps]
            for r_index, required in enumerate(step.requires):
                where = loc + ("requires", r_index)
                if required == step.id:
                    problems.append((where, "a step cannot require itself"))
                elif required in seen and seen[required] < index:
                    continue
                elif required in all_ids:
                    later = all_ids.index(required)
                    problems.append((where, f"step {required!r} comes later (steps[{later}]); "
                                     "requires must name earlier steps"))
                else:
                    problems.append((where, f"unknown step {required!r}"
                                     f"{did_you_mean(required, all_ids[:index])}"))
        known = set(BUILTIN_VARIABLES) | set(self.variables)
        for name, variable in self.variables.items():
            if variable.default is None:
                continue
            for used in template_variables(variable.default):
                if used not in BUILTIN_VARIABLES:
                    problems.append((("variables", name, "default"),
                                     f"a default may only use {builtin_list()}, not {{{used}}}"))
        for loc, text in _strings(self, ()):
            if loc and loc[0] == "variables":
                continue
            for used in template_variables(text):
                if used not in known:
                    close = difflib.get_close_matches(used, sorted(known), n=1)
                    hint = f" (did you mean {{{close[0]}}}?)" if close else ""
                    problems.append((loc, f"unknown variable {{{used}}}{hint}; declare it under "
                                     f"variables: or use {builtin_list()}"))
        problems.extend(check_shell_templates(self.steps, self.variables))
        return problems

    # -- the engine's view --
    @property
    def path(self) -> Path | None:
        """The file it was loaded from (``None`` when built in code)."""
        return self._path

    def step(self, step_id: str) -> AnyStep:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def index(self, step_id: str) -> int:
        for index, step in enumerate(self.steps):
            if step.id == step_id:
                return index
        raise KeyError(step_id)

    def variables_used(self) -> list[str]:
        """Every variable the steps use, in first-use order."""
        used: dict[str, None] = {}
        for loc, text in _strings(self, ()):
            if loc and loc[0] == "variables":
                continue
            for name in template_variables(text):
                used.setdefault(name, None)
        return list(used)

    def inputs(self) -> list[tuple[str, Variable]]:
        """What to ask for at start: used variables with their description and default
        (and the builtins those defaults use, e.g. ``{deployment}`` in ``writer``'s)."""
        names = self.variables_used()
        for name in list(names):
            default = self.variables[name].default if name in self.variables else None
            names.extend(v for v in template_variables(default or "") if v not in names)
        return [(name, self.variables.get(name) or Variable(description=BUILTIN_VARIABLES[name]))
                for name in names]

    def resolve(self, values: Mapping[str, object]) -> dict[str, str]:
        """The values for every used variable: given, else the declared default.

        Raises ``BindError`` naming each variable that has no value.
        """
        given: dict[str, str] = {}
        for name, value in values.items():
            if value is None or isinstance(value, bool):
                continue
            text = str(value).strip()
            if text:
                given[name] = text
        resolved: dict[str, str] = {}
        missing: list[str] = []
        for name, spec in self.inputs():
            if name in given:
                resolved[name] = given[name]
                continue
            default = spec.default
            if default is not None:
                needs = [v for v in template_variables(default) if v not in given]
                if not needs:
                    resolved[name] = substitute(default, given)
                    continue
                missing.append(f"{name} (its default {default!r} needs {', '.join(needs)})")
                continue
            missing.append(f"{name} ({spec.description})")
        if missing:
            raise BindError([Problem(self._shown_file(), None,
                                     "needs a value for " + "; ".join(missing),
                                     where=f"runbook {self.id}")])
        return resolved

    def bind(self, values: Mapping[str, object]) -> BoundRunbook:
        """Substitute the variables in every string; raises ``BindError`` when one is missing
        or a bound value is invalid (e.g. a deployment name with capitals)."""
        resolved = self.resolve(values)
        as_options = check_bound_values(self.steps, resolved)
        if as_options:
            raise BindError([Problem(self._shown_file(), None, message, where=display_loc(loc))
                             for loc, message in as_options])
        data = self.model_dump(by_alias=True, exclude_unset=True, exclude={"variables"})
        bound_data = substitute_tree(data, resolved)
        bound_data["variables"] = self.model_dump(by_alias=True, exclude_unset=True,
                                                  include={"variables"}).get("variables", {})
        bound_data["values"] = resolved
        try:
            bound = BoundRunbook.model_validate(bound_data, context={"bound": True})
        except ValidationError as exc:
            raise BindError(problems_from(exc, self._shown_file(), None, model=Runbook)) from None
        bound._path = self._path
        return bound

    def _shown_file(self) -> str:
        return str(self._path) if self._path else f"<runbook {self.id}>"


class BoundRunbook(Runbook):
    """A runbook with every ``{variable}`` replaced; ``values`` holds what was used."""

    values: dict[str, str] = Field(default_factory=dict)

    def check(self) -> list[tuple[tuple[str | int, ...], str]]:
        return []  # checked before binding; values may contain braces legitimately


def _strings(value: object, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...],
                                                                          str]]:
    """Every string inside a model, with its pydantic-style location (tags included)."""
    if isinstance(value, BaseModel):
        for name, field in type(value).model_fields.items():
            key = field.alias or name
            child = getattr(value, name)
            if isinstance(child, TaggedModel):
                yield from _strings(child, loc + (key, child.type))
            else:
                yield from _strings(child, loc + (key,))
    elif isinstance(value, str):
        yield loc, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, TaggedModel):
                yield from _strings(item, loc + (index, item.type))
            else:
                yield from _strings(item, loc + (index,))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, loc + (str(key),))


