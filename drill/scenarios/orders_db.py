"""The data-loss scenario's `orders` table on the drill's real PostgreSQL.

`OrdersLedger.start()` creates the shop database (api 1.6.0's schema, tens of thousands of
rows) and takes the nightly `pg_dump -Fc` backups the scenario offers: one "27 h" before the
incident, more rows, one "3 h" before (the last good backup), more rows. Everything the
scenario reports is read from the database (`observe`, at most once a second from the tick and
before every drill action): total and corrupt rows, and whether `orders` was restored (its
table OID changes when `pg_restore --clean` recreates it, whoever ran it: a drill action, the
console's `db-restore` step or a shell step). Rows written after the last good backup are the
good rows with an id above its largest; those present before a restore and back after it are
"recovered", the others "lost".
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from ..clock import rfc3339
from ..postgres import DrillPostgres
from ..shop_db import ShopDatabase

TABLE = "orders"
RELEASE = "1.6.0"  # the schema the shop runs (api 1.6.0)
SCHEDULED = ((27 * 3600.0, 0), (3 * 3600.0, 3_000))  # (age, rows written before the dump)
ROWS_SINCE_LAST_GOOD = 1_500  # good rows written between the last good backup and the incident
OBSERVE_EVERY_S = 1.0


@dataclass
class Backup:
    name: str
    path: str
    taken: str
    rows: int
    corrupt: int
    max_id: int
    kind: str  # scheduled | current-state

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "taken": self.taken, "rows": self.rows,
                "corruptRows": self.corrupt, "kind": self.kind, "good": self.corrupt == 0,
                "path": self.path}


class OrdersLedger:
    """The shop database of a data-loss drill and what happened to its `orders`."""

    def __init__(self) -> None:
        self.pg = DrillPostgres()
        self.shop = ShopDatabase(self.pg)
        self.backups: list[Backup] = []
        self.total = 0
        self.corrupt = 0
        self.good_after = 0  # good rows above the last good backup's largest id
        self.evidence: str | None = None  # current-state backup taken by the drill action
        self.restored_from: str | None = None
        self.missing_at_restore = 0
        self.reconciled = False
        self.rows_lost = 0
        self._oid: int | None = None
        self._good_before = 0
        self._latest: Any = None  # newest created_at seen before the restore
        self._bound: Any = None  # after a restore: rows up to then count as recovered
        self._observed = 0.0
        self._lock = threading.RLock()

    # ---- set-up -------------------------------------------------------------------------
    def start(self, now: datetime) -> OrdersLedger:
        self.pg.start()
        self.shop.create(RELEASE)
        for age, rows in SCHEDULED:
            with self.shop.connect() as conn:
                ShopDatabase.add_orders(conn, rows, good=True)
            taken = now - timedelta(seconds=age)
            self._dump(f"{TABLE}_{taken:%Y_%m_%d_%H%M}.dump", rfc3339(taken), "scheduled")
        with self.shop.connect() as conn:
            ShopDatabase.add_orders(conn, ROWS_SINCE_LAST_GOOD, good=True)
        self.observe(force=True)
        return self

    def close(self) -> None:
        self.shop.close()
        self.pg.stop()

    def _dump(self, name: str, taken: str, kind: str) -> Backup:
        self.shop.flush()
        with self.shop.connect() as conn:
            rows, corrupt, max_id = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE total_cents IS NULL), "
                "coalesce(max(id), 0) FROM orders").fetchone() or (0, 0, 0)
        path = self.shop.dump(name)
        backup = Backup(name, str(path), taken, int(rows), int(corrupt), int(max_id), kind)
        self.backups.append(backup)
        return backup

    def last_good(self) -> Backup:
        return [b for b in self.backups if b.kind == "scheduled" and b.corrupt == 0][-1]

    # ---- reading the database -----------------------------------------------------------
    def observe(self, force: bool = False, now: float = 0.0) -> None:
        """Read the table (throttled unless `force`); notices a restore by the table's OID."""
        with self._lock:
            if not force and now - self._observed < OBSERVE_EVERY_S:
                return
            self._observed = now
            try:
                with self.shop.connect() as conn:
                    conn.execute("SET lock_timeout = '200ms'")  # a restore holds the table
                    oid = conn.execute("SELECT 'orders'::regclass::oid::bigint").fetchone()
                    # rows written after the last good backup and before a restore: the
                    # ids restart after one, the creation times do not
                    row = conn.execute(
                        "SELECT count(*), count(*) FILTER (WHERE total_cents IS NULL), "
                        "count(*) FILTER (WHERE total_cents IS NOT NULL AND id > %s "
                        "AND (%s::timestamptz IS NULL OR created_at <= %s::timestamptz)), "
                        "max(created_at) FROM orders",
                        (self.last_good().max_id, self._bound, self._bound)).fetchone()
            except psycopg.Error:
                return
            if oid is None or row is None:
                return
            if self._oid is not None and oid[0] != self._oid:
                self._oid = int(oid[0])
                self._restored(int(row[0]))
                self.observe(force=True)  # count again, up to the moment of the restore
                return
            self._oid = int(oid[0])
            self.total, self.corrupt, self.good_after = (int(v) for v in row[:3])
            if self.restored_from is None:
                self._good_before = self.good_after
                self._latest = row[3]
            if self.restored_from and not self.reconciled \
                    and self.good_after >= self.missing_at_restore:
                # every row is back (e.g. the runbook's recovery step), or none was missing:
                # a backup taken just before the restore (the drill's clock runs at 600x and
                # its nightly backups with it) leaves nothing to reconcile
                self.reconciled = True

    def _restored(self, rows: int) -> None:
        match = [b for b in self.backups if b.rows == rows]
        self.restored_from = match[-1].name if match else "a backup"
        self.missing_at_restore = self._good_before
        self._bound = self._latest
        self.reconciled = False
        self.rows_lost = 0

    @property
    def rows_recovered(self) -> int:
        return self.good_after if self.restored_from else 0

    @property
    def rows_missing(self) -> int:
        if not self.restored_from or self.reconciled:
            return 0
        return max(0, self.missing_at_restore - self.good_after)

    # ---- what the drill actions do (real commands) --------------------------------------
    def backup_current(self, now: datetime) -> Backup:
        backup = self._dump(f"corrupted_state_{now:%Y_%m_%d_%H%M%S}.dump", rfc3339(now),
                            "current-state")
        if self.restored_from is None:
            self.evidence = backup.name
        return backup

    def restore(self, backup: Backup) -> None:
        self.observe(force=True)
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--single-transaction",
                        "--no-owner", "-d", self.pg.local_dsn(self.shop.name), backup.path],
                       check=True, capture_output=True, timeout=300)
        self.observe(force=True)

    def reconcile(self) -> int:
        """Copy the good rows written after the last good backup back from the current-state
        backup (restored into a scratch database); returns how many came back."""
        evidence = next((b for b in self.backups if b.name == self.evidence), None)
        self.observe(force=True)
        if evidence is None:
            self.rows_lost = self.rows_missing
            self.reconciled = True
            return 0
        scratch = f"{self.shop.name}_evidence"
        admin = self.pg.local_dsn()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {scratch}")
            conn.execute(f"CREATE DATABASE {scratch}")
        try:
            subprocess.run(["pg_restore", "--no-owner", "-d", self.pg.local_dsn(scratch),
                            evidence.path], check=True, capture_output=True, timeout=300)
            floor = self.last_good().max_id
            with psycopg.connect(self.pg.local_dsn(scratch)) as src, \
                    psycopg.connect(self.pg.local_dsn(self.shop.name)) as dst:
                present = dst.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()
                floor = max(floor, int(present[0]) if present else 0)
                with src.cursor().copy(
                        "COPY (SELECT * FROM orders WHERE total_cents IS NOT NULL AND id > "
                        f"{int(floor)}) TO STDOUT") as out, \
                        dst.cursor().copy("COPY orders FROM STDIN") as into:
                    for chunk in out:
                        into.write(chunk)
                dst.execute("SELECT setval('orders_id_seq', (SELECT max(id) FROM orders))")
        finally:
            with contextlib.suppress(psycopg.Error), \
                    psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
        self.observe(force=True)
        self.reconciled = True
        self.rows_lost = self.rows_missing_after_reconcile()
        return self.good_after

    def rows_missing_after_reconcile(self) -> int:
        return max(0, self.missing_at_restore - self.good_after)
