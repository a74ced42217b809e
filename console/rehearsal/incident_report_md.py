"""The post-mortem report (console/rehearsal/incident_report.py) as Markdown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.domain.durations import format_elapsed
from console.rehearsal.postmortem import _cell, _inline


def render_markdown(report: Mapping[str, Any]) -> str:
    meta, sections = report["postmortem"], report["sections"]
    out = [f"# Post-mortem: {_inline(meta['title'] or meta['id'])}", ""]
    out += _metadata(meta)
    happened = sections["what_happened"]
    out += _heading(happened)
    out += ["**Resolution summary:** " + (_inline(happened["resolution_summary"])
                                          or "_not resolved yet_"), ""]
    out += ["**Status history**", ""]
    out += [f"- {_t(m['time'])} **{m['what']}** by {_cell(m['who'])}"
            + (f" — {_inline(m['detail'])}" if m["detail"] else "")
            for m in happened["status_history"]] or ["- —"]
    out += ["", "**Notes**", ""]
    out += [f"- {_t(m['time'])} {_cell(m['who'])}: {_inline(m['detail'])}"
            for m in happened["notes"]] or ["- _no notes_"]
    impact = sections["impact"]
    out += _heading(impact)
    out += [f"- {_t(m['time'])} severity **{m['what']}** (was {m['detail'] or '—'}) by "
            f"{_cell(m['who'])}" for m in impact["severity_history"]]
    out += ["", "**Error ratio at key moments** (last 30 samples, ▁ none … ▇ the peak)", ""]
    if impact["rates"]:
        out += ["| Time (UTC) | Moment | Deployment | Error ratio | Now | Peak |",
                "|---|---|---|---|---|---|"]
        out += [f"| {_t(r['time'])} | {_cell(r['moment'])} | {_cell(r['deployment'])} | "
                f"`{r['sparkline']}` | {_pct(r['last'])} | {_pct(r['peak'])} |"
                for r in impact["rates"]]
    else:
        out += ["_no rates were recorded (no metrics at the status changes)_"]
    out += _heading(sections["timeline"])
    out += ["| Time (UTC) | Who | What | Target | Detail |", "|---|---|---|---|---|"]
    out += [f"| {_t(e['time'])} | {_cell(e['who']) or '?'} | {_cell(e['what'])} | "
            f"{_cell(e['target']) or '—'} | {_cell(e['text']) or '—'} |"
            for e in sections["timeline"]["entries"]]
    out += _heading(sections["why_not_caught"]) + ["- "]
    well = sections["went_well"]
    out += _heading(well)
    out += [f"- {_t(a['time'])} {_cell(a['action'])} {_cell(a['target'])} finished "
            f"({_cell(a['who'])})" for a in well["actions"]] or ["- _no action finished_"]
    if well["verdict_changes"]:
        out += ["", "**Verdict changes**", ""]
        out += [f"- {_t(v['time'])} {_cell(v['what'])}: {_inline(v['text'])}"
                for v in well["verdict_changes"]]
    if well["failed_or_refused"]:
        out += ["", "**Failed or refused**", ""]
        out += [f"- {_t(a['time'])} {_cell(a['action'])} {_cell(a['target'])} "
                f"{a['outcome']}: {_inline(a['text'])}" for a in well["failed_or_refused"]]
    out += _heading(sections["prevent"]) + ["- "]
    out += ["", "## Action items", "", "| Done | Item | Owner |", "|---|---|---|"]
    out += [f"| {'[x]' if i['done'] else '[ ]'} | {_cell(i['item'])} | {_cell(i['owner'])} |"
            for i in report["action_items"]]
    return "\n".join(out).rstrip() + "\n"


def _metadata(meta: Mapping[str, Any]) -> list[str]:
    roles = ", ".join(f"{role}: {who}" for role, who in meta["roles"].items()) or "—"
    rows = [
        ("Incident", f"`{meta['id']}`" + (" (drill)" if meta["drill"] else "")),
        ("Severity", meta["severity"]),
        ("Status", meta["status"]),
        ("Cluster", " / ".join(x for x in (meta["context"], meta["namespace"]) if x) or "—"),
        ("Opened", _t(meta["opened_at"])),
        ("Closed", _t(meta["closed_at"]) if meta["closed_at"] else "not closed"),
        ("Duration", format_elapsed(meta["duration_s"], sep=" ")),
        ("Time to detect", format_elapsed(meta["time_to_detect_s"], sep=" ")),
        ("Time to mitigate", format_elapsed(meta["time_to_mitigate_s"], sep=" ")),
        ("Time to resolve", format_elapsed(meta["time_to_resolve_s"], sep=" ")),
        ("Roles", roles),
        ("People", ", ".join(meta["people"]) or "—"),
    ]
    audit = meta.get("audit")
    if audit is not None:
        rows.append(("Audit log", f"{audit['records']} records, "
                     + ("hash chain verified" if audit["verified"] else
                        "**FAILED verification**: " + "; ".join(audit["problems"][:3]))))
    return ["| | |", "|---|---|"] + [f"| {k} | {_cell(str(v))} |" for k, v in rows]


def _heading(section: Mapping[str, Any]) -> list[str]:
    return ["", f"## {section['heading']}", "", f"_{section['prompt']}_", ""]


def _t(stamp: str | None) -> str:
    if not stamp:
        return "—"
    return stamp.replace("T", " ")[:19]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


__all__ = ["render_markdown"]
