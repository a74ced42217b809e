"""`data-loss`: the handbook's Recovery Procedures, "Recovering from Data Loss"."""

from __future__ import annotations

import contextlib
import time
from datetime import datetime
from typing import Any

from ..clock import DrillClock
from ..profiles import Endpoint, TrafficProfile
from ..store import Store
from ..workloads import deployment_pods, image_tag, is_ready
from .base import ActionReport, Scenario, ScenarioActionError, ScenarioStatus, inspect_rollout
from .orders_db import TABLE, OrdersLedger
from .registry import register
from .rehearsal import COMMUNICATE, Rehearsal, Rule

ROWS_PER_POD = 2.0  # rows each ready worker pod writes per drill second
INVOICE_ERROR_RATIO = 0.4  # invoices of orders with a NULL total fail downstream


@register
class DataLoss(Scenario):
    """Recovery Procedures, "Recovering from Data Loss" (handbook), with a bad writer.

    `shop/worker` 0.11.0 ("batch stock updates v2") writes `orders` rows with a NULL total:
    every row its pods write is corrupt, so `rows_corrupt` grows (2 rows per drill second per
    ready 0.11.0 pod) for as long as the bad writer has ready pods; the invoice task fails on
    those rows. Scheduled backups exist from 27 h and 3 h before the deploy; the later one is
    the last good backup. The handbook: before taking action STOP WRITES (scale
    deployment/worker to 0, or roll it back), ASSESS DAMAGE, FIND LAST GOOD BACKUP; then
    1. back up the current (corrupted) state (drill action `backup-current`), 2. restore from
    the last good backup (`restore`), 3.-4. identify and restore the data missing since the
    backup (`reconcile`), 5. communicate. A restore without a backup of the current state is
    unsafe: the corrupted-state evidence, and with it the rows written since the backup, is
    lost for good.
    """

    name = "data-loss"
    title = "Bad writer corrupts the orders table"
    brief = "worker 0.11.0 writes orders with a NULL total: the orders table is being corrupted."
    difficulty = "hard"
    order = 50
    rehearsal = Rehearsal(
        offline_step="stop-writes",  # STOP WRITES: scale the writer to 0, or roll it back
        rules=(
            Rule("before", "STOP WRITES before the backup of the current state",
                 "backup-current", "stop-writes"),
            Rule("before", "STOP WRITES before the restore", "restore", "stop-writes",
                 unsafe="restore-while-writing"),
            Rule("before", "backup of the current state BEFORE the restore", "restore",
                 "backup-current", unsafe="restore-without-backup"),
            Rule("required", "missing data identified and reconciled after the restore",
                 "reconcile"),
            COMMUNICATE,
        ),
        step_aliases=(("stop-writes", "stop-writes"), ("backup-current", "backup-current"),
                      ("restore", "restore"), ("identify-missing-data", "reconcile")),
        check_paths=("/tasks/email",),
    )
    runbook = "data-loss"
    handbook = "Recovery Procedures: Recovering from Data Loss"
    default_speed = 1.0
    target = ("shop", "worker")
    actions = ("stop-writes", "backup-current", "restore", "reconcile")
    bad_image = "registry.local/shop/worker:0.11.0"
    good_image = "registry.local/shop/worker:0.10.0"
    change_cause = "deploy worker 0.11.0: batch stock updates v2"
    resolution = (
        "stop writes (kubectl scale deployment/worker --replicas=0, or rollout undo), "
        "backup-current (pg_dump the corrupted state), restore the last good backup, "
        "reconcile the rows written since it"
    )
    bad_log_lines = (
        "WARN batch v2: wrote 50 orders rows, total_cents=NULL (stock_delta applied twice)",
        "ERROR /tasks/invoice: order 981244 has no total: cannot invoice",
    )

    def __init__(self) -> None:
        super().__init__()
        self.db: OrdersLedger | None = None
        self.database: Any = None  # the ShopDatabase (its DSN and password file: the console's)
        self.writes_stopped = False
        self._last: float | None = None  # drill seconds of the last sync

    # ---- the incident --------------------------------------------------------------------
    def prepare(self, incident_at: datetime) -> None:
        """A running drill: its real PostgreSQL, the shop database and the nightly dumps
        (made while the cluster warms up)."""
        def start() -> None:
            self.db = OrdersLedger().start(incident_at)
            self.database = self.db.shop

        self.in_background(start)

    def attach(self, cluster: Any) -> None:
        self.prepared()
        if self.db is None:  # not prepared (a hand-built store in a test)
            self.db = OrdersLedger().start(cluster.clock.now())
            self.database = self.db.shop

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.prepared()
        if self.db is not None:
            self.db.close()

    def after_setup(self, store: Store, clock: DrillClock, deployment: dict[str, Any]) -> None:
        self._last = clock.elapsed()

    def runbook_values(self) -> dict[str, str]:
        if self.db is None:
            return {}
        return {"database": self.db.shop.name, "writer": "worker",
                "writer_replicas": str(self.initial_replicas or 2),
                "last_good_backup": self.db.last_good().path, "table": TABLE,
                "keep_rows": "total_cents IS NOT NULL",
                "corrupted_state_file": str(self.db.pg.backup_dir / "corrupted_state.dump")}

    def bad_traffic(
        self, deployment: dict[str, Any], pod: dict[str, Any], healthy: TrafficProfile
    ) -> TrafficProfile:
        return TrafficProfile(tuple(
            Endpoint(ep.path, ep.share, INVOICE_ERROR_RATIO, ep.latency_factor)
            if ep.path == "/tasks/invoice" else ep
            for ep in healthy.endpoints
        ))

    def tick(self, store: Store, clock: DrillClock) -> None:
        self._sync(store)

    def _writers(self, store: Store) -> tuple[int, int]:
        """Ready (good, bad) writer pods."""
        assert self.target is not None
        deployment = store.try_get("deployments", *self.target)
        if deployment is None:
            return 0, 0
        ready = [pod for pod in deployment_pods(store, deployment) if is_ready(pod)]
        bad = sum(1 for pod in ready if self.is_bad(pod))
        return len(ready) - bad, bad

    def _sync(self, store: Store, force: bool = False) -> None:
        """Queue the writes since the last sync (the worker's ready pods write for real),
        read the table, and notice writes stopping/resuming."""
        if self.db is None or self.clock is None or self.target is None:
            return
        now = self.clock.elapsed()
        dt = max(0.0, now - (self._last if self._last is not None else now))
        self._last = now
        good, bad = self._writers(store)
        if good or bad:
            self.db.shop.add_writes(good * ROWS_PER_POD * dt, bad * ROWS_PER_POD * dt)
        if force:
            self.db.shop.flush()
        self.db.observe(force=force, now=time.monotonic())
        if self.db.restored_from and "restore" not in self.step_names():
            self.note_step("restore")  # restored outside the drill actions (db-restore, shell)
        if self.db.reconciled and self.db.good_after and "reconcile" not in self.step_names():
            self.note_step("reconcile")
        view = inspect_rollout(store, *self.target, self.bad_image)
        stopped = not bad and (not view.exists or view.desired == 0 or not view.template_bad)
        if stopped and not self.writes_stopped:
            self.note_step("stop-writes")
        elif not stopped and self.writes_stopped:
            self.note_unsafe("bad-writer-resumed",
                             f"worker {image_tag(self.bad_image)} writes again after writes "
                             "were stopped: corruption continues")
        self.writes_stopped = stopped

    def _database(self) -> OrdersLedger:
        if self.db is None:
            raise ScenarioActionError(409, "the data-loss incident has not started")
        return self.db

    # ---- drill actions -------------------------------------------------------------------
    def do_action(self, action: str, store: Store) -> ActionReport:
        self._sync(store, force=True)
        db = self._database()
        handler = {
            "stop-writes": self._stop_writes,
            "backup-current": self._backup_current,
            "restore": self._restore,
            "reconcile": self._reconcile,
        }[action]
        return handler(store, db)

    def _stop_writes(self, store: Store, db: OrdersLedger) -> ActionReport:
        """Writes are stopped by the cluster (scale to 0 or undo); this checks and reports."""
        if not self.writes_stopped:
            _good, bad = self._writers(store)
            raise ScenarioActionError(
                409, f"writes are not stopped: {bad} ready pod(s) of shop/worker run "
                f"{image_tag(self.bad_image)} or its template still does; "
                "kubectl scale deployment/worker --replicas=0 (or rollout undo) first")
        self.note_step("stop-writes")
        return ActionReport("stop-writes", f"writes stopped: no {image_tag(self.bad_image)} "
                            f"writer is running; {db.corrupt} corrupt rows of {db.total} in "
                            f"{TABLE}")

    def _backup_current(self, store: Store, db: OrdersLedger) -> ActionReport:
        assert self.clock is not None
        backup = db.backup_current(self.clock.now())
        self.note_step("backup-current")
        note = "" if self.writes_stopped else " (writes are still running: it is already stale)"
        return ActionReport("backup-current", f"pg_dump -Fc of the current state written to "
                            f"{backup.path}: {backup.rows} rows, {backup.corrupt} corrupt{note}")

    def _restore(self, store: Store, db: OrdersLedger) -> ActionReport:
        if db.restored_from and db.corrupt == 0:
            raise ScenarioActionError(409, f"already restored from {db.restored_from}; "
                                      "nothing was corrupted since")
        backup = db.last_good()
        unsafe: list[str] = []
        missing = db.good_after
        if db.evidence is None:
            unsafe.append(f"restored {backup.name} without a backup of the current (corrupted) "
                          f"state: the evidence and the {missing} rows written since the backup "
                          "are gone for good")
            self.note_unsafe("restore-without-backup", unsafe[-1])
        if not self.writes_stopped:
            unsafe.append(f"restored while worker {image_tag(self.bad_image)} still writes: "
                          "corruption continues")
            self.note_unsafe("restore-while-writing", unsafe[-1])
        db.restore(backup)
        db.restored_from = backup.name
        self.note_step("restore")
        return ActionReport("restore", f"pg_restore of {backup.path} (taken {backup.taken}): "
                            f"{backup.rows} rows, 0 corrupt; {db.rows_missing} rows written "
                            "since it are missing", "; ".join(unsafe))

    def _reconcile(self, store: Store, db: OrdersLedger) -> ActionReport:
        if db.restored_from is None:
            raise ScenarioActionError(409, "nothing to reconcile: restore the last good "
                                      "backup first")
        if db.reconciled:
            return ActionReport("reconcile", "already reconciled: nothing is missing")
        missing = db.rows_missing
        recovered = db.reconcile()
        self.note_step("reconcile")
        if db.evidence is not None:
            return ActionReport("reconcile", f"recovered {recovered} rows written since "
                                f"{db.restored_from} from {db.evidence}")
        return ActionReport("reconcile", f"{missing} rows written since {db.restored_from} "
                            "cannot be recovered: there is no backup of the corrupted state")

    # ---- is it over? ---------------------------------------------------------------------
    def details(self, store: Store) -> dict[str, Any]:
        self._sync(store)
        if self.db is None:
            return {}
        db = self.db
        last_good = db.last_good()
        return {
            "table": TABLE,
            "rows_total": db.total,
            "rows_corrupt": db.corrupt,
            "rows_since_last_good_backup": db.good_after if not db.restored_from
            else db.missing_at_restore,
            "rows_missing": db.rows_missing,
            "rows_at_risk": db.missing_at_restore if db.restored_from else db.good_after,
            "rows_recovered": db.rows_recovered,
            "rows_lost": db.rows_lost,
            "writes_stopped": self.writes_stopped,
            "backups": [b.to_dict() for b in db.backups],
            "last_good_backup": last_good.name,
            "current_state_backup": db.evidence,
            "restored_from": db.restored_from,
            "reconciled": db.reconciled,
        }

    def status(self, store: Store, traffic_now: Any = None) -> ScenarioStatus:
        self._sync(store)
        db = self.db
        assert self.target is not None
        bad_tag = image_tag(self.bad_image)
        steps, unsafe = self.step_names(), self.unsafe_names()

        def pending(reason: str, mitigated: bool) -> ScenarioStatus:
            return ScenarioStatus(False, reason, self.resolution, mitigated, (), steps, unsafe)

        if db is None:
            return pending("the data-loss incident has not started", False)
        if not self.writes_stopped:
            return pending(f"worker {bad_tag} is writing corrupt rows: {db.corrupt} of "
                           f"{db.total} {TABLE} rows corrupt", False)
        if db.restored_from is None:
            return pending(f"writes stopped; {db.corrupt} corrupt {TABLE} rows remain: back up "
                           f"the current state, then restore {db.last_good().name}", True)
        if db.corrupt:
            return pending(f"restored {db.restored_from}, but {db.corrupt} rows were corrupted "
                           "since", True)
        if not db.reconciled:
            return pending(f"restored {db.restored_from}; {db.rows_missing} rows written since "
                           "the backup are missing: reconcile them", True)
        view = inspect_rollout(store, *self.target, self.bad_image)
        followups: list[str] = []
        if view.exists and view.template_bad:
            followups.append(f"roll back worker {bad_tag} (kubectl rollout undo "
                             "deployment/worker) before writes resume")
        if view.exists and view.desired == 0:
            followups.append(f"resume writes: scale deployment/worker back to "
                             f"{self.initial_replicas} replicas once the data is checked")
        if db.rows_lost:
            followups.append(f"{db.rows_lost} rows are lost: tell the users affected and "
                             "provide options for re-entry")
        if db.rows_lost:
            reason = (f"{TABLE} restored from {db.restored_from} with data loss: "
                      f"{db.rows_lost} rows written since the backup are lost")
        else:
            reason = (f"{TABLE} restored from {db.restored_from} and reconciled: 0 corrupt "
                      f"rows, {db.rows_recovered} rows recovered")
        return ScenarioStatus(True, reason, self.resolution, True, tuple(followups), steps,
                              unsafe)
