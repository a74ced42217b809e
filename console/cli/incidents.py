"""`warroom incidents list | show ID | export ID --format md|json [-o FILE] [--force]`.

Read from the state directory: each incident's file (``incidents/<id>.json``) and its audit
log (``audit/<id>.jsonl``), folded as the console folds it (console/domain/incident_status.py).
Exit codes: 0 fine; 1 the audit log fails verification (export still writes, with a warning);
2 usage (no such incident, an unwritable output, an edited copy not to be overwritten).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.cli.audit import _write_private
from console.domain.audit import AuditError, AuditLog, AuditRecord, default_audit_path, verify
from console.domain.durations import format_elapsed
from console.domain.incident import Incident, IncidentError, IncidentStore
from console.domain.incident_status import ROLES, IncidentPicture, fold
from console.domain.statefiles import default_state_dir
from console.rehearsal.export_guard import overwrite_refusal, stamped_json, stamped_markdown
from console.rehearsal.incident_report import build_report
from console.rehearsal.incident_report_md import render_markdown

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def add_incidents_commands(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "incidents", help="list, show and export the incidents in the state directory",
        description="The incidents of the state directory, open and closed: their status, "
        "severity, durations and who took part; one incident in full; its post-mortem.")
    actions = parser.add_subparsers(dest="incidents_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every incident, newest first (a plain table)")
    listing.set_defaults(incidents_handler=run_list)
    show = actions.add_parser("show", help="one incident: status history, roles, notes, actions")
    show.add_argument("id", metavar="ID", help="incident id (`warroom incidents list`)")
    show.set_defaults(incidents_handler=run_show)
    export = actions.add_parser(
        "export", help="the post-mortem of one incident (Markdown or JSON)",
        description="Write the handbook's post-mortem (what happened, impact, timeline, why "
        "it wasn't caught, what went well, how to prevent, action items) pre-filled from the "
        "audit log. An exported file that was edited since is never overwritten without "
        "--force.")
    export.add_argument("id", metavar="ID", help="incident id")
    export.add_argument("--format", choices=["md", "json"], default="md",
                        help="md (Markdown, default) or json")
    export.add_argument("-o", "--output", metavar="FILE", type=Path,
                        help="write to FILE instead of standard output")
    export.add_argument("--force", action="store_true",
                        help="overwrite FILE even if it was edited since it was exported")
    export.set_defaults(incidents_handler=run_export)
    return parser


def run_incidents_command(args: argparse.Namespace) -> int:
    result: int = args.incidents_handler(args)
    return result


# ---- reading ---------------------------------------------------------------------------------
def _store() -> IncidentStore:
    return IncidentStore(default_state_dir())


def _records(store: IncidentStore, incident_id: str) -> list[AuditRecord]:
    return AuditLog(default_audit_path(incident_id, store.state_dir), extra_secrets=()).records()


def _load(incident_id: str) -> tuple[Incident, list[AuditRecord]]:
    store = _store()
    incident = store.load(incident_id)
    return incident, _records(store, incident.id)


def _status(incident: Incident, picture: IncidentPicture) -> str:
    if not incident.is_open and picture.status != "closed":
        return "closed"  # closed by a drill or an older console, without a status record
    return picture.status


# ---- list ------------------------------------------------------------------------------------
def run_list(_args: argparse.Namespace) -> int:
    store = _store()
    rows = [("ID", "STATUS", "SEVERITY", "OPENED (UTC)", "DURATION", "PEOPLE", "TITLE")]
    for incident in store.list():
        try:
            picture = fold(_records(store, incident.id))
        except AuditError as exc:
            print(f"warning: {incident.id}: {exc.message}", file=sys.stderr)
            picture = IncidentPicture(severity=incident.severity)
        status = _status(incident, picture)
        duration = incident.duration_s if incident.closed_at else picture.since_opened(
            picture.closed_at or datetime.now(UTC))
        shown = format_elapsed(duration) + ("" if incident.closed_at else " so far")
        rows.append((incident.id, status, picture.severity or incident.severity,
                     incident.opened_at.replace("T", " ")[:19], shown,
                     ", ".join(picture.people) or "—", _short(incident.title, 50)))
    if len(rows) == 1:
        print(f"no incidents in {store.dir}")
        return EXIT_OK
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return EXIT_OK


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- show ------------------------------------------------------------------------------------
def run_show(args: argparse.Namespace) -> int:
    try:
        incident, records = _load(args.id)
    except (IncidentError, AuditError) as exc:
        print(f"warroom incidents show: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    p = fold(records)
    out = [
        f"{incident.id}: {p.title or incident.title}",
        f"  status     {_status(incident, p)}",
        f"  severity   {p.severity}",
        f"  cluster    {incident.context or '?'} / {incident.namespace or '?'}",
        f"  opened     {incident.opened_at}",
        f"  closed     {incident.closed_at or 'not closed'}",
        f"  detect     {format_elapsed(p.time_to_detect)}    mitigate "
        f"{format_elapsed(p.time_to_mitigate)}    resolve {format_elapsed(p.time_to_resolve)}",
        f"  people     {', '.join(p.people) or '—'}",
        "",
        "Roles:",
        *[f"  {label:<20} {p.roles.get(role) or 'nobody'}" for role, label in ROLES.items()],
        "",
        "Status history:",
        *[f"  {m.time[:19]}  {m.what:<14} {m.who}" + (f" — {m.detail}" if m.detail else "")
          for m in p.statuses],
    ]
    if p.summary:
        out += ["", f"Resolution: {p.summary}"]
    out += ["", "Notes:"]
    out += [f"  {m.time[:19]}  {m.who}: {m.detail}" for m in p.notes] or ["  none"]
    out += ["", f"Actions: {p.actions} finished, {p.failed} failed or refused"]
    out += [f"  {r.time[:19]}  {r.kind.split('.', 1)[-1]:<9} {r.action or ''} {r.target or ''}"
            for r in records if r.kind in ("action.finished", "action.failed",
                                           "action.refused")]
    print("\n".join(out))
    return EXIT_OK


# ---- export ----------------------------------------------------------------------------------
def run_export(args: argparse.Namespace) -> int:
    try:
        incident = _store().load(args.id)
        audit_path = default_audit_path(incident.id, _store().state_dir)
        report = verify(audit_path)
        records = _records(_store(), incident.id)
    except (IncidentError, AuditError) as exc:
        print(f"warroom incidents export: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    document = build_report(records, incident, report)
    text = stamped_json(document) if args.format == "json" else stamped_markdown(
        render_markdown(document))
    if args.output is None:
        sys.stdout.write(text)
    else:
        refusal = None if args.force else overwrite_refusal(args.output)
        if refusal:
            print(f"warroom incidents export: {refusal}", file=sys.stderr)
            return EXIT_USAGE
        try:
            _write_private(args.output, text)
        except OSError as exc:
            print(f"warroom incidents export: cannot write {args.output}: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
        print(f"post-mortem written to {args.output}", file=sys.stderr)
    if not report.ok:
        print(f"warning: {report.summary()} — the exported timeline may be altered",
              file=sys.stderr)
        return EXIT_PROBLEM
    return EXIT_OK


__all__ = ["add_incidents_commands", "run_incidents_command"]
