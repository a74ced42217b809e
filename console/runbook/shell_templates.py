"""Where ``{variables}`` may go in a shell command, and which values they may take.

Two mistakes turn an operator's value into something else than one argument:

- In a ``shell: true`` command the values are shell-quoted when substituted, so a variable
  written inside quotes (``"{database}"``, ``'{x}'``) gets quoted twice: the quotes become part
  of the value, or the value escapes them. The runbook check refuses it.
- A value beginning with ``-`` at the start of an argument is read by the program as an option
  (``pg_dump -f/etc/passwd``). Binding refuses such a value there unless the argument follows
  ``--``; the check refuses a default or example that would do it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from typing import Any

from console.runbook.schema_steps import ShellFields

Loc = tuple[str | int, ...]
_TEMPLATE_START = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WORD_TEMPLATE = re.compile(r"(?:^|(?<=[\s;|&(]))\{([A-Za-z_][A-Za-z0-9_]*)\}")


def shell_commands(steps: list[Any]) -> Iterator[tuple[Loc, ShellFields]]:
    """Every shell step and shell compensation, with the location of its ``command``."""
    for index, step in enumerate(steps):
        loc: Loc = ("steps", index, step.type)
        if isinstance(step, ShellFields):
            yield loc + ("command",), step
        undo = getattr(step, "undo", None)
        if isinstance(undo, ShellFields):
            yield loc + ("undo", "shell", "command"), undo


def quoted_variables(command: str) -> list[str]:
    """Variables written inside single or double quotes of a shell command string."""
    found: list[str] = []
    quote = ""
    index = 0
    while index < len(command):
        char = command[index]
        if char == "\\" and quote != "'":
            index += 2
            continue
        if quote and char == "{":
            match = _TEMPLATE_START.match(command, index)
            if match and command[index - 1:index] not in ("$", "{") and not command.startswith(
                    "}", match.end()):
                found.append(match.group(1))
        if char in "'\"" and (not quote or quote == char):
            quote = "" if quote else char
        index += 1
    return found


def option_position_variables(fields: ShellFields) -> list[tuple[Loc, str]]:
    """Variables that begin an argument before any ``--``: (location suffix, name)."""
    found: list[tuple[Loc, str]] = []
    if fields.argv is not None:
        for position, arg in enumerate(fields.argv):
            if arg == "--":
                break
            match = _TEMPLATE_START.match(arg)
            if position > 0 and match:
                found.append(((position,), match.group(1)))
        return found
    command = str(fields.command)
    end_of_options = re.search(r"(?:^|\s)--(?:\s|$)", command)
    for match in _WORD_TEMPLATE.finditer(command):
        if end_of_options and match.start() > end_of_options.start():
            break
        found.append(((), match.group(1)))
    return found


def check_shell_templates(steps: list[Any], variables: Mapping[str, Any]
                          ) -> list[tuple[Loc, str]]:
    """The runbook check's problems with variables in shell commands."""
    problems: list[tuple[Loc, str]] = []
    for loc, fields in shell_commands(steps):
        if fields.shell and isinstance(fields.command, str):
            for name in dict.fromkeys(quoted_variables(fields.command)):
                problems.append((loc, f"{{{name}}} is inside quotes in a shell: true command; "
                                 "values are shell-quoted when substituted, so remove the quotes "
                                 f"around {{{name}}}"))
        for suffix, name in option_position_variables(fields):
            spec = variables.get(name)
            for what in ("default", "example"):
                value = getattr(spec, what, None) if spec is not None else None
                if isinstance(value, str) and value.startswith("-"):
                    problems.append((loc + suffix, _option_message(name, value, what)))
    return problems


def check_bound_values(steps: list[Any], values: Mapping[str, str]) -> list[tuple[Loc, str]]:
    """Values that would be read as options where they are substituted."""
    problems: list[tuple[Loc, str]] = []
    for loc, fields in shell_commands(steps):
        for suffix, name in option_position_variables(fields):
            value = values.get(name, "")
            if value.startswith("-"):
                problems.append((loc + suffix, _option_message(name, value, "value")))
    return problems


def _option_message(name: str, value: str, what: str) -> str:
    return (f"the {what} of {{{name}}} ({shlex.quote(value)}) starts with '-' and would be read "
            f"as an option; put '--' before {{{name}}} in the command, or write it as "
            f"--flag={{{name}}}")


__all__ = ["check_bound_values", "check_shell_templates", "option_position_variables",
           "quoted_variables", "shell_commands"]
