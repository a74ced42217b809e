"""`warroom audit verify FILE` and `warroom audit export FILE --format md [-o OUT]`.

Exit codes: 0 all good; 1 a problem was found (the log fails verification: it was altered or
damaged — export still writes the document, with a warning in it); 2 usage (bad arguments, an
unreadable input, an unwritable output).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# the audit, incident and post-mortem modules are imported by the commands that use them:
# building the parser (every `warroom` start, `--help`) needs none of them
if TYPE_CHECKING:
    from console.domain.audit import Head, VerifyReport
    from console.domain.incident import Incident

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2


def add_audit_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``audit verify`` and ``audit export`` to an argparse subparsers object.

    Each leaf parser sets ``audit_handler``; dispatch with ``run_audit_command(args)``.
    """
    audit = subparsers.add_parser(
        "audit",
        help="check or export an incident's audit log",
        description="Check the tamper-evident chain of an audit log, or export it as a "
        "post-mortem document. Audit logs live in the warroom state directory "
        "under audit/<incident-id>.jsonl.",
    )
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    check = actions.add_parser(
        "verify",
        help="check the hash chain and sequence of an audit log",
        description="Check that no record of the audit log was modified, deleted, inserted or "
        "reordered, and that it still ends where the incident recorded (the head kept in "
        "<state>/incidents/<id>.head after every append, or --expect-head from syslog). "
        "Exit 0 if intact, 1 if not, 2 if the file cannot be read.",
    )
    check.add_argument("file", metavar="FILE", type=Path, help="audit log (.jsonl)")
    check.add_argument(
        "--expect-head",
        metavar="SEQ:HASH",
        type=_head,
        help="the head to check against, as syslog recorded it (`audit head incident=ID "
        "seq=SEQ head=HASH`, facility authpriv); default: the incident's recorded head",
    )
    check.set_defaults(audit_handler=run_verify)

    export = actions.add_parser(
        "export",
        help="write a post-mortem (Markdown) from an audit log",
        description="Write the handbook's post-mortem skeleton with the incident's timeline "
        "filled in from the audit log. The log is verified first; a log that fails "
        "verification is still exported, with a warning, and the exit code is 1.",
    )
    export.add_argument("file", metavar="FILE", type=Path, help="audit log (.jsonl)")
    export.add_argument(
        "--format", choices=["md"], default="md", help="output format (default: md, Markdown)"
    )
    export.add_argument(
        "-o", "--output", metavar="OUT", type=Path, help="write to OUT instead of standard output"
    )
    export.set_defaults(audit_handler=run_export)
    return audit


def run_audit_command(args: argparse.Namespace) -> int:
    """Run the handler chosen by the parser (for ``warroom audit ...``)."""
    handler = getattr(args, "audit_handler", None)
    if handler is None:
        _error("audit", "choose an action: verify or export")
        return EXIT_USAGE
    result: int = handler(args)
    return result


def run_verify(args: argparse.Namespace) -> int:
    """``warroom audit verify FILE [--expect-head SEQ:HASH]``."""
    from console.domain.audit import AuditError, verify

    expected, missing = args.expect_head, None
    if expected is None:
        expected, missing = _recorded_head(args.file)  # read before the log: see verify
    try:
        report = verify(args.file, expected)
    except AuditError as exc:
        _error("audit verify", exc.message)
        return EXIT_USAGE
    _print_findings(report)
    if missing:
        print(f"{args.file}: {missing}", file=sys.stderr)
    if report.ok and not missing:
        print(report.summary())
        return EXIT_OK
    print(report.summary(), file=sys.stderr)
    return EXIT_PROBLEM


def _head(text: str) -> Head:
    from console.domain.audit import Head

    try:
        return Head.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _recorded_head(audit_file: Path) -> tuple[Head | None, str | None]:
    """The head the incident recorded for this log, and why it is missing when it should not be.

    A log outside a state directory has none (nothing to say); an incident whose head file is
    gone or unreadable is a problem: the end of its log can no longer be checked.
    """
    from console.domain.audit import head_beside, read_head

    path = head_beside(audit_file.absolute())
    if path is None:
        return None, None
    try:
        return read_head(path), None
    except FileNotFoundError:
        if not path.with_suffix(".json").exists():
            print(
                f"note: no recorded head for {audit_file}; the end of the log is checked "
                "only with --expect-head SEQ:HASH (from syslog)",
                file=sys.stderr,
            )
            return None, None
        return None, (
            f"the incident's recorded head {path} is missing: records cut off the "
            "end cannot be detected; check with --expect-head SEQ:HASH from syslog"
        )
    except (OSError, ValueError) as exc:
        return None, f"the incident's recorded head {path} is unreadable ({exc})"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only, as the audit log it comes from
    (0600 whatever the umask; an existing file is truncated and narrowed too)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)


def run_export(args: argparse.Namespace) -> int:
    """``warroom audit export FILE --format md [-o OUT]``."""
    from console.domain.audit import AuditError
    from console.rehearsal.postmortem import export_postmortem

    try:
        document, report = export_postmortem(args.file, _incident_beside(args.file))
    except AuditError as exc:
        _error("audit export", exc.message)
        return EXIT_USAGE
    if args.output is None:
        sys.stdout.write(document)
    else:
        try:
            _write_private(args.output, document)
        except OSError as exc:
            _error("audit export", f"cannot write {args.output}: {exc.strerror or exc}")
            return EXIT_USAGE
        print(f"post-mortem written to {args.output}", file=sys.stderr)
    _print_findings(report)
    if not report.ok:
        print(
            f"warning: {report.summary()} — the exported timeline may be altered", file=sys.stderr
        )
        return EXIT_PROBLEM
    return EXIT_OK


def _incident_beside(audit_file: Path) -> Incident | None:
    """The incident state for ``<state>/audit/<id>.jsonl`` at ``<state>/incidents/<id>.json``."""
    from console.domain.incident import IncidentError, SharedIncident

    candidate = audit_file.resolve().parent.parent / "incidents" / f"{audit_file.stem}.json"
    if not candidate.is_file():
        return None
    try:
        return SharedIncident(candidate).read()
    except IncidentError as exc:
        print(f"warning: ignoring incident state: {exc.message}", file=sys.stderr)
        return None


def _print_findings(report: VerifyReport) -> None:
    for finding in report.problems:
        print(f"{report.path}:{finding.line}: {finding.message}", file=sys.stderr)
    for finding in report.warnings:
        print(f"warning: {report.path}:{finding.line}: {finding.message}", file=sys.stderr)


def _error(command: str, message: str) -> None:
    print(f"warroom {command}: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry (``python -m console.cli.audit verify FILE``), for tests and scripts."""
    parser = argparse.ArgumentParser(prog="warroom")
    add_audit_commands(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    return run_audit_command(args)


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["add_audit_commands", "main", "run_audit_command", "run_export", "run_verify"]
