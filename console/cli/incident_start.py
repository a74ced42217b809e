"""Naming the incident at the start: ``--title``, ``--severity``, or two questions on a terminal.

``warroom --title "checkout 500s" --severity critical`` names a new incident. Without either,
on a terminal (stdin and stdout a TTY), for a new incident on a real cluster, the console asks
two short questions first; Enter keeps the default ("incident on CONTEXT/NAMESPACE", high),
Ctrl-D or Ctrl-C skips both. Drills (their scenario names the incident), ``--resume`` (the
incident has its name: change the severity in the console with ``!``) and anything not on a
terminal (tests, scripts) never ask.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable

from adapters.redact import redact
from console.domain.incident_status import SEVERITY_LEVELS

TITLE_LIMIT = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def add_incident_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--title", type=incident_title, default=None, metavar="TEXT",
                        help="the new incident's title (default: asked on a terminal, else "
                             "'incident on CONTEXT/NAMESPACE')")
    parser.add_argument("--severity", type=severity, default=None,
                        metavar="|".join(SEVERITY_LEVELS),
                        help="the new incident's severity (default: asked on a terminal, "
                             "else high); change it in the console with !")


def incident_title(text: str) -> str:
    """A title as given, without control characters and secrets; not empty, not too long."""
    cleaned = redact(" ".join(_CONTROL.sub(" ", text).split()))
    if not cleaned:
        raise argparse.ArgumentTypeError("the title is empty")
    if len(cleaned) > TITLE_LIMIT:
        raise argparse.ArgumentTypeError(f"the title is {len(cleaned)} characters; at most "
                                         f"{TITLE_LIMIT}")
    return cleaned


def severity(text: str) -> str:
    value = text.strip().lower()
    if value not in SEVERITY_LEVELS:
        raise argparse.ArgumentTypeError(f"severity is one of {', '.join(SEVERITY_LEVELS)}, "
                                         f"not {text!r}")
    return value


def check_resume(args: argparse.Namespace) -> str | None:
    """Why ``--title``/``--severity`` cannot go with ``--resume`` (None when fine)."""
    if getattr(args, "resume", None) and (args.title is not None or args.severity is not None):
        return ("--title and --severity name a new incident; a resumed incident keeps its "
                "own (change the severity in the console with !)")
    return None


def ask(args: argparse.Namespace, *, interactive: bool | None = None,
        read: Callable[[str], str] = input) -> tuple[str | None, str | None]:
    """(title, severity) for a new incident on a real cluster: from the options, else asked
    when on a terminal, else (None, None) for the defaults."""
    if args.title is not None or args.severity is not None or getattr(args, "resume", None):
        return args.title, args.severity
    if interactive is None:
        interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if not interactive:
        return None, None
    print("New incident — Enter keeps the default, Ctrl-D skips.", flush=True)
    try:
        title = _ask_until(read, "Title [incident on CONTEXT/NAMESPACE]: ", incident_title)
        level = _ask_until(read, f"Severity ({'/'.join(SEVERITY_LEVELS)}) [high]: ", severity)
    except (EOFError, KeyboardInterrupt):
        print(flush=True)
        return None, None
    return title, level


def _ask_until(read: Callable[[str], str], prompt: str,
               check: Callable[[str], str]) -> str | None:
    while True:
        text = read(prompt)
        if not text.strip():
            return None
        try:
            return check(text)
        except argparse.ArgumentTypeError as error:
            print(f"  {error}", flush=True)


__all__ = ["add_incident_options", "ask", "check_resume", "incident_title", "severity"]
