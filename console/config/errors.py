"""Config errors: each problem says the file, the line and what to change, in plain words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong: where (file and line, or an environment variable) and what."""

    where: str  # "config.toml:12", "environment WARROOM_THEME", "--set"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ConfigError(Exception):
    """The configuration cannot be used; ``message`` lists every problem, one a line."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        self.message = "\n".join(str(p) for p in self.problems)
        super().__init__(self.message)


__all__ = ["ConfigError", "ConfigProblem"]
