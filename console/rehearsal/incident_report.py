"""The post-mortem a team would publish, as data: the handbook's questions, pre-filled.

``build_report`` reads one incident's audit records (and its state file, when there is one)
and returns a JSON-ready dict with the handbook's sections (Procedure 1, "5. POST-MORTEM", and
the Rollback Checklist's Follow-Up): what happened, impact, timeline, why it wasn't caught,
what went well, how to prevent, and the follow-ups as action items with owners. What the
records know is filled in: status and severity changes, notes, actions, verdict changes (the
drill's milestones, the advisor's verdicts, verification), the error ratios at the key moments
as small sparklines, times to detect / mitigate / resolve. ``incident_report_md`` renders it
as Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from console.domain.audit import ACTION_FAILED, ACTION_FINISHED, ACTION_REFUSED, AuditRecord
from console.domain.audit_verify import VerifyReport
from console.domain.incident import Incident
from console.domain.incident_desk import HANDBOOK_FOLLOW_UPS
from console.domain.incident_status import (
    INCIDENT_SEVERITY,
    INCIDENT_STATUS,
    ROLES,
    IncidentPicture,
    fold,
    person,
)

SPARKS = "▁▂▃▅▇"
QUESTIONS = {
    "what_happened": ("What happened",
                      "Trigger, what users saw, how it was detected and what fixed it."),
    "impact": ("Impact", "Who was affected, for how long, how badly (error rates below)."),
    "timeline": ("Timeline", "Every record of the audit log, in order."),
    "why_not_caught": ("Why wasn't it caught?",
                       "Which test, review, staging check or alert should have caught it?"),
    "went_well": ("What went well", "What helped: keep doing it."),
    "prevent": ("How to prevent future?",
                "Prevention measures, each with an owner and a due date."),
}
# who owns each Follow-Up item when nobody has checked it off yet: role, then the commander
OWNER_ROLE = {
    "root-cause-identified": "operations",
    "fix-implemented": "operations",
    "prevention-measures-added": "commander",
    "post-mortem-documented": "commander",
    "team-notified-of-resolution": "communications",
}
VERDICT_KINDS = ("advisor.verdict", "drill.mitigated", "drill.resolved")


def sparkline(values: Sequence[float | None]) -> str:
    """``▁▂▃▅▇`` scaled from 0 to the largest value; a gap where nothing is known."""
    known = [v for v in values if v is not None]
    top = max(known, default=0.0)
    out = []
    for value in values:
        if value is None:
            out.append(" ")
        elif top <= 0:
            out.append(SPARKS[0])
        else:
            out.append(SPARKS[min(len(SPARKS) - 1, int(value / top * (len(SPARKS) - 1) + 0.5))])
    return "".join(out)


def build_report(records: Sequence[AuditRecord], incident: Incident | None = None,
                 verified: VerifyReport | None = None,
                 follow_ups: Sequence[tuple[str, str]] = HANDBOOK_FOLLOW_UPS) -> dict[str, Any]:
    picture = fold(records)
    drill = any(r.kind.startswith("drill.") for r in records) or (
        incident is not None and incident.context == "drill")
    meta = {
        "id": incident.id if incident else (records[0].target if records else "unknown"),
        "title": picture.title or (incident.title if incident else ""),
        "severity": picture.severity,
        "status": picture.status,
        "drill": drill,
        "context": incident.context if incident else _first(records, "context"),
        "namespace": incident.namespace if incident else _first(records, "namespace"),
        "opened_at": incident.opened_at if incident else (records[0].time if records else None),
        "closed_at": picture.closed_at.isoformat() if picture.closed_at else None,
        "duration_s": _duration(picture, records),
        "time_to_detect_s": picture.time_to_detect,
        "time_to_mitigate_s": picture.time_to_mitigate,
        "time_to_resolve_s": picture.time_to_resolve,
        "roles": {ROLES[r]: who for r, who in picture.roles.items()},
        "people": picture.people,
    }
    if verified is not None:
        meta["audit"] = {"verified": verified.ok, "records": verified.records,
                         "last_seq": verified.last_seq, "head": verified.head,
                         "problems": [p.message for p in verified.problems]}
    actions = [_action(r) for r in records
               if r.kind in (ACTION_FINISHED, ACTION_FAILED, ACTION_REFUSED)]
    sections = {
        "what_happened": {
            "resolution_summary": picture.summary,
            "status_history": [_moment(m) for m in picture.statuses],
            "notes": [_moment(m) for m in picture.notes],
        },
        "impact": {
            "severity_history": [_moment(m) for m in picture.severities],
            "rates": _rates(records),
        },
        "timeline": [_entry(r) for r in records],
        "why_not_caught": {},
        "went_well": {
            "actions": [a for a in actions if a["outcome"] == "finished"],
            "verdict_changes": [_entry(r) for r in records if r.kind in VERDICT_KINDS
                                or (r.kind == ACTION_FINISHED and r.action == "verify")],
        },
        "prevent": {},
    }
    for key, (heading, prompt) in QUESTIONS.items():
        body = sections[key]
        sections[key] = {"heading": heading, "prompt": prompt,
                         **({"entries": body} if isinstance(body, list) else body)}
    sections["went_well"]["failed_or_refused"] = [a for a in actions if a["outcome"] != "finished"]
    return {"postmortem": meta, "sections": sections,
            "action_items": _action_items(picture, follow_ups)}


def _action_items(picture: IncidentPicture,
                  follow_ups: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    items = []
    for step, title in follow_ups:
        done = picture.follow_ups.get(step)
        role = OWNER_ROLE.get(step, "commander")
        owner = (done.who if done else None) or picture.roles.get(role) \
            or picture.roles.get("commander") or "unassigned"
        items.append({"id": step, "item": title, "done": done is not None, "owner": owner,
                      "done_at": done.time if done else None})
    return items


def _rates(records: Sequence[AuditRecord]) -> list[dict[str, Any]]:
    """The error ratios stored with each status, severity or verdict change: the key
    moments."""
    out = []
    for r in records:
        if r.kind not in (INCIDENT_STATUS, INCIDENT_SEVERITY, "advisor.verdict"):
            continue
        rates = r.params.get("rates")
        if not isinstance(rates, Mapping):
            continue
        moment = r.params.get("status") or (f"verdict {r.params.get('level')}"
                                            if r.kind == "advisor.verdict"
                                            else f"severity {r.params.get('severity')}")
        for deployment, values in sorted(rates.items()):
            if not isinstance(values, list) or not values:
                continue
            numbers = [v if isinstance(v, int | float) else None for v in values]
            known = [v for v in numbers if v is not None]
            out.append({"time": r.time, "moment": str(moment), "deployment": deployment,
                        "sparkline": sparkline(numbers),
                        "last": known[-1] if known else None,
                        "peak": max(known) if known else None})
    return out


def _moment(m: Any) -> dict[str, Any]:
    return {"time": m.time, "who": m.who, "what": m.what, "detail": m.detail}


def _entry(r: AuditRecord) -> dict[str, Any]:
    what = r.kind if not r.action else f"{r.action} {r.kind.split('.', 1)[-1]}"
    return {"time": r.time, "seq": r.seq, "who": person(r.actor), "kind": r.kind, "what": what,
            "target": r.target or "", "text": r.message}


def _action(r: AuditRecord) -> dict[str, Any]:
    return {"time": r.time, "who": person(r.actor), "action": r.action or "",
            "target": r.target or "", "outcome": r.kind.split(".", 1)[-1],
            "text": r.message, "duration_s": r.duration_s}


def _first(records: Sequence[AuditRecord], attr: str) -> str | None:
    return next((getattr(r, attr) for r in records if getattr(r, attr)), None)


def _duration(picture: IncidentPicture, records: Sequence[AuditRecord]) -> float | None:
    end = picture.closed_at or (records[-1].when if records else None)
    return picture.since_opened(end)


__all__ = ["QUESTIONS", "SPARKS", "build_report", "sparkline"]
