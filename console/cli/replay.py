"""`warroom replay AUDIT.jsonl [--speed X] [--max-gap S]`: play an audit log back on screen.

Exit codes: 0 done; 2 usage (bad arguments, an unreadable or empty audit log).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_USAGE = 2
DEFAULT_MAX_GAP_S = 60.0


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def add_replay_command(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``replay`` to an argparse subparsers object; dispatch with ``run_replay_command``."""
    replay = subparsers.add_parser(
        "replay",
        help="play an incident's audit log back on screen (post-mortems, training)",
        description="Play an incident's (or drill's) audit log back in the audit view, spaced "
        "as it was recorded. Keys: space pause/play, + faster, - slower, q quit.",
    )
    replay.add_argument("file", metavar="AUDIT.jsonl", type=Path, help="audit log (.jsonl)")
    replay.add_argument(
        "--speed",
        type=_non_negative,
        default=1.0,
        metavar="X",
        help="replay speed: 1 = as recorded, 10 = ten times faster, "
        "0 = everything at once (default 1)",
    )
    replay.add_argument(
        "--max-gap",
        type=_non_negative,
        default=DEFAULT_MAX_GAP_S,
        metavar="SECONDS",
        help="cap idle stretches between records at SECONDS of recorded time "
        f"(default {DEFAULT_MAX_GAP_S:g})",
    )
    replay.set_defaults(replay=True)
    return replay


def run_replay_command(args: argparse.Namespace) -> int:
    """``warroom replay FILE``."""
    from console.domain.audit import AuditError
    from console.rehearsal.replay import load_replay
    from console.ui.replay_app import ReplayApp

    if not args.file.is_file():
        print(f"warroom replay: no audit log at {args.file}", file=sys.stderr)
        return EXIT_USAGE
    try:
        items = load_replay(args.file)
    except (AuditError, OSError) as exc:
        print(f"warroom replay: {getattr(exc, 'message', None) or exc}", file=sys.stderr)
        return EXIT_USAGE
    if not items:
        print(f"warroom replay: {args.file} holds no audit records", file=sys.stderr)
        return EXIT_USAGE
    app = ReplayApp(
        items,
        speed=args.speed,
        max_gap_s=args.max_gap,
        title=str(args.file),
        theme=getattr(args, "theme", None),
    )  # `warroom --theme T replay`
    return int(app.run() or 0)
