"""Runbooks: the handbook's procedures and checklists as validated YAML data.

A runbook (``runbooks/<id>.yaml``) is a list of steps. A step is ``manual`` (check it off) or
an action the engine runs: ``scale``, ``restart``, ``undo`` (a deployment), ``verify`` (HTTP
checks), ``gate`` (a PromQL threshold), ``shell`` (a command) or ``wait``. Files are validated on
load with pydantic; every problem is reported as ``file:line: where: message`` so an operator
can fix a runbook without reading a traceback, and one broken file never hides the others.

Templates: any string may use ``{deployment}``, ``{namespace}``, ``{previous_revision}`` and the
variables the runbook declares under ``variables:``. ``Runbook.bind(values)`` substitutes them
all and returns a ``BoundRunbook`` the engine walks. ``{{name}}`` is a literal ``{name}`` and
``${name}`` (a shell variable) is left alone; other braces, such as PromQL label matchers, are
text. In a ``shell: true`` command string the values are shell-quoted when substituted.

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
import math
import re
import shlex
import site
import sys
import sysconfig
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

# ---- errors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a runbook file: where it is and what to do about it."""

    file: str
    line: int | None
    message: str
    where: str = ""  # the key path, e.g. "steps[2].type"
    column: int | None = None

    def __str__(self) -> str:
        place = self.file
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        return f"{place}: {self.where}: {self.message}" if self.where else f"{place}: {self.message}"


class RunbookError(Exception):
    """A runbook cannot be loaded or bound; ``problems`` says where and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        self.message = "\n".join(str(problem) for problem in self.problems)
        super().__init__(self.message)


class BindError(RunbookError):
    """Variables missing or invalid when a runbook starts."""


# ---- scalar types ----------------------------------------------------------------------------

BUILTIN_VARIABLES: dict[str, str] = {
    "deployment": "the deployment the incident is about",
    "namespace": "its namespace",
    "previous_revision": "the deployment's revision before the current one",
}
STEP_TYPES = ("manual", "scale", "restart", "undo", "verify", "gate", "shell", "wait")
MUTATING_TYPES = frozenset({"scale", "restart", "undo", "shell"})
GateOutcome = Literal["pass", "fail", "unknown"]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# One pass: ``{{name}}`` is an escaped literal, ``{name}`` a variable (not ``${name}``).
_TEMPLATE = re.compile(r"\{\{(" + _NAME + r")\}\}|(?<![{$])\{(" + _NAME + r")\}(?!\})")
_SINGLE_TEMPLATE = re.compile(r"\{(" + _NAME + r")\}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_VARIABLE_NAME = re.compile(_NAME)
_K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")  # DNS-1123 subdomain
_K8S_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")  # DNS-1123 label (namespaces)
_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_MAX_DURATION_S = 30 * 86400.0
_MAX_REPLICAS = 10_000
_JSON_PATH = re.compile(r"(?:[^.\[\]]+|\[-?\d+\])(?:\.[^.\[\]]+|\[-?\d+\])*")
_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_SHELL_TOKENS = frozenset({"|", "||", "&&", ";", "&", ">", ">>", "<", "<<", "2>", "2>&1", "&>"})
_OPS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


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


def _has_template(text: str) -> bool:
    return bool(template_variables(text))


def _bound(info: ValidationInfo) -> bool:
    return bool(isinstance(info.context, dict) and info.context.get("bound"))


def _kind_of(value: object) -> str:
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
        raise ValueError(f"must be a duration such as 90s, 2m or 1h30m, not {_kind_of(value)}")
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
        raise ValueError(f"must be a duration such as 90s, 2m or 1h30m, not {_kind_of(value)}")
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


def _int_ref(low: int, high: int, *, nonzero: bool = False) -> Any:
    """A whole number in [low, high], or (before binding) a single ``{variable}``."""

    def check(value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):
            text = value.strip()
            if _SINGLE_TEMPLATE.fullmatch(text) and not _bound(info):
                return text
            if re.fullmatch(r"[-+]?\d{1,12}", text):
                value = int(text)
            else:
                raise ValueError(
                    f"must be a whole number or a single {{variable}}, not {value!r}")
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, not {_kind_of(value)}")
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}, not {value}")
        if nonzero and value == 0:
            raise ValueError("must not be 0")
        return value

    return BeforeValidator(check)


def _status_codes(value: object) -> object:
    codes = value if isinstance(value, list) else [value]
    for code in codes:
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            raise ValueError(
                f"must be an HTTP status code (100-599) or a list of them, not {_kind_of(code)}")
    if not codes:
        raise ValueError("lists no status codes")
    return codes


def _method(value: object) -> object:
    if isinstance(value, str):
        upper = value.strip().upper()
        if upper not in _HTTP_METHODS:
            raise ValueError(f"must be one of {', '.join(_HTTP_METHODS)}, not {value!r}")
        return upper
    return value


def _op(value: object) -> object:
    if isinstance(value, str):
        if value.strip() in _OPS:
            return _OPS[value.strip()]
        hint = ' (in YAML, quote it: op: ">")' if not value.strip() else ""
        raise ValueError(f"must be one of <, <=, >, >=, not {value!r}{hint}")
    return value


def _k8s_name(value: str, info: ValidationInfo, *, namespace: bool = False) -> str:
    if not _bound(info) and _has_template(value):
        return value
    if namespace and (len(value) > 63 or not _K8S_LABEL.fullmatch(value)):
        raise ValueError(f"{value!r} is not a valid namespace (at most 63 lowercase letters, "
                         "digits and '-')")
    if not namespace and (len(value) > 253 or not _K8S_NAME.fullmatch(value)):
        raise ValueError(f"{value!r} is not a valid deployment name (lowercase letters, digits, "
                         "'-' and '.')")
    return value


# ---- models --------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class _Tagged(_Model):
    """A member of a union told apart by ``type`` (its tag appears in error locations)."""

    type: str


class HttpCheck(_Model):
    """One HTTP request and what a healthy answer looks like (see ``adapters.probes.Check``)."""

    name: Text
    url: Text
    method: Annotated[str, BeforeValidator(_method)] = "GET"
    expect_status: Annotated[list[int], BeforeValidator(_status_codes)] = Field(
        default_factory=lambda: [200])
    body_contains: str | None = None
    json_path: str | None = None
    json_equals: Any = None  # only compared when given; otherwise the path must just exist
    latency_budget_ms: Annotated[float, Field(gt=0)] | None = None
    retries: Annotated[int, Field(ge=0, le=100)] = 0
    retry_delay_s: Duration = Field(0.5, alias="retry_delay")
    timeout_s: PositiveDuration = Field(5.0, alias="timeout")
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        if (_bound(info) or not _has_template(value)) and not re.match(
                r"https?://[^/\s]+", value):
            raise ValueError(f"must be an http:// or https:// URL, not {value!r}")
        return value

    @field_validator("json_path")
    @classmethod
    def _json_path(cls, value: str | None) -> str | None:
        if value is not None and not _JSON_PATH.fullmatch(value):
            raise ValueError(
                f"{value!r} is malformed; use dotted keys with [index], like data.items[0].status")
        return value

    @model_validator(mode="after")
    def _equals_needs_path(self) -> HttpCheck:
        if "json_equals" in self.model_fields_set and self.json_path is None:
            raise ValueError("json_equals needs a json_path to compare")
        return self

    def probe_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``adapters.probes.Check``."""
        kwargs: dict[str, Any] = {
            "name": self.name, "url": self.url, "method": self.method,
            "expect_status": self.expect_status[0] if len(self.expect_status) == 1
            else tuple(self.expect_status),
            "body_contains": self.body_contains, "json_path": self.json_path,
            "latency_budget_ms": self.latency_budget_ms, "retries": self.retries,
            "retry_delay_s": self.retry_delay_s, "timeout_s": self.timeout_s,
            "headers": dict(self.headers)}
        if "json_equals" in self.model_fields_set:
            kwargs["json_equals"] = self.json_equals
        return kwargs


class GateCondition(_Model):
    """``query op threshold`` holding for ``for``: the handbook's thresholds as PromQL."""

    name: str | None = None
    query: Text
    op: Annotated[Literal["<", "<=", ">", ">="], BeforeValidator(_op)]
    threshold: float
    for_s: Duration = Field(0.0, alias="for")

    def holds(self, value: float) -> bool:
        if self.op == "<":
            return value < self.threshold
        if self.op == "<=":
            return value <= self.threshold
        if self.op == ">":
            return value > self.threshold
        return value >= self.threshold

    def evaluate(self, values: Sequence[float] | None) -> GateOutcome:
        """One evaluation: ``None`` (query error), no samples or any NaN → ``unknown``."""
        if not values or any(math.isnan(value) for value in values):
            return "unknown"
        return "pass" if all(self.holds(value) for value in values) else "fail"

    def describe(self) -> str:
        hold = f" for {format_duration(self.for_s)}" if self.for_s else ""
        return f"{self.name or self.query} {self.op} {self.threshold:g}{hold}"


class _VerificationFields(_Model):
    checks: list[HttpCheck] = Field(default_factory=list)
    gates: list[GateCondition] = Field(default_factory=list)
    deadline_s: PositiveDuration = Field(300.0, alias="deadline")
    interval_s: PositiveDuration = Field(10.0, alias="interval")
    tolerance: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _something_to_check(self) -> _VerificationFields:
        if not self.checks and not self.gates:
            raise ValueError("give at least one HTTP check (checks:) or PromQL gate (gates:)")
        if self.checks and self.tolerance >= len(self.checks):
            raise ValueError(
                f"tolerance {self.tolerance} would accept every one of the "
                f"{len(self.checks)} check(s) failing; use at most {len(self.checks) - 1}")
        return self

    def judge(self, check_oks: Sequence[bool], gate_outcomes: Sequence[GateOutcome]) -> GateOutcome:
        """One round: pass when gates pass and at most ``tolerance`` checks failed."""
        if any(outcome == "fail" for outcome in gate_outcomes):
            return "fail"
        if sum(1 for ok in check_oks if not ok) > self.tolerance:
            return "fail"
        if any(outcome == "unknown" for outcome in gate_outcomes):
            return "unknown"
        return "pass"


class Verification(_VerificationFields):
    """``verify:`` on an action step: wait until the checks pass, or fail at the deadline."""


class _Target(_Model):
    deployment: Text = "{deployment}"
    namespace: Text = "{namespace}"

    @model_validator(mode="before")
    @classmethod
    def _explicit_defaults(cls, data: object) -> object:
        # Templates in defaults must survive model_dump(exclude_unset=True) to get bound.
        if isinstance(data, dict) and not {"deployment", "namespace"} <= data.keys():
            return {"deployment": "{deployment}", "namespace": "{namespace}", **data}
        return data

    @field_validator("deployment")
    @classmethod
    def _deployment(cls, value: str, info: ValidationInfo) -> str:
        return _k8s_name(value, info)

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str, info: ValidationInfo) -> str:
        return _k8s_name(value, info, namespace=True)

    @property
    def target(self) -> str:
        return f"{self.namespace}/{self.deployment}"


class _ScaleFields(_Target):
    replicas: Annotated[int | str, _int_ref(0, _MAX_REPLICAS)] | None = None
    by: Annotated[int | str, _int_ref(-_MAX_REPLICAS, _MAX_REPLICAS, nonzero=True)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> _ScaleFields:
        if (self.replicas is None) == (self.by is None):
            raise ValueError("give either replicas: (a count) or by: (a change, like 2 or -1)")
        return self

    def target_replicas(self, current: int) -> int:
        """The replica count to set, given the current one (``by`` never goes below 0)."""
        if isinstance(self.replicas, int):
            return self.replicas
        if isinstance(self.by, int):
            return max(0, current + self.by)
        raise BindError([Problem("<runbook>", None, "scale step is not bound yet")])

    def describe(self) -> str:
        change = f"to {self.replicas}" if self.replicas is not None else (
            f"by {self.by:+d}" if isinstance(self.by, int) else f"by {self.by}")
        return f"scale {self.target} {change}"


class _RestartFields(_Target):
    def describe(self) -> str:
        return f"restart {self.target}"


class _UndoFields(_Target):
    to_revision: Annotated[int | str, _int_ref(1, 2**31 - 1)] | None = None

    def describe(self) -> str:
        to = f" to revision {self.to_revision}" if self.to_revision is not None else ""
        return f"roll back {self.target}{to}"


class _ShellFields(_Model):
    shell: bool = False  # declared before command: its validator reads it
    command: list[str] | str
    timeout_s: PositiveDuration = Field(300.0, alias="timeout")
    expected_exit: Annotated[int, Field(ge=0, le=255)] = 0
    cwd: str | None = None

    @field_validator("command", mode="before")
    @classmethod
    def _command(cls, value: object, info: ValidationInfo) -> object:
        use_shell = info.data.get("shell") is True
        if isinstance(value, list):
            if not value or not all(isinstance(arg, str) for arg in value):
                raise ValueError("an argv list must hold one or more strings")
            if use_shell:
                raise ValueError("with shell: true, give the command as one string")
            if not value[0].strip():
                raise ValueError("the program name (first item) must not be empty")
            return value
        if not isinstance(value, str):
            raise ValueError(f"must be a command string or an argv list, not {_kind_of(value)}")
        if not value.strip():
            raise ValueError("must not be empty")
        if use_shell:
            return value
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise ValueError(f"cannot split {value!r} into arguments: {exc}") from None
        for arg in argv:
            if arg in _SHELL_TOKENS or "$(" in arg or "`" in arg:
                raise ValueError(
                    f"uses shell syntax ({arg!r}) but shell: true is not set; write it without "
                    "(e.g. pg_dump --file=OUT) or set shell: true to run it through /bin/sh")
        return argv

    @property
    def argv(self) -> list[str] | None:
        """The argument vector, or ``None`` for a ``shell: true`` command string."""
        return self.command if isinstance(self.command, list) else None

    def describe(self) -> str:
        return self.command if isinstance(self.command, str) else shlex.join(self.command)


class _ManualFields(_Model):
    items: list[Text] = Field(default_factory=list)  # points to consider or tick off
    command: str | None = None  # shown for the operator to run by hand, never run


class _WaitFields(_Model):
    duration_s: PositiveDuration = Field(alias="duration")

    def describe(self) -> str:
        return f"wait {format_duration(self.duration_s)}"


# -- compensations: the ``undo:`` of an action step -------------------------------------------


class ScaleAction(_Tagged, _ScaleFields):
    type: Literal["scale"]
    title: Text | None = None


class RestartAction(_Tagged, _RestartFields):
    type: Literal["restart"]
    title: Text | None = None


class UndoAction(_Tagged, _UndoFields):
    type: Literal["undo"]
    title: Text | None = None


class ShellAction(_Tagged, _ShellFields):
    type: Literal["shell"]
    title: Text | None = None


class ManualAction(_Tagged, _ManualFields):
    type: Literal["manual"]
    title: Text
    explain: str = ""

    def describe(self) -> str:
        return self.title


Compensation = Annotated[
    ScaleAction | RestartAction | UndoAction | ShellAction | ManualAction,
    Field(discriminator="type")]

# -- steps -----------------------------------------------------------------------------------


class BaseStep(_Tagged):
    """Fields every step has. ``kind`` is its type; ``is_mutating`` whether it changes things."""

    MUTATING: ClassVar[bool] = False

    id: Identifier
    title: Text
    explain: str = ""
    when: str | None = None
    optional: bool = False
    confirm: bool = False
    requires: list[str] = Field(default_factory=list)
    requires_why: str = ""  # why the required steps come first (shown when refused)

    @model_validator(mode="before")
    @classmethod
    def _default_confirm(cls, data: object) -> object:
        if isinstance(data, dict) and "confirm" not in data:
            return {**data, "confirm": cls.MUTATING}
        return data

    @property
    def kind(self) -> str:
        return self.type

    @property
    def is_mutating(self) -> bool:
        return self.MUTATING

    @property
    def needs_confirmation(self) -> bool:
        return self.confirm

    def describe(self) -> str:
        """One line for logs and the checklist: what the step does."""
        return self.title


class _ActionStep(BaseStep):
    MUTATING: ClassVar[bool] = True

    verify: Verification | None = None
    undo: Compensation | None = None


class ManualStep(BaseStep, _ManualFields):
    type: Literal["manual"]


class ScaleStep(_ActionStep, _ScaleFields):
    type: Literal["scale"]

    def describe(self) -> str:
        return _ScaleFields.describe(self)


class RestartStep(_ActionStep, _RestartFields):
    type: Literal["restart"]

    def describe(self) -> str:
        return _RestartFields.describe(self)


class UndoStep(_ActionStep, _UndoFields):
    type: Literal["undo"]

    def describe(self) -> str:
        return _UndoFields.describe(self)


class ShellStep(_ActionStep, _ShellFields):
    type: Literal["shell"]

    def describe(self) -> str:
        return _ShellFields.describe(self)


class VerifyStep(BaseStep, _VerificationFields):
    type: Literal["verify"]

    def describe(self) -> str:
        names = [check.name for check in self.checks] + [g.describe() for g in self.gates]
        return "verify " + ", ".join(names)


class GateStep(BaseStep):
    type: Literal["gate"]
    name: str | None = None
    query: Text
    op: Annotated[Literal["<", "<=", ">", ">="], BeforeValidator(_op)]
    threshold: float
    for_s: Duration = Field(0.0, alias="for")
    timeout_s: PositiveDuration = Field(600.0, alias="timeout")
    interval_s: PositiveDuration = Field(15.0, alias="interval")

    @model_validator(mode="after")
    def _timeout_covers_for(self) -> GateStep:
        if self.timeout_s < self.for_s:
            raise ValueError(
                f"timeout ({format_duration(self.timeout_s)}) is shorter than for "
                f"({format_duration(self.for_s)}), so the gate could never pass")
        return self

    @property
    def condition(self) -> GateCondition:
        return GateCondition.model_validate(
            {"name": self.name or self.title, "query": self.query, "op": self.op,
             "threshold": self.threshold, "for": self.for_s})

    def evaluate(self, values: Sequence[float] | None) -> GateOutcome:
        return self.condition.evaluate(values)

    def describe(self) -> str:
        return f"gate: {self.condition.describe()}"


class WaitStep(BaseStep, _WaitFields):
    type: Literal["wait"]

    def describe(self) -> str:
        return _WaitFields.describe(self)


Step = Annotated[
    ManualStep | ScaleStep | RestartStep | UndoStep | VerifyStep | GateStep | ShellStep | WaitStep,
    Field(discriminator="type")]
AnyStep = ManualStep | ScaleStep | RestartStep | UndoStep | VerifyStep | GateStep | ShellStep | WaitStep


def _variable_spec(value: object) -> object:
    if isinstance(value, str):
        return {"description": value}
    if value is None:
        raise ValueError("needs a description (a string, or description: and default:)")
    return value


class Variable(_Model):
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


class Runbook(_Model):
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
            raise ValueError("; ".join(f"{_display(loc)}: {msg}" for loc, msg in problems))
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
                                     f"{_did_you_mean(required, all_ids[:index])}"))
        known = set(BUILTIN_VARIABLES) | set(self.variables)
        for name, variable in self.variables.items():
            if variable.default is None:
                continue
            for used in template_variables(variable.default):
                if used not in BUILTIN_VARIABLES:
                    problems.append((("variables", name, "default"),
                                     f"a default may only use {_builtin_list()}, not {{{used}}}"))
        for loc, text in _strings(self, ()):
            if loc and loc[0] == "variables":
                continue
            for used in template_variables(text):
                if used not in known:
                    close = difflib.get_close_matches(used, sorted(known), n=1)
                    hint = f" (did you mean {{{close[0]}}}?)" if close else ""
                    problems.append((loc, f"unknown variable {{{used}}}{hint}; declare it under "
                                     f"variables: or use {_builtin_list()}"))
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
        data = self.model_dump(by_alias=True, exclude_unset=True, exclude={"variables"})
        bound_data = _substitute_tree(data, resolved)
        bound_data["variables"] = self.model_dump(by_alias=True, exclude_unset=True,
                                                  include={"variables"}).get("variables", {})
        bound_data["values"] = resolved
        try:
            bound = BoundRunbook.model_validate(bound_data, context={"bound": True})
        except ValidationError as exc:
            raise BindError(_problems_from(exc, self._shown_file(), None)) from None
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
            if isinstance(child, _Tagged):
                yield from _strings(child, loc + (key, child.type))
            else:
                yield from _strings(child, loc + (key,))
    elif isinstance(value, str):
        yield loc, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, _Tagged):
                yield from _strings(item, loc + (index, item.type))
            else:
                yield from _strings(item, loc + (index,))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, loc + (str(key),))


def _substitute_tree(value: Any, values: Mapping[str, str], *, quote: bool = False) -> Any:
    if isinstance(value, str):
        return substitute(value, values, quote=quote)
    if isinstance(value, list):
        return [_substitute_tree(item, values) for item in value]
    if isinstance(value, dict):
        shell_string = value.get("type") == "shell" and value.get("shell") is True
        return {key: _substitute_tree(item, values, quote=shell_string and key == "command")
                for key, item in value.items()}
    return value


def _builtin_list() -> str:
    return ", ".join("{" + name + "}" for name in BUILTIN_VARIABLES)


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _display(loc: Sequence[str | int]) -> str:
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
    """For a union of ``_Tagged`` models, tag → model; else empty."""
    if typing.get_origin(annotation) not in (Union, types.UnionType):
        return {}
    found: dict[str, type[BaseModel]] = {}
    for member in typing.get_args(annotation):
        member = _unwrap(member)
        if isinstance(member, type) and issubclass(member, _Tagged):
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
class _Located:
    node: yaml.Node | None
    where: str
    known_keys: list[str] | None = None  # for an unknown key: the keys its mapping accepts
    tags: list[str] | None = None  # for a step's type: the types allowed there


def _locate(loc: Sequence[str | int], root: yaml.Node | None, *, extra_key: bool) -> _Located:
    """Follow a pydantic location through the model types and the YAML node tree together.

    The types tell a union tag (``('steps', 2, 'scale', 'replicas')``) from a key; the nodes
    give the line. Where the YAML stops matching (a missing key) the deepest node found is kept.
    """
    annotation: Any = Runbook
    node = root
    parent: yaml.Node | None = None
    matched = root is not None
    shown: list[str | int] = []
    located = _Located(root, "")
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
    located.where = _display(shown)
    return located


def _listed(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)


def _translate(error: Mapping[str, Any], located: _Located) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    got = _kind_of(value)
    if kind == "missing":
        return "is required"
    if kind == "invalid_key":
        return f"key {value!r} must be text; quote it or remove it"
    if kind == "extra_forbidden":
        key = str(error["loc"][-1]) if error["loc"] else "?"
        known = located.known_keys or []
        listing = f"; known keys: {', '.join(known)}" if known else ""
        return f"unknown key {key!r}{_did_you_mean(key, known)}{listing}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = located.tags or _listed(str(ctx.get("expected_tags", "")))
        tag = value.get("type") if isinstance(value, dict) else None
        if tag is None:
            return f"is required: one of {', '.join(tags)}"
        hint = _did_you_mean(tag, tags) if isinstance(tag, str) else ""
        return f"must be one of {', '.join(tags)}, not {_kind_of(tag)}{hint}"
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
        hint = _did_you_mean(value, expected) if isinstance(value, str) else ""
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


def _line_of(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _problems_from(exc: ValidationError, file: str, root: yaml.Node | None, *,
                   id_from_file: bool = False) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc.append("type")
        located = _locate(loc, root, extra_key=error["type"] in ("extra_forbidden",
                                                                  "invalid_key"))
        message = _translate(error, located)
        if error["type"] == "invalid_key":
            located.where = _locate(loc[:-1], root, extra_key=False).where
        if id_from_file and loc == ["id"]:
            message += " (taken from the file name; rename the file or set id:)"
        problem = Problem(file, _line_of(located.node), message, where=located.where)
        if problem not in problems:
            problems.append(problem)
    return sorted(problems, key=lambda p: p.line or 0)


# ---- YAML ----------------------------------------------------------------------------------

_MAX_BYTES = 1_000_000
_MAX_NODES = 100_000  # counted with aliases expanded: no "billion laughs"
_MAX_DEPTH = 40


def _check_tree(root: yaml.Node, file: str) -> None:
    """Size, depth and duplicate keys (PyYAML silently keeps the last duplicate)."""
    problems: list[Problem] = []
    checked: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > _MAX_NODES:
            raise RunbookError([Problem(file, None, f"too large: more than {_MAX_NODES} values "
                                        "(counting what anchors and aliases repeat)")])
        if depth > _MAX_DEPTH:
            raise RunbookError([Problem(file, _line_of(node), f"nested more than {_MAX_DEPTH} "
                                        "levels deep")])
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            first: dict[str, yaml.Node] = {}
            for key_node, value_node in node.value:
                stack.append((key_node, depth + 1))
                stack.append((value_node, depth + 1))
                if id(node) in checked or not isinstance(key_node, yaml.ScalarNode):
                    continue
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                if key_node.value in first:
                    problems.append(Problem(
                        file, _line_of(key_node),
                        f"duplicate key {key_node.value!r} (first at line "
                        f"{_line_of(first[key_node.value])})",
                        column=key_node.start_mark.column + 1))
                else:
                    first[key_node.value] = key_node
            checked.add(id(node))
    if problems:
        raise RunbookError(problems)


def _yaml_problem(exc: yaml.YAMLError, file: str, text: str) -> Problem:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            what = f"{exc.problem} ({exc.context})"
        if "chomping" in what:
            what += "; a value starting with > or | must be quoted, e.g. op: \">=\""
        if mark is None:
            return Problem(file, None, f"YAML error: {what}")
        return Problem(file, mark.line + 1, f"YAML syntax error: {what}", column=mark.column + 1)
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or " ")
        return Problem(file, line, f"YAML cannot contain the character #x{code:04x}",
                       column=column)
    return Problem(file, None, f"YAML error: {exc}")


def _unreadable_scalar(root: yaml.Node) -> yaml.ScalarNode | None:
    """The first scalar PyYAML fails to construct (it raises without saying where)."""
    constructor = yaml.SafeLoader("")
    stack = [root]
    seen: set[int] = set()
    try:
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, yaml.ScalarNode):
                try:
                    constructor.construct_object(node, deep=True)
                except (ValueError, OverflowError):
                    return node
                except yaml.YAMLError:
                    continue
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(reversed(node.value))
            elif isinstance(node, yaml.MappingNode):
                stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
    finally:
        constructor.dispose()
    return None


def _parse_yaml(text: str, file: str) -> tuple[yaml.Node, Any]:
    root: yaml.Node | None = None
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # checks for unprintable characters
        root = loader.get_single_node()
        if root is None:
            raise RunbookError([Problem(file, None, "the file is empty; a runbook is a mapping "
                                        "with id, title, kind and steps")])
        _check_tree(root, file)
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        raise RunbookError([_yaml_problem(exc, file, text)]) from None
    except RecursionError:
        raise RunbookError([Problem(file, None, "nested too deeply")]) from None
    except (ValueError, OverflowError) as exc:  # PyYAML: e.g. a date like 2024-02-30
        node = _unreadable_scalar(root) if root is not None else None
        what = f"{node.value!r} cannot be read: {exc}" if node else f"a value cannot be read: {exc}"
        raise RunbookError([Problem(file, _line_of(node), what + " (quote it to keep it as text)",
                                    column=node.start_mark.column + 1 if node else None)]
                           ) from None
    finally:
        if loader is not None:
            loader.dispose()
    return root, data


def parse_runbook(text: str, *, file: str = "<string>", default_id: str | None = None
                  ) -> Runbook:
    """Validate one runbook from YAML text; raises ``RunbookError`` (line-numbered problems).

    ``default_id`` (the file stem) is used when the document has no ``id:``.
    """
    root, data = _parse_yaml(text, file)
    if not isinstance(data, dict):
        raise RunbookError([Problem(file, _line_of(root), "a runbook must be a mapping "
                                    f"(key: value) at the top level, not {_kind_of(data)}")])
    id_from_file = default_id is not None and "id" not in data
    if id_from_file:
        data = {**data, "id": default_id}
    try:
        runbook = Runbook.model_validate(data, context={"defer_checks": True})
    except ValidationError as exc:
        raise RunbookError(_problems_from(exc, file, root, id_from_file=id_from_file)) from None
    problems = []
    for loc, message in runbook.check():
        located = _locate(loc, root, extra_key=False)
        problems.append(Problem(file, _line_of(located.node), message, where=located.where))
    if problems:
        raise RunbookError(sorted(problems, key=lambda p: p.line or 0))
    return runbook


def load_runbook(path: str | Path) -> Runbook:
    """Load and validate ``path``; its id defaults to the file name without ``.yaml``."""
    path = Path(path)
    file = str(path)
    try:
        if path.is_dir():
            raise RunbookError([Problem(file, None, "is a directory, not a runbook file")])
        if path.stat().st_size > _MAX_BYTES:
            raise RunbookError([Problem(file, None, f"too large (over {_MAX_BYTES} bytes)")])
        raw = path.read_bytes()
    except OSError as exc:
        raise RunbookError([Problem(file, None, f"cannot read: {exc.strerror or exc}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RunbookError([Problem(file, line, "not UTF-8 text")]) from None
    runbook = parse_runbook(text, file=file, default_id=path.stem)
    runbook._path = path
    return runbook


def runbook_files(directory: Path) -> list[Path]:
    """The ``*.yaml`` / ``*.yml`` files of a directory (not hidden), sorted by name."""
    return sorted(path for path in directory.iterdir()
                  if path.suffix in (".yaml", ".yml") and not path.name.startswith(".")
                  and path.is_file())


def load_dir(directory: str | Path) -> tuple[list[Runbook], list[Problem]]:
    """Every runbook in ``directory``; broken files become problems, never hide the others."""
    directory = Path(directory)
    try:
        files = runbook_files(directory)
    except OSError as exc:
        return [], [Problem(str(directory), None,
                            f"cannot list runbooks: {exc.strerror or exc}")]
    runbooks: list[Runbook] = []
    problems: list[Problem] = []
    by_id: dict[str, Runbook] = {}
    for path in files:
        try:
            runbook = load_runbook(path)
        except RunbookError as exc:
            problems.extend(exc.problems)
            continue
        except Exception as exc:  # noqa: BLE001 — a loader bug must not hide the other runbooks
            problems.append(Problem(str(path), None, f"internal error while loading: {exc!r}"))
            continue
        if runbook.id in by_id:
            problems.append(Problem(str(path), None, f"runbook id {runbook.id!r} is already "
                                    f"used by {by_id[runbook.id].path}; this file is ignored"))
            continue
        by_id[runbook.id] = runbook
        runbooks.append(runbook)
    return runbooks, problems


def builtin_dir() -> Path:
    """The shipped runbooks: ``runbooks/`` beside ``console/`` in a source checkout (or an
    editable install), else ``<prefix>/share/warroom/runbooks`` from an installed wheel."""
    checkout = Path(__file__).resolve().parents[2] / "runbooks"
    candidates = [checkout]
    for base in (sysconfig.get_path("data"), sys.prefix, getattr(site, "USER_BASE", None)):
        if base:
            candidates.append(Path(base) / "share" / "warroom" / "runbooks")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return checkout


def load_all(user_dirs: Iterable[str | Path] = (), *, builtin: bool = True
             ) -> tuple[list[Runbook], list[Problem]]:
    """The built-in runbooks, then each user directory's, sorted by id.

    A user runbook with a built-in's id replaces it (that is how a team adapts one); two user
    runbooks with the same id are a problem and the first is kept.
    """
    problems: list[Problem] = []
    chosen: dict[str, Runbook] = {}
    if builtin:
        found, trouble = load_dir(builtin_dir())
        problems.extend(trouble)
        chosen.update((runbook.id, runbook) for runbook in found)
    user_ids: dict[str, Runbook] = {}
    for directory in user_dirs:
        found, trouble = load_dir(directory)
        problems.extend(trouble)
        for runbook in found:
            if runbook.id in user_ids:
                problems.append(Problem(str(runbook.path), None, f"runbook id {runbook.id!r} "
                                        f"is already used by {user_ids[runbook.id].path}; "
                                        "this file is ignored"))
                continue
            user_ids[runbook.id] = runbook
            chosen[runbook.id] = runbook
    return sorted(chosen.values(), key=lambda r: r.id), problems


__all__ = [
    "BUILTIN_VARIABLES", "MUTATING_TYPES", "STEP_TYPES", "AnyStep", "BaseStep", "BindError",
    "BoundRunbook", "Compensation", "GateCondition", "GateOutcome", "GateStep", "HttpCheck",
    "ManualAction", "ManualStep", "Problem", "RestartAction", "RestartStep", "Runbook",
    "RunbookError", "ScaleAction", "ScaleStep", "ShellAction", "ShellStep", "Step",
    "UndoAction", "UndoStep", "Variable", "Verification", "VerifyStep", "WaitStep",
    "builtin_dir", "format_duration", "load_all", "load_dir", "load_runbook", "parse_duration",
    "parse_runbook", "runbook_files", "substitute", "template_variables",
]
