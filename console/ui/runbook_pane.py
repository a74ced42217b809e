"""The runbook pane: check off manual steps, move through the checklist, run action steps.

A step that runs goes through the runbook engine (console/runbook/engine.py) in a worker; the
engine asks for confirmation through `confirm`, which shows the confirm modal on the UI thread
and waits for the answer; the outcome comes back as `ActionFinished` with the step's key. With
the two-person rule the engine proposes a mutating step instead of running it, and `approve`
runs another person's proposal (a step or an abort) through this console's engine.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from console.domain.actions import ActionOutcome, ActionRequest
from console.ui import view_model as vm
from console.ui.messages import ActionFinished
from widgets.checklist import Checklist
from widgets.confirm_modal import ConfirmModal
from widgets.variables_form import FormField, VariablesForm

if TYPE_CHECKING:
    from console.ui.main_screen import MainScreen


class RunbookPane:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def refresh(self) -> None:
        state = self.screen.session.checklist
        if state is None:
            return
        title, steps, current = state.steps()
        self.screen.query_one(Checklist).set_steps(title, [vm.step_row(s) for s in steps],
                                                   current)

    def _key(self) -> str | None:
        checklist = self.screen.query_one(Checklist)
        return checklist.highlighted_key or checklist.current_key

    def toggle(self, key: str | None = None) -> None:
        state = self.screen.session.checklist
        key = key or self._key()
        if state is None or key is None:
            return
        message = state.toggle(key)
        if message:
            self.screen.app.notify(message, severity="warning")
        self.refresh()

    def move(self, by: int) -> None:
        state = self.screen.session.checklist
        if state is not None:
            state.move(by)
            self.refresh()

    def start(self, key: str | None = None) -> None:
        key = key or self._key()
        state = self.screen.session.checklist
        if key is None or state is None or state.runbook is None:
            return
        if state.runbook.step(key).kind == "manual":
            self.toggle()
            return
        if state.engine is None:
            if state.unset():
                self.ask_values(why="set the runbook's variables to run its steps")
            else:
                self.screen.app.notify("this runbook's steps cannot run here",
                                       severity="warning")
            return
        ops = self.screen.ops
        if not ops.ready():  # one thing at a time: says what still runs
            return
        ops.show_running(f"runbook step {key}")
        ops.running = f"step {key}"
        self.screen.run_worker(lambda: self._run(key), thread=True, group="steps",
                               exit_on_error=False)

    def ask_values(self, why: str = "") -> None:
        """The variables form, when the runbook needs values nobody gave (--set, the config
        file, the incident); the values are kept in the incident and bind the runbook."""
        state = self.screen.session.checklist
        if state is None or state.runbook is None:
            return
        asked = state.questions()
        if not asked or isinstance(self.screen.app.screen, VariablesForm):
            return
        selected = self.screen.live.selected_deployment()
        fields = [FormField(q.name, q.description, q.example, q.default,
                            selected.name if q.name == "deployment" and selected else q.value)
                  for q in asked]

        def say(message: str, severity: str = "information") -> None:
            # once this screen is back on top: the toast is laid out (and kept in sight) here
            self.screen.call_after_refresh(self.screen.app.notify, message, severity=severity)

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                say("variables not set: steps will not run", "warning")
                return
            errors = state.set_values(values)
            if errors:  # changed since the form checked them (another console)
                say("; ".join(errors.values()), "error")
                return
            self.refresh()
            if state.engine is not None:
                say("variables set: the runbook's steps can run")

        self.screen.app.push_screen(
            VariablesForm(f"Runbook {state.runbook.id}: {state.runbook.title}", fields,
                          state.check_values, note=why), done)

    def approve(self, proposal_id: str, what: str) -> None:
        """Run another person's step or abort proposal here, once this operator approves it
        (the engine asks, through the confirm modal)."""
        state = self.screen.session.checklist
        ops = self.screen.ops
        if state is None or state.engine is None:
            self.screen.app.notify("this console has no runbook whose steps can run",
                                   severity="warning")
            return
        ops.show_running(f"approving {what}")
        self.screen.run_worker(lambda: self._run(proposal_id, proposal=True), thread=True,
                               group="steps", exit_on_error=False)

    def _confirm(self, key: str, question: str) -> bool:
        """From the step's worker: ask on the UI thread and wait for the answer."""
        screen, session = self.screen, self.screen.session
        answer: list[bool] = []
        done = threading.Event()

        def show() -> None:
            def answered(ok: bool | None) -> None:
                answer.append(bool(ok))
                done.set()

            screen.app.push_screen(ConfirmModal(
                question, context=session.context, namespace=session.namespace,
                target=f"runbook step {key}", change=question,
                typed_name=session.namespace if session.production else None), answered)

        screen.app.call_from_thread(show)
        while not done.wait(0.2):
            if screen.stopping.is_set():
                return False
        return answer[0]

    def _run(self, key: str, proposal: bool = False) -> None:
        """In a worker: run step ``key`` (or, with ``proposal``, approve and run proposal
        ``key``) and post how it went."""
        session = self.screen.session
        engine = session.checklist.engine
        try:
            if proposal:
                outcome = engine.run_proposal(key, confirm=lambda q: self._confirm(key, q),
                                              progress=self.screen.ops.progress)
                key = getattr(outcome, "step_id", key)
            else:
                outcome = engine.run_step(key, confirm=lambda q: self._confirm(key, q),
                                          progress=self.screen.ops.progress)
            # a proposal made is the step's success here: it runs where it is approved
            ok = outcome.ok or bool(getattr(outcome, "proposal", None))
            result = ActionOutcome(ok, outcome.message, getattr(outcome, "duration_s", 0.0))
        except Exception as error:  # noqa: BLE001 - shown, never a traceback
            result = ActionOutcome(False, getattr(error, "message", None) or str(error), 0.0)
        request = ActionRequest("step", session.context, session.namespace, key)
        self.screen.post_message(ActionFinished(request, result, step=key))
