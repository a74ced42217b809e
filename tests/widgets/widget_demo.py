"""Fixed demo data and small host apps for the widget tests and snapshots (no clocks)."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from themes import CSS_PATH, HORIZONTAL_BREAKPOINTS, register_themes
from widgets.audit_view import AuditView
from widgets.checklist import Checklist
from widgets.deployment_list import DeploymentList
from widgets.pane_deck import Pane, PaneDeck
from widgets.pod_table import PodTable
from widgets.rates_panel import RatesPanel
from widgets.rows import (
    AuditRow,
    DeploymentRow,
    HeaderInfo,
    PodRow,
    RateRow,
    RevisionRow,
    StepRow,
    VerdictRow,
)
from widgets.status_header import StatusHeader

HEADER = HeaderInfo(context="prod-eu-1", namespace="shop", connection="live",
                    incident_clock="00:17:42", production=True)

DEPLOYMENTS = [
    DeploymentRow("shop/api", "shop", "api", 1, 4, 2, 1, 7, ("registry/api:1.4.2",), "stalled"),
    DeploymentRow("shop/checkout", "shop", "checkout", 2, 3, 3, 2, 5,
                  ("registry/checkout:2.0.1",), "progressing"),
    DeploymentRow("shop/web", "shop", "web", 4, 4, 4, 4, 12, ("registry/web:3.9.0",),
                  "complete"),
    DeploymentRow("shop/worker", "shop", "worker", 2, 2, 2, 2, 3, ("registry/worker:0.9.4",),
                  "paused"),
]


def pod(name: str, ready: str, status: str, restarts: int | str, age: str,
        revision: str) -> PodRow:
    return PodRow(f"shop/{name}", name, ready, status, restarts, age, revision, "node-a")


PODS = [
    pod("api-7d9f8c6b5-qq7lm", "0/1", "CrashLoopBackOff", "5 (30s ago)", "6m", "7"),
    pod("api-7d9f8c6b5-x2x9k", "1/1", "Running", 0, "6m", "7"),
    pod("api-7d9f8c6b5-z8m2p", "0/1", "OOMKilled", 3, "6m", "7"),
    pod("api-6c4b9d7f8-h4k2n", "1/1", "Terminating", 0, "2d", "6"),
    pod("api-7d9f8c6b5-p0nd1", "0/1", "Pending", 0, "12s", "7"),
    pod("web-5f6d7c8b9-aa1bc", "1/1", "Running", 0, "3d", "12"),
]

RATES = [
    RateRow("shop/api", "shop", "api", 120.5, 0.423, 1840.0, 12.3,
            (0.01, 0.01, 0.02, 0.08, 0.2, 0.35, 0.41, 0.42, 0.423),
            (150, 160, 150, 400, 900, 1500, 1700, 1800, 1840)),
    RateRow("shop/checkout", "shop", "checkout", 40.0, 0.031, 410.0, 3.2,
            (0.01, 0.02, 0.03, 0.03, 0.031), (120, 200, 300, 400, 410)),
    RateRow("shop/web", "shop", "web", 310.2, 0.002, 85.0, 1.1,
            (0.002, 0.001, 0.002, 0.002), (80, 85, 90, 85)),
    RateRow("shop/worker", "shop", "worker", None, None, None, None),
]

VERDICTS = {
    "shop/api": VerdictRow("ROLL BACK NOW", "performance: p99 > 10x baseline",
                           ("42.3 % of requests failing", "p99 is 12.3x baseline")),
    "shop/checkout": VerdictRow("MONITOR", "performance: 2-5x slower than baseline",
                                ("p99 is 3.2x baseline",)),
    "shop/web": VerdictRow("OK", "all signals within the handbook's limits"),
    "shop/worker": VerdictRow("UNKNOWN", "error ratio and latency not measured"),
}

STEPS = [
    StepRow("assess", "Assess impact", "manual", "done", "",
            "Who is affected and how badly? Check the error rate and p99."),
    StepRow("announce", "Announce the incident", "manual", "done"),
    StepRow("verdict", "Check the rollback verdict", "gate", "done", "error ratio 42 % ≥ 25 %"),
    StepRow("undo", "Roll back api to the previous revision", "undo", "running",
            "rollout 1 of 4 pods updated",
            "kubectl rollout undo: restores the pod template of revision 6. It does not "
            "revert replicas, HPA settings, ConfigMaps or Secrets."),
    StepRow("verify", "Verify /healthz on api", "verify", "pending"),
    StepRow("errors", "Error rate back under 1 %", "gate", "blocked", "waits for the rollout"),
    StepRow("scale", "Scale api back to 4 replicas", "scale", "skipped", "already at 4"),
    StepRow("notify", "Tell support the fix is out", "manual", "failed", "pager unreachable"),
    StepRow("postmortem", "Open the post-mortem", "manual", "pending"),
]

AUDIT = [
    AuditRow("03:02:11", "alice@10.0.0.5", "incident.opened", "shop", "production-bug runbook"),
    AuditRow("03:04:40", "alice@10.0.0.5", "step.done", "assess", "checked off"),
    AuditRow("03:06:02", "bob@10.0.0.9", "action.requested", "deploy/shop/api",
             "undo to revision 6"),
    AuditRow("03:06:09", "bob@10.0.0.9", "action.started", "deploy/shop/api",
             "rollout undo --to-revision=6"),
    AuditRow("03:06:30", "bob@10.0.0.9", "action.failed", "deploy/shop/api",
             "verify /healthz: HTTP 503", ok=False),
    AuditRow("03:07:15", "alice@10.0.0.5", "action.finished", "deploy/shop/web",
             "scaled to 4 replicas in 8.2s", ok=True),
]

REVISIONS = [
    RevisionRow(7, "deploy api 1.4.2 (JIRA-812)", ("registry/api:1.4.2",), current=True),
    RevisionRow(6, "deploy api 1.4.1", ("registry/api:1.4.1",)),
    RevisionRow(5, None, ("registry/api:1.4.0",)),
]

DIFFS = {
    6: "image: registry/api:1.4.2 → registry/api:1.4.1\n"
       "env FEATURE_NEW_AUTH: true → (unset)\n"
       "change-cause: deploy api 1.4.2 (JIRA-812) → deploy api 1.4.1",
    5: "image: registry/api:1.4.2 → registry/api:1.4.0\nchange-cause: → (none)",
}

BINDINGS = [
    ("?", "help"),
    ("s", "scale the selected deployment"),
    ("R", "rollout restart the selected deployment"),
    ("u", "rollout undo (pick a revision)"),
    ("v", "verify: HTTP check of the service"),
    ("l", "logs of the selected pod"),
    ("e", "events of the selected pod"),
    ("space", "check off the runbook step"),
    ("enter", "run the runbook step's action"),
    ("ctrl+p", "command palette: every action by name"),
    ("q", "quit"),
]


class WidgetApp(App[Any]):
    """Hosts one widget (or nothing) with the war-room themes and stylesheets."""

    CSS_PATH = CSS_PATH
    HORIZONTAL_BREAKPOINTS = HORIZONTAL_BREAKPOINTS

    def __init__(self, *widgets: Widget, theme: str = "warroom-dark") -> None:
        super().__init__()
        self._widgets = widgets
        self.messages: list[Any] = []
        register_themes(self, theme)

    def compose(self) -> ComposeResult:
        yield from self._widgets

    def _record(self, message: Any) -> None:
        self.messages.append(message)

    on_deployment_list_selected = _record
    on_pod_table_pod_selected = _record
    on_checklist_step_toggled = _record
    on_checklist_step_run = _record
    on_pane_deck_switched = _record

    def of_type(self, kind: type) -> list[Any]:
        return [m for m in self.messages if isinstance(m, kind)]


class DemoApp(App[None]):
    """Every pane with fixed data, composed as widgets/layout_hint.md tells the console."""

    CSS_PATH = CSS_PATH
    HORIZONTAL_BREAKPOINTS = HORIZONTAL_BREAKPOINTS
    BINDINGS = [("q", "quit", "Quit"), ("s", "noop('scale')", "Scale"),
                ("u", "noop('undo')", "Undo"), ("question_mark", "noop('help')", "Help")]

    def __init__(self, theme: str = "warroom-dark", header: HeaderInfo = HEADER,
                 modal: Screen[Any] | None = None) -> None:
        super().__init__()
        self._header = header
        self._modal = modal
        self.results: list[Any] = []
        register_themes(self, theme)

    def compose(self) -> ComposeResult:
        yield StatusHeader(self._header, id="status-header")
        with PaneDeck(id="main"):
            with Pane("Deployments · Pods", id="left"):
                yield DeploymentList(id="deployments")
                yield PodTable(id="pods")
            with Pane("Rates · Verdict", id="middle"):
                yield RatesPanel(id="rates")
            with Pane("Runbook", id="right"):
                yield Checklist(id="checklist")
        yield AuditView(id="audit")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DeploymentList).apply(DEPLOYMENTS)
        self.query_one(PodTable).apply_deltas(PODS, [])
        self.query_one(RatesPanel).update_rates(RATES, VERDICTS)
        self.query_one(RatesPanel).select("shop/api")
        self.query_one(Checklist).set_steps("production-bug: roll back a bad release", STEPS,
                                            "undo")
        self.query_one(AuditView).extend(AUDIT)
        if self._modal is not None:
            self.push_screen(self._modal, self.results.append)

    def action_noop(self, what: str) -> None:
        """Demo bindings only show in the footer."""


class ModalHost(App[Any]):
    """An empty screen that pushes ``screen`` on mount and records its result."""

    CSS_PATH = CSS_PATH

    def __init__(self, screen: Screen[Any], theme: str = "warroom-dark") -> None:
        super().__init__()
        self._modal = screen
        self.results: list[Any] = []
        register_themes(self, theme)

    def on_mount(self) -> None:
        self.push_screen(self._modal, self.results.append)
