"""The step base (fields every step has) and the steps that are not cluster actions: ``manual``,
``verify``, ``gate``, ``wait``, and the fields of ``shell`` (its step, which can carry an undo,
is in ``schema``)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Annotated, ClassVar, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from console.runbook.field_types import (
    Duration,
    Identifier,
    PositiveDuration,
    Text,
    comparison_op,
    format_duration,
    kind_of,
)
from console.runbook.schema_checks import (
    GateCondition,
    GateOutcome,
    StrictModel,
    TaggedModel,
    VerificationFields,
)

_SHELL_TOKENS = frozenset({"|", "||", "&&", ";", "&", ">", ">>", "<", "<<", "2>", "2>&1", "&>"})


class ShellFields(StrictModel):
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
            raise ValueError(f"must be a command string or an argv list, not {kind_of(value)}")
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


class ManualFields(StrictModel):
    items: list[Text] = Field(default_factory=list)  # points to consider or tick off
    command: str | None = None  # shown for the operator to run by hand, never run


class WaitFields(StrictModel):
    duration_s: PositiveDuration = Field(alias="duration")

    def describe(self) -> str:
        return f"wait {format_duration(self.duration_s)}"


# -- compensations (``undo:``) that are not cluster actions ----------------------------------


class ShellAction(TaggedModel, ShellFields):
    type: Literal["shell"]
    title: Text | None = None


class ManualAction(TaggedModel, ManualFields):
    type: Literal["manual"]
    title: Text
    explain: str = ""

    def describe(self) -> str:
        return self.title


# -- steps -----------------------------------------------------------------------------------


class BaseStep(TaggedModel):
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


class ManualStep(BaseStep, ManualFields):
    type: Literal["manual"]


class VerifyStep(BaseStep, VerificationFields):
    type: Literal["verify"]

    def describe(self) -> str:
        names = [check.name for check in self.checks] + [g.describe() for g in self.gates]
        return "verify " + ", ".join(names)


class GateStep(BaseStep):
    type: Literal["gate"]
    name: str | None = None
    query: Text
    op: Annotated[Literal["<", "<=", ">", ">="], BeforeValidator(comparison_op)]
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


class WaitStep(BaseStep, WaitFields):
    type: Literal["wait"]

    def describe(self) -> str:
        return WaitFields.describe(self)


