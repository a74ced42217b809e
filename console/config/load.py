"""Finding and reading the config file: TOML (tomllib), checked by the schema, every problem
with its line.

The file is ``--config FILE``, else ``$WARROOM_CONFIG``, else
``$XDG_CONFIG_HOME/warroom/config.toml`` (``~/.config/warroom/config.toml``); only the last
may be missing.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from console.config.errors import ConfigError, ConfigProblem
from console.config.schema import ConfigFile
from console.config.toml_lines import KeyLines

CONFIG_ENV = "WARROOM_CONFIG"
MAX_CONFIG_BYTES = 1 << 20


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "warroom" / "config.toml"


def config_path(flag: str | None, env: Mapping[str, str] | None = None) -> tuple[Path, str]:
    """The config file to read and what chose it: ``flag``, ``env`` or ``default``."""
    env = os.environ if env is None else env
    if flag:
        return Path(flag).expanduser(), "flag"
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser(), "env"
    return default_config_path(env), "default"


@dataclass(frozen=True)
class LoadedConfig:
    """A config file that parsed and passed the schema."""

    path: Path
    model: ConfigFile
    lines: KeyLines

    def where(self, path: tuple[str | int, ...]) -> str:
        """``config.toml:LINE`` for a key path (its nearest defined parent's line)."""
        line = self.lines.line(path)
        return f"{self.path}:{line}" if line else str(self.path)

    def line(self, path: tuple[str | int, ...]) -> int | None:
        return self.lines.line(path)


def find_config(flag: str | None = None,
                env: Mapping[str, str] | None = None) -> LoadedConfig | None:
    """Read the config file that applies; None when there is none (only the default path may
    be missing). Raises ``ConfigError``."""
    path, chosen = config_path(flag, env)
    if chosen == "default" and not path.exists():
        return None
    return read_config(path, how={"flag": "--config", "env": CONFIG_ENV}.get(chosen))


def read_config(path: Path, how: str | None = None) -> LoadedConfig:
    """Parse and check ``path``; raises ``ConfigError`` listing every problem with its line."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        named = f" (named by {how})" if how else ""
        raise ConfigError([ConfigProblem(
            str(path), f"cannot read the config file{named}: {exc.strerror or exc}")]) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError([ConfigProblem(str(path), "the config file is larger than 1 MiB")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError([ConfigProblem(f"{path}:{line}", "not UTF-8 text")]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([toml_problem(path, exc)]) from None
    lines = KeyLines(text)
    try:
        model = ConfigFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(problems_from(exc, path, lines, raw)) from None
    return LoadedConfig(path, model, lines)


_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def toml_problem(path: Path, exc: tomllib.TOMLDecodeError) -> ConfigProblem:
    message = str(exc)
    match = _AT.search(message)
    if not match:
        return ConfigProblem(str(path), f"not valid TOML: {message}")
    text = message[: match.start()].rstrip(".")
    return ConfigProblem(f"{path}:{match.group(1)}",
                         f"not valid TOML (column {match.group(2)}): {text[:1].lower()}{text[1:]}")


def problems_from(exc: ValidationError, path: Path, lines: KeyLines,
                  raw: Any) -> list[ConfigProblem]:
    """One problem per key (a value that fits none of a union's types: one message)."""
    by_key: dict[tuple[str | int, ...], list[str]] = {}
    for error in exc.errors():
        loc = _in_file(tuple(error["loc"]), raw, error["type"] == "extra_forbidden")
        message = plain_message(error, loc)
        if message not in by_key.setdefault(loc, []):
            by_key[loc].append(message)
    problems = []
    for loc, messages in by_key.items():
        line = lines.line(loc)
        where = f"{path}:{line}" if line else str(path)
        text = messages[0] + (f" (or {'; or '.join(messages[1:])})" if messages[1:] else "")
        problems.append(ConfigProblem(where, f"{dotted(loc)}: {text}"))
    return sorted(problems, key=lambda p: _line_of(p.where))


def _line_of(where: str) -> int:
    tail = where.rpartition(":")[2]
    return int(tail) if tail.isdigit() else 0


def _in_file(loc: tuple[str | int, ...], raw: Any, extra: bool) -> tuple[str | int, ...]:
    """``loc`` without pydantic's union tags (``constrained-int``): the path as written."""
    out: list[str | int] = []
    node = raw
    for index, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif extra and index == len(loc) - 1:
            pass
        else:
            continue
        out.append(part)
    return tuple(out)


def dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            out += f".{part}" if out else part
        else:
            out += f'."{part}"' if out else f'"{part}"'
    return out or "(top level)"


def plain_message(error: Any, loc: tuple[str | int, ...]) -> str:
    """pydantic's error in the words of someone editing a TOML file."""
    kind, value = error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    if kind == "extra_forbidden":
        known = known_keys(loc[:-1])
        hint = did_you_mean(str(loc[-1]), known)
        return f"unknown key{hint}; known keys: {', '.join(known)}"
    if kind == "missing":
        return "is required here"
    if kind == "bool_type":
        return f"must be true or false (without quotes), not {shown}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, not {shown}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, not {shown}"
    if kind == "string_type":
        return f'must be text in quotes ("..."), not {shown}'
    if kind == "list_type":
        return f'must be a list such as ["a", "b"], not {shown}'
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a table (key = value pairs), not {shown}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": "at least", "greater_than": "more than",
                 "less_than_equal": "at most", "less_than": "less than"}[kind]
        limit = next(iter(ctx.values()), "?")
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)
        return f"must be {words} {limit}, not {shown}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '?')}, not {shown}"
    message = str(error.get("msg", "is not valid"))
    return message.removeprefix("Value error, ")


def known_keys(parent: tuple[str | int, ...]) -> list[str]:
    """The keys the schema allows in the table at ``parent``."""
    model: type[BaseModel] | None = ConfigFile
    skip = False
    for part in parent:
        if skip or isinstance(part, int):
            skip = False
            continue
        if model is None or part not in model.model_fields:
            return []
        annotation = model.model_fields[part].annotation
        model, skip = _inner_model(annotation)
    return list(model.model_fields) if model is not None else []


def _inner_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model inside ``list[M]``, ``dict[str, M]``, ``M | None``; and whether a dict key
    comes next in a location."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    for arg in get_args(annotation):
        model, keyed = _inner_model(arg)
        if model is not None:
            return model, keyed or get_origin(annotation) is dict
    return None, False


def did_you_mean(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f" {word!r} (did you mean {close[0]!r}?)" if close else f" {word!r}"


__all__ = ["CONFIG_ENV", "LoadedConfig", "config_path", "default_config_path", "find_config",
           "read_config"]
