"""A runbook's progress for one engine: step states, compensations done, the shared cursor and
which steps this console is running, kept in step with the shared incident file.

Each change is saved in the incident (one atomic write) so ``--resume`` comes back where it was
and a second console sees it; ``refresh()`` picks up other consoles' changes cheaply.
Thread-safe: everything goes through ``lock``, which the engine shares.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from console.domain.actor import Actor, process_console_id
from console.domain.audit import utc_timestamp
from console.domain.incident import Incident, IncidentError, SharedIncident, StepState
from console.runbook.outcomes import StepView, ViewStatus, quoted_list
from console.runbook.schema import AnyStep, BoundRunbook

COMPENSATIONS_SUFFIX = "::compensations"
_KEEP: Any = object()  # "leave the current step pointer alone"


class RunbookProgress:
    """Step states of ``runbook`` as this console knows them, saved to ``incident``."""

    def __init__(self, runbook: BoundRunbook, incident: SharedIncident | None, actor: Actor
                 ) -> None:
        self.runbook = runbook
        self.incident = incident
        self.actor = actor  # who changes are by when no one else is named
        self.lock = threading.RLock()
        self.ids = [step.id for step in runbook.steps]
        self.states: dict[str, StepState] = {}
        self.compensations: dict[str, StepState] = {}
        self.current: str | None = None
        self.live: dict[str, str] = {}  # step id → latest progress line (this console)
        self.running: set[str] = set()  # steps this console is running now
        self._version = -1
        self._stamp: Any = None
        if incident is not None:
            self._stamp = incident.stamp()
            self._apply(incident.read(), force=True)
        if self.current is None:
            self.current = self._first_open()

    # ---- reading ------------------------------------------------------------------------
    def state(self, step_id: str) -> StepState:
        return self.states.get(step_id) or StepState()

    def order_key(self, step_id: str) -> tuple[str, int]:
        return (self.state(step_id).at or "", self.ids.index(step_id))

    def missing(self, step: AnyStep) -> list[str]:
        """The steps ``step`` requires that are not done."""
        return [required for required in step.requires
                if self.state(required).status != "done"]

    def running_here(self) -> set[str]:
        with self.lock:
            return set(self.running)

    def running_elsewhere(self, step_id: str, state: StepState | None = None) -> str | None:
        """Why the step must not start because another live console runs it, or None
        (``state``: as just read from the incident file; default: as this console knows it)."""
        state = state or self.state(step_id)
        if state.status != "running" or state.by is None:
            return None
        by = state.by
        if by.console_id in (process_console_id(), self.actor.console_id) \
                or by.host != socket.gethostname():
            return None  # our own leftover, or another host: we cannot tell, so allow
        if not _alive(by.pid):
            return None  # the console that started it is gone: it was interrupted
        return (f"{step_id} is running in another console ({by.label}, since {state.at}); "
                "wait for it there")

    def remote_running(self, step_id: str, state: StepState) -> str:
        """The detail of a step saved as running that this console is not running."""
        who = state.by.label if state.by else "another console"
        if self.running_elsewhere(step_id) or (state.by and state.by.host != socket.gethostname()):
            return f"running in another console ({who})" + (f": {state.note}" if state.note else "")
        return f"interrupted: {who} started it and is gone; run it again or reopen it"

    def views(self, due: set[str]) -> list[StepView]:
        """Every step as the checklist shows it (``due``: the steps whose undo is due)."""
        with self.lock:
            views = []
            for step in self.runbook.steps:
                state = self.state(step.id)
                status: ViewStatus = state.status
                detail = self.live.get(step.id) or state.note
                missing = self.missing(step)
                if status == "pending" and missing:
                    status = "blocked"
                    detail = "needs " + quoted_list(missing) + " done first"
                if status == "running" and step.id not in self.running:
                    detail = self.remote_running(step.id, state)
                comp = self.compensations.get(step.id)
                compensated = comp is not None and comp.status == "done"
                if compensated:
                    detail = (detail + " · " if detail else "") + "undone"
                elif step.id in due:
                    detail = (detail + " · " if detail else "") + "undo due"
                views.append(StepView(
                    id=step.id, title=step.title, kind=step.kind, status=status, detail=detail,
                    explain=step.explain, current=step.id == self.current,
                    optional=step.optional, when=step.when, mutating=step.is_mutating,
                    needs_confirmation=step.needs_confirmation,
                    requires=tuple(step.requires), by=state.by.label if state.by else None,
                    at=state.at, has_undo=getattr(step, "undo", None) is not None,
                    undo_due=step.id in due, compensated=compensated))
            return views

    def refresh(self) -> bool:
        """Pick up changes other consoles saved (one ``stat`` when nothing changed)."""
        if self.incident is None or not self.incident.changed_since(self._stamp):
            return False
        stamp = self.incident.stamp()
        try:
            incident = self.incident.read()
        except IncidentError:
            return False
        self._stamp = stamp
        return self._apply(incident)

    # ---- changing -----------------------------------------------------------------------
    def move(self, delta: int) -> str | None:
        """Move the cursor ``delta`` steps, staying within the runbook; returns the step id."""
        with self.lock:
            if self.current is None:
                index = 0
            else:
                index = min(max(self.ids.index(self.current) + delta, 0), len(self.ids) - 1)
            target = self.ids[index]
        self.save_pointer(target)
        return target

    def save_pointer(self, step_id: str | None) -> None:
        with self.lock:
            self.current = step_id
        if self.incident is None:
            return
        runbook_id = self.runbook.id

        def apply(incident: Incident) -> None:
            incident.current_step = (runbook_id, step_id) if step_id else None

        self._update(apply)

    def save(self, step_id: str, status: str = "pending", note: str = "", *,
             by: Actor | None = None, advance: bool = False,
             state: StepState | None = None) -> str | None:
        """Record a step's new state here and in the incident; returns a warning if the
        incident could not be saved. ``state`` puts back a previous state as it was."""
        if state is None:
            state = StepState(status=status, by=by or self.actor,  # type: ignore[arg-type]
                              at=utc_timestamp(), note=note)
        status = state.status
        runbook_id = self.runbook.id
        with self.lock:
            self.states[step_id] = state
            pointer: Any = _KEEP
            if status == "running":
                pointer = step_id
            elif advance and self.current == step_id:
                pointer = self._next_open(step_id) or step_id
            if pointer is not _KEEP:
                self.current = pointer

        def apply(incident: Incident) -> None:
            incident.step_progress.setdefault(runbook_id, {})[step_id] = state
            if runbook_id not in incident.runbooks:
                incident.runbooks.append(runbook_id)
            if pointer is not _KEEP:
                incident.current_step = (runbook_id, pointer)

        return self._update(apply)

    def claim(self, step_id: str, note: str) -> str | None:
        """Mark the step running by this console, atomically: under the incident's lock, on
        the file as it is now, refused if another live console holds it. Returns why not
        (naming who holds it), or None once claimed."""
        state = StepState(status="running", by=self.actor, at=utc_timestamp(), note=note)
        if self.incident is None:
            self.save(step_id, state=state)
            return None
        runbook_id = self.runbook.id

        def apply(incident: Incident) -> None:
            held = self.running_elsewhere(step_id, incident.step(runbook_id, step_id))
            if held:
                raise StepHeld(held)
            incident.step_progress.setdefault(runbook_id, {})[step_id] = state
            if runbook_id not in incident.runbooks:
                incident.runbooks.append(runbook_id)
            incident.current_step = (runbook_id, step_id)

        try:
            saved = self.incident.update(apply)
        except StepHeld as held:
            self.refresh()
            return str(held)
        except IncidentError as error:
            return f"not run: the step could not be claimed in the incident: {error.message}"
        with self.lock:
            self.states[step_id] = state
            self.current = step_id
        self._apply(saved)
        return None

    def release(self, step_id: str, before: StepState | None) -> None:
        """Take back a claim that was not followed by a run: the state from before it
        (``None``: the step had none)."""
        runbook_id = self.runbook.id
        with self.lock:
            if before is None:
                self.states.pop(step_id, None)
            else:
                self.states[step_id] = before

        def apply(incident: Incident) -> None:
            steps = incident.step_progress.get(runbook_id, {})
            if before is not None:
                steps[step_id] = before
                return
            steps.pop(step_id, None)
            if not steps:
                incident.step_progress.pop(runbook_id, None)

        self._update(apply)

    def save_compensation(self, step_id: str, status: str, note: str) -> None:
        state = StepState(status=status, by=self.actor, at=utc_timestamp(), note=note)  # type: ignore[arg-type]
        with self.lock:
            self.compensations[step_id] = state
        if self.incident is None:
            return
        key = self.runbook.id + COMPENSATIONS_SUFFIX

        def apply(incident: Incident) -> None:
            incident.step_progress.setdefault(key, {})[step_id] = state

        self._update(apply)

    # ---- plumbing -----------------------------------------------------------------------
    def _first_open(self) -> str | None:
        for sid in self.ids:
            if self.state(sid).status not in ("done", "skipped"):
                return sid
        return self.ids[-1] if self.ids else None

    def _next_open(self, after: str) -> str | None:
        index = self.ids.index(after)
        for sid in self.ids[index + 1:]:
            if self.state(sid).status not in ("done", "skipped"):
                return sid
        return None

    def _apply(self, incident: Incident, force: bool = False) -> bool:
        with self.lock:
            if not force and incident.version <= self._version:
                return False
            self._version = incident.version
            known = set(self.ids)
            progress = incident.step_progress.get(self.runbook.id, {})
            states = {sid: st for sid, st in progress.items() if sid in known}
            # steps running here stay as we know them (our own write may be in flight)
            for sid in self.running:
                if sid in self.states:
                    states[sid] = self.states[sid]
            self.states = states
            compensations = incident.step_progress.get(self.runbook.id + COMPENSATIONS_SUFFIX, {})
            self.compensations = {sid: st for sid, st in compensations.items() if sid in known}
            current = incident.current_step
            if current and current[0] == self.runbook.id and current[1] in known:
                self.current = current[1]
            return True

    def _update(self, fn: Callable[[Incident], None]) -> str | None:
        """Apply ``fn`` to the shared incident; returns a warning if it could not be saved."""
        if self.incident is None:
            return None
        try:
            saved = self.incident.update(fn)
        except IncidentError as error:
            return f"progress not saved: {error.message}"
        self._apply(saved)
        return None


class StepHeld(Exception):
    """Another live console holds the step (the message names it)."""


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
