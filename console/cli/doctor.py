"""`warroom doctor`: is the state directory set up safely, and for one person or a group?

Prints one line per finding (``ok``, ``note``, ``PROBLEM``, ``UNSAFE``) with, for each problem,
the command that fixes it. Exit 0 when nothing needs fixing, 1 otherwise. The set-up for
two-account pair-driving is described in docs/SECURITY.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from console.domain.state_checks import diagnose
from console.domain.statefiles import STATE_DIR_ENV, default_state_dir

EXIT_OK = 0
EXIT_PROBLEM = 1
_LABELS = {"ok": "ok", "note": "note", "problem": "PROBLEM", "unsafe": "UNSAFE"}


def add_doctor_command(subparsers: Any) -> argparse.ArgumentParser:
    doctor = subparsers.add_parser(
        "doctor",
        help="check the state directory set-up (owner, group, modes, links)",
        description="Check the warroom state directory (audit logs, incident state): that "
        "nobody else can plant files in it, and, for two-account pair-driving, that it is a "
        "setgid group directory (2770) you and your partner belong to. Says what to fix. "
        f"The directory is ${STATE_DIR_ENV}, else the per-user state directory.",
    )
    doctor.add_argument(
        "--state-dir",
        metavar="DIR",
        type=Path,
        help=f"check DIR instead (default: ${STATE_DIR_ENV})",
    )
    return doctor


def run_doctor(args: argparse.Namespace) -> int:
    path = args.state_dir or default_state_dir()
    where = (
        f" (from ${STATE_DIR_ENV})"
        if args.state_dir is None and os.environ.get(STATE_DIR_ENV)
        else ""
    )
    print(f"state directory: {path}{where}")
    try:
        findings = diagnose(path)
    except OSError as exc:
        print(f"warroom doctor: cannot inspect {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_PROBLEM
    failing = 0
    for finding in findings:
        print(f"{_LABELS[finding.level]:>7}  {finding.text}")
        if finding.fix:
            print(f"         fix: {finding.fix}")
        failing += finding.level in ("problem", "unsafe")
    if failing:
        print(f"{failing} thing(s) to fix; see docs/SECURITY.md", file=sys.stderr)
        return EXIT_PROBLEM
    print("nothing to fix")
    return EXIT_OK


__all__ = ["add_doctor_command", "run_doctor"]
