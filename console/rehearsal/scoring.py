"""Score a drill rehearsal from its audit log: how fast, in the handbook's order, how safely.

``score(records, facts)`` reads the audit records of one drill (dicts as ``console/domain/audit.py``
writes them, or ``AuditRecord``) together with what the drill itself knows (``DrillFacts``:
when the incident started, when the error ratio went back under the threshold, when it was
resolved, and the steps and unsafe actions the drill cluster saw) and returns a
``DrillScore``: times to detect, mitigate and resolve, the handbook-order checks, the unsafe
actions and a total out of 100 with every deduction listed. ``render_markdown`` writes the
report that goes beside the audit log (``report_path``).

All times must share one clock: the audit log's (wall-clock UTC). The console stamps the
drill's milestones (mitigated, resolved) when it observes them.

What the records are read as (first match wins):

- a drill action (``backup-current``, ``restore``, ``reconcile``, ``rotate-secrets``,
  ``migrate-down``, ``stop-writes``): an action record whose ``action`` is that name, or
  ``drill``/``drill-action``/``scenario-action`` with ``params.action`` the name, or a
  ``shell`` action whose command calls ``/drill/v1/scenario/action`` with the name;
- ``rollback``, ``restart``, ``scale`` (``scale-up``/``scale-zero``), ``delete-pod``:
  ``action.finished`` records of the console's actions (only finished actions count);
- ``verify``: a finished ``verify`` or ``gate`` action;
- a ``runbook.step`` record (step id in ``params.step``/``params.step_id``/``action``, status in
  ``params.status`` or ``result.status``; no status means done) whose step is done: its id
  counts as that step (``communicate``, ``verify-*``/``check-*``/``monitor-*`` as verify, the
  data-loss and security-breach runbooks' ids as the drill steps they name).

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
handbook order                  per scenario (``RULES``), each broken rule      5-10
unsafe actions                  ``UNSAFE_POINTS``                               15-25 each
==============================  ==============================================  ============
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from console.domain.audit import AuditRecord, parse_timestamp
from console.domain.durations import format_elapsed

DRILL_ACTIONS = ("stop-writes", "backup-current", "restore", "reconcile", "rotate-secrets",
                 "migrate-down")
HUMAN_KINDS = ("action.", "runbook.", "note", "proposal.")

DEFAULT_TARGETS = {"data-loss": "shop/worker", "security-breach": "auth/login"}
DEFAULT_TARGET = "shop/api"
# revision of the bad release in the drill's seeded workload (the scenario's deploy)
DEFAULT_BAD_REVISIONS = {"shop/api": 4, "shop/worker": 4, "auth/login": 5}
DEFAULT_REPLICAS = {"shop/api": 3, "shop/worker": 2, "auth/login": 2}

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

# runbook step ids that stand for a canonical step
STEP_ALIASES: dict[str, str] = {
    "take-offline": "isolate",
    "isolate": "isolate",
    "restart-with-new-secrets": "redeploy",
    "rollback-migration": "migrate-down",
    "stop-writes": "stop-writes",
    "backup-current": "backup-current",
    "restore": "restore",
    "identify-missing-data": "reconcile",
    "rotate-secrets": "rotate-secrets",
}
VERIFY_PREFIXES = ("verify", "check-", "monitor-", "gate")


# ---- inputs ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DrillFacts:
    """What the drill knows about its own timeline (times on the audit log's clock).

    ``mitigated``: when the error ratio went back under the threshold (or the incident was
    otherwise contained); ``resolved``: when the drill reported it resolved. ``target`` is
    ``namespace/deployment`` (default per scenario); ``bad_revision`` the revision number of the
    bad release and ``initial_replicas`` the target's replicas before the incident (defaults:
    the drill's seeded workload). ``drill_steps`` and ``drill_unsafe`` are the drill's own
    ``ScenarioStatus.steps``/``unsafe`` (``"code: message"``), for what the audit log cannot
    show (e.g. a drill action run from a shell step).
    """

    scenario: str
    started: datetime | str
    mitigated: datetime | str | None = None
    resolved: datetime | str | None = None
    target: str | None = None
    bad_revision: int | None = None
    initial_replicas: int | None = None
    drill_steps: tuple[str, ...] = ()
    drill_unsafe: tuple[str, ...] = ()


# ---- outputs ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Deduction:
    points: int
    category: str  # time | order | unsafe
    reason: str


@dataclass(frozen=True)
class OrderCheck:
    rule: str
    ok: bool
    detail: str
    points: int = 0  # deducted when not ok (0 when it is counted as an unsafe action)


@dataclass(frozen=True)
class UnsafeAction:
    code: str
    what: str
    at_s: float | None  # seconds after the incident started, when known
    points: int


@dataclass(frozen=True)
class StepSeen:
    step: str
    at_s: float | None  # seconds after the start (None: only the drill saw it)
    source: str  # what showed it (an audit record, or "drill")


@dataclass(frozen=True)
class DrillScore:
    scenario: str
    total: int
    time_to_detect_s: float | None
    time_to_mitigate_s: float | None
    time_to_resolve_s: float | None
    checks: tuple[OrderCheck, ...]
    unsafe: tuple[UnsafeAction, ...]
    deductions: tuple[Deduction, ...]
    steps: tuple[StepSeen, ...] = ()
    good: tuple[str, ...] = ()

    @property
    def resolved(self) -> bool:
        return self.time_to_resolve_s is not None

    @property
    def clean(self) -> bool:
        """Resolved with no unsafe action."""
        return self.resolved and not self.unsafe


# ---- rules -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """One handbook-order rule.

    ``before``: when ``then`` happened (its first, or ``last``, occurrence), ``first`` must have
    happened before it. ``follows``: when ``first`` happened, ``then`` must happen after its
    last occurrence. ``required``: ``then`` must happen. ``good``: noted when ``first`` came
    before ``then``, never deducted. A broken rule with ``unsafe`` is an unsafe action instead
    of an order deduction.
    """

    kind: str  # before | follows | required | good
    text: str
    then: str
    first: str = ""
    points: int = 10
    last: bool = False
    unsafe: str = ""


ROLLBACK_RULES: tuple[Rule, ...] = (
    Rule("follows", "verify (a verify step or gate) after the rollback", "verify", "rollback"),
    Rule("required", "communicate step checked", "communicate"),
)
RULES: dict[str, tuple[Rule, ...]] = {
    "bad-deploy-auth": ROLLBACK_RULES,
    "slow-release": ROLLBACK_RULES,
    "memory-leak": ROLLBACK_RULES + (
        Rule("good", "scaled up to buy time before the rollback", "rollback", "scale-up"),
    ),
    "bad-migration": ROLLBACK_RULES + (
        Rule("required", "migration rolled back (npm run migrate:down)", "migrate-down",
             points=5),
    ),
    "data-loss": (
        Rule("before", "STOP WRITES before the backup of the current state", "backup-current",
             "stop-writes"),
        Rule("before", "STOP WRITES before the restore", "restore", "stop-writes",
             unsafe="restore-while-writing"),
        Rule("before", "backup of the current state BEFORE the restore", "restore",
             "backup-current", unsafe="restore-without-backup"),
        Rule("required", "missing data identified and reconciled after the restore",
             "reconcile"),
        Rule("required", "communicate step checked", "communicate"),
    ),
    "security-breach": (
        Rule("before", "ISOLATE before rotating secrets", "rotate-secrets", "isolate",
             unsafe="rotate-before-isolate"),
        Rule("required", "SECURE: rotate ALL secrets (revoke the leaked token)",
             "rotate-secrets"),
        Rule("before", "redeploy after rotating the secrets", "redeploy", "rotate-secrets",
             last=True),
        Rule("required", "communicate step checked", "communicate"),
    ),
}
DEFAULT_RULES: tuple[Rule, ...] = (Rule("required", "communicate step checked", "communicate"),)
# scenarios whose handbook procedure takes the target offline on purpose
ZERO_ALLOWED = {"data-loss": "stop-writes", "security-breach": "isolate"}


# ---- normalised records ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Rec:
    index: int
    when: datetime
    kind: str
    action: str
    target: str
    namespace: str
    params: Mapping[str, Any]
    result: Any
    seq: int = 0

    @property
    def label(self) -> str:
        return f"{self.kind} {self.action}".strip() + (f" #{self.seq}" if self.seq else "")


@dataclass(frozen=True)
class _Event:
    step: str
    at: datetime | None
    index: int  # order among records (drill-only steps: after all records, in drill order)
    source: str


def _as_dict(record: Mapping[str, Any] | AuditRecord) -> Mapping[str, Any]:
    if isinstance(record, AuditRecord):
        return {"time": record.time, "seq": record.seq, "kind": record.kind,
                "action": record.action, "target": record.target,
                "namespace": record.namespace, "params": record.params,
                "result": record.result}
    return record


def _normalise(records: Iterable[Mapping[str, Any] | AuditRecord]) -> list[_Rec]:
    out: list[_Rec] = []
    for index, raw in enumerate(records):
        data = _as_dict(raw)
        try:
            when = parse_timestamp(str(data.get("time")))
        except ValueError:
            continue
        params = data.get("params")
        seq = data.get("seq")
        out.append(_Rec(index, when, str(data.get("kind") or ""), str(data.get("action") or ""),
                        str(data.get("target") or ""), str(data.get("namespace") or ""),
                        params if isinstance(params, Mapping) else {}, data.get("result"),
                        seq if isinstance(seq, int) else 0))
    return out


def _time(value: datetime | str | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return parse_timestamp(value)


def _result(rec: _Rec) -> Mapping[str, Any]:
    return rec.result if isinstance(rec.result, Mapping) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _on_target(rec: _Rec, namespace: str, name: str) -> bool:
    kind, _, target = rec.target.rpartition("/")
    if kind not in ("", "deployment", "deployments", "deployment.apps"):
        return False
    return target == name and rec.namespace in ("", namespace)


def _drill_action(rec: _Rec) -> str | None:
    if rec.action in DRILL_ACTIONS:
        return rec.action
    if rec.action in ("drill", "drill-action", "scenario-action"):
        wanted = rec.params.get("action")
        return wanted if wanted in DRILL_ACTIONS else None
    if rec.action == "shell":
        command = rec.params.get("command")
        text = " ".join(map(str, command)) if isinstance(command, list | tuple) else str(command)
        if "/drill/v1/scenario/action" in text:
            for name in DRILL_ACTIONS:
                if f'"{name}"' in text or f"'{name}'" in text or f"action={name}" in text:
                    return name
    return None


def _step_record(rec: _Rec) -> tuple[str, bool] | None:
    """(step id, done) of a runbook.step record."""
    step = rec.params.get("step") or rec.params.get("step_id") or rec.target or rec.action
    if not isinstance(step, str) or not step:
        return None
    status = rec.params.get("status") or _result(rec).get("status")
    if status is None and isinstance(rec.result, str):
        status = rec.result
    return step, status in (None, "done", "checked", "ok")


def _events(recs: Sequence[_Rec], facts: DrillFacts, namespace: str, name: str,
            initial: int | None) -> list[_Event]:
    """Canonical steps, in record order, from the records and then the drill's own list."""
    events: list[_Event] = []
    zero_step = ZERO_ALLOWED.get(facts.scenario)

    def add(step: str, rec: _Rec) -> None:
        events.append(_Event(step, rec.when, rec.index, rec.label))

    for rec in recs:
        if rec.kind == "runbook.step":
            found = _step_record(rec)
            if found is None or not found[1]:
                continue
            step = found[0]
            if "communicate" in step:
                add("communicate", rec)
            elif step in STEP_ALIASES:
                add(STEP_ALIASES[step], rec)
            elif step.startswith(VERIFY_PREFIXES):
                add("verify", rec)
            continue
        if rec.kind != "action.finished":
            continue
        drill = _drill_action(rec)
        if drill is not None:
            add(drill, rec)
            continue
        result = _result(rec)
        if rec.action in ("verify", "gate"):
            add("verify", rec)
        elif rec.action == "delete-pod":
            add("delete-pod", rec)
        elif not _on_target(rec, namespace, name):
            continue
        elif rec.action == "undo":
            if result.get("skipped"):
                continue
            add("rollback", rec)
            if zero_step:
                add(zero_step, rec)
        elif rec.action == "restart":
            add("restart", rec)
            if facts.scenario == "security-breach":
                add("redeploy", rec)
        elif rec.action == "scale":
            to = _int(result.get("to"))
            to = _int(rec.params.get("replicas")) if to is None else to
            before = _int(result.get("from"))
            before = initial if before is None else before
            if to == 0:
                add("scale-zero", rec)
                if zero_step:
                    add(zero_step, rec)
            elif to is not None and before is not None and to > before:
                add("scale-up", rec)
    seen = {event.step for event in events}
    tail = len(recs)
    for offset, step in enumerate(facts.drill_steps):
        if step not in seen:
            events.append(_Event(step, None, tail + offset, "drill"))
            seen.add(step)
    return events


# ---- scoring ---------------------------------------------------------------------------------
def _late_points(seconds: float, target: float, step: float, cap: int) -> int:
    if seconds <= target:
        return 0
    return min(cap, math.ceil((seconds - target) / step))


def _order_key(events: list[_Event], step: str, last: bool = False) -> _Event | None:
    matching = [e for e in events if e.step == step]
    if not matching:
        return None
    return matching[-1] if last else matching[0]


def _precedes(a: _Event, b: _Event, drill_steps: tuple[str, ...]) -> bool:
    """Did a happen before b? Times when both are known; else the drill's own order."""
    if a.at is not None and b.at is not None:
        return (a.at, a.index) < (b.at, b.index)
    if a.step in drill_steps and b.step in drill_steps:
        return drill_steps.index(a.step) < drill_steps.index(b.step)
    return a.index < b.index


def score(records: Iterable[Mapping[str, Any] | AuditRecord], facts: DrillFacts) -> DrillScore:
    """Score one drill from its audit records and the drill's facts (see the module doc)."""
    recs = _normalise(records)
    started = _time(facts.started)
    assert started is not None
    target = facts.target or DEFAULT_TARGETS.get(facts.scenario, DEFAULT_TARGET)
    namespace, _, name = target.partition("/")
    initial = facts.initial_replicas or DEFAULT_REPLICAS.get(target)
    deductions: list[Deduction] = []

    def since(moment: datetime | None) -> float | None:
        return None if moment is None else (moment - started).total_seconds()

    # -- times
    first = next((r for r in recs if r.when >= started and r.kind.startswith(HUMAN_KINDS)),
                 None)
    detect = since(first.when) if first else None
    if detect is None:
        deductions.append(Deduction(DETECT_NONE, "time", "no response on record"))
    elif points := _late_points(detect, DETECT_TARGET_S, DETECT_STEP_S, DETECT_MAX):
        deductions.append(Deduction(points, "time", f"time to detect {format_elapsed(detect)} "
                                    f"(target {format_elapsed(DETECT_TARGET_S)})"))
    resolve = since(_time(facts.resolved))
    mitigate = since(_time(facts.mitigated) or _time(facts.resolved))
    if mitigate is None:
        deductions.append(Deduction(MITIGATE_NONE, "time", "never mitigated"))
    elif points := _late_points(mitigate, MITIGATE_TARGET_S, MITIGATE_STEP_S, MITIGATE_MAX):
        deductions.append(Deduction(points, "time", f"time to mitigate {format_elapsed(mitigate)} "
                                    f"(target {format_elapsed(MITIGATE_TARGET_S)})"))
    if resolve is None:
        deductions.append(Deduction(RESOLVE_NONE, "time", "not resolved"))
    elif points := _late_points(resolve, RESOLVE_TARGET_S, RESOLVE_STEP_S, RESOLVE_MAX):
        deductions.append(Deduction(points, "time", f"time to resolve {format_elapsed(resolve)} "
                                    f"(target {format_elapsed(RESOLVE_TARGET_S)})"))

    # -- steps and unsafe actions
    events = _events(recs, facts, namespace, name, initial)
    unsafe: dict[str, UnsafeAction] = {}

    def flag(code: str, at: datetime | None, what: str | None = None) -> None:
        if code not in unsafe:
            points = UNSAFE_POINTS.get(code, UNSAFE_DEFAULT_POINTS)
            unsafe[code] = UnsafeAction(code, what or UNSAFE_TEXT.get(code, code), since(at),
                                        points)

    if facts.scenario not in ZERO_ALLOWED:
        zero = _order_key(events, "scale-zero")
        if zero is not None:
            flag("scale-to-zero", zero.at, f"scaled {target} to 0 replicas (a self-inflicted "
                 "outage; only data-loss's STOP WRITES and a breach's ISOLATE take it offline)")
    _undo_to_bad(recs, facts, namespace, name, target, flag)
    deletes = [e for e in events if e.step == "delete-pod" and e.at is not None]
    for i in range(len(deletes) - MASS_DELETE_COUNT + 1):
        window = deletes[i:i + MASS_DELETE_COUNT]
        first_at, last_at = window[0].at, window[-1].at
        assert first_at is not None and last_at is not None
        if (last_at - first_at).total_seconds() <= MASS_DELETE_WINDOW_S:
            flag("mass-delete-pods", first_at, f"deleted {MASS_DELETE_COUNT}+ pods within "
                 f"{format_elapsed(MASS_DELETE_WINDOW_S)}")
            break
    for entry in facts.drill_unsafe:
        code, _, message = entry.partition(": ")
        flag(code.strip(), None, message.strip() or None)

    # -- handbook order
    checks: list[OrderCheck] = []
    good: list[str] = []
    for rule in RULES.get(facts.scenario, DEFAULT_RULES):
        then = _order_key(events, rule.then, rule.last)
        before = _order_key(events, rule.first) if rule.first else None
        if rule.kind == "good":
            if then is not None and before is not None and _precedes(before, then,
                                                                      facts.drill_steps):
                good.append(rule.text)
            continue
        if rule.kind == "required":
            ok = then is not None
            detail = "done" if ok else f"no {rule.then} step on record"
        elif rule.kind == "follows":
            anchor = _order_key(events, rule.first, last=True)
            if anchor is None:
                continue  # nothing to follow: not judged
            after = [e for e in events if e.step == rule.then
                     and _precedes(anchor, e, facts.drill_steps)]
            ok = bool(after)
            detail = "done" if ok else f"no {rule.then} after the last {rule.first}"
        else:  # before
            if then is None:
                continue
            ok = before is not None and _precedes(before, then, facts.drill_steps)
            detail = "in order" if ok else (
                f"{rule.then} without {rule.first} first" if before is None
                else f"{rule.then} came before {rule.first}")
            if ok and rule.unsafe and rule.unsafe in unsafe:
                ok, detail = False, "the drill recorded it as unsafe"
        if not ok and rule.unsafe:
            flag(rule.unsafe, then.at if then else None)
            checks.append(OrderCheck(rule.text, False, f"{detail} (unsafe action, below)", 0))
            continue
        checks.append(OrderCheck(rule.text, ok, detail, 0 if ok else rule.points))
        if not ok:
            deductions.append(Deduction(rule.points, "order", f"{rule.text}: {detail}"))
    for action in unsafe.values():
        deductions.append(Deduction(action.points, "unsafe", action.what))

    steps = tuple(StepSeen(e.step, since(e.at), e.source) for e in events)
    total = max(0, 100 - sum(d.points for d in deductions))
    return DrillScore(facts.scenario, total, detect, mitigate, resolve, tuple(checks),
                      tuple(unsafe.values()), tuple(deductions), steps, tuple(good))


def _undo_to_bad(recs: Sequence[_Rec], facts: DrillFacts, namespace: str, name: str,
                 target: str, flag: Any) -> None:
    """Follow revision numbers through undos: an undo renumbers the revision it restores."""
    bad = facts.bad_revision or DEFAULT_BAD_REVISIONS.get(target)
    if bad is None:
        return
    latest = bad
    for rec in recs:
        if rec.kind != "action.finished" or not _on_target(rec, namespace, name):
            continue
        result = _result(rec)
        if rec.action == "restart":
            latest += 1
            continue
        if rec.action != "undo" or result.get("skipped"):
            continue
        to = _int(result.get("to_revision"))
        to = _int(rec.params.get("to_revision")) if to is None else to
        latest = max(latest, _int(result.get("from_revision")) or 0, to or 0)
        if to == bad:
            flag("undo-to-bad-revision", rec.when,
                 f"rolled {target} back to revision {to}, the bad release")
            bad = latest + 1
        latest += 1


# ---- report ----------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(result: DrillScore) -> str:
    """The drill report (Markdown) written beside the audit log."""
    verdict = "clean" if result.clean else ("resolved with unsafe actions" if result.resolved
                                            else "not resolved")
    lines = [
        f"# Drill score: {result.scenario} — {result.total}/100",
        "",
        f"Outcome: **{verdict}**.",
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


__all__ = [
    "DRILL_ACTIONS",
    "RULES",
    "UNSAFE_POINTS",
    "Deduction",
    "DrillFacts",
    "DrillScore",
    "OrderCheck",
    "Rule",
    "StepSeen",
    "UnsafeAction",
    "render_markdown",
    "report_path",
    "score",
    "write_report",
]

