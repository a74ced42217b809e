"""Resolved settings -> ``ConsoleSettings`` fields: Prometheus (``MetricsConfig``), checks
(``Check``), runbook folders. A value that cannot be used is a ``ConfigError`` at its line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.errors import AdapterError
from adapters.metrics_config import MetricsConfig
from console.config.errors import ConfigError, ConfigProblem
from console.config.schema import CheckTable
from console.config.sources import Resolved, Sourced

if TYPE_CHECKING:  # probes pull httpx and tenacity: imported when a check is configured
    from adapters.probes import Check

# ConsoleSettings field for each setting whose name differs
FIELDS = {"runbook_dirs": "user_runbook_dirs", "checks_ca": "probe_ca"}
_KEY_IN_MESSAGE = re.compile(r"metrics config: (?:unknown key '([^']+)'|([a-z_]+)[ .:])")


def settings_fields(resolved: Resolved) -> dict[str, Any]:
    """The ``ConsoleSettings`` keyword arguments for ``resolved``."""
    out: dict[str, Any] = {}
    for name, item in resolved.values.items():
        if "." in name:
            continue
        value = item.value
        if name == "contexts":
            value = tuple(value)
        elif name == "runbook_dirs":
            value = tuple(Path(p).expanduser() for p in value)
        elif name == "webhooks":
            value = tuple(value)
        elif name == "checks":
            value = tuple(_check(c) for c in value)
        elif name in ("checks_ca", "database_password_file") and value is not None:
            value = _existing_file(value, item, resolved, name)
        out[FIELDS.get(name, name)] = value
    out["runbook_values"] = {k: str(s.value) for k, s in resolved.merged("runbook_values").items()}
    out["metrics"] = metrics_config(resolved)
    out["config_file"] = resolved.config.path if resolved.config else None
    return out


def metrics_config(resolved: Resolved) -> MetricsConfig | None:
    """``MetricsConfig`` from the merged ``[metrics]`` keys (None when there are none)."""
    parts = resolved.merged("metrics")
    if not parts:
        return None
    data = {key: item.value for key, item in parts.items()}
    try:
        return MetricsConfig.from_mapping(data)
    except AdapterError as error:
        message = error.message.removeprefix("metrics config: ")
        match = _KEY_IN_MESSAGE.search(error.message)
        key = (match.group(1) or match.group(2)).split(".")[0] if match else ""
        item = parts.get(key) or next(iter(parts.values()))
        raise ConfigError([ConfigProblem(where(item, resolved), f"metrics: {message}")]) from None


def _check(table: CheckTable) -> Check:
    from adapters.probes import Check

    name = table.name or f"{table.workload} {table.url}"
    status: Any = tuple(table.expect_status) if isinstance(table.expect_status, list) \
        else table.expect_status
    return Check(name=name, url=table.url, method=table.method, expect_status=status,
                 body_contains=table.body_contains, latency_budget_ms=table.latency_budget_ms,
                 timeout_s=table.timeout_s, retries=table.retries, headers=dict(table.headers),
                 workload=table.workload)


def _existing_file(value: str, item: Sourced, resolved: Resolved, name: str) -> str:
    path = Path(value).expanduser()
    if not path.is_file():
        raise ConfigError([ConfigProblem(where(item, resolved),
                                         f"{name}: no such file: {path}")])
    return str(path)


def where(item: Sourced, resolved: Resolved) -> str:
    if item.source.startswith("file:") and resolved.config is not None:
        return resolved.config.where(item.path)
    if item.source.startswith("env:"):
        return "environment " + item.source[4:]
    return "command line" if item.source == "flag" else item.source


__all__ = ["metrics_config", "settings_fields", "where"]
