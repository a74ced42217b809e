"""Audit records read as drill steps: which recovery step each record shows, and when.

What the records are read as (first match wins):

- a drill action (every action some drill scenario understands, e.g. ``backup-current``,
  ``restore``, ``rotate-secrets``, ``migrate-down``): an action record whose ``action`` is
  that name, or ``drill``/``drill-action``/``scenario-action`` with ``params.action`` the name,
  or a ``shell`` action whose command calls ``/drill/v1/scenario/action`` with the name;
- ``rollback``, ``restart``, ``scale`` (``scale-up``/``scale-zero``), ``delete-pod``, and an
  Argo Rollout's ``abort-canary``, ``canary-retry``, ``canary-promote``, ...:
  ``action.finished`` records of the console's actions (only finished actions count); undoing
  the target, or scaling it to 0, also counts as the scenario's offline step (data-loss's STOP
  WRITES, a breach's ISOLATE) and restarting it as its restart step (a breach's redeploy);
- ``verify``: a finished ``verify`` or ``gate`` action;
- a ``runbook.step`` record (step id in ``params.step``/``params.step_id``/``action``, status in
  ``params.status`` or ``result.status``; no status means done) whose step is done: its id
  counts as that step (``communicate``, ``verify-*``/``check-*``/``monitor-*`` as verify, the
  runbook step ids the scenarios' rehearsal data name as the drill steps they stand for).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.domain import action_kinds
from console.domain.audit import AuditRecord, parse_timestamp
from drill.scenarios import Rehearsal, drill_actions, step_aliases

VERIFY_PREFIXES = ("verify", "check-", "monitor-", "gate")
CANARY_STEPS = ("abort-canary", "canary-retry", "canary-promote", "canary-pause",
                "canary-resume")


@dataclass(frozen=True)
class Rec:
    """One audit record, normalised."""

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

    @property
    def outcome(self) -> Mapping[str, Any]:
        return self.result if isinstance(self.result, Mapping) else {}

    def on_target(self, namespace: str, name: str) -> bool:
        kind, _, target = self.target.rpartition("/")
        if kind not in ("", "deployment", "deployments", "deployment.apps", "rollout"):
            return False
        return target == name and self.namespace in ("", namespace)


@dataclass(frozen=True)
class Event:
    """A drill step seen: when (None: only the drill saw it), and in which order."""

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


def normalise(records: Iterable[Mapping[str, Any] | AuditRecord]) -> list[Rec]:
    """The records with a readable time, as ``Rec`` (index: position in ``records``)."""
    out: list[Rec] = []
    for index, raw in enumerate(records):
        data = _as_dict(raw)
        try:
            when = parse_timestamp(str(data.get("time")))
        except ValueError:
            continue
        params = data.get("params")
        seq = data.get("seq")
        out.append(Rec(index, when, str(data.get("kind") or ""), str(data.get("action") or ""),
                       str(data.get("target") or ""), str(data.get("namespace") or ""),
                       params if isinstance(params, Mapping) else {}, data.get("result"),
                       seq if isinstance(seq, int) else 0))
    return out


def as_time(value: datetime | str | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return parse_timestamp(value)


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _drill_action(rec: Rec, known: tuple[str, ...]) -> str | None:
    if rec.action in known:
        return rec.action
    if rec.action in ("drill", "drill-action", "scenario-action"):
        wanted = rec.params.get("action")
        return wanted if wanted in known else None
    if rec.action == "shell":
        command = rec.params.get("command")
        text = " ".join(map(str, command)) if isinstance(command, list | tuple) else str(command)
        if "/drill/v1/scenario/action" in text:
            for name in known:
                if f'"{name}"' in text or f"'{name}'" in text or f"action={name}" in text:
                    return name
    return None


def _step_record(rec: Rec) -> tuple[str, bool] | None:
    """(step id, done) of a runbook.step record."""
    step = rec.params.get("step") or rec.params.get("step_id") or rec.target or rec.action
    if not isinstance(step, str) or not step:
        return None
    status = rec.params.get("status") or rec.outcome.get("status")
    if status is None and isinstance(rec.result, str):
        status = rec.result
    return step, status in (None, "done", "checked", "ok")


def _runbook_step(step: str, aliases: Mapping[str, str]) -> str | None:
    if "communicate" in step:
        return "communicate"
    if step in aliases:
        return aliases[step]
    if step.startswith(VERIFY_PREFIXES):
        return "verify"
    return None


def category(action: str | None) -> str | None:
    """How the score counts an action: its kind's ``scoring`` category
    (console/domain/kinds/), or the record's own name for what is not a kind (``gate``)."""
    kind = action_kinds.get(action) if action else None
    return kind.scoring if kind is not None else action


def _target_steps(rec: Rec, rehearsal: Rehearsal, initial: int | None) -> list[str]:
    """The steps a finished console action on the target shows."""
    result = rec.outcome
    offline = [rehearsal.offline_step] if rehearsal.offline_step else []
    counted = category(rec.action)
    if counted == "rollback":
        return [] if result.get("skipped") else ["rollback", *offline]
    if counted == "restart":
        return ["restart"] + ([rehearsal.restart_step] if rehearsal.restart_step else [])
    if counted in CANARY_STEPS:  # an Argo Rollout's abort, retry, promote, pause, resume
        return [counted]
    if counted == "scale":
        to = as_int(result.get("to"))
        to = as_int(rec.params.get("replicas")) if to is None else to
        before = as_int(result.get("from"))
        before = initial if before is None else before
        if to == 0:
            return ["scale-zero", *offline]
        if to is not None and before is not None and to > before:
            return ["scale-up"]
    return []


def events(recs: Sequence[Rec], rehearsal: Rehearsal, drill_steps: tuple[str, ...],
           namespace: str, name: str, initial: int | None) -> list[Event]:
    """Canonical steps, in record order, from the records and then the drill's own list."""
    found: list[Event] = []
    aliases = step_aliases()
    known = drill_actions()
    for rec in recs:
        steps: list[str] = []
        if rec.kind == "runbook.step":
            seen = _step_record(rec)
            if seen is not None and seen[1]:
                steps = [s for s in [_runbook_step(seen[0], aliases)] if s]
        elif rec.kind == "action.finished":
            drill = _drill_action(rec, known)
            if drill is not None:
                steps = [drill]
            elif category(rec.action) in ("verify", "gate"):
                steps = ["verify"]
            elif category(rec.action) == "delete-pod":
                steps = ["delete-pod"]
            elif rec.on_target(namespace, name):
                steps = _target_steps(rec, rehearsal, initial)
        found += [Event(step, rec.when, rec.index, rec.label) for step in steps]
    seen_steps = {event.step for event in found}
    tail = len(recs)
    for offset, step in enumerate(drill_steps):
        if step not in seen_steps:
            found.append(Event(step, None, tail + offset, "drill"))
            seen_steps.add(step)
    return found
