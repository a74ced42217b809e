"""`data-loss`: the handbook's Recovery Procedures, "Recovering from Data Loss"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..clock import DrillClock, rfc3339
from ..profiles import Endpoint, TrafficProfile
from ..store import Store
from ..workloads import deployment_pods, image_tag, is_ready
from .base import ActionReport, Scenario, ScenarioActionError, ScenarioStatus, inspect_rollout
from .registry import register
from .rehearsal import COMMUNICATE, Rehearsal, Rule

TABLE = "orders"
ROWS_PER_POD = 2.0  # rows each ready worker pod writes per drill second
INITIAL_ROWS = 1_482_113
BACKUP_AGES = (27 * 3600.0, 3 * 3600.0)  # scheduled pg_dumps, seconds before the bad deploy
INVOICE_ERROR_RATIO = 0.4  # invoices of orders with a NULL total fail downstream


@dataclass
class Backup:
    """One dump of the simulated `orders` table."""

    name: str
    taken: str  # RFC3339 drill time
    rows: int
    corrupt: int
    kind: str  # "scheduled" (pg_dump every night) | "current-state" (taken by the operator)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "taken": self.taken, "rows": self.rows,
                "corruptRows": self.corrupt, "kind": self.kind, "good": self.corrupt == 0}


@dataclass
class Database:
    """The simulated database the worker writes to (only what the drill needs of it)."""

    rows_total: float
    rows_corrupt: float
    backups: list[Backup] = field(default_factory=list)
    evidence: str | None = None  # the newest backup of the current (corrupted) state
    restored_from: str | None = None
    recoverable: bool = False  # the restore came after a current-state backup
    rows_missing: int = 0  # written since the restored backup, not in the table now
    rows_recovered: int = 0
    rows_lost: int = 0
    reconciled: bool = False

    @property
    def total(self) -> int:
        return int(self.rows_total)

    @property
    def corrupt(self) -> int:
        return int(self.rows_corrupt)

    def last_good(self) -> Backup:
        return [b for b in self.backups if b.kind == "scheduled" and b.corrupt == 0][-1]


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
        self.db: Database | None = None
        self.writes_stopped = False
        self._last: float | None = None  # drill seconds of the last sync

    # ---- the incident --------------------------------------------------------------------
    def after_setup(self, store: Store, clock: DrillClock, deployment: dict[str, Any]) -> None:
        now = clock.now()
        rate = (self.initial_replicas or 1) * ROWS_PER_POD
        backups = []
        for age in BACKUP_AGES:
            taken = now - timedelta(seconds=age)
            backups.append(Backup(f"{TABLE}_{taken:%Y_%m_%d_%H%M}.dump", rfc3339(taken),
                                  INITIAL_ROWS - int(rate * age), 0, "scheduled"))
        self.db = Database(float(INITIAL_ROWS), 0.0, backups)
        self._last = clock.elapsed()

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

    def _sync(self, store: Store) -> None:
        """Integrate the writes since the last sync and notice writes stopping/resuming."""
        if self.db is None or self.clock is None or self.target is None:
            return
        now = self.clock.elapsed()
        dt = max(0.0, now - (self._last if self._last is not None else now))
        self._last = now
        good, bad = self._writers(store)
        self.db.rows_total += (good + bad) * ROWS_PER_POD * dt
        self.db.rows_corrupt += bad * ROWS_PER_POD * dt
        view = inspect_rollout(store, *self.target, self.bad_image)
        stopped = not bad and (not view.exists or view.desired == 0 or not view.template_bad)
        if stopped and not self.writes_stopped:
            self.note_step("stop-writes")
        elif not stopped and self.writes_stopped:
            self.note_unsafe("bad-writer-resumed",
                             f"worker {image_tag(self.bad_image)} writes again after writes "
                             "were stopped: corruption continues")
        self.writes_stopped = stopped

    def _database(self) -> Database:
        if self.db is None:
            raise ScenarioActionError(409, "the data-loss incident has not started")
        return self.db

    # ---- drill actions -------------------------------------------------------------------
    def do_action(self, action: str, store: Store) -> ActionReport:
        self._sync(store)
        db = self._database()
        handler = {
            "stop-writes": self._stop_writes,
            "backup-current": self._backup_current,
            "restore": self._restore,
            "reconcile": self._reconcile,
        }[action]
        return handler(store, db)

    def _stop_writes(self, store: Store, db: Database) -> ActionReport:
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

    def _backup_current(self, store: Store, db: Database) -> ActionReport:
        assert self.clock is not None
        now = self.clock.now()
        backup = Backup(f"corrupted_state_{now:%Y_%m_%d_%H%M%S}.sql", rfc3339(now), db.total,
                        db.corrupt, "current-state")
        db.backups.append(backup)
        db.evidence = backup.name
        self.note_step("backup-current")
        note = "" if self.writes_stopped else " (writes are still running: it is already stale)"
        return ActionReport("backup-current", f"pg_dump of the current state written to "
                            f"{backup.name}: {backup.rows} rows, {backup.corrupt} corrupt{note}")

    def _restore(self, store: Store, db: Database) -> ActionReport:
        if db.restored_from and db.corrupt == 0:
            raise ScenarioActionError(409, f"already restored from {db.restored_from}; "
                                      "nothing was corrupted since")
        backup = db.last_good()
        unsafe: list[str] = []
        missing = max(0, db.total - db.corrupt - backup.rows)
        if db.evidence is None:
            unsafe.append(f"restored {backup.name} without a backup of the current (corrupted) "
                          f"state: the evidence and the {missing} rows written since the backup "
                          "are gone for good")
            self.note_unsafe("restore-without-backup", unsafe[-1])
        if not self.writes_stopped:
            unsafe.append(f"restored while worker {image_tag(self.bad_image)} still writes: "
                          "corruption continues")
            self.note_unsafe("restore-while-writing", unsafe[-1])
        db.rows_total = float(backup.rows)
        db.rows_corrupt = 0.0
        db.restored_from = backup.name
        db.recoverable = db.evidence is not None
        db.rows_missing = missing
        db.reconciled = False
        self.note_step("restore")
        return ActionReport("restore", f"pg_restore of {backup.name} (taken {backup.taken}): "
                            f"{backup.rows} rows, 0 corrupt; {missing} rows written since it "
                            "are missing", "; ".join(unsafe))

    def _reconcile(self, store: Store, db: Database) -> ActionReport:
        if db.restored_from is None:
            raise ScenarioActionError(409, "nothing to reconcile: restore the last good "
                                      "backup first")
        if db.reconciled:
            return ActionReport("reconcile", "already reconciled: nothing is missing")
        missing = db.rows_missing
        db.rows_missing = 0
        db.reconciled = True
        self.note_step("reconcile")
        if db.recoverable:
            db.rows_total += missing
            db.rows_recovered += missing
            return ActionReport("reconcile", f"recovered {missing} rows written since "
                                f"{db.restored_from} from {db.evidence} and the application logs")
        db.rows_lost += missing
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
            "rows_since_last_good_backup": max(0, db.total - last_good.rows),
            "rows_missing": db.rows_missing,
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
