"""Post-mortem export: a Markdown skeleton from the handbook, filled from the audit log.

The handbook's Procedure 1 ends with "5. POST-MORTEM — Document what happened / Why wasn't it
caught? / How to prevent future?" and its checklist with "Follow-Up". The export gives those
headings with the facts already in place: incident metadata, the responders, a summary of the
actions taken, the full timeline (time, actor, action, target, result) and the audit log's
integrity, so the team writes analysis rather than copying timestamps out of a terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from console.domain.audit import (
    ACTION_FAILED,
    ACTION_FINISHED,
    ACTION_REFUSED,
    INCIDENT_CLOSED,
    INCIDENT_OPENED,
    AuditLog,
    AuditRecord,
    VerifyReport,
    parse_timestamp,
    verify,
)
from console.domain.durations import format_elapsed
from console.domain.incident import Incident

POSTMORTEM_QUESTIONS = (
    ("What happened", "Document what happened: trigger, impact (users, duration), detection."),
    ("Why wasn't it caught?", "Which test, review, staging check or alert should have caught it?"),
    ("How to prevent future?", "Prevention measures, each with an owner and a due date."),
)
FOLLOW_UP = (
    "Root cause identified",
    "Fix implemented and tested",
    "Prevention measures added",
    "Post-mortem documented",
    "Team notified of resolution",
)
_CELL_LIMIT = 160


@dataclass(frozen=True)
class IncidentFacts:
    """Metadata for the header, from the incident state and/or the log itself."""

    id: str
    title: str
    severity: str
    context: str | None
    namespace: str | None
    opened_at: datetime | None
    closed_at: datetime | None
    last_at: datetime | None


def render_postmortem(
    records: Sequence[AuditRecord],
    incident: Incident | None = None,
    report: VerifyReport | None = None,
    source: str | Path | None = None,
) -> str:
    """The post-mortem document as Markdown text."""
    facts = incident_facts(records, incident, source)
    out: list[str] = [f"# Post-mortem: {_inline(facts.title)}", ""]
    out += _metadata(facts, records, report, source)
    out += ["", "## Summary of actions", ""]
    out += _summary(records)
    if incident is not None and incident.step_progress:
        out += ["", "## Runbook progress", ""]
        out += _progress(incident)
    out += ["", "## Timeline", ""]
    out += _timeline(records)
    for heading, prompt in POSTMORTEM_QUESTIONS:
        out += ["", f"## {heading}", "", f"_{prompt}_"]
    out += ["", "## Follow-up", ""]
    out += [f"- [ ] {item}" for item in FOLLOW_UP]
    return "\n".join(out).rstrip() + "\n"


def export_postmortem(
    audit_path: Path | str, incident: Incident | None = None
) -> tuple[str, VerifyReport]:
    """Verify the log, read it and render it; the report tells whether it can be trusted."""
    report = verify(audit_path)
    records = AuditLog(audit_path, extra_secrets=()).records() if report.records else []
    return render_postmortem(records, incident, report, audit_path), report


def incident_facts(
    records: Sequence[AuditRecord],
    incident: Incident | None = None,
    source: str | Path | None = None,
) -> IncidentFacts:
    """Header facts: the incident state wins, then the ``incident.opened`` record, then guesses."""
    opened = next((r for r in records if r.kind == INCIDENT_OPENED), None)
    closed = next((r for r in reversed(records) if r.kind == INCIDENT_CLOSED or (
        r.kind == "incident.status" and r.params.get("status") == "closed")), None)
    params: Mapping[str, Any] = opened.params if opened else {}
    with_context = next((r for r in records if r.context), None)
    with_namespace = next((r for r in records if r.namespace), None)
    fallback_id = Path(source).stem if source else "unknown"
    if incident is not None:
        return IncidentFacts(
            id=incident.id,
            title=incident.title,
            severity=incident.severity,
            context=incident.context,
            namespace=incident.namespace,
            opened_at=parse_timestamp(incident.opened_at),
            closed_at=parse_timestamp(incident.closed_at) if incident.closed_at else None,
            last_at=_when(records[-1]) if records else None,
        )
    return IncidentFacts(
        id=str(params.get("id") or fallback_id),
        title=str(params.get("title") or (opened.message if opened else "") or fallback_id),
        severity=str(params.get("severity") or "not recorded"),
        context=with_context.context if with_context else None,
        namespace=with_namespace.namespace if with_namespace else None,
        opened_at=_when(opened) if opened else (_when(records[0]) if records else None),
        closed_at=_when(closed) if closed else None,
        last_at=_when(records[-1]) if records else None,
    )


# ---- sections --------------------------------------------------------------------------------
def _metadata(
    facts: IncidentFacts,
    records: Sequence[AuditRecord],
    report: VerifyReport | None,
    source: str | Path | None,
) -> list[str]:
    rows = [
        ("Incident", f"`{facts.id}`"),
        ("Title", _cell(facts.title)),
        ("Severity", _cell(facts.severity)),
        ("Cluster", _cell(" / ".join(x for x in (facts.context, facts.namespace) if x) or "—")),
        ("Opened", _stamp(facts.opened_at)),
        ("Closed", _stamp(facts.closed_at) if facts.closed_at else "still open"),
        ("Duration", _duration_text(facts)),
        ("Responders", _cell(", ".join(_responders(records)) or "—")),
    ]
    if source is not None or report is not None:
        rows.append(("Audit log", _integrity(report, source)))
    lines = ["| | |", "|---|---|"] + [f"| {key} | {value} |" for key, value in rows]
    if report is not None and not report.ok:
        lines += [
            "",
            "> **Warning: the audit log failed verification; this timeline may have "
            "been altered.**",
            ">",
        ]
        lines += [f"> - line {p.line}: {_inline(p.message)}" for p in report.problems]
    return lines


def _integrity(report: VerifyReport | None, source: str | Path | None) -> str:
    where = f"`{_cell(str(source))}`" if source is not None else "audit log"
    if report is None:
        return f"{where} (not verified)"
    if report.ok:
        text = (
            f"{where}: verified, {report.records} records, hash chain intact "
            f"(last seq {report.last_seq}, head `{report.head[:12]}`)"
        )
    else:
        text = f"{where}: **FAILED verification** ({len(report.problems)} problem(s))"
    if report.incomplete_final_line is not None:
        text += f"; incomplete final line {report.incomplete_final_line} (writer crashed)"
    return text


def _summary(records: Sequence[AuditRecord]) -> list[str]:
    outcomes = [r for r in records if r.kind in (ACTION_FINISHED, ACTION_FAILED, ACTION_REFUSED)]
    counts = {
        kind: sum(1 for r in outcomes if r.kind == kind)
        for kind in (ACTION_FINISHED, ACTION_FAILED, ACTION_REFUSED)
    }
    steps = sum(1 for r in records if r.kind.startswith("runbook."))
    notes = sum(1 for r in records if r.kind == "note")
    lines = [
        f"{len(records)} audit records: {counts[ACTION_FINISHED]} action(s) finished, "
        f"{counts[ACTION_FAILED]} failed, {counts[ACTION_REFUSED]} refused; "
        f"{steps} runbook step update(s); {notes} note(s).",
    ]
    if outcomes:
        lines += [
            "",
            "| Time (UTC) | Action | Target | Outcome | Duration | By |",
            "|---|---|---|---|---|---|",
        ]
        for r in outcomes:
            outcome = r.kind.split(".", 1)[-1]
            if r.kind != ACTION_FINISHED:
                outcome = f"**{outcome}**"
            detail = _format_result(r.result)
            lines.append(
                f"| {_stamp(_when(r))} | {_cell(r.action or '—')} | {_cell(r.target or '—')} | "
                f"{outcome}{': ' + _cell(detail) if detail else ''} | "
                f"{_seconds(r.duration_s)} | {_cell(_actor(r))} |"
            )
    return lines


def _progress(incident: Incident) -> list[str]:
    lines = ["| Runbook | Step | Status | By | At (UTC) | Note |", "|---|---|---|---|---|---|"]
    for runbook, steps in incident.step_progress.items():
        for step_id, state in steps.items():
            at = _stamp(parse_timestamp(state.at)) if state.at else "—"
            lines.append(
                f"| {_cell(runbook)} | {_cell(step_id)} | {state.status} | "
                f"{_cell(state.by.label if state.by else '—')} | {at} | "
                f"{_cell(state.note) or '—'} |"
            )
    return lines


def _timeline(records: Sequence[AuditRecord]) -> list[str]:
    if not records:
        return ["_The audit log has no records._"]
    lines = ["| Time (UTC) | Actor | Action | Target | Result |", "|---|---|---|---|---|"]
    for r in records:
        lines.append(
            f"| {_stamp(_when(r))} | {_cell(_actor(r))} | {_cell(_action_label(r))} | "
            f"{_cell(r.target or '—')} | {_cell(_result_text(r)) or '—'} |"
        )
    return lines


# ---- formatting helpers ----------------------------------------------------------------------
def _when(record: AuditRecord) -> datetime | None:
    try:
        return record.when
    except ValueError:
        return None


def _stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


def _duration_text(facts: IncidentFacts) -> str:
    if facts.opened_at is None:
        return "—"
    if facts.closed_at is not None:
        return format_elapsed((facts.closed_at - facts.opened_at).total_seconds(), sep=" ")
    if facts.last_at is not None:
        so_far = format_elapsed((facts.last_at - facts.opened_at).total_seconds(), sep=" ")
        return f"ongoing ({so_far} to the last record)"
    return "ongoing"


def _seconds(value: float | None) -> str:
    return f"{value:.1f} s" if value is not None else "—"


def _actor(record: AuditRecord) -> str:
    return record.actor.label if record.actor else "?"


def _responders(records: Sequence[AuditRecord]) -> list[str]:
    seen: list[str] = []
    for r in records:
        if r.actor and r.actor.label not in seen:
            seen.append(r.actor.label)
    return seen


def _action_label(record: AuditRecord) -> str:
    if record.action:
        phase = record.kind.split(".", 1)[1] if record.kind.startswith("action.") else record.kind
        return f"{record.action} {phase}"
    return record.kind


def _result_text(record: AuditRecord) -> str:
    text = _format_result(record.result)
    if record.duration_s is not None:
        text = f"{text} (in {record.duration_s:.1f} s)".strip()
    if record.message:
        text = f"{text} — {record.message}" if text else record.message
    if record.kind == ACTION_FAILED:
        text = f"FAILED: {text}" if text else "FAILED"
    return text


def _format_result(result: Any) -> str:
    if result is None or result == {} or result == []:
        return ""
    if isinstance(result, Mapping):
        return ", ".join(f"{k}={_format_result(v) or '—'}" for k, v in result.items())
    if isinstance(result, list | tuple):
        return ", ".join(_format_result(v) for v in result)
    return str(result)


def _inline(text: str) -> str:
    return " ".join(str(text).split())


def _cell(text: str) -> str:
    """Make text safe inside a Markdown table cell (no pipes, newlines or raw HTML)."""
    text = _inline(text).replace("\\", "\\\\").replace("|", "\\|")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return text if len(text) <= _CELL_LIMIT else text[: _CELL_LIMIT - 1] + "…"


__all__ = [
    "FOLLOW_UP",
    "POSTMORTEM_QUESTIONS",
    "IncidentFacts",
    "export_postmortem",
    "incident_facts",
    "render_postmortem",
]
