"""Where each setting comes from: flag > environment > file (the context's table, then the
file's global keys) > built-in default. ``resolve`` returns every value with its source
(``flag``, ``env:NAME``, ``file:LINE``, ``default``), for the console and `warroom config show`.

``metrics`` and ``runbook_values`` are merged key by key: a context's ``[metrics]`` may change
only ``base_url`` and keep the global credentials; ``--set KEY=VALUE`` sets one value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from console.config.errors import ConfigError, ConfigProblem
from console.config.load import LoadedConfig, plain_message
from console.config.schema import ConfigFile, ContextTable

MERGED = ("metrics", "runbook_values")  # merged key by key across the layers
DEFAULTS: dict[str, Any] = {
    "contexts": [], "namespace": None, "read_only": False, "two_person": False,
    "production": None, "max_replicas": 50, "theme": "warroom-dark", "runbook": None,
    "runbook_dirs": [], "runbook_values": {}, "metrics": {}, "checks": [], "checks_ca": None,
    "webhooks": [], "database_dsn": None, "database_password_file": None,
}
ENV: dict[str, str] = {  # setting -> environment variable
    "contexts": "WARROOM_CONTEXTS", "namespace": "WARROOM_NAMESPACE",
    "read_only": "WARROOM_READ_ONLY", "two_person": "WARROOM_TWO_PERSON",
    "production": "WARROOM_PRODUCTION", "max_replicas": "WARROOM_MAX_REPLICAS",
    "theme": "WARROOM_THEME", "runbook": "WARROOM_RUNBOOK",
    "runbook_dirs": "WARROOM_RUNBOOK_DIRS", "metrics.base_url": "WARROOM_PROMETHEUS",
    "database_dsn": "WARROOM_DATABASE_DSN",
    "database_password_file": "WARROOM_DATABASE_PASSWORD_FILE",
}
LIST_SETTINGS = ("contexts", "runbook_dirs")  # from the environment: comma-separated


@dataclass(frozen=True)
class Sourced:
    value: Any
    source: str  # "flag", "env:NAME", "file:LINE", "default"
    path: tuple[str | int, ...] = ()  # the key in the file, for messages


@dataclass
class Resolved:
    """Every setting's effective value and source (``metrics.KEY``/``runbook_values.KEY``
    one entry per key), the file they came from and the context table that applied."""

    values: dict[str, Sourced] = field(default_factory=dict)
    config: LoadedConfig | None = None
    context: str | None = None
    context_table: bool = False

    def value(self, name: str) -> Any:
        return self.values[name].value

    def merged(self, name: str) -> dict[str, Sourced]:
        prefix = name + "."
        return {key[len(prefix):]: item for key, item in self.values.items()
                if key.startswith(prefix)}


def resolve(flags: Mapping[str, Any], *, env: Mapping[str, str] | None = None,
            config: LoadedConfig | None = None, context: str | None = None) -> Resolved:
    """Resolve every setting. ``flags`` holds only what was given on the command line
    (``metrics.base_url`` for --prometheus, ``runbook_values.KEY`` for --set)."""
    env = os.environ if env is None else env
    layers = [_flag_layer(flags), _env_layer(env)]
    table = None
    if config is not None:
        model = config.model
        table = model.context.get(context) if context else None
        if table is not None:
            layers.append(_file_layer(table, config, ("context", context)))  # type: ignore[arg-type]
        layers.append(_file_layer(model, config, ()))
    result = Resolved(config=config, context=context, context_table=table is not None)
    for name, default in DEFAULTS.items():
        if name in MERGED:
            keys = sorted({k for layer in layers for k in layer if k.startswith(name + ".")})
            for key in keys:
                result.values[key] = next(layer[key] for layer in layers if key in layer)
            continue
        found = next((layer[name] for layer in layers if name in layer), None)
        result.values[name] = found or Sourced(default, "default")
    return result


def _flag_layer(flags: Mapping[str, Any]) -> dict[str, Sourced]:
    return {name: Sourced(value, "flag") for name, value in flags.items() if value is not None}


def _env_layer(env: Mapping[str, str]) -> dict[str, Sourced]:
    layer: dict[str, Sourced] = {}
    problems = []
    for name, variable in ENV.items():
        text = env.get(variable)
        if text is None or text == "":
            continue
        if name in LIST_SETTINGS:
            value: Any = [part.strip() for part in text.split(",") if part.strip()]
        else:
            value = text
        top = name.split(".")[0]
        annotation = ContextTable.model_fields[top].annotation if top != "contexts" else \
            ConfigFile.model_fields["contexts"].annotation
        if top != "metrics":
            try:
                value = TypeAdapter(annotation).validate_python(value, strict=False)
            except ValidationError as exc:
                error = exc.errors()[0]
                problems.append(ConfigProblem(f"environment {variable}",
                                              plain_message(error, (name,))))
                continue
        layer[name] = Sourced(value, f"env:{variable}")
    if problems:
        raise ConfigError(problems)
    return layer


def _file_layer(table: ContextTable, config: LoadedConfig,
                prefix: tuple[str, ...]) -> dict[str, Sourced]:
    layer: dict[str, Sourced] = {}
    for name in table.model_fields_set:
        if name == "context":
            continue
        value = getattr(table, name)
        path = (*prefix, name)
        if name in MERGED:
            for key, item in (value or {}).items():
                line = config.line((*path, key))
                layer[f"{name}.{key}"] = Sourced(item, f"file:{line}", (*path, key))
            continue
        layer[name] = Sourced(value, f"file:{config.line(path)}", path)
    return layer


__all__ = ["DEFAULTS", "ENV", "Resolved", "Sourced", "resolve"]
