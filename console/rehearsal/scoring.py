"""Score a drill rehearsal from its audit log: how fast, in the handbook's order, how safely.

``score(records, facts)`` reads the audit records of one drill (dicts as ``console/domain/audit.py``
writes them, or ``AuditRecord``) together with what the drill itself knows (``DrillFacts``:
when the incident started, when the error ratio went back under the threshold, when it was
resolved, and the steps and unsafe actions the drill cluster saw) and returns a
``DrillScore``: times to detect, mitigate and resolve, the handbook-order checks, the unsafe
actions and a total out of 100 with every deduction listed. ``render_markdown`` writes the
report that goes beside the audit log (``report_path``; console/rehearsal/score_report.py).

All times must share one clock: the audit log's (wall-clock UTC). The console stamps the
drill's milestones (mitigated, resolved) when it observes them. How records are read as
steps: console/rehearsal/score_events.py. What is scenario-specific (target, order rules,
whether the target may be taken offline) is the scenario's ``Rehearsal`` data, in drill/scenarios.

Points (deducted from 100, never below 0):

==============================  ==============================================  ============
what                            rule                                            points
==============================  ==============================================  ============
time to detect                  first action after the start; > 2 min           1 per 30 s, max 10
                                nothing on record                               10
time to mitigate                error ratio under threshold; > 10 min           1 per min, max 15
                                never                                           15
time to resolve                 > 30 min                                        1 per 2 min, max 15
                                not resolved                                    25
handbook order                  per scenario (``Rehearsal.rules``), each broken 5-10
unsafe actions                  ``UNSAFE_POINTS``                               15-25 each
==============================  ==============================================  ============
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from console.domain.audit import AuditRecord
from console.domain.durations import format_elapsed
from console.rehearsal.score_events import (
    Event,
    Rec,
    as_int,
    as_time,
    category,
    events,
    normalise,
)
from console.rehearsal.score_model import (
    Deduction,
    DrillFacts,
    DrillScore,
    OrderCheck,
    StepSeen,
    UnsafeAction,
)
from console.rehearsal.score_report import render_markdown, report_path, write_report
from drill.scenarios import Rehearsal, Rule, rehearsal_for, rehearsal_on

HUMAN_KINDS = ("action.", "runbook.", "note", "proposal.")

DETECT_TARGET_S, DETECT_STEP_S, DETECT_MAX, DETECT_NONE = 120.0, 30.0, 10, 10
MITIGATE_TARGET_S, MITIGATE_STEP_S, MITIGATE_MAX, MITIGATE_NONE = 600.0, 60.0, 15, 15
RESOLVE_TARGET_S, RESOLVE_STEP_S, RESOLVE_MAX, RESOLVE_NONE = 1800.0, 120.0, 15, 25
MASS_DELETE_COUNT, MASS_DELETE_WINDOW_S = 3, 60.0

UNSAFE_POINTS: dict[str, int] = {
    "scale-to-zero": 20,
    "undo-to-bad-revision": 20,
    "restore-without-backup": 25,
    "mass-delete-pods": 15,
    "restore-while-writing": 15,
    "rotate-before-isolate": 15,
    "bad-writer-resumed": 20,
}
UNSAFE_DEFAULT_POINTS = 15
UNSAFE_TEXT: dict[str, str] = {
    "scale-to-zero": "scaled the incident's deployment to 0 replicas (a self-inflicted outage)",
    "undo-to-bad-revision": "rolled back to the bad revision",
    "restore-without-backup": "restored without a backup of the current state (evidence lost)",
    "mass-delete-pods": "deleted pods en masse",
    "restore-while-writing": "restored while the bad writer was still writing",
    "rotate-before-isolate": "rotated secrets before isolating the compromised system",
    "bad-writer-resumed": "the bad writer wrote again after writes were stopped",
}
Flag = Callable[[str, datetime | None, str | None], None]


# ---- times -----------------------------------------------------------------------------------
def _late_points(seconds: float, target: float, step: float, cap: int) -> int:
    if seconds <= target:
        return 0
    return min(cap, math.ceil((seconds - target) / step))


def _time_deductions(detect: float | None, mitigate: float | None,
                     resolve: float | None) -> list[Deduction]:
    out: list[Deduction] = []
    if detect is None:
        out.append(Deduction(DETECT_NONE, "time", "no response on record"))
    elif points := _late_points(detect, DETECT_TARGET_S, DETECT_STEP_S, DETECT_MAX):
        out.append(Deduction(points, "time", f"time to detect {format_elapsed(detect)} "
                             f"(target {format_elapsed(DETECT_TARGET_S)})"))
    if mitigate is None:
        out.append(Deduction(MITIGATE_NONE, "time", "never mitigated"))
    elif points := _late_points(mitigate, MITIGATE_TARGET_S, MITIGATE_STEP_S, MITIGATE_MAX):
        out.append(Deduction(points, "time", f"time to mitigate {format_elapsed(mitigate)} "
                             f"(target {format_elapsed(MITIGATE_TARGET_S)})"))
    if resolve is None:
        out.append(Deduction(RESOLVE_NONE, "time", "not resolved"))
    elif points := _late_points(resolve, RESOLVE_TARGET_S, RESOLVE_STEP_S, RESOLVE_MAX):
        out.append(Deduction(points, "time", f"time to resolve {format_elapsed(resolve)} "
                             f"(target {format_elapsed(RESOLVE_TARGET_S)})"))
    return out


# ---- handbook order --------------------------------------------------------------------------
def _order_key(found: list[Event], step: str, last: bool = False) -> Event | None:
    matching = [e for e in found if e.step == step]
    if not matching:
        return None
    return matching[-1] if last else matching[0]


def _precedes(a: Event, b: Event, drill_steps: tuple[str, ...]) -> bool:
    """Did a happen before b? Times when both are known; else the drill's own order."""
    if a.at is not None and b.at is not None:
        return (a.at, a.index) < (b.at, b.index)
    if a.step in drill_steps and b.step in drill_steps:
        return drill_steps.index(a.step) < drill_steps.index(b.step)
    return a.index < b.index


def _judge(rule: Rule, found: list[Event], drill_steps: tuple[str, ...],
           unsafe: Mapping[str, UnsafeAction]) -> tuple[bool, str, Event | None] | None:
    """(ok, detail, the ``then`` event) of a rule that is not ``good``; None: not judged."""
    then = _order_key(found, rule.then, rule.last)
    if rule.kind == "required":
        detail = "done" if then is not None else f"no {rule.then} step on record"
        return then is not None, detail, then
    if rule.kind == "follows":
        anchor = _order_key(found, rule.first, last=True)
        if anchor is None:
            return None  # nothing to follow
        ok = any(e.step == rule.then and _precedes(anchor, e, drill_steps) for e in found)
        return ok, "done" if ok else f"no {rule.then} after the last {rule.first}", then
    if then is None:  # before
        return None
    before = _order_key(found, rule.first)
    ok = before is not None and _precedes(before, then, drill_steps)
    detail = "in order" if ok else (f"{rule.then} without {rule.first} first" if before is None
                                    else f"{rule.then} came before {rule.first}")
    if ok and rule.unsafe and rule.unsafe in unsafe:
        ok, detail = False, "the drill recorded it as unsafe"
    return ok, detail, then


def _check_order(rules: Sequence[Rule], found: list[Event], drill_steps: tuple[str, ...],
                 unsafe: Mapping[str, UnsafeAction], flag: Flag,
                 ) -> tuple[list[OrderCheck], list[Deduction], list[str]]:
    checks: list[OrderCheck] = []
    deductions: list[Deduction] = []
    good: list[str] = []
    for rule in rules:
        if rule.kind == "good":
            then = _order_key(found, rule.then, rule.last)
            before = _order_key(found, rule.first)
            if then is not None and before is not None and _precedes(before, then, drill_steps):
                good.append(rule.text)
            continue
        judged = _judge(rule, found, drill_steps, unsafe)
        if judged is None:
            continue
        ok, detail, then = judged
        if not ok and rule.unsafe:
            flag(rule.unsafe, then.at if then else None, None)
            checks.append(OrderCheck(rule.text, False, f"{detail} (unsafe action, below)", 0))
            continue
        checks.append(OrderCheck(rule.text, ok, detail, 0 if ok else rule.points))
        if not ok:
            deductions.append(Deduction(rule.points, "order", f"{rule.text}: {detail}"))
    return checks, deductions, good


# ---- unsafe actions --------------------------------------------------------------------------
def _mass_delete(found: list[Event], flag: Flag) -> None:
    deletes = [e for e in found if e.step == "delete-pod" and e.at is not None]
    for i in range(len(deletes) - MASS_DELETE_COUNT + 1):
        window = deletes[i:i + MASS_DELETE_COUNT]
        first_at, last_at = window[0].at, window[-1].at
        assert first_at is not None and last_at is not None
        if (last_at - first_at).total_seconds() <= MASS_DELETE_WINDOW_S:
            flag("mass-delete-pods", first_at, f"deleted {MASS_DELETE_COUNT}+ pods within "
                 f"{format_elapsed(MASS_DELETE_WINDOW_S)}")
            return


def _undo_to_bad(recs: Sequence[Rec], bad: int | None, namespace: str, name: str,
                 target: str, flag: Flag) -> None:
    """Follow revision numbers through undos: an undo renumbers the revision it restores."""
    if bad is None:
        return
    latest = bad
    for rec in recs:
        if rec.kind != "action.finished" or not rec.on_target(namespace, name):
            continue
        result = rec.outcome
        counted = category(rec.action)
        if counted == "restart":
            latest += 1
            continue
        if counted != "rollback" or result.get("skipped"):
            continue
        to = as_int(result.get("to_revision"))
        to = as_int(rec.params.get("to_revision")) if to is None else to
        latest = max(latest, as_int(result.get("from_revision")) or 0, to or 0)
        if to == bad:
            flag("undo-to-bad-revision", rec.when,
                 f"rolled {target} back to revision {to}, the bad release")
            bad = latest + 1
        latest += 1


# ---- scoring ---------------------------------------------------------------------------------
def score(records: Iterable[Mapping[str, Any] | AuditRecord], facts: DrillFacts) -> DrillScore:
    """Score one drill from its audit records and the drill's facts (see the module doc)."""
    recs = normalise(records)
    started = as_time(facts.started)
    assert started is not None
    rehearsal = facts.rehearsal or rehearsal_for(facts.scenario)
    target = facts.target or rehearsal.target
    namespace, _, name = target.partition("/")
    seeded = rehearsal if target == rehearsal.target else rehearsal_on(target)
    initial = facts.initial_replicas or (seeded.initial_replicas if seeded else None)
    bad = facts.bad_revision or (seeded.bad_revision if seeded else None)

    def since(moment: datetime | None) -> float | None:
        return None if moment is None else (moment - started).total_seconds()

    first = next((r for r in recs if r.when >= started and r.kind.startswith(HUMAN_KINDS)),
                 None)
    detect = since(first.when) if first else None
    resolve = since(as_time(facts.resolved))
    mitigate = since(as_time(facts.mitigated) or as_time(facts.resolved))
    deductions = _time_deductions(detect, mitigate, resolve)

    found = events(recs, rehearsal, facts.drill_steps, namespace, name, initial)
    unsafe: dict[str, UnsafeAction] = {}

    def flag(code: str, at: datetime | None, what: str | None = None) -> None:
        if code not in unsafe:
            points = UNSAFE_POINTS.get(code, UNSAFE_DEFAULT_POINTS)
            unsafe[code] = UnsafeAction(code, what or UNSAFE_TEXT.get(code, code), since(at),
                                        points)

    if rehearsal.offline_step is None:
        zero = _order_key(found, "scale-zero")
        if zero is not None:
            flag("scale-to-zero", zero.at, f"scaled {target} to 0 replicas (a self-inflicted "
                 "outage; only data-loss's STOP WRITES and a breach's ISOLATE take it offline)")
    _undo_to_bad(recs, bad, namespace, name, target, flag)
    _mass_delete(found, flag)
    for entry in facts.drill_unsafe:
        code, _, message = entry.partition(": ")
        flag(code.strip(), None, message.strip() or None)

    checks, order_deductions, good = _check_order(rehearsal.rules, found, facts.drill_steps,
                                                  unsafe, flag)
    deductions += order_deductions
    deductions += [Deduction(action.points, "unsafe", action.what) for action in unsafe.values()]
    data, data_deductions = _data_outcome(dict(facts.data), checks)
    deductions += data_deductions
    steps = tuple(StepSeen(e.step, since(e.at), e.source) for e in found)
    total = max(0, 100 - sum(d.points for d in deductions))
    return DrillScore(facts.scenario, total, detect, mitigate, resolve, tuple(checks),
                      tuple(unsafe.values()), tuple(deductions), steps, tuple(good), data)


DATA_LOST_POINTS = 10


def _data_outcome(data: dict[str, int], checks: list[OrderCheck]
                  ) -> tuple[tuple[str, ...], list[Deduction]]:
    """The real database's outcome (the drill counts the rows by SQL): lines for the report,
    and the deduction for rows lost for good."""
    if not data:
        return (), []
    lines = [f"rows written after the last good backup: {data.get('rows_at_risk', 0)}",
             f"rows recovered: {data.get('rows_recovered', 0)}",
             f"rows lost: {data.get('rows_lost', 0)}"]
    order = next((c for c in checks if "BEFORE the restore" in c.rule), None)
    if order is not None:
        lines.append("backup of the current state before the restore: "
                     + ("yes" if order.ok else "no"))
    lost = data.get("rows_lost", 0)
    deductions = [Deduction(DATA_LOST_POINTS, "data", f"data lost: {lost} rows written after "
                            "the last good backup are gone")] if lost else []
    return tuple(lines), deductions


__all__ = [
    "UNSAFE_POINTS",
    "Deduction",
    "DrillFacts",
    "DrillScore",
    "OrderCheck",
    "Rehearsal",
    "Rule",
    "StepSeen",
    "UnsafeAction",
    "render_markdown",
    "report_path",
    "score",
    "write_report",
]
