"""`warroom runbooks list [--dir D]` and `warroom runbooks check FILE...`.

Exit codes: 0 all good; 1 a problem was found (a runbook that does not load, an unreadable
file or directory); 2 usage (bad arguments, from argparse).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.runbook.builtin import builtin_dir
from console.runbook.errors import Problem, RunbookError

# the loading (YAML, the pydantic schema, the action registry) is imported by the commands:
# building the parser (every `warroom` start, `--help`) needs none of it
if TYPE_CHECKING:
    from console.runbook.schema import Runbook

EXIT_OK = 0
EXIT_PROBLEM = 1

_TITLE_WIDTH = 60


def add_runbook_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``runbooks list`` and ``runbooks check`` to an argparse subparsers object.

    Each leaf parser sets ``runbooks_handler``; dispatch with ``run_runbooks_command(args)``.
    """
    runbooks = subparsers.add_parser(
        "runbooks", help="list the runbooks, or check runbook files",
        description="Runbooks are the handbook's procedures and checklists as YAML files. "
                    f"The built-in ones live in {builtin_dir()}.")
    actions = runbooks.add_subparsers(dest="runbooks_command", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list", help="list the built-in runbooks (and those in --dir)",
        description="List the built-in runbooks and those in each --dir. A runbook in a --dir "
                    "with the id of a built-in one replaces it. Files that do not load are "
                    "listed after the table with file:line; the exit code is then 1.")
    listing.add_argument("--dir", dest="dirs", metavar="D", type=Path, action="append",
                         default=[], help="also load the *.yaml runbooks in D (repeatable)")
    listing.set_defaults(runbooks_handler=run_list)

    check = actions.add_parser(
        "check", help="validate runbook files",
        description="Validate runbook files (a directory: its *.yaml files). Prints "
                    "'ok: FILE (N steps)' or each problem as FILE:LINE: where: message. "
                    "Exit 0 if all are valid, 1 if not.")
    check.add_argument("files", metavar="FILE", type=Path, nargs="+",
                       help="runbook YAML file or directory")
    check.set_defaults(runbooks_handler=run_check)
    return runbooks


def run_runbooks_command(args: argparse.Namespace) -> int:
    """Run the handler chosen by the parser (for ``warroom runbooks ...``)."""
    handler = getattr(args, "runbooks_handler", None)
    if handler is None:
        print("warroom runbooks: choose an action: list or check", file=sys.stderr)
        return 2
    result: int = handler(args)
    return result


def run_list(args: argparse.Namespace) -> int:
    """``warroom runbooks list [--dir D]...``: a table, then problems (file:line)."""
    from console.runbook.loading import load_all

    runbooks, problems = load_all(getattr(args, "dirs", None) or [])
    print(format_table(runbooks))
    if problems:
        _print_problems(problems)
        return EXIT_PROBLEM
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    """``warroom runbooks check FILE...``: ``ok: FILE (N steps)`` or line-numbered errors."""
    from console.runbook.loading import load_runbook

    problems: list[Problem] = []
    for target in args.files:
        for path in _expand(target, problems):
            try:
                runbook = load_runbook(path)
            except RunbookError as exc:
                problems.extend(exc.problems)
                for problem in exc.problems:
                    print(problem, file=sys.stderr)
                continue
            steps = len(runbook.steps)
            print(f"ok: {path} ({steps} step{'s' if steps != 1 else ''})")
    if problems:
        files = len({problem.file for problem in problems})
        print(f"{len(problems)} problem(s) in {files} file(s)", file=sys.stderr)
        return EXIT_PROBLEM
    return EXIT_OK


def _expand(target: Path, problems: list[Problem]) -> list[Path]:
    from console.runbook.loading import runbook_files

    if not target.is_dir():
        return [target]
    try:
        files = runbook_files(target)
    except OSError as exc:
        problem = Problem(str(target), None, f"cannot list: {exc.strerror or exc}")
        problems.append(problem)
        print(problem, file=sys.stderr)
        return []
    if not files:
        problem = Problem(str(target), None, "no *.yaml runbook files in this directory")
        problems.append(problem)
        print(problem, file=sys.stderr)
    return files


def format_table(runbooks: Sequence[Runbook]) -> str:
    """ID, KIND, STEPS, TITLE — one runbook per line."""
    rows = [("ID", "KIND", "STEPS", "TITLE")]
    for runbook in runbooks:
        title = runbook.title
        if len(title) > _TITLE_WIDTH:
            title = title[: _TITLE_WIDTH - 1] + "…"
        rows.append((runbook.id, runbook.kind, str(len(runbook.steps)), title))
    if len(rows) == 1:
        return "no runbooks found"
    id_width = max(len(row[0]) for row in rows)
    kind_width = max(len(row[1]) for row in rows)
    return "\n".join(f"{rid:<{id_width}}  {kind:<{kind_width}}  {steps:>5}  {title}"
                     for rid, kind, steps, title in rows)


def _print_problems(problems: Sequence[Problem]) -> None:
    print(f"\n{len(problems)} problem(s):", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry (``python -m console.cli.runbooks check FILE``), for tests and scripts."""
    parser = argparse.ArgumentParser(prog="warroom")
    add_runbook_commands(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    return run_runbooks_command(args)


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["add_runbook_commands", "format_table", "main", "run_check", "run_list",
           "run_runbooks_command"]
