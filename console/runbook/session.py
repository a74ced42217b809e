"""The console's hold on the incident: the incident file, its audit log and the active runbook.

Pair-driving consoles share all three through files (see console/domain/incident.py and
console/domain/audit.py); this module keeps the console side small: open or resume, list the
steps (as plain ``StepView``s; the UI makes rows of them), check steps off, move the cursor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from adapters.metrics import MetricsClient
from adapters.postgres import DatabaseConfig
from adapters.probes import Prober
from adapters.redact import redact
from console.domain.actions import ActionRunner
from console.domain.actor import Actor
from console.domain.audit import INCIDENT_OPENED, NOTE, RUNBOOK_STEP, AuditLog
from console.domain.incident import IncidentError, IncidentStore, SharedIncident
from console.domain.incident_values import save_values, saved_values
from console.domain.statefiles import default_state_dir
from console.runbook.engine import RunbookEngine
from console.runbook.errors import Problem, RunbookError
from console.runbook.loading import load_all
from console.runbook.outcomes import StepView
from console.runbook.schema import Runbook
from console.runbook.templates import substitute, template_variables
from console.runbook.variables import Question, check_values, merged, missing, questions

DEFAULT_RUNBOOK = "production-bug"


@dataclass
class ChecklistState:
    incident: SharedIncident
    audit: AuditLog
    runbook: Runbook | None
    values: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    actor: Actor = field(default_factory=Actor.current)
    _stamp: object = None
    given: dict[str, str] = field(default_factory=dict)  # values set, not worked out

    @classmethod
    def open(cls, state_dir: Path | None, *, resume: str | None, context: str, namespace: str,
             title: str, severity: str, runbook: str | None, runbook_values: dict[str, str],
             user_dirs: tuple[Path, ...] = (),
             clock: Callable[[], datetime] | None = None,
             actor: Actor | None = None) -> ChecklistState:
        """`clock` stamps the incident and its audit records (default: the wall clock)."""
        state_dir = state_dir or default_state_dir()
        store = IncidentStore(state_dir, clock=clock)
        runbooks, problems = load_all(user_dirs)
        by_id = {r.id: r for r in runbooks}
        actor = actor or Actor.current()
        saved: dict[str, str] = {}
        if resume:
            found = store.latest() if resume == "latest" else store.load(resume)
            if found is None:
                raise IncidentError("no open incident to resume; start without --resume")
            incident = store.attach(found.id)
            wanted = runbook or (found.runbooks[0] if found.runbooks else DEFAULT_RUNBOOK)
            saved = saved_values(found, wanted)  # the incident's values win: it is the record
            # from the (validated) id, never from the file: whoever can write the incident
            # file could otherwise point our appends at any file of ours
            audit = AuditLog.for_incident(incident.id, state_dir, actor=actor,
                                          context=context, namespace=namespace, clock=clock)
        else:
            wanted = runbook or DEFAULT_RUNBOOK
            incident = store.open_new(title, severity, context, namespace,  # type: ignore[arg-type]
                                      runbooks=[wanted], by=actor)
            snapshot = incident.read()
            audit = AuditLog.for_incident(snapshot.id, state_dir, actor=actor,
                                          context=context, namespace=namespace, clock=clock)
            audit.append(INCIDENT_OPENED, target=snapshot.id,
                         params={"runbook": wanted, "title": title, "severity": severity},
                         message=f"{title} (severity {severity})")
        chosen = by_id.get(wanted)
        if chosen is None:
            problems.append(Problem(file="", line=0, message=f"unknown runbook {wanted!r}; "
                                    f"known: {', '.join(sorted(by_id))}"))
        given = {"namespace": namespace, **runbook_values, **saved}
        values = _with_defaults(chosen, given) if chosen is not None else dict(given)
        state = cls(incident, audit, chosen, values, problems, actor, given=given)
        if chosen is not None and runbook_values:  # --set / the config file: kept, not noted
            state._keep({k: v for k, v in runbook_values.items() if k not in saved},
                        note=False)
        return state

    engine: RunbookEngine | None = None
    _engine_args: dict[str, object] = field(default_factory=dict)

    def attach_engine(self, *, actions: ActionRunner, metrics: MetricsClient | None,
                      prober: Prober | None, context: str, namespace: str,
                      two_person: bool = False,
                      database: DatabaseConfig | None = None) -> str | None:
        """Run the runbook's steps for real (``two_person``: mutating ones only once another
        person approves them); returns why not when it cannot be bound (not when variables
        are only missing: ``questions`` asks for them)."""
        self._engine_args = {"actions": actions, "metrics": metrics, "prober": prober,
                             "context": context, "namespace": namespace,
                             "two_person": two_person, "database": database}
        if self.runbook is None:
            return None
        try:
            bound = self.runbook.bind(self.values)
        except RunbookError as error:
            if self.unset():
                return None
            return (f"runbook {self.runbook.id}: steps can be checked off but not run until "
                    f"its variables are set ({error.message})")
        self.engine = RunbookEngine(bound, incident=self.incident, audit=self.audit,
                                    **self._engine_args)  # type: ignore[arg-type]
        return None

    # ---- the runbook's variables ---------------------------------------------------------
    def unset(self) -> list[str]:
        """The variables that have no value yet (action steps cannot run until they do)."""
        return missing(self.runbook, self.given) if self.runbook is not None else []

    def questions(self) -> list[Question]:
        """What the variables form asks for (empty when nothing is missing)."""
        if self.runbook is None or not self.unset():
            return []
        return questions(self.runbook, self.given)

    def check_values(self, entered: dict[str, str]) -> dict[str, str]:
        """Problems with the form's values by field (empty: they can be used)."""
        assert self.runbook is not None
        return check_values(self.runbook, self.given, entered)

    def set_values(self, entered: dict[str, str]) -> dict[str, str]:
        """Use the form's values: kept in the incident, the runbook bound so its action steps
        can run. Returns the problems instead when there are any."""
        errors = self.check_values(entered)
        if errors or self.runbook is None:
            return errors
        self.given = merged(self.given, entered)
        self.values = _with_defaults(self.runbook, self.given)
        self._keep({k: v for k, v in self.given.items() if k in entered})
        if self._engine_args and self.engine is None:
            self.attach_engine(**self._engine_args)  # type: ignore[arg-type]
        return {}

    def _adopt(self, saved: dict[str, str]) -> None:
        """Values another console kept in the incident since this one opened it."""
        # a value kept masked (it looked like a secret) is still the one this console has
        fresh = {k: v for k, v in saved.items() if redact(self.given.get(k, "")) != v}
        if self.runbook is None or not fresh:
            return
        self.given = {**self.given, **fresh}
        self.values = _with_defaults(self.runbook, self.given)
        if self._engine_args and self.engine is None and not self.unset():
            self.attach_engine(**self._engine_args)  # type: ignore[arg-type]

    def _keep(self, values: dict[str, str], *, note: bool = True) -> None:
        assert self.runbook is not None
        used = {name for name, _spec in self.runbook.inputs()}
        kept = {k: v for k, v in values.items() if k in used and k != "namespace"}
        if not kept:
            return
        save_values(self.incident, self.runbook.id, kept)
        if note:
            self.audit.append(NOTE, action="runbook.values", target=self.runbook.id,
                              params={"runbook": self.runbook.id, "values": kept},
                              message=f"runbook {self.runbook.id}: variables set: "
                                      + ", ".join(f"{k}={v}" for k, v in kept.items()))

    # ---- reading -----------------------------------------------------------------------
    def _text(self, text: str | None) -> str:
        """``text`` with the variables' values; one not set yet shows as ``‹name?›``."""
        if not text:
            return ""
        shown = {**{n: f"‹{n}?›" for n in template_variables(text)}, **self.values}
        return substitute(text, shown)

    def steps(self) -> tuple[str, list[StepView], str | None]:
        """The runbook's title, its steps as the checklist shows them, and the current step."""
        self._stamp = self.incident.stamp()
        if self.runbook is None:
            return "no runbook", [], None
        if self.engine is not None:
            self.engine.refresh()
            return self._text(self.runbook.title), self.engine.steps_view(), self.engine.current
        incident = self.incident.read()
        self._adopt(saved_values(incident, self.runbook.id))
        if self.engine is not None:  # another console set the variables: the steps can run
            return self.steps()
        progress = incident.step_progress.get(self.runbook.id, {})
        rows = []
        for step in self.runbook.steps:
            state = progress.get(step.id)
            status = state.status if state else "pending"
            if status == "pending" and any(
                    progress.get(r) is None or progress[r].status != "done"
                    for r in step.requires):
                status = "blocked"
            detail = state.note if state and state.note else ""
            rows.append(StepView(step.id, self._text(step.title), step.kind, status,  # type: ignore[arg-type]
                                 detail, self._text(step.explain)))
        current = None
        if incident.current_step and incident.current_step[0] == self.runbook.id:
            current = incident.current_step[1]
        if current is None:
            current = next((r.id for r in rows if r.status in ("pending", "running")), None)
        return self._text(self.runbook.title), rows, current

    def changed(self) -> bool:
        return self.incident.changed_since(self._stamp)  # type: ignore[arg-type]

    # ---- changing ----------------------------------------------------------------------
    def toggle(self, step_id: str) -> str | None:
        """Check a manual step off (or back on). Returns a message when refused."""
        if self.runbook is None:
            return "no runbook is active"
        step = self.runbook.step(step_id)
        if self.engine is not None and step.kind == "manual":
            if self.engine.status(step_id) == "done":
                outcome = self.engine.reopen(step_id, "unchecked", by=self.actor)
            else:
                outcome = self.engine.check_off(step_id, by=self.actor)
            return None if outcome.ok else outcome.message
        if step.kind != "manual":
            return (f"'{self._text(step.title)}' is a {step.kind} step: run it with its action "
                    "key, or it is checked off when the action finishes")
        progress = self.incident.read().step_progress.get(self.runbook.id, {})
        missing = [r for r in step.requires if progress.get(r) is None
                   or progress[r].status != "done"]
        if missing:
            return f"'{step_id}' needs {', '.join(missing)} done first"
        done = progress.get(step_id) is not None and progress[step_id].status == "done"
        status = "pending" if done else "done"
        self.audit.append(RUNBOOK_STEP, action="manual", target=step_id,
                          params={"runbook": self.runbook.id, "step": step_id, "status": status},
                          result={"status": status},
                          message=f"{'unchecked' if done else 'checked off'}: "
                                  f"{self._text(step.title)}")
        self.incident.set_step(self.runbook.id, step_id, status, self.actor)  # type: ignore[arg-type]
        if status == "done":
            self.move(1, from_step=step_id)
        return None

    def move(self, delta: int, from_step: str | None = None) -> None:
        if self.runbook is None or not self.runbook.steps:
            return
        if self.engine is not None and from_step is None:
            if delta > 0:
                self.engine.next()
            else:
                self.engine.previous()
            return
        ids = [s.id for s in self.runbook.steps]
        if from_step is None:
            _title, _steps, current = self.steps()
            from_step = current or ids[0]
        index = ids.index(from_step) if from_step in ids else 0
        target = ids[max(0, min(len(ids) - 1, index + delta))]
        self.incident.set_current_step(self.runbook.id, target)


def _with_defaults(runbook: Runbook, values: dict[str, str]) -> dict[str, str]:
    """Given values plus every default that can be worked out; unbound ones stay as written."""
    try:
        return {**values, **runbook.resolve(values)}
    except RunbookError:
        pass
    out = dict(values)
    for name, spec in runbook.inputs():
        if name not in out and spec.default is not None:
            try:
                out[name] = substitute(spec.default, out)
            except Exception:  # noqa: BLE001 - default needs a value we do not have
                continue
    return out
