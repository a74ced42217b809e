"""The war-room console: live pods, rates and the runbook side by side, audited actions.

Data flows one way: adapters run in worker threads (the informer's watch threads, a metrics
poller) and hand results to the UI thread, which applies them to the widgets in batches. Keys
become `ActionRequest`s that are pre-checked, confirmed in a modal, run in a worker, and
written to the audit log; the audit pane shows the log file itself, so what is on screen is
already on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer, ProgressBar, Static

from adapters.errors import AdapterError
from adapters.informer import Delta, Informer, WatchStatus
from adapters.kube_views import DeploymentView, PodView
from adapters.kubernetes import KubeClient, is_production
from adapters.metrics import History, MetricsClient, RateSample
from adapters.probes import Prober
from console.domain.actions import PERMISSION_UNKNOWN, ActionOutcome, ActionRequest, ActionRunner
from console.domain.actor import same_operator
from console.domain.audit import (
    ACTION_FINISHED,
    ACTION_REFUSED,
    NOTE,
    PROPOSAL_APPROVED,
    PROPOSAL_MADE,
    AuditError,
    AuditLog,
    AuditWriteError,
)
from console.domain.connection_notes import ConnectionNotes
from console.domain.incident import IncidentError, ProposalError
from console.domain.pod_index import PodIndex, deployment_key
from console.domain.settings import ConsoleSettings
from console.runbook.session import ChecklistState
from console.ui import view_model as vm
from console.ui.crash import run_reporting_crashes
from console.ui.drill_bridge import DrillBridge
from console.ui.gc_pacing import CACHE_EVERY, GcPacer
from console.ui.screen_text import ScreenRedactor
from themes import CSS_PATH, HORIZONTAL_BREAKPOINTS, THEMES, register_themes
from widgets.audit_view import AuditView
from widgets.checklist import Checklist
from widgets.confirm_modal import ConfirmModal
from widgets.deployment_list import DeploymentList
from widgets.help_screen import HelpScreen
from widgets.pane_deck import Pane, PaneDeck
from widgets.pod_table import PodTable
from widgets.rates_panel import RatesPanel
from widgets.rows import HeaderInfo, PodRow
from widgets.scale_modal import ScaleModal
from widgets.status_header import StatusHeader
from widgets.text_modal import TextModal
from widgets.toasts import show_newest_toast
from widgets.too_small import TooSmall
from widgets.undo_modal import UndoModal

MAX_AUDIT_LINES = 5000
HANGUP_GRACE = 3.0  # seconds an exit after SIGHUP may take before the process is ended
DRAIN_EVERY = 0.03  # apply watch deltas as they arrive, at most ~30 times a second
INFORMER_FLUSH = 0.015  # the informer gathers a batch for this long before handing it over
LIST_PAGE = 2000  # pods listed a page at a time: shown as they come, no 10,000-pod JSON held
CLOCKS_EVERY = 1.0  # the header's clocks and the AGE of the pods on screen move on


def while_running(method: Callable[..., None]) -> Callable[..., None]:
    """For screen refreshes that timers and worker threads trigger: once the app has begun to
    shut down (its widgets are being removed), they do nothing instead of failing to find them."""

    @functools.wraps(method)
    def refresh(self: App[Any], *args: Any, **kwargs: Any) -> None:
        if self.is_running:
            method(self, *args, **kwargs)

    return refresh


class WarroomApp(App[int]):
    TITLE = "warroom"
    CSS_PATH = CSS_PATH
    HORIZONTAL_BREAKPOINTS = HORIZONTAL_BREAKPOINTS
    BINDINGS = [
        Binding("s", "scale", "Scale"),
        Binding("plus", "scale_by(1)", "+1", show=False),
        Binding("minus", "scale_by(-1)", "-1", show=False),
        Binding("r", "restart", "Restart"),
        Binding("u", "undo", "Undo"),
        Binding("v", "verify", "Verify"),
        Binding("l", "logs", "Logs"),
        Binding("e", "events", "Events"),
        Binding("x", "delete_pod", "Del pod", show=False),
        Binding("space", "check_step", "Check off"),
        Binding("g", "run_step", "Run step", show=False),
        Binding("n", "next_step", "Next", show=False),
        Binding("p", "previous_step", "Prev", show=False),
        Binding("t", "cycle_theme", "Theme", show=False),
        Binding("1", "pane('left')", "Pods", show=False),
        Binding("2", "pane('middle')", "Rates", show=False),
        Binding("3", "pane('right')", "Runbook", show=False),
        Binding("A", "approve", "Approve", show=False),
        Binding("P", "drill_pause", "Pause drill", show=False),  # drills only (drill_bridge.py)
        Binding("S", "drill_score", "Drill score", show=False),  # drills only
        Binding("question_mark", "help", "Help"),
        Binding("q", "request_quit", "Quit"),
    ]
    MUTATING = {"scale", "scale_by", "restart", "undo", "delete_pod", "approve"}

    def __init__(self, settings: ConsoleSettings) -> None:
        super().__init__()
        self.settings = settings
        if settings.title:
            self.sub_title = settings.title
        self.kube: KubeClient | None = None
        self.runner: ActionRunner | None = None
        self.informer: Informer | None = None
        self.metrics: MetricsClient | None = None
        self.audit: AuditLog | None = None
        self.checklist_state: ChecklistState | None = None
        self.context = settings.context or "?"
        self.namespace = settings.namespace or "?"
        self.production = bool(settings.production)
        self.connection: WatchStatus | None = None
        self.deployments: dict[str, DeploymentView] = {}
        self.pods = PodIndex()  # by key and by deployment, with the advisor's counts
        self.rates: dict[str, RateSample] = {}
        self.histories: dict[str, History] = {}
        self.selected: str | None = None
        self.action_running: str | None = None
        self.cannot_act = ""  # why no action can run for the whole session (said on each key)
        self.acted = False  # an action finished on this incident (by anyone: the audit says)
        self.denied: dict[str, str] = {}
        self._deltas: deque[Delta] = deque()
        self._drain_asked = False  # a DeltasArrived message is on its way to the UI thread
        self._drain_timer: Timer | None = None
        self._last_drain = 0.0
        self._settle_pending = False  # freeze the loaded state after the next drain
        self._ages_at: datetime | None = None  # the clock reading the ages on screen are for
        self._audit_offset = 0
        self._opened = time.monotonic()
        self._stop = threading.Event()
        self._announced: set[str] = set()
        self.drill: DrillBridge | None = None  # drill mode: on an in-process drill cluster
        self.redact = ScreenRedactor()  # every text shown passes through it (secrets masked)
        self._connection_notes = ConnectionNotes()
        self._gc = GcPacer(self)  # no collector pauses under the operator's keys (gc_pacing)

    # ---- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusHeader(self._header(), id="status-header")
        with PaneDeck(id="main"):
            with Pane("Deployments · Pods", id="left"):
                yield DeploymentList(id="deployments")
                yield PodTable(id="pods")
            with Pane("Rates · Verdict", id="middle"):
                yield RatesPanel(id="rates")
            with Pane("Runbook", id="right"):
                yield Checklist(id="checklist")
        yield Static("", id="action-status")
        yield ProgressBar(id="action-progress", show_eta=False)
        yield AuditView(id="audit", max_lines=MAX_AUDIT_LINES)
        yield Footer()

    def on_mount(self) -> None:
        register_themes(self, self.settings.theme if self.settings.theme in THEMES else None)
        if self.settings.theme not in THEMES:
            self.theme = self.settings.theme
        self._hide_progress()
        self.query_one("#action-status").display = False
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hangup)
        self.query_one(DeploymentList).focus()
        self.mount(TooSmall())  # "terminal too small" over everything below 80x24
        self._gc.pause()  # no collections while start-up and the first list build the heap
        self.set_interval(CACHE_EVERY, self._gc.tick)
        self.set_interval(0.5, self._tail_audit)
        if not self.settings.frozen:
            self.set_interval(CLOCKS_EVERY, self._tick_clocks)  # one timer: one wake-up
        self._connect()
        if self.settings.drill is not None:  # drill mode: milestones, P pause, S score
            self.drill = DrillBridge.attach(self)

    def _hangup(self) -> None:
        """A dropped SSH session: leave at once and leave nothing running.

        The orderly exit can stall once the terminal is gone (a write to the vanished tty,
        a worker thread in a slow request, a busy machine), and a console left behind holds
        its watches open: a watchdog ends the process after ``HANGUP_GRACE`` seconds in any
        case. Nothing is lost by that: audit records and incident state are on disk as soon
        as they are made."""
        self._stop.set()
        watchdog = threading.Timer(HANGUP_GRACE, os._exit, args=(129,))
        watchdog.daemon = True  # an orderly exit in time ends the process without it
        watchdog.start()
        self.exit(129)

    # ---- connecting --------------------------------------------------------------------
    def _settle_once_drained(self) -> None:
        """Freeze what the first full list loaded (gc_pacing.py), once it is in the tables:
        the deltas that brought it may still be queued, and rows built after the freeze
        would stay in every later collection's way. A timer covers a drain that never comes."""
        self._settle_pending = True
        self.set_timer(1.0, self._settle_now)

    def _settle_now(self) -> None:
        if self._settle_pending:
            self._settle_pending = False
            self._gc.settle(True)
            self._warm_up()

    @work(thread=True, group="warm-up")
    def _warm_up(self) -> None:
        """Once the first picture is on screen: make the client's typed APIs the actions use
        (a second of imports nobody waits for now; see KubeClient.warm_up), then freeze
        them with the rest of the long-lived objects."""
        if self.kube is None or self._stop.is_set():
            return
        self.kube.warm_up()
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.call_from_thread(self._gc.refreeze)

    @work(thread=True, exclusive=True, group="connect")
    def _connect(self) -> None:
        s = self.settings
        try:
            kube = KubeClient.connect(s.kubeconfig, s.context, s.namespace,
                                      production=s.production)
        except AdapterError as error:
            self.call_from_thread(self._fatal_banner, error.message)
            return
        self.kube = kube
        self.redact.add(kube.secret_values())
        self.context = kube.context
        self.namespace = kube.namespace
        self.production = s.production if s.production is not None else is_production(
            kube.context)
        # the watch before the rest: listing thousands of pods takes seconds, and the
        # incident (its runbook, audit log), the metrics client and the prober need not
        # wait for it -- nor it for them
        self.informer = kube.informer(
            self.namespace, kinds=("pods", "deployments", "replicasets"),
            label_selector=s.selector or None,
            on_deltas=self._deltas_arrived, on_status=self._on_status,
            flush_interval=INFORMER_FLUSH, page_size=LIST_PAGE,
            clock=s.cluster_clock, backoff_max=s.watch_backoff_max, stale_after=s.stale_after)
        self.informer.start()
        try:
            self._open_incident()
        except (AuditError, IncidentError, OSError, ValueError) as error:
            message = getattr(error, "message", str(error))
            # the pods stay on screen; no action runs without its audit trail
            self.cannot_act = f"cannot open the incident: {message}"
            self.call_from_thread(self._fatal_banner, self.cannot_act)
            return
        assert self.audit is not None
        self.audit.add_secrets(kube.secret_values())
        self.runner = ActionRunner(kube, self.audit, read_only=s.read_only)
        if s.metrics is not None:
            self.metrics = MetricsClient(s.metrics)
        assert self.checklist_state is not None
        prober_verify: bool | ssl.SSLContext = (
            ssl.create_default_context(cafile=s.probe_ca) if s.probe_ca else True)
        unbound = self.checklist_state.attach_engine(
            actions=self.runner, metrics=self.metrics, prober=Prober(verify=prober_verify),
            context=self.context, namespace=self.namespace)
        if unbound:
            self.checklist_state.problems.append(unbound)  # type: ignore[arg-type]
        self._check_namespace()
        if self.metrics is not None:
            self._poll_metrics()
        self._check_permissions()
        self.call_from_thread(self._connected)

    def _open_incident(self) -> None:
        s = self.settings
        self.checklist_state = ChecklistState.open(
            s.state_dir, resume=s.resume, context=self.context, namespace=self.namespace,
            title=s.incident_title or f"incident on {self.context}/{self.namespace}",
            severity=s.severity, runbook=s.runbook, runbook_values=s.runbook_values,
            user_dirs=s.user_runbook_dirs, clock=s.wall_clock, actor=s.actor)
        self.audit = self.checklist_state.audit

    @while_running
    def _connected(self) -> None:
        self._gc.settle()  # start-up objects out of the collector's way (gc_pacing.py)
        self._refresh_header()
        self._refresh_checklist()
        problems = self.checklist_state.problems if self.checklist_state else []
        for problem in problems[:3]:
            self.notify(str(problem), title="runbook problem", severity="warning", timeout=10)
        if self.settings.read_only:
            self.notify("read-only: scale, restart, undo and delete are disabled",
                        severity="information")

    @while_running
    def _fatal_banner(self, message: str, title: str = "cannot connect") -> None:
        status = self.query_one("#action-status", Static)
        status.update(Text(f"✖ {self.redact(message)}"))
        status.add_class("-error")
        status.display = True
        self.notify(message, title=title, severity="error", timeout=30)

    @work(thread=True, group="namespace")
    def _check_namespace(self) -> None:
        if self.kube is not None and self.kube.namespace_exists(self.namespace) is False:
            with contextlib.suppress(RuntimeError):
                self.call_from_thread(
                    self._fatal_banner, f"namespace {self.namespace} not found in context "
                    f"{self.context}: check -n/--namespace", "namespace not found")

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None:
        """Every notification is shown with secrets masked (see console/ui/screen_text.py)."""
        super().notify(self.redact(message), *args, **kwargs)
        show_newest_toast(self.screen)

    def _on_status(self, status: WatchStatus) -> None:
        self.connection = status
        note = self._connection_notes.on_status(status)
        with contextlib.suppress(RuntimeError):
            self.call_from_thread(self._refresh_header)
            if status.live and status.synced and not self._gc.settled:
                self.call_from_thread(self._settle_once_drained)  # the first full picture
            if note is not None:
                self.call_from_thread(self.notify, note.message, title=note.title,
                                      severity=note.severity, timeout=note.timeout)

    @work(thread=True, group="rbac")
    def _check_permissions(self) -> None:
        if self.runner is None or self.settings.read_only:
            return
        denied: dict[str, str] = {}
        probe = {"scale": "scale", "restart": "restart", "undo": "undo",
                 "delete_pod": "delete-pod"}
        for action, kind in probe.items():
            reason = self.runner.precheck(ActionRequest(kind, self.context, self.namespace, "-"))
            if reason and not reason.startswith(PERMISSION_UNKNOWN):  # outage: ask again later
                denied[action] = reason
        denied["scale_by"] = denied.get("scale", "")
        denied = {k: v for k, v in denied.items() if v}
        if denied != self.denied:  # rebuilding the footer for nothing makes it flicker
            self.denied = denied
            self.call_from_thread(self.refresh_bindings)
        if self.denied:
            first = next(iter(self.denied.values()))
            self.call_from_thread(self.notify, first, title="some actions are disabled",
                                  severity="warning", timeout=10)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("drill_pause", "drill_score") and self.drill is None:
            return False  # drill mode only: hidden on a real cluster
        if action in self.MUTATING and (self.settings.read_only or action in self.denied):
            return None  # shown greyed out in the footer; the reason was notified
        return True

    # ---- live data ---------------------------------------------------------------------
    class DeltasArrived(Message):
        """The informer handed over a batch of deltas (posted from its flush thread)."""

    def _deltas_arrived(self, batch: list[Delta]) -> None:
        """On the informer's flush thread: queue the batch and wake the UI thread once."""
        self._deltas.extend(batch)
        if not self._drain_asked:
            self._drain_asked = True
            self.post_message(self.DeltasArrived())

    @on(DeltasArrived)
    def _wake_drain(self) -> None:
        """Drain now, or when DRAIN_EVERY has passed since the last drain."""
        if self._drain_timer is not None:
            return  # a drain is already booked
        wait = self._last_drain + DRAIN_EVERY - time.monotonic()
        if wait <= 0:
            self._drain()
        else:
            self._drain_timer = self.set_timer(wait, self._drain)

    @while_running
    def _drain(self) -> None:
        self._drain_asked = False  # before taking the deltas: a later batch asks again
        if self._drain_timer is not None:
            self._drain_timer.stop()
            self._drain_timer = None
        self._last_drain = time.monotonic()
        if not self._deltas:
            return
        batch: list[Delta] = []
        while self._deltas:
            batch.append(self._deltas.popleft())
        deploy_changed: set[str] = set()
        pod_upserts: dict[str, PodView] = {}
        pod_deletes: set[str] = set()
        for delta in batch:
            if delta.kind == "deployments":
                deploy_changed.add(delta.key)
                if delta.type == "DELETED":
                    self.deployments.pop(delta.key, None)
                else:
                    self.deployments[delta.key] = delta.view  # type: ignore[assignment]
            elif delta.kind == "pods":
                if delta.type == "DELETED":
                    self.pods.delete(delta.key)
                    pod_upserts.pop(delta.key, None)
                    pod_deletes.add(delta.key)
                else:
                    self.pods.upsert(delta.view)  # type: ignore[arg-type]
                    pod_upserts[delta.key] = delta.view  # type: ignore[assignment]
                    pod_deletes.discard(delta.key)
        if deploy_changed:
            table = self.query_one(DeploymentList)
            table._apply([vm.deployment_row(self.deployments[k]) for k in deploy_changed
                          if k in self.deployments],
                         [k for k in deploy_changed if k not in self.deployments])
            if self.selected is None and self.deployments:
                self._select(table.cursor_key or sorted(self.deployments)[0])
        if pod_upserts or pod_deletes:
            now = self._now()
            rows: list[PodRow] = []
            gone = list(pod_deletes)  # deleted, or not of the selected deployment
            for pod in pod_upserts.values():
                if self._pod_shown(pod):
                    rows.append(vm.pod_row(pod, now))
                else:
                    gone.append(pod.key)
            self.query_one(PodTable).apply_deltas(rows, gone)
        if deploy_changed or pod_upserts or pod_deletes:
            self._refresh_rates()
        if self._settle_pending and not self._deltas:
            self._settle_now()

    def _now(self) -> datetime | None:
        clock = self.settings.cluster_clock
        return clock() if clock is not None else (None if self.settings.frozen else utc_now())

    def _tick_clocks(self) -> None:
        self._refresh_header()
        self._refresh_ages()

    @while_running
    def _refresh_ages(self) -> None:
        """Recompute AGE for the pods on screen only (the rest get theirs when they are
        scrolled into view, see ``_pods_revealed``): ages change every second, but
        rebuilding every row for it is O(pods) per tick."""
        now = self._now()
        if now is None or now == self._ages_at:
            return  # a clock standing still (a paused drill) ages nothing
        self._ages_at = now
        table = self.query_one(PodTable)
        rows = [vm.pod_row(pod, now) for key in table.visible_keys()
                if (pod := self.pods.get(key)) is not None]
        if rows:
            table.apply_deltas(rows)

    @on(PodTable.RowsRevealed)
    def _pods_revealed(self) -> None:
        self._ages_at = None  # other rows: their ages are due whatever the clock did
        self._refresh_ages()

    @while_running
    def _resync_pods(self) -> None:
        """Show the selected deployment's pods, with ages as of now."""
        now = self._now()
        pods = self.pods.values() if self.selected is None else self.pods.of_deployment(
            self.selected)
        self.query_one(PodTable).sync([vm.pod_row(p, now) for p in pods])

    def _pod_shown(self, pod: PodView) -> bool:
        return self.selected is None or deployment_key(pod) == self.selected

    @on(DeploymentList.Selected)
    def _deployment_selected(self, event: DeploymentList.Selected) -> None:
        self._select(event.key)

    def _select(self, key: str) -> None:
        if key == self.selected:
            return
        self.selected = key
        self._resync_pods()
        self.query_one(RatesPanel).select(key)

    # ---- metrics -----------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="metrics")
    def _poll_metrics(self) -> None:
        assert self.metrics is not None
        last_history = 0.0
        while not self._stop.is_set():
            try:
                rates = self.metrics.deployment_rates(self.namespace)
                self.rates = {f"{ns}/{name}": sample for (ns, name), sample in rates.items()}
                if time.monotonic() - last_history > 10:
                    last_history = time.monotonic()
                    # the deployments Prometheus knows: the watch may not have listed any yet
                    for key in sorted(set(self.deployments) | set(self.rates)):
                        ns, _, name = key.partition("/")
                        self.histories[key] = self.metrics.history(
                            ns, name, minutes=self.settings.history_minutes)
                self.call_from_thread(self._refresh_rates)
            except AdapterError as error:
                self.rates = {}
                with contextlib.suppress(RuntimeError):
                    self.call_from_thread(self._metrics_down, error.message)
            except RuntimeError:
                return  # the app is shutting down
            if self.settings.frozen:
                return  # a frozen clock: one fetch is the picture
            self._stop.wait(self.settings.metrics_interval)

    @while_running
    def _metrics_down(self, message: str) -> None:
        self._refresh_rates()
        self.notify(message, title="metrics unavailable", severity="warning", timeout=5)

    @while_running
    def _refresh_rates(self) -> None:
        rows, verdicts = [], {}
        for key in sorted(self.deployments):
            sample = self.rates.get(key)
            rows.append(vm.rate_row(key, sample, self.histories.get(key)))
            verdicts[key] = vm.advise_row(sample, self.pods.counts(key), self.deployments[key])
        self.query_one(RatesPanel).update_rates(rows, verdicts)

    # ---- header, audit pane, checklist ---------------------------------------------------
    def _header(self) -> HeaderInfo:
        status = self.connection
        if status is None:
            connection, since = "reconnecting", None
        elif status.state == "live":
            connection, since = "live", None
        elif status.state == "stale":
            connection = "stale"
            since = status.since.astimezone().strftime("%H:%M:%S") if status.since else None
        else:
            connection, since = "reconnecting", None
        clock = ""
        drill_time = None
        if not self.settings.frozen:
            elapsed = int(time.monotonic() - self._opened)
            clock = f"{elapsed // 3600:02d}:{elapsed % 3600 // 60:02d}:{elapsed % 60:02d}"
            if self.settings.cluster_clock is not None and self.settings.drill is not None:
                drill_time = self.settings.cluster_clock().strftime("%H:%M:%S")
                if self.drill is not None:
                    drill_time = self.drill.header_text(drill_time)  # speed or ⏸ PAUSED
        return HeaderInfo(context=self.context, namespace=self.namespace,
                          selector=self.settings.selector or None,
                          connection=connection,  # type: ignore[arg-type]
                          stale_since=since, incident_clock=clock, production=self.production,
                          drill_time=drill_time, read_only=self.settings.read_only)

    @while_running
    def _refresh_header(self) -> None:
        self.query_one(StatusHeader).info = self._header()

    @while_running
    def _tail_audit(self) -> None:
        if self.audit is None:
            return
        try:
            records, self._audit_offset = self.audit.read_new(self._audit_offset)
        except (OSError, AuditError):
            return  # unreadable for now (the next tick tries again); never a traceback
        if records:
            self.acted = self.acted or any(r.kind == ACTION_FINISHED for r in records)
            self.query_one(AuditView).extend([vm.audit_row(r) for r in records])
        if self.checklist_state and self.checklist_state.changed():
            self._refresh_checklist()
            self._announce_proposals()

    @while_running
    def _refresh_checklist(self) -> None:
        state = self.checklist_state
        if state is None:
            return
        title, rows, current = state.rows()
        self.query_one(Checklist).set_steps(title, rows, current)

    # ---- actions: selection helpers ------------------------------------------------------
    def _selected_deployment(self) -> DeploymentView | None:
        if self.selected is None or self.selected not in self.deployments:
            self.notify("select a deployment first", severity="warning")
            return None
        return self.deployments[self.selected]

    def _selected_pod(self) -> PodView | None:
        key = self.query_one(PodTable).cursor_key
        pod = self.pods.get(key) if key else None
        if pod is None:
            self.notify("select a pod first (tab to the pod table)", severity="warning")
        return pod

    def _ready_to_act(self) -> bool:
        if self.runner is None:
            self.notify(self.cannot_act or "not connected to a cluster yet", severity="error")
            return False
        if self.action_running:
            self.notify(f"wait: {self.action_running} is still running", severity="warning")
            return False
        return True

    # ---- actions: keys -------------------------------------------------------------------
    def action_scale(self) -> None:
        dep = self._selected_deployment()
        if dep is None or not self._ready_to_act():
            return

        def chosen(replicas: int | None) -> None:
            if replicas is not None:
                self._propose(dep, "scale", {"replicas": replicas},
                              f"replicas {dep.desired} → {replicas}",
                              self._scale_warnings(dep, replicas))

        self.push_screen(ScaleModal(dep.key, dep.desired, max_replicas=self.settings.max_replicas),
                         chosen)

    def action_scale_by(self, step: int) -> None:
        dep = self._selected_deployment()
        if dep is None or not self._ready_to_act():
            return
        replicas = dep.desired + step * self.settings.scale_step
        if not 0 <= replicas <= self.settings.max_replicas:
            self.notify(f"replicas must stay between 0 and {self.settings.max_replicas}",
                        severity="warning")
            return
        self._propose(dep, "scale", {"replicas": replicas}, f"replicas {dep.desired} → {replicas}",
                      self._scale_warnings(dep, replicas))

    @staticmethod
    def _scale_warnings(dep: DeploymentView, replicas: int) -> list[str]:
        if replicas == 0:
            return [f"scaling to 0 stops every pod of {dep.name}: a complete outage of it"]
        return []

    def action_restart(self) -> None:
        dep = self._selected_deployment()
        if dep is not None and self._ready_to_act():
            self._propose(dep, "restart", {}, "rollout restart: replace every pod (new revision)",
                          ["pods are replaced gradually (RollingUpdate); the template is "
                           "unchanged apart from the restartedAt annotation"])

    def action_undo(self) -> None:
        dep = self._selected_deployment()
        if dep is not None and self._ready_to_act():
            self._load_history(dep)

    @work(thread=True, group="history")
    def _load_history(self, dep: DeploymentView) -> None:
        assert self.kube is not None
        try:
            history = self.kube.history(dep.namespace, dep.name)
            diffs: dict[int, str] = {}
            for rev in history:
                if rev.revision and not rev.current:
                    diff = self.kube.template_diff(dep.namespace, dep.name, rev.revision)
                    diffs[rev.revision] = "\n".join(diff.lines()) or "no template change"
        except AdapterError as error:
            self.call_from_thread(self.notify, error.message, title="rollout history",
                                  severity="error")
            return
        self.call_from_thread(self._show_undo, dep, history, diffs)

    def _show_undo(self, dep: DeploymentView, history: list[Any], diffs: dict[int, str]) -> None:
        if len([r for r in history if not r.current]) == 0:
            self.notify(f"deployment/{dep.name} has no previous revision to roll back to",
                        severity="warning")
            return
        warnings = []
        if dep.paused:
            warnings.append("the deployment is paused: kubectl refuses to roll back a paused "
                            "deployment — resume it first")
        oldest_kept = min((r.revision or 0) for r in history)
        if oldest_kept > 1:
            warnings.append(f"revisions before {oldest_kept} were pruned "
                            "(revisionHistoryLimit) and cannot be restored")

        def chosen(revision: int | None) -> None:
            if revision is not None:
                self._propose(dep, "undo", {"to_revision": revision},
                              f"pod template → revision {revision}\n{diffs.get(revision, '')}",
                              ["undo does not revert the replica count, HPA settings, "
                               "ConfigMaps or Secrets"])

        self.push_screen(UndoModal(dep.key, [vm.revision_row(r) for r in history], diffs,
                                   warnings), chosen)

    def action_delete_pod(self) -> None:
        pod = self._selected_pod()
        if pod is None or not self._ready_to_act():
            return
        dep = self.deployments.get(f"{pod.namespace}/{pod.deployment}")
        self._propose_request(
            ActionRequest("delete-pod", self.context, pod.namespace, pod.name),
            "delete the pod (its ReplicaSet creates a replacement)",
            [] if dep else ["this pod has no deployment: it will not be replaced"])

    # ---- actions: the common path ----------------------------------------------------------
    def _propose(self, dep: DeploymentView, kind: str, params: dict[str, Any], change: str,
                 warnings: list[str]) -> None:
        request = ActionRequest(kind, self.context, dep.namespace, dep.name, params,
                                seen_generation=dep.generation)
        self._propose_request(request, change, warnings)

    def _propose_request(self, request: ActionRequest, change: str, warnings: list[str]) -> None:
        self._precheck(request, change, warnings)

    @work(thread=True, group="precheck")
    def _precheck(self, request: ActionRequest, change: str, warnings: list[str]) -> None:
        assert self.runner is not None
        reason = self.runner.precheck(request)
        if reason:
            self.call_from_thread(self._refused, request, reason)
        else:
            self.call_from_thread(self._confirm, request, change, warnings)

    def _refused(self, request: ActionRequest, reason: str) -> None:
        self.notify(reason, title=f"{request.describe()}: refused", severity="error", timeout=10)
        if self.audit is not None:
            with contextlib.suppress(AuditWriteError):
                self.audit.append(ACTION_REFUSED, action=request.kind, target=request.target_ref,
                                  params=request.params, message=reason,
                                  context=request.context, namespace=request.namespace)

    def _confirm(self, request: ActionRequest, change: str, warnings: list[str]) -> None:
        modal = ConfirmModal(
            request.describe(), context=self.context, namespace=request.namespace,
            target=request.target_ref, change=change, warnings=warnings,
            typed_name=request.target if self.production else None)

        def answered(ok: bool | None) -> None:
            if not ok:
                self.notify(f"cancelled: {request.describe()}")
            elif self.settings.two_person:
                self._propose_for_approval(request)
            else:
                self._run(request)

        self.push_screen(modal, answered)

    # ---- two-person rule ------------------------------------------------------------------
    def _propose_for_approval(self, request: ActionRequest) -> None:
        state = self.checklist_state
        assert state is not None and self.audit is not None
        action = {"kind": request.kind, "context": request.context,
                  "namespace": request.namespace, "target": request.target,
                  "params": request.params, "seen_generation": request.seen_generation}
        proposal_id = state.incident.propose(action, by=state.actor)
        self.audit.append(PROPOSAL_MADE, action=request.kind, target=request.target_ref,
                          params={**request.params, "proposal": proposal_id},
                          message=f"{request.describe()}: waiting for a second person to "
                                  "approve (A in another console on this incident)")
        self.notify("waiting for a second person's approval (two-person rule)",
                    title=request.describe())

    def _announce_proposals(self) -> None:
        state = self.checklist_state
        if state is None:
            return
        for proposal in state.incident.pending_proposals():
            if proposal.id in self._announced or same_operator(proposal.proposed_by, state.actor):
                continue
            self._announced.add(proposal.id)
            action = proposal.action
            self.notify(f"{proposal.proposed_by.label} proposes {action.get('kind')} "
                        f"{action.get('target')}: press A to review and approve",
                        title="approval needed", severity="warning", timeout=30)

    def action_approve(self) -> None:
        state = self.checklist_state
        if state is None or not self._ready_to_act():
            return
        pending = [p for p in state.incident.pending_proposals()
                   if not same_operator(p.proposed_by, state.actor)]
        if not pending:
            self.notify("no proposal waiting for your approval")
            return
        proposal = pending[0]
        a = proposal.action
        request = ActionRequest(a["kind"], a["context"], a["namespace"], a["target"],
                                dict(a.get("params") or {}), a.get("seen_generation"))

        def answered(ok: bool | None) -> None:
            if not ok:
                return
            try:
                approved = state.incident.approve(proposal.id, state.actor)
            except ProposalError as error:
                self._refused(request, str(error))
                return
            assert self.audit is not None
            self.audit.append(PROPOSAL_APPROVED, action=request.kind, target=request.target_ref,
                              params={"proposal": proposal.id,
                                      "proposed_by": approved.proposed_by.label,
                                      "approved_by": state.actor.label},
                              message=f"approved: {request.describe()}")
            self._run(ActionRequest(request.kind, request.context, request.namespace,
                                    request.target,
                                    {**request.params, "proposed_by": approved.proposed_by.label,
                                     "approved_by": state.actor.label},
                                    request.seen_generation))

        self.push_screen(ConfirmModal(
            f"Approve: {request.describe()}", context=request.context,
            namespace=request.namespace, target=request.target_ref,
            change=f"proposed by {proposal.proposed_by.label}",
            warnings=["two-person rule: you are the second person; approving runs it now"],
            confirm_label="Approve and run"), answered)

    def _run(self, request: ActionRequest) -> None:
        self.action_running = request.describe()
        status = self.query_one("#action-status", Static)
        status.remove_class("-error")
        status.update(f"▶ {request.describe()}")
        status.display = True
        bar = self.query_one("#action-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self._run_worker(request)

    @work(thread=True, group="actions")
    def _run_worker(self, request: ActionRequest) -> None:
        assert self.runner is not None

        def progress(message: str, fraction: float | None) -> None:
            with contextlib.suppress(RuntimeError):
                self.call_from_thread(self._progress, message, fraction)

        try:
            outcome = self.runner.run(request, progress)
        except Exception as error:  # noqa: BLE001 - shown, never a traceback on screen
            message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
            outcome = ActionOutcome(False, message, 0.0)
        with contextlib.suppress(RuntimeError):
            self.call_from_thread(self._finished, request, outcome)

    def _hide_progress(self) -> None:
        """Hide the progress bar, and stop its animation: an indeterminate bar repaints 15
        times a second even while hidden."""
        bar = self.query_one("#action-progress", ProgressBar)
        bar.display = False
        bar.update(total=100, progress=0)

    @while_running
    def _progress(self, message: str, fraction: float | None) -> None:
        self.query_one("#action-status", Static).update(Text(f"▶ {self.redact(message)}"))
        bar = self.query_one("#action-progress", ProgressBar)
        if fraction is None:
            bar.update(total=None)
        else:
            bar.update(total=100, progress=round(fraction * 100))

    def _finished(self, request: ActionRequest, outcome: ActionOutcome) -> None:
        self.action_running = None
        self._hide_progress()
        status = self.query_one("#action-status", Static)
        mark = "✔" if outcome.ok else "✖"
        status.update(Text(f"{mark} {request.describe()}: {self.redact(outcome.message)}"))
        status.set_class(not outcome.ok, "-error")
        self.notify(outcome.message, title=f"{mark} {request.describe()}",
                    severity="information" if outcome.ok else "error",
                    timeout=6 if outcome.ok else 15)

    # ---- verification, logs, events --------------------------------------------------------
    def action_verify(self) -> None:
        if not self.settings.checks:
            self.notify("no verification checks configured (config file `checks:` or the "
                        "runbook's verify steps)", severity="warning")
            return
        self._verify()

    @work(thread=True, group="verify")
    def _verify(self) -> None:
        checks = list(self.settings.checks)
        if self.audit is not None:
            with contextlib.suppress(AuditWriteError):
                self.audit.append("action.started", action="verify", target="http",
                                  params={"checks": [c.name for c in checks]},
                                  message=f"running {len(checks)} verification checks")
        verify: bool | ssl.SSLContext = True
        if self.settings.probe_ca:
            verify = ssl.create_default_context(cafile=self.settings.probe_ca)
        results = asyncio.run(Prober(verify=verify).run_all(checks))
        ok = all(r.ok for r in results)
        summary = "; ".join(f"{'✔' if r.ok else '✖'} {r.name}: {r.message}" for r in results)
        if self.audit is not None:
            with contextlib.suppress(AuditWriteError):
                self.audit.append("action.finished" if ok else "action.failed", action="verify",
                                  target="http", result={"ok": ok},
                                  message=summary)
        self.call_from_thread(self.notify, summary, title="verification",
                              severity="information" if ok else "error", timeout=15)

    def action_logs(self) -> None:
        pod = self._selected_pod()
        if pod is not None and self.kube is not None:
            self._show_logs(pod)

    @work(thread=True, group="logs")
    def _show_logs(self, pod: PodView) -> None:
        assert self.kube is not None
        parts = []
        try:
            parts.append(self.kube.pod_logs(pod.namespace, pod.name, tail=500))
        except AdapterError as error:
            parts.append(f"(logs unavailable: {error.message})")
        if pod.restarts:
            try:
                previous = self.kube.pod_logs(pod.namespace, pod.name, tail=200, previous=True)
                parts.append("──── previous container (before the last restart) ────\n"
                             + previous)
            except AdapterError as error:
                parts.append(f"(previous container: {error.message})")
        self.call_from_thread(self.push_screen, TextModal(f"logs: {pod.name}", "\n".join(parts)))

    def action_events(self) -> None:
        if self.kube is None:
            return
        key = self.query_one(PodTable).cursor_key if self.query_one(PodTable).has_focus else None
        target = self.pods[key].name if key and key in self.pods else (
            self.selected.partition("/")[2] if self.selected else None)
        self._show_events(target)

    @work(thread=True, group="events")
    def _show_events(self, name: str | None) -> None:
        assert self.kube is not None
        try:
            events = self.kube.list_events(self.namespace, involved_name=name)
        except AdapterError as error:
            self.call_from_thread(self.notify, error.message, title="events", severity="error")
            return
        lines = [f"{e.last_seen:>8}  {e.type:<7} {e.reason:<20} {e.object:<40} {e.message}"
                 for e in events[-300:]]
        self.call_from_thread(self.push_screen,
                              TextModal(f"events: {name or self.namespace}",
                                        "\n".join(lines) or "no events"))

    # ---- runbook -------------------------------------------------------------------------
    def action_check_step(self) -> None:
        state = self.checklist_state
        key = self.query_one(Checklist).highlighted_key or self.query_one(Checklist).current_key
        if state is None or key is None:
            return
        message = state.toggle(key)
        if message:
            self.notify(message, severity="warning")
        self._refresh_checklist()

    @on(Checklist.StepToggled)
    def _step_toggled(self, event: Checklist.StepToggled) -> None:
        if self.checklist_state is not None:
            message = self.checklist_state.toggle(event.key)
            if message:
                self.notify(message, severity="warning")
            self._refresh_checklist()

    def action_next_step(self) -> None:
        if self.checklist_state is not None:
            self.checklist_state.move(1)
            self._refresh_checklist()

    def action_previous_step(self) -> None:
        if self.checklist_state is not None:
            self.checklist_state.move(-1)
            self._refresh_checklist()

    def action_run_step(self) -> None:
        key = self.query_one(Checklist).highlighted_key or self.query_one(Checklist).current_key
        if key is not None:
            self._start_step(key)

    @on(Checklist.StepRun)
    def _step_run(self, event: Checklist.StepRun) -> None:
        self._start_step(event.key)

    def _start_step(self, key: str) -> None:
        state = self.checklist_state
        if state is None or state.runbook is None:
            return
        if state.runbook.step(key).kind == "manual":
            self.action_check_step()
            return
        if state.engine is None:
            self.notify("this runbook's steps cannot run: its variables are not all set",
                        severity="warning")
            return
        if self.action_running:
            self.notify(f"wait: {self.action_running} is still running", severity="warning")
            return
        self.action_running = f"step {key}"
        self._run_step(key)

    @work(thread=True, group="steps")
    def _run_step(self, key: str) -> None:
        state = self.checklist_state
        assert state is not None and state.engine is not None

        def confirm(question: str) -> bool:
            answer: list[bool] = []
            done = threading.Event()

            def show() -> None:
                def answered(ok: bool | None) -> None:
                    answer.append(bool(ok))
                    done.set()

                self.push_screen(ConfirmModal(
                    question, context=self.context, namespace=self.namespace,
                    target=f"runbook step {key}", change=question,
                    typed_name=self.namespace if self.production else None), answered)

            self.call_from_thread(show)
            while not done.wait(0.2):
                if self._stop.is_set():
                    return False
            return answer[0]

        def progress(message: str, fraction: float | None) -> None:
            with contextlib.suppress(RuntimeError):
                self.call_from_thread(self._progress, message, fraction)

        with contextlib.suppress(RuntimeError):
            self.call_from_thread(self._show_running, f"runbook step {key}")
        try:
            outcome = state.engine.run_step(key, confirm=confirm, progress=progress)
            result = ActionOutcome(outcome.ok, outcome.message, outcome.duration_s)
        except Exception as error:  # noqa: BLE001 - shown, never a traceback
            result = ActionOutcome(False, getattr(error, "message", None) or str(error), 0.0)
        with contextlib.suppress(RuntimeError):
            self.call_from_thread(self._step_finished, key, result)

    def _show_running(self, what: str) -> None:
        status = self.query_one("#action-status", Static)
        status.remove_class("-error")
        status.update(f"▶ {what}")
        status.display = True
        bar = self.query_one("#action-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True

    def _step_finished(self, key: str, outcome: ActionOutcome) -> None:
        self._finished(ActionRequest("step", self.context, self.namespace, key), outcome)
        self._refresh_checklist()

    # ---- command palette ---------------------------------------------------------------------
    PALETTE = (
        ("Scale deployment", "s: set the replica count of the selected deployment", "scale"),
        ("Scale up by one", "+: one more replica", "scale_by(1)"),
        ("Scale down by one", "-: one replica fewer", "scale_by(-1)"),
        ("Rollout restart", "r: replace every pod of the selected deployment", "restart"),
        ("Rollout undo", "u: roll back to a previous revision (shows the template diff)", "undo"),
        ("Verify", "v: run the HTTP verification checks", "verify"),
        ("Pod logs", "l: logs of the selected pod, with the previous container", "logs"),
        ("Events", "e: events of the selected pod or deployment", "events"),
        ("Delete pod", "x: delete the selected pod (its ReplicaSet replaces it)", "delete_pod"),
        ("Check off step", "space: check off the current manual runbook step", "check_step"),
        ("Next step", "n: move to the next runbook step", "next_step"),
        ("Previous step", "p: move to the previous runbook step", "previous_step"),
        ("Switch theme", "t: next colour theme", "cycle_theme"),
        ("Pause/resume the drill", "P: pause or resume the drill clock (drills only)",
         "drill_pause"),
        ("Drill score", "S: the drill's score so far (drills only)", "drill_score"),
        ("Help", "?: keys and how the war room works", "help"),
    )

    def get_system_commands(self, screen: Any) -> Any:
        yield from super().get_system_commands(screen)
        for title, help_text, action in self.PALETTE:
            name = action.split("(")[0]
            if self.check_action(name, ()) is not True:
                continue
            yield SystemCommand(title, help_text,
                                lambda action=action: self.run_action(action))

    # ---- drill mode (console/ui/drill_bridge.py) ------------------------------------------------
    def action_drill_pause(self) -> None:
        if self.drill is not None:
            self.drill.toggle_pause()

    def action_drill_score(self) -> None:
        if self.drill is not None:
            self.drill.show_score()

    # ---- misc ------------------------------------------------------------------------------
    def action_pane(self, pane: str) -> None:
        self.query_one(PaneDeck).show(pane)

    def action_cycle_theme(self) -> None:
        names = list(THEMES)
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"theme: {self.theme}")

    def action_help(self) -> None:
        bindings = [(b.key.replace("question_mark", "?"), b.description)
                    for b in self.BINDINGS if isinstance(b, Binding)]
        self.push_screen(HelpScreen(bindings))

    def action_request_quit(self) -> None:
        if not self.action_running:
            self.exit(0)
            return

        def answered(ok: bool | None) -> None:
            if ok:
                self.exit(0)

        self.push_screen(ConfirmModal(
            "Quit while an action is running?", context=self.context, namespace=self.namespace,
            target=self.action_running, change="leave the console",
            warnings=["the cluster keeps rolling out; the audit log will miss the result"],
            confirm_label="Quit"), answered)

    def note(self, text: str) -> None:
        if self.audit is not None:
            self.audit.append(NOTE, message=text)

    def on_unmount(self) -> None:
        if self.drill is not None:
            self.drill.finish()  # the drill's score report, with all that was done
        self._stop.set()
        self._gc.close()
        if self.informer is not None:
            self.informer.stop(timeout=1.0)
        if self.metrics is not None:
            with contextlib.suppress(Exception):
                self.metrics.close()


def run_app(settings: ConsoleSettings) -> int:
    app = WarroomApp(settings)
    return run_reporting_crashes(app, settings.state_dir, redact=app.redact)


def utc_now() -> datetime:
    return datetime.now(UTC)
