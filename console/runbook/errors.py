"""The runbook room's errors: a ``Problem`` says where a runbook is wrong and what to do about
it; ``RunbookError`` carries them (``BindError`` when variables are missing at start)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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

