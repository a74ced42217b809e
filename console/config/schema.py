"""The config file's shape, as pydantic models: every key, its type and its limits.

The same keys are allowed at the top of the file (defaults for every context) and in a
``[context."NAME"]`` table (that kubeconfig context only); ``contexts`` is top-level only.
``[metrics]`` is checked by ``MetricsConfig.from_mapping`` (adapters/metrics_config.py), so a
key it learns (e.g. ``preset``) is a config key without a change here.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORKLOAD = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def _http_url(value: str) -> str:
    if not re.match(r"https?://[^/\s]+", value):
        raise ValueError(f"must be an http:// or https:// URL, not {value!r}")
    return value


def _variable(value: str) -> str:
    if not _VARIABLE.fullmatch(value):
        raise ValueError(f"{value!r} is not a variable name (letters, digits and _)")
    return value


def _workload(value: str) -> str:
    if not _WORKLOAD.fullmatch(value) or len(value) > 253:
        raise ValueError(f"{value!r} is not a deployment name (lower-case letters, digits, -)")
    return value


def _text_value(value: object) -> object:
    """Runbook values may be written as numbers in TOML (``writer_replicas = 3``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
Text = Annotated[str, AfterValidator(_not_blank)]
Replicas = Annotated[int, Field(ge=1, le=100_000)]
StatusCode = Annotated[int, Field(ge=100, le=599)]
VariableName = Annotated[str, AfterValidator(_variable)]
RunbookValue = Annotated[str, BeforeValidator(_text_value)]


class Strict(BaseModel):
    """No unknown keys; no silent conversion (``"true"`` is not a boolean in the file)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CheckTable(Strict):
    """One verification check (``v`` and the runbook's verify steps) for one workload."""

    workload: Annotated[str, AfterValidator(_workload)]
    url: HttpUrl
    name: Text | None = None
    method: Literal["GET", "HEAD"] = "GET"
    expect_status: StatusCode | list[StatusCode] = 200
    latency_budget_ms: Annotated[float, Field(gt=0)] | None = None
    body_contains: Text | None = None
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 5.0
    retries: Annotated[int, Field(ge=0, le=10)] = 0
    headers: dict[str, str] = Field(default_factory=dict)


class ContextTable(Strict):
    """Settings for every context (top of the file) or for one (``[context."NAME"]``)."""

    namespace: Text | None = None
    read_only: bool | None = None
    two_person: bool | None = None
    production: bool | None = None
    max_replicas: Replicas | None = None
    theme: Text | None = None
    runbook: Text | None = None
    runbook_dirs: list[Text] | None = None
    runbook_values: dict[VariableName, RunbookValue] | None = None
    metrics: dict[str, Any] | None = None
    checks: list[CheckTable] | None = None
    checks_ca: Text | None = None
    webhooks: list[HttpUrl] | None = None
    database_dsn: Text | None = None  # libpq DSN without the password (db-* runbook steps)
    database_password_file: Text | None = None  # the password, alone in a file (else PGPASSFILE)


class ConfigFile(ContextTable):
    """The whole file: the global settings, the contexts to open, a table per context."""

    contexts: list[Text] | None = None
    context: dict[str, ContextTable] = Field(default_factory=dict)


__all__ = ["CheckTable", "ConfigFile", "ContextTable"]
