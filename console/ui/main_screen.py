"""The war-room workspace: header, the three panes, the action status line and the audit pane.

The screen composes the widgets and routes: keys to its controllers (live data, operations,
approvals, the runbook pane, inspection), worker results (typed messages, console/ui/messages.py)
to the controller that applies them. Every action key comes from the action registry
(console/domain/action_kinds.py): its binding, footer label and whether it is enabled.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, ProgressBar, Static
from textual.worker import Worker, WorkerState

from console.domain import action_kinds, incident_commands
from console.domain.audit import ACTION_FINISHED, AuditError
from console.ui import view_model as vm
from console.ui.approvals import Approvals
from console.ui.header import header_clocks, header_info
from console.ui.incident_control import IncidentControl
from console.ui.inspect import Inspect
from console.ui.live_data import LiveData
from console.ui.messages import (
    ActionFinished,
    ActionProgress,
    Banner,
    Connected,
    ConnectionChanged,
    DeltasArrived,
    Notice,
    PermissionsChanged,
    PrecheckDone,
    RatesFetched,
    ShowText,
    UndoHistory,
)
from console.ui.namespaces import Namespaces
from console.ui.operations import Operations
from console.ui.row_filters import RowFilters
from console.ui.runbook_pane import RunbookPane
from console.ui.session import ClusterLink, ConnectError, Session
from console.ui.workloads import Workloads
from widgets.audit_view import AuditView
from widgets.checklist import Checklist
from widgets.deployment_list import DeploymentList
from widgets.filter_bar import FilterBar
from widgets.help_screen import HelpScreen
from widgets.pane_deck import Pane, PaneDeck
from widgets.pod_table import PodTable
from widgets.rates_panel import RatesPanel
from widgets.rollout_panel import RolloutPanel
from widgets.rows import HeaderInfo
from widgets.status_header import StatusHeader
from widgets.text_modal import TextModal
from widgets.too_small import TooSmall

if TYPE_CHECKING:
    from console.ui.app import WarroomApp

MAX_AUDIT_LINES = 5000
CLOCKS_EVERY = 1.0  # the header's clocks and the AGE of the pods on screen move on
HOST_EVERY = 5.0  # the bastion's health and free space on the audit disk
FULL_HEADER_TICKS = 5  # clock ticks between full header refreshes (the bastion's health)

LOOK_KEYS = [Binding("l", "logs", "Logs"), Binding("e", "events", "Events")]
OTHER_KEYS = [
    Binding("space", "check_step", "Check off"),
    Binding("g", "run_step", "Run step", show=False),
    Binding("n", "next_step", "Next", show=False),
    Binding("p", "previous_step", "Prev", show=False),
    Binding("t", "app.cycle_theme", "Theme", show=False),
    Binding("1", "pane('left')", "Pods", show=False),
    Binding("2", "pane('middle')", "Rates", show=False),
    Binding("3", "pane('right')", "Runbook", show=False),
    # priority: the bar opens (and takes the focus) before the key typed right after "/"
    # is handed to a widget; a "/" typed into the bar itself is let through (SkipAction)
    Binding("slash", "filter", "Filter", show=False, priority=True),
    Binding("o", "sort", "Sort", show=False),
    Binding("O", "sort_reverse", "Reverse sort", show=False),
    Binding("A", "approve", "Approve", show=False),
    Binding("c", "next_context", "Next context", show=False),  # several contexts only
    Binding("P", "drill_pause", "Pause drill", show=False),  # drills only (drill_bridge.py)
    Binding("S", "drill_score", "Drill score", show=False),  # drills only
    Binding("question_mark", "help", "Help"),
    Binding("q", "app.request_quit", "Quit"),
]


def key_bindings() -> list[Binding]:
    """The screen's keys: the registry's actions shown in the footer (with their nudges),
    logs and events, the hidden actions, then the runbook, panes and the rest."""
    shown, hidden = [], []
    for kind in action_kinds.kinds():
        group = shown if kind.show else hidden
        group.append(Binding(kind.key, kind.action, kind.label, show=kind.show))
        group.extend(Binding(n.key, f"nudge({kind.name!r}, {n.step})", n.label, show=False)
                     for n in kind.nudges)
    incident = [Binding(c.key, c.action, c.label, show=c.show)
                for c in incident_commands.commands()]
    return [*shown, *LOOK_KEYS, *hidden, *incident, *OTHER_KEYS]


class MainScreen(Screen[None]):
    # Keys that move the focus take effect in the order typed: a terminal hands a burst of
    # keys over at once and the app passes each to the widget focused at that moment, so a
    # focus change queued behind them would come too late ("tab /web" typed fast).
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("tab", "app.focus_next", "Focus Next", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Focus Previous", show=False,
                priority=True),
    ]

    def __init__(self, app: WarroomApp) -> None:
        super().__init__()
        # the registry's keys after the screen's own (tab, shift+tab)
        self._bindings = BindingsMap.merge([self._bindings, BindingsMap(key_bindings())])
        self.settings = app.settings
        self.session: Session = app.session
        self.stopping: threading.Event = app.stopping
        self.filters = RowFilters(self)
        self.namespaces = Namespaces(self)
        self.workloads = Workloads(self)  # one LiveData per context (console/ui/workloads.py)
        self.ops = Operations(self)
        self.approvals = Approvals(self)
        self.runbook = RunbookPane(self)
        self.inspect = Inspect(self)
        self.incident = IncidentControl(self)
        self._audit_offset = 0
        self.opened = time.monotonic()  # the incident clock counts from here
        self._ticks = 0  # clock ticks (FULL_HEADER_TICKS)
        self.acted = False  # an action finished on this incident (by anyone: the audit says)

    @property
    def live(self) -> LiveData:
        """The focused context's live data (the only one, on one context)."""
        return self.workloads.focused

    # ---- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusHeader(self.header(), id="status-header")
        with Vertical(id="body"):  # one container: the clocks' frame draws it, not its parts
            with PaneDeck(id="main"):
                with Pane("Deployments · Pods", id="left"):
                    yield DeploymentList(id="deployments")
                    yield RolloutPanel(id="rollout-panel")
                    yield PodTable(id="pods")
                    yield FilterBar(id="filter-bar")
                with Pane("Rates · Verdict", id="middle"):
                    yield RatesPanel(id="rates")
                with Pane("Runbook", id="right"):
                    yield Checklist(id="checklist")
            yield Static("", id="action-status")
            yield ProgressBar(id="action-progress", show_eta=False)
            yield AuditView(id="audit", max_lines=MAX_AUDIT_LINES)
            yield Footer()
        yield TooSmall()  # "terminal too small" over everything below 80x24

    def on_mount(self) -> None:
        self.ops.hide_progress()
        self.query_one("#action-status").display = False
        self.query_one(DeploymentList).focus()
        self.workloads.refresh_headings()
        if self.settings.frozen:
            self.set_interval(0.5, self._tail_audit)
        else:  # the clocks, the ages on screen and the audit tail: one wake-up a second
            self.set_interval(CLOCKS_EVERY, self._tick_clocks)
            self.run_worker(self._watch_host, thread=True, exclusive=True, group="host",
                            exit_on_error=False)
        # start-up's garbage collected and its objects frozen before the lists arrive: later,
        # the same collection would also walk every view and row the lists have made
        # (~200 ms at 10,000 pods, in the middle of loading them); gc_pacing.py
        self.app.gc.settle()
        self.run_worker(self._connect, thread=True, exclusive=True, group="connect",
                        exit_on_error=False)

    # ---- connecting (a worker; the rest is messages) ---------------------------------------
    def _connect(self) -> None:
        session = self.session
        try:
            session.connect(on_deltas=self.workloads.arrived, on_status=self._watch_status,
                            redact=self.app.redact.add, prompt=self.app.with_terminal)
        except ConnectError as error:
            self.post_message(Banner(error.message, error.title))
            return
        self.run_worker(self._check_namespace, thread=True, group="namespace",
                        exit_on_error=False)
        self.run_worker(self.namespaces.learn, thread=True, group="namespaces",
                        exit_on_error=False)
        for live in self.workloads.polling():
            self.run_worker(live.poll_metrics, thread=True, group="metrics",
                            exit_on_error=False)
        self.run_worker(self._check_permissions, thread=True, group="rbac",
                        exit_on_error=False)
        self.post_message(Connected())

    def _watch_host(self) -> None:
        """In a worker: the bastion's load, memory and audit disk every ``HOST_EVERY`` s."""
        while not self.stopping.is_set():
            self.session.bastion.sample()
            self.stopping.wait(HOST_EVERY)

    def _watch_status(self, link: ClusterLink, status: Any) -> None:
        """On the informer's threads: ``link``'s watch's state changed."""
        self.post_message(ConnectionChanged(status, link))

    def _check_namespace(self) -> None:
        message = self.session.namespace_missing()
        if message:
            self.post_message(Banner(message, "namespace not found"))

    def _check_permissions(self) -> None:
        if self.session.probe_permissions():
            self.post_message(PermissionsChanged())

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A worker that raised: say what failed instead of leaving the screen half done."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
            if event.worker.group in ("actions", "steps"):
                self.ops.running = None
                self.ops.hide_progress()
            self.app.notify(message, title=f"{event.worker.group} failed", severity="error",
                            timeout=15)

    @on(Connected)
    def _connected(self) -> None:
        self.app.gc.settle()  # start-up objects out of the collector's way (gc_pacing.py)
        self.refresh_header()
        self.runbook.refresh()
        if self.settings.drill is None:  # a drill asks when a step runs: its clock is running
            self.runbook.ask_values()  # the runbook's variables, when some were not given
        problems = self.session.checklist.problems if self.session.checklist else []
        for problem in problems[:3]:
            self.app.notify(str(problem), title="runbook problem", severity="warning",
                            timeout=10)
        for problem in self.session.problems:  # a context of several that cannot connect
            self.app.notify(problem, title="cannot connect", severity="error", timeout=30)
        if self.settings.read_only:
            self.app.notify("read-only: scale, restart, undo, pause, resume and delete are "
                            "disabled",
                            severity="information")

    @on(Banner)
    def _banner(self, message: Banner) -> None:
        status = self.query_one("#action-status", Static)
        status.update(Text(f"✖ {self.app.redact(message.message)}"))
        status.add_class("-error")
        status.display = True
        self.app.notify(message.message, title=message.title, severity="error", timeout=30)

    @on(Notice)
    def _notice(self, message: Notice) -> None:
        self.app.notify(message.message, title=message.title,
                        severity=message.severity, timeout=message.timeout)  # type: ignore[arg-type]

    @on(ConnectionChanged)
    def _connection_changed(self, message: ConnectionChanged) -> None:
        status, link = message.status, message.link or self.session.focused
        link.connection = status
        if status.synced:
            self.workloads.of(link).synced()
        self.refresh_header()
        self.workloads.refresh_headings()
        if status.live and status.synced and not self.app.gc.settled:
            self._settle_once_drained()  # the first full picture
        several = self.session.several
        note = (link.notes if several else self.app.connection_notes).on_status(status)
        if note is not None:
            title = f"{link.context}: {note.title}" if several else note.title
            self.app.notify(note.message, title=title, severity=note.severity,  # type: ignore[arg-type]
                            timeout=note.timeout)

    def _settle_once_drained(self) -> None:
        """Freeze what the first full list loaded (gc_pacing.py), once it is in the tables:
        the deltas that brought it may still be queued, and rows built after the freeze
        would stay in every later collection's way. A timer covers a drain that never comes."""
        self.live.on_first_picture = self._settle_now
        self.set_timer(1.0, self._settle_now)

    def _settle_now(self) -> None:
        """Once, by the first drain after the full list or by the timer, whichever is first."""
        self.live.on_first_picture = None
        if self.app.gc.settled:
            return
        self.app.gc.settle(True)
        self.app.warm_up()

    @on(PermissionsChanged)
    def _permissions_changed(self) -> None:
        self.refresh_bindings()  # rebuilding the footer for nothing makes it flicker
        if self.session.denied:
            first = next(iter(self.session.denied.values()))
            self.app.notify(first, title="some actions are disabled", severity="warning",
                            timeout=10)

    # ---- live data -------------------------------------------------------------------------
    @on(DeltasArrived)
    def _deltas(self) -> None:
        self.workloads.wake()

    @on(RatesFetched)
    def _rates(self) -> None:
        self.live.refresh_rates()

    @on(DeploymentList.Selected)
    def _deployment_selected(self, event: DeploymentList.Selected) -> None:
        self.workloads.select(event.key)

    @on(PodTable.RowsRevealed)
    def _pods_revealed(self) -> None:
        self.live.refresh_ages(force=True)  # other rows: their ages are due whatever the clock

    def _tick_clocks(self) -> None:
        self._tail_audit()  # what other consoles on this incident recorded
        self._ticks += 1
        header = self.query_one(StatusHeader) if self.is_attached else None
        where = (self.session.context, self.session.namespace)
        if (header is None or header.info is None or self._ticks % FULL_HEADER_TICKS == 0
                or where != (header.info.context, header.info.namespace)):
            self.refresh_header()  # the bastion's health, credentials' expiry: every 5 s
        else:  # the clocks alone: the rest of the header is refreshed by what changes it
            header.tick(*header_clocks(self))
        self.live.refresh_ages()

    # ---- header, audit pane ----------------------------------------------------------------
    def header(self) -> HeaderInfo:
        return header_info(self)

    def refresh_header(self) -> None:
        if self.is_attached:
            self.query_one(StatusHeader).info = self.header()

    def _tail_audit(self) -> None:
        audit = self.session.audit
        if audit is None:
            return
        try:
            records, self._audit_offset = audit.read_new(self._audit_offset)
        except (OSError, AuditError):
            return  # unreadable for now (the next tick tries again); never a traceback
        if records:
            self.acted = self.acted or any(r.kind == ACTION_FINISHED for r in records)
            self.query_one(AuditView).extend([vm.audit_row(r) for r in records])
            if self.incident.take(records):
                self.refresh_header()
        checklist = self.session.checklist
        if checklist and checklist.changed():
            self.runbook.refresh()
            self.approvals.announce()

    def tail_now(self) -> None:
        """Show what was just recorded here without waiting for the next tick."""
        self._tail_audit()

    # ---- operating ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("drill_pause", "drill_score") and self.app.drill is None:
            return False  # drill mode only: hidden on a real cluster
        if action in ("act", "nudge") and parameters:
            kind = action_kinds.get(str(parameters[0]))
            if kind is not None and kind.target == "rollout" and \
                    self.live.selected not in self.live.rollouts:
                return False  # offered while an Argo Rollout is selected
            if kind is not None and kind.mutating and (
                    self.settings.read_only or kind.name in self.session.denied):
                return None  # shown greyed out in the footer; the reason was notified
        if action == "approve" and self.settings.read_only:
            return None
        if action in ("next_context", "focus_context") and not self.session.several:
            return False  # several contexts only
        return True

    def action_act(self, name: str) -> None:
        self.ops.start(name)

    def action_nudge(self, name: str, step: int) -> None:
        self.ops.start(name, nudge=step)

    @on(PrecheckDone)
    def _prechecked(self, message: PrecheckDone) -> None:
        self.ops.prechecked(message)

    @on(UndoHistory)
    def _undo_history(self, message: UndoHistory) -> None:
        self.ops.show_undo(message)

    @on(ActionProgress)
    def _progress(self, message: ActionProgress) -> None:
        self.ops.show_progress(message)

    @on(ActionFinished)
    def _finished(self, message: ActionFinished) -> None:
        self.ops.finished(message)
        if message.step is not None:
            self.runbook.refresh()

    def action_incident(self, name: str) -> None:
        self.incident.start(name)

    def action_approve(self) -> None:
        self.approvals.approve()

    def action_logs(self) -> None:
        self.inspect.logs()

    @on(PodTable.PodSelected)
    def _pod_chosen(self, event: PodTable.PodSelected) -> None:
        if event.activated:  # Enter on a pod: its logs, as l does
            self.inspect.logs()

    def action_events(self) -> None:
        self.inspect.events()

    @on(ShowText)
    def _show_text(self, message: ShowText) -> None:
        redact = self.app.redact  # logs and events: secrets masked, control characters shown
        self.app.push_screen(TextModal(redact(message.title), redact(message.text)))

    # ---- runbook -----------------------------------------------------------------------------
    def action_check_step(self) -> None:
        self.runbook.toggle()

    @on(Checklist.StepToggled)
    def _step_toggled(self, event: Checklist.StepToggled) -> None:
        self.runbook.toggle(event.key)

    def action_next_step(self) -> None:
        self.runbook.move(1)

    def action_previous_step(self) -> None:
        self.runbook.move(-1)

    def action_run_step(self) -> None:
        self.runbook.start()

    @on(Checklist.StepRun)
    def _step_run(self, event: Checklist.StepRun) -> None:
        self.runbook.start(event.key)

    # ---- finding: filter, sort, namespace ----------------------------------------------------
    def action_filter(self) -> None:
        if isinstance(self.focused, Input):
            raise SkipAction  # "/" is part of the pattern being typed
        self.filters.open()

    @on(FilterBar.Changed)
    def _filter_changed(self, event: FilterBar.Changed) -> None:
        self.filters.changed(event.target, event.text)

    @on(FilterBar.Closed)
    def _filter_closed(self, event: FilterBar.Closed) -> None:
        self.filters.closed(event.target, event.kept)

    def action_sort(self) -> None:
        self.filters.cycle_sort()

    def action_sort_reverse(self) -> None:
        self.filters.reverse_sort()

    def action_namespace(self, name: str) -> None:
        self.namespaces.switch(name)

    # ---- the rest ----------------------------------------------------------------------------
    def action_drill_pause(self) -> None:
        if self.app.drill is not None:
            self.app.drill.toggle_pause()

    def action_drill_score(self) -> None:
        if self.app.drill is not None:
            self.app.drill.show_score()

    def action_next_context(self) -> None:
        self.workloads.cycle()

    def action_focus_context(self, index: int) -> None:
        self.workloads.focus_index(index)

    def action_pane(self, pane: str) -> None:
        self.query_one(PaneDeck).show(pane)

    def action_help(self) -> None:
        keys = {"question_mark": "?", "exclamation_mark": "!", "slash": "/"}
        bindings = [(keys.get(b.key, b.key), b.description) for b in key_bindings()
                    if b.action != "next_context" or self.session.several]
        self.app.push_screen(HelpScreen(bindings))
