"""What healthy looks like: HTTP checks, PromQL gate conditions and verification rounds, plus
the strict base models every runbook model derives from."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from console.runbook.field_types import (
    Duration,
    PositiveDuration,
    Text,
    comparison_op,
    format_duration,
    http_method,
    status_codes,
)
from console.runbook.templates import has_template, is_bound

GateOutcome = Literal["pass", "fail", "unknown"]
_JSON_PATH = re.compile(r"(?:[^.\[\]]+|\[-?\d+\])(?:\.[^.\[\]]+|\[-?\d+\])*")


class StrictModel(BaseModel):
    """Unknown keys, type coercion and NaN/inf are errors; models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class TaggedModel(StrictModel):
    """A member of a union told apart by ``type`` (its tag appears in error locations)."""

    type: str


class HttpCheck(StrictModel):
    """One HTTP request and what a healthy answer looks like (see ``adapters.probes.Check``)."""

    name: Text
    url: Text
    method: Annotated[str, BeforeValidator(http_method)] = "GET"
    expect_status: Annotated[list[int], BeforeValidator(status_codes)] = Field(
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
        if (is_bound(info) or not has_template(value)) and not re.match(
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


class GateCondition(StrictModel):
    """``query op threshold`` holding for ``for``: the handbook's thresholds as PromQL."""

    name: str | None = None
    query: Text
    op: Annotated[Literal["<", "<=", ">", ">="], BeforeValidator(comparison_op)]
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


class VerificationFields(StrictModel):
    checks: list[HttpCheck] = Field(default_factory=list)
    gates: list[GateCondition] = Field(default_factory=list)
    deadline_s: PositiveDuration = Field(300.0, alias="deadline")
    interval_s: PositiveDuration = Field(10.0, alias="interval")
    tolerance: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _something_to_check(self) -> VerificationFields:
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


class Verification(VerificationFields):
    """``verify:`` on an action step: wait until the checks pass, or fail at the deadline."""

