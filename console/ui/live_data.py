"""Live data on the main screen: watch deltas into the tables, rates into the rates panel.

The informer's flush thread hands batches of deltas to `LiveData.arrived`, which queues them
and posts one `DeltasArrived` wake-up (coalesced); the screen then calls `drain`, at most every
``DRAIN_EVERY`` seconds, which applies the whole queue to the pod index and the tables on the
UI thread. Only rows of the selected deployment are built; ages are recomputed for the rows on
screen only, once per clock tick. The metrics poller runs in a worker and posts `RatesFetched`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from adapters.argo_views import AnalysisRunView, RolloutView
from adapters.errors import AdapterError
from adapters.informer_deltas import Delta
from adapters.kube_views import DeploymentView, PodView
from adapters.metrics import History, RateSample
from console.domain.pod_index import PodIndex, deployment_key
from console.ui import view_model as vm
from console.ui.messages import DeltasArrived, Notice, RatesFetched
from console.ui.rollout_rows import rollout_detail, rollout_row
from widgets.deployment_list import DeploymentList
from widgets.pod_table import PodTable
from widgets.rates_panel import RatesPanel
from widgets.rollout_panel import RolloutPanel
from widgets.rows import PodRow

if TYPE_CHECKING:
    from console.ui.main_screen import MainScreen

DRAIN_EVERY = 0.03  # apply watch deltas as they arrive, at most ~30 times a second


class LiveData:
    """The deployments, pods and rates the screen shows, and how they get there."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.settings = screen.settings
        self.deployments: dict[str, DeploymentView] = {}
        self.pods = PodIndex()  # by key and by deployment, with the advisor's counts
        self.rollouts: dict[str, RolloutView] = {}  # Argo Rollouts, when the cluster has them
        self.analysis_runs: dict[str, AnalysisRunView] = {}
        self._rollout_keys = False  # the footer offers the Rollout keys
        self.rates: dict[str, RateSample] = {}
        self.histories: dict[str, History] = {}
        self.selected: str | None = None  # namespace/deployment whose pods are shown
        self.on_first_picture: Callable[[], None] | None = None  # after the next drain
        self._deltas: deque[Delta] = deque()
        self._drain_asked = False  # a DeltasArrived message is on its way to the UI thread
        self._drain_booked = False
        self._last_drain = 0.0
        self._ages_at: datetime | None = None  # the clock reading the ages on screen are for

    # ---- watch deltas ----------------------------------------------------------------------
    def arrived(self, batch: list[Delta]) -> None:
        """On the informer's flush thread: queue the batch and wake the UI thread once."""
        self._deltas.extend(batch)
        if not self._drain_asked:
            self._drain_asked = True
            self.screen.post_message(DeltasArrived())

    def wake(self) -> None:
        """Drain now, or when DRAIN_EVERY has passed since the last drain."""
        if self._drain_booked:
            return
        wait = self._last_drain + DRAIN_EVERY - time.monotonic()
        if wait <= 0:
            self.drain()
        else:
            self._drain_booked = True
            self.screen.set_timer(wait, self.drain)

    def drain(self) -> None:
        if not self.screen.is_attached:
            return  # the screen is being torn down
        self._drain_asked = False  # before taking the deltas: a later batch asks again
        self._drain_booked = False
        self._last_drain = time.monotonic()
        if not self._deltas:
            return
        batch: list[Delta] = []
        while self._deltas:
            batch.append(self._deltas.popleft())
        deploy_changed: set[str] = set()
        pod_upserts: dict[str, PodView] = {}
        pod_deletes: set[str] = set()
        argo_changed: set[str] = set()  # rollouts
        runs_changed = False
        for delta in batch:
            if delta.kind == "deployments":
                deploy_changed.add(delta.key)
                if delta.type == "DELETED":
                    self.deployments.pop(delta.key, None)
                else:
                    self.deployments[delta.key] = delta.view  # type: ignore[assignment]
            elif delta.kind in ("rollouts", "analysisruns"):
                if delta.kind == "rollouts":
                    argo_changed.add(delta.key)
                store: dict[str, Any] = (self.rollouts if delta.kind == "rollouts"
                                         else self.analysis_runs)
                if delta.type == "DELETED":
                    store.pop(delta.key, None)
                else:
                    store[delta.key] = delta.view
                runs_changed = runs_changed or delta.kind == "analysisruns"
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
            table = self.screen.query_one(DeploymentList)
            table.apply_deltas([vm.deployment_row(self.deployments[k]) for k in deploy_changed
                                if k in self.deployments],
                               [k for k in deploy_changed if k not in self.deployments])
            if self.selected is None and self.deployments:
                self.select(table.cursor_key or sorted(self.deployments)[0])
        if argo_changed or runs_changed:
            self._apply_rollouts(argo_changed)
        if pod_upserts or pod_deletes:
            now = self.now()
            rows: list[PodRow] = []
            gone = list(pod_deletes)  # deleted, or not of the selected deployment
            for pod in pod_upserts.values():
                if self.selected is None or deployment_key(pod) == self.selected:
                    rows.append(vm.pod_row(pod, now))
                else:
                    gone.append(pod.key)
            self.screen.query_one(PodTable).apply_deltas(rows, gone)
        if deploy_changed or pod_upserts or pod_deletes:
            self.refresh_rates()
        if self.on_first_picture is not None and not self._deltas:
            done, self.on_first_picture = self.on_first_picture, None
            done()

    # ---- clocks and selection --------------------------------------------------------------
    def now(self) -> datetime | None:
        clock = self.settings.cluster_clock
        if clock is not None:
            return clock()
        if self.settings.frozen:
            return None
        kube = self.screen.session.kube  # the API server's clock, from its Date headers
        return kube.server_now() if kube is not None else datetime.now(UTC)

    def refresh_ages(self, *, force: bool = False) -> None:
        """Recompute AGE for the pods on screen only (the rest get theirs when they are
        scrolled into view): ages change every second, but rebuilding every row for it is
        O(pods) per tick. A clock standing still (a paused drill) ages nothing."""
        now = self.now()
        if now is None or (now == self._ages_at and not force):
            return
        self._ages_at = now
        table = self.screen.query_one(PodTable)
        rows = [vm.pod_row(pod, now) for key in table.visible_keys()
                if (pod := self.pods.get(key)) is not None]
        if rows:
            table.apply_deltas(rows)

    def select(self, key: str) -> None:
        """Show the pods of deployment ``key``, with ages as of now."""
        if key == self.selected:
            return
        self.selected = key
        now = self.now()
        self.screen.query_one(PodTable).sync(
            [vm.pod_row(p, now) for p in self.pods.of_deployment(key)])
        self.screen.query_one(RatesPanel).select(key)
        self.show_rollout()

    def selected_rollout(self) -> RolloutView | None:
        """The Argo Rollout under the cursor; when none, says how to select one."""
        rollout = self.rollouts.get(self.selected) if self.selected else None
        if rollout is None:
            self.screen.app.notify("select an Argo Rollout first (the workloads list marks "
                                   "them; this cluster may serve none)", severity="warning")
        return rollout

    def _apply_rollouts(self, changed: set[str]) -> None:
        table = self.screen.query_one(DeploymentList)
        table.apply_deltas([rollout_row(self.rollouts[k]) for k in changed if k in self.rollouts],
                           [k for k in changed if k not in self.rollouts
                            and k not in self.deployments])
        if self.selected is None and self.rollouts:
            self.select(table.cursor_key or sorted(self.rollouts)[0])
        self.show_rollout()

    def show_rollout(self) -> None:
        """The rollout panel for the selected workload (hidden unless it is a Rollout)."""
        view = self.rollouts.get(self.selected) if self.selected else None
        detail = rollout_detail(view, self.analysis_runs.values()) if view else None
        self.screen.query_one(RolloutPanel).show(detail)
        if (view is not None) != self._rollout_keys:
            self._rollout_keys = view is not None
            self.screen.refresh_bindings()  # the Rollout keys come and go with the selection

    def selected_deployment(self) -> DeploymentView | None:
        return self.deployments.get(self.selected) if self.selected else None

    def selected_pod(self) -> PodView | None:
        """The pod under the pod table's cursor; when none, says how to select one."""
        pod = self.pods.get(self.screen.query_one(PodTable).cursor_key)
        if pod is None:
            self.screen.app.notify("select a pod first (tab to the pod table)",
                                   severity="warning")
        return pod

    # ---- metrics ---------------------------------------------------------------------------
    def poll_metrics(self) -> None:
        """In a worker thread: rates every ``metrics_interval`` until the screen stops."""
        session = self.screen.session
        metrics = session.metrics
        assert metrics is not None
        stop = self.screen.stopping
        last_history = 0.0
        while not stop.is_set():
            try:
                rates = metrics.deployment_rates(session.namespace)
                self.rates = {f"{ns}/{name}": sample for (ns, name), sample in rates.items()}
                if time.monotonic() - last_history > 10:
                    last_history = time.monotonic()
                    # the deployments Prometheus knows: the watch may not have listed any yet
                    for key in sorted(set(self.deployments) | set(self.rates)):
                        ns, _, name = key.partition("/")
                        self.histories[key] = metrics.history(
                            ns, name, minutes=self.settings.history_minutes)
                self.screen.post_message(RatesFetched())
            except AdapterError as error:
                self.rates = {}
                self.screen.post_message(RatesFetched())
                self.screen.post_message(Notice(error.message, "metrics unavailable",
                                                "warning", 5))
            if self.settings.frozen:
                return  # a frozen clock: one fetch is the picture
            stop.wait(self.settings.metrics_interval)

    def refresh_rates(self) -> None:
        rows, verdicts = [], {}
        for key in sorted(set(self.deployments) | set(self.rollouts)):
            sample = self.rates.get(key)
            rows.append(vm.rate_row(key, sample, self.histories.get(key)))
            verdicts[key] = vm.advise_row(sample, self.pods.counts(key),
                                          self.deployments.get(key))
        self.screen.query_one(RatesPanel).update_rates(rows, verdicts)
