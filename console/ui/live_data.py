"""Live data on the main screen: watch deltas into the tables, rates into the rates panel.

The informer's flush thread hands batches of deltas to `LiveData.arrived`, which queues them
and posts one `DeltasArrived` wake-up (coalesced); the screen then calls `drain`, at most every
``DRAIN_EVERY`` seconds, which applies the whole queue to the pod index and the tables on the
UI thread. Only rows of the selected deployment are built; ages are recomputed for the rows on
screen only, once per clock tick. The metrics poller runs in a worker and posts `RatesFetched`.

A `LiveData` holds one context's data (its `ClusterLink`). On several contexts
(console/ui/workloads.py) each has one: its rows in the deployment list carry the key prefix
of its group, and only the focused one (``shown``) fills the pod table and the rates panel.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from adapters.argo_views import AnalysisRunView, RolloutView
from adapters.errors import AdapterError
from adapters.informer_deltas import Delta
from adapters.kube_views import DeploymentView, PodView
from adapters.metrics import History, RateSample
from console.domain.pod_index import PodIndex, deployment_key
from console.domain.poll_pace import QUIET_HISTORY_EVERY, SLOWER, PollPace
from console.ui import view_model as vm
from console.ui.messages import DeltasArrived, Notice, RatesFetched
from console.ui.rollout_rows import rollout_detail, rollout_row
from widgets.deployment_list import DeploymentList
from widgets.pod_table import PodTable
from widgets.rates_panel import RatesPanel
from widgets.rollout_panel import RolloutPanel
from widgets.rows import DeploymentRow, PodRow

if TYPE_CHECKING:
    from console.ui.cluster_link import ClusterLink
    from console.ui.main_screen import MainScreen

GROUP_SEPARATOR = "\x1f"  # between a group's number and a deployment's key (never shown)

DRAIN_EVERY = 0.03  # apply watch deltas as they arrive, at most ~30 times a second
# while the first list is still coming in and a screenful is already shown: each drain lays
# the screen out again (the table's height changed), ~50 ms of the UI thread at 10,000 pods
# that the informer's threads then wait for; the rest is drawn at once when the list is whole
LOADING_DRAIN_EVERY = 0.25
LOADING_SHOWN = 200  # pods: fewer than this, and every page is drawn as it comes


class LiveData:
    """The deployments, pods and rates the screen shows, and how they get there."""

    def __init__(self, screen: MainScreen, link: ClusterLink | None = None, *,
                 group: int | None = None) -> None:
        self.screen = screen
        self.settings = screen.settings
        self.link: ClusterLink = link if link is not None else screen.session.focused
        self.group = group  # its place in a deployment list grouped by context (None: one)
        self.prefix = "" if group is None else f"{group}{GROUP_SEPARATOR}"
        self.shown = True  # its pods and rates are on screen (the focused context)
        self.deployments: dict[str, DeploymentView] = {}
        self.pods = PodIndex()  # by key and by deployment, with the advisor's counts
        self.rollouts: dict[str, RolloutView] = {}  # Argo Rollouts, when the cluster has them
        self.analysis_runs: dict[str, AnalysisRunView] = {}
        self._rollout_keys = False  # the footer offers the Rollout keys
        self.rates: dict[str, RateSample] = {}
        self.metrics_answered = False  # "no data" only once Prometheus has answered
        self.histories: dict[str, History] = {}
        # slower while nothing moves; not in a drill (its clock runs at up to 600x, and its
        # scenarios write their data as they are looked at)
        self.pace = PollPace(self.settings.metrics_interval,
                             slower=1 if self.settings.drill is not None else SLOWER)
        self._hurried = threading.Event()  # an action finished: poll now
        self.selected: str | None = None  # namespace/deployment whose pods are shown
        self.on_first_picture: Callable[[], None] | None = None  # after the next drain
        self._deltas: deque[Delta] = deque()
        self._drain_asked = False  # a DeltasArrived message is on its way to the UI thread
        self._drain_booked = False
        self._last_drain = 0.0
        self._ages_at: datetime | None = None  # the clock reading the ages on screen are for
        self.generation = 0  # bumped when another namespace is watched: older deltas are void
        # the deployment's revision when its history was read: a climb read before a rollout
        # says nothing about the new revision
        self._history_revision: dict[str, int | None] = {}
        # revision and desired replicas when that revision's pods began to restart
        self._replicas_at_restarts: dict[str, tuple[int | None, int]] = {}

    def reset(self) -> Callable[[list[Delta]], None]:
        """Forget everything shown (another namespace is about to be watched); returns the
        callback for the new watch's deltas (the old watch's late batches are dropped)."""
        self.generation += 1
        self._deltas.clear()
        table = self.screen.query_one(DeploymentList)
        table.apply_deltas([], [self.prefix + key for key in self.deployments])
        table.apply_deltas([], [self.prefix + key for key in self.rollouts])
        self.deployments.clear()
        self.rollouts.clear()
        self.analysis_runs.clear()
        self.pods = PodIndex()
        self.rates, self.histories = {}, {}
        self._history_revision.clear()
        self._replicas_at_restarts.clear()
        self.selected = None
        if self.shown:
            self.screen.query_one(PodTable).sync([])
        generation = self.generation

        def arrived(batch: list[Delta]) -> None:
            if generation == self.generation:
                self.arrived(batch)

        return arrived

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
        connection = self.link.connection
        loading = (connection is not None and not connection.synced
                   and len(self.pods) >= LOADING_SHOWN)
        every = LOADING_DRAIN_EVERY if loading else DRAIN_EVERY
        wait = self._last_drain + every - time.monotonic()
        if wait <= 0:
            self.drain()
        else:
            self._drain_booked = True
            self.screen.set_timer(wait, self.drain)

    def synced(self) -> None:
        """The first list is whole: a drain put off while it loaded (LOADING_DRAIN_EVERY)
        runs now."""
        if self._drain_booked and self._deltas:
            self.drain()

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
        now = self.now() or datetime.now(UTC)
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
                    self.pods.upsert(delta.view, now)  # type: ignore[arg-type]
                    pod_upserts[delta.key] = delta.view  # type: ignore[assignment]
                    pod_deletes.discard(delta.key)
        filters = self.screen.filters
        if deploy_changed:
            table = self.screen.query_one(DeploymentList)
            shown = {k for k in deploy_changed
                     if k in self.deployments and filters.shows_deployment(self.deployments[k])}
            table.apply_deltas([self._row(self.deployments[k]) for k in shown],
                               [self.prefix + k for k in deploy_changed if k not in shown])
            if self.selected is None and self.deployments:
                self.select(self.own_key(table.cursor_key) or sorted(self.deployments)[0])
                if self.prefix and self.shown:
                    table.move_to(self.prefix + (self.selected or ""))
        if argo_changed or runs_changed:
            self._apply_rollouts(argo_changed)
        if (pod_upserts or pod_deletes) and self.shown:
            now = self.now()
            rows: list[PodRow] = []
            gone = list(pod_deletes)  # deleted, or not of the selected deployment
            for pod in pod_upserts.values():
                if filters.shows_pod(pod, self.selected, deployment_key(pod)):
                    rows.append(vm.pod_row(pod, now))
                else:
                    gone.append(pod.key)
            self.screen.query_one(PodTable).apply_deltas(rows, gone)
        if deploy_changed or pod_upserts or pod_deletes:
            self.refresh_rates()
        if self.on_first_picture is not None and not self._deltas:
            done, self.on_first_picture = self.on_first_picture, None
            done()

    def _row(self, view: DeploymentView) -> DeploymentRow:
        row = vm.deployment_row(view)
        if self.group is None:
            return row
        return replace(row, key=self.prefix + row.key, group=self.group)

    def own_key(self, table_key: str | None) -> str | None:
        """The deployment key of a deployment-list row of this context's (None: not one)."""
        if not table_key or not table_key.startswith(self.prefix):
            return None
        key = table_key[len(self.prefix):]
        return key if key in self.deployments or key in self.rollouts else None

    # ---- clocks and selection --------------------------------------------------------------
    def now(self) -> datetime | None:
        clock = self.settings.cluster_clock
        if clock is not None:
            return clock()
        if self.settings.frozen:
            return None
        kube = self.link.kube  # the API server's clock, from its Date headers
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
        if self.shown:
            self.show()

    def show(self) -> None:
        """Fill the pod table with the selected deployment's pods (ages as of now)."""
        key = self.selected
        if self.screen.filters.pods.active:  # a pod filter shows every workload's matches
            self.screen.filters.apply_pods()
        else:
            now = self.now()
            self.screen.query_one(PodTable).sync(
                [vm.pod_row(p, now) for p in self.pods.of_deployment(key)] if key else [])
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
        rows = [rollout_row(self.rollouts[k]) for k in changed if k in self.rollouts]
        if self.group is not None:
            rows = [replace(row, key=self.prefix + row.key, group=self.group) for row in rows]
        table.apply_deltas(rows, [self.prefix + k for k in changed if k not in self.rollouts
                                  and k not in self.deployments])
        if self.selected is None and self.rollouts:
            self.select(self.own_key(table.cursor_key) or sorted(self.rollouts)[0])
        if self.shown:
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
        link = self.link
        metrics = link.metrics
        assert metrics is not None
        stop = self.screen.stopping
        last_history = 0.0
        while not stop.is_set():
            try:
                rates = metrics.deployment_rates(link.namespace)
                self.rates = {f"{ns}/{name}": sample for (ns, name), sample in rates.items()}
                self.metrics_answered = True
                wait = self.pace.answered(tuple(
                    (key, sample.request_rate, sample.error_ratio, sample.p95_s,
                     sample.p99_s, sample.baseline_p99_s, sample.memory_bytes)
                    for key, sample in sorted(self.rates.items())))
                # the history has a point every 1/60 of its span (15 s of 15 minutes):
                # asking more often than that draws the same line again; while nothing
                # moves, only old points leave it: once a minute
                every = max(10.0, self.settings.history_minutes)
                if self.pace.quiet:
                    every = max(every, QUIET_HISTORY_EVERY)
                if time.monotonic() - last_history > every:
                    last_history = time.monotonic()
                    # the deployments Prometheus knows: the watch may not have listed any yet
                    for key in sorted(set(self.deployments) | set(self.rates)):
                        ns, _, name = key.partition("/")
                        seen = self.deployments.get(key)
                        self.histories[key] = metrics.history(
                            ns, name, minutes=self.settings.history_minutes)
                        self._history_revision[key] = seen.revision if seen else None
                self.screen.post_message(RatesFetched())
            except AdapterError as error:
                wait = self.pace.failed()
                self.rates = {}
                self.metrics_answered = False
                self.screen.post_message(RatesFetched())
                self.screen.post_message(Notice(error.message, "metrics unavailable",
                                                "warning", 5))
            if self.settings.frozen:
                return  # a frozen clock: one fetch is the picture
            self._hurried.clear()
            waited = time.monotonic()
            while time.monotonic() - waited < wait and not stop.is_set():
                if self._hurried.wait(min(1.0, wait - (time.monotonic() - waited))):
                    break  # an action: ask now

    def hurry_metrics(self) -> None:
        """An action finished: poll the metrics now and closely (console/domain/poll_pace)."""
        self.pace.hurry()
        self._hurried.set()

    def looked_for(self, key: str, sample: RateSample | None) -> str | None:
        """The request series the metrics had none of for deployment ``key`` (None when they
        had some, or have not answered yet)."""
        metrics = self.screen.session.metrics
        if metrics is None or not self.metrics_answered:
            return None
        if sample is not None and sample.request_rate is not None:
            return None
        namespace, _, name = key.partition("/")
        return metrics.looked_for(namespace, name)

    def refresh_rates(self) -> None:
        if not self.shown:
            return  # another context's rates are on screen
        rows, verdicts = [], {}
        now = self.now() or datetime.now(UTC)
        for key in sorted(set(self.deployments) | set(self.rollouts)):
            sample = self.rates.get(key)
            deployment = self.deployments.get(key)
            no_data = self.looked_for(key, sample)
            row = vm.rate_row(key, sample, self.histories.get(key), self.pods.memory_limit(key),
                              no_data)
            restarts = self.pods.restarts_within(key, now)
            row = replace(row, restarts_last_hour=restarts.total)
            rows.append(row)
            if deployment is None:  # an Argo Rollout: its analysis speaks in its panel
                verdicts[key] = vm.advise_row(sample, self.pods.counts(key), None, restarts,
                                              None, None, no_data)
                continue
            current = self._history_revision.get(key) == deployment.revision
            note = vm.memory_note(row, deployment) if current else None
            verdicts[key] = vm.advise_row(sample, self.pods.counts(key), deployment, restarts,
                                          self._scaled_from(deployment, restarts.total), note,
                                          no_data)
        self.screen.query_one(RatesPanel).update_rates(rows, verdicts)
        self.screen.incident.verdicts({key: (v.level, v.rule) for key, v in verdicts.items()},
                                      {key: s.error_ratio for key, s in self.rates.items()})

    def _scaled_from(self, deployment: DeploymentView, restarts: int) -> int | None:
        """The replicas the deployment had when its current revision's pods began to
        restart, if it has more now (a new revision starts over)."""
        key, desired = deployment.key, deployment.desired
        seen = self._replicas_at_restarts.get(key)
        if seen is None or seen[0] != deployment.revision:
            if not restarts:
                return None
            seen = self._replicas_at_restarts[key] = (deployment.revision, desired)
        if not restarts:
            return None
        return seen[1] if desired > seen[1] else None
