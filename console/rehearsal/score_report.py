"""The drill report: a ``DrillScore`` as Markdown, written beside the audit log."""

from __future__ import annotations

from pathlib import Path

from console.domain.durations import format_elapsed
from console.rehearsal.score_model import DrillScore


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(result: DrillScore) -> str:
    """The drill report (Markdown) written beside the audit log."""
    lines = [
        f"# Drill score: {result.scenario} — {result.total}/100",
        "",
        f"Outcome: **{result.outcome}**.",
        "",
        "| Measure | Time |",
        "|---|---|",
        f"| Time to detect (first action) | {format_elapsed(result.time_to_detect_s)} |",
        f"| Time to mitigate | {format_elapsed(result.time_to_mitigate_s)} |",
        f"| Time to resolve | {format_elapsed(result.time_to_resolve_s)} |",
        "",
        "## Handbook order",
        "",
    ]
    if result.checks:
        lines += ["| Rule | Result | Detail | Points |", "|---|---|---|---|"]
        for check in result.checks:
            mark = "ok" if check.ok else "**broken**"
            points = f"-{check.points}" if check.points else "0"
            lines.append(f"| {_cell(check.rule)} | {mark} | {_cell(check.detail)} | {points} |")
    else:
        lines.append("_No order rules applied._")
    for text in result.good:
        lines.append(f"- Good: {text}.")
    lines += ["", "## Unsafe actions", ""]
    if result.unsafe:
        lines += ["| Action | When | Points |", "|---|---|---|"]
        for action in result.unsafe:
            when = f"+{format_elapsed(action.at_s)}" if action.at_s is not None else "—"
            lines.append(f"| {_cell(action.what)} ({action.code}) | {when} | "
                         f"-{action.points} |")
    else:
        lines.append("None.")
    if result.data:
        lines += ["", "## Data (counted in the drill's database)", ""]
        lines += [f"- {_cell(line)}" for line in result.data]
    lines += ["", "## Steps seen", ""]
    if result.steps:
        for step in result.steps:
            when = f"+{format_elapsed(step.at_s)}" if step.at_s is not None else "(drill)"
            lines.append(f"- {when} {step.step} ({_cell(step.source)})")
    else:
        lines.append("None.")
    lines += ["", "## Deductions", ""]
    if result.deductions:
        lines += ["| Points | Category | Reason |", "|---|---|---|"]
        for d in result.deductions:
            lines.append(f"| -{d.points} | {d.category} | {_cell(d.reason)} |")
        lines.append(f"| **{result.total}** | total | 100 - "
                     f"{sum(d.points for d in result.deductions)} |")
    else:
        lines.append("None: full marks.")
    return "\n".join(lines) + "\n"


def report_path(audit_path: Path | str) -> Path:
    """Where the report goes: ``<incident>.jsonl`` → ``<incident>.score.md`` beside it."""
    path = Path(audit_path)
    return path.with_name(f"{path.stem}.score.md")


def write_report(result: DrillScore, audit_path: Path | str) -> Path:
    target = report_path(audit_path)
    target.write_text(render_markdown(result), encoding="utf-8")
    return target
