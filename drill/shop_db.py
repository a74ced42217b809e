"""The drill's `shop` database on a real PostgreSQL: schema by Alembic, rows, writes, dumps.

`ShopDatabase.create(release)` makes the `shop` database, migrates it with Alembic to the
revision of that shop/api release (drill/shop_migrations: one revision per release) and fills
it with tens of thousands of rows in one `generate_series` statement per table.
`add_writes(good, bad)` queues rows the `worker` deployment's ready pods wrote during a tick (a
good writer sets `total_cents`, the bad one leaves it NULL); a background thread inserts them
every `FLUSH_S`, so scaling the worker to 0 really stops the inserts. `dump(name)` is a real
`pg_dump -Fc` into the server's backup directory (the drill's "scheduled" backups).
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from .postgres import DrillPostgres
from .shop_migrations import ALEMBIC_INI

DATABASE = "shop"
USERS = 20_000
ORDERS = 60_000
UNVERIFIED_EVERY = 12  # one user in 12 has not verified their email (email_verified NULL)
FLUSH_S = 0.2
FIRST_REVISION = "api_1_4_0"


def revision_of(release: str) -> str:
    """The Alembic revision shipped with shop/api `release` (e.g. 1.7.0 -> api_1_7_0)."""
    return "api_" + release.replace(".", "_")


def alembic_config() -> Config:
    return Config(str(ALEMBIC_INI))


class ShopDatabase:
    """The `shop` database of one drill (its server is `pg`)."""

    def __init__(self, pg: DrillPostgres, name: str = DATABASE) -> None:
        self.pg = pg
        self.name = name
        self._lock = threading.Lock()
        self._pending = [0.0, 0.0]  # good, bad rows to insert
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None
        self.rows_written = [0, 0]  # good, bad rows inserted by the writer thread

    @property
    def dsn(self) -> str:
        """For the console: TCP, no password (it is in `pg.password_file`)."""
        return self.pg.dsn_for(self.name)

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.pg.local_dsn(self.name), autocommit=True)

    # ---- creation -----------------------------------------------------------------------
    def create(self, release: str, users: int = USERS, orders: int = ORDERS) -> None:
        with psycopg.connect(self.pg.local_dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self.name}")
        self.migrate(FIRST_REVISION)  # the rows are the history; later releases migrate them
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO users (email, created_at, email_verified) "
                "SELECT 'user' || n || '@example.com', now() - (n || ' minutes')::interval, "
                "CASE WHEN n %% %s = 0 THEN NULL ELSE true END "
                "FROM generate_series(1, %s) AS n", (UNVERIFIED_EVERY, users))
            self.add_orders(conn, orders, good=True)
        self.migrate(revision_of(release))
        with self.connect() as conn:
            conn.execute("ANALYZE")

    @staticmethod
    def add_orders(conn: psycopg.Connection, count: int, *, good: bool,
                   writer: str = "worker") -> None:
        if count <= 0:
            return
        total = "500 + (random() * 20000)::bigint" if good else "NULL"
        conn.execute(
            "INSERT INTO orders (user_id, total_cents, written_by) "
            f"SELECT 1 + (random() * (SELECT count(*) - 1 FROM users))::bigint, {total}, %s "
            "FROM generate_series(1, %s)", (writer, count))

    def migrate(self, revision: str) -> None:
        """Upgrade (or downgrade) the schema to `revision` in-process, as the release's deploy
        job would."""
        engine = create_engine("postgresql+psycopg://",
                               creator=lambda: psycopg.connect(self.pg.local_dsn(self.name)))
        try:
            with engine.begin() as conn:
                config = alembic_config()
                config.attributes["connection"] = conn
                current = self.revision_of_db()
                if current is None or _is_ancestor(config, current, revision):
                    command.upgrade(config, revision)
                else:
                    command.downgrade(config, revision)
        finally:
            engine.dispose()

    def revision_of_db(self) -> str | None:
        with self.connect() as conn:
            exists = conn.execute("SELECT to_regclass('alembic_version')").fetchone()
            if not exists or exists[0] is None:
                return None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            return row[0] if row else None

    # ---- reading ------------------------------------------------------------------------
    def scalar(self, sql: str, params: tuple[object, ...] = ()) -> int:
        with self.connect() as conn:
            row = conn.execute(sql, params).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    # ---- backups ------------------------------------------------------------------------
    def dump(self, name: str) -> Path:
        """`pg_dump -Fc` of the database into the backup directory (a scheduled backup)."""
        path = self.pg.backup_dir / name
        subprocess.run(["pg_dump", "-Fc", f"--file={path}", "-d", self.pg.local_dsn(self.name)],
                       check=True, capture_output=True, timeout=120)
        return path

    # ---- the worker's writes ------------------------------------------------------------
    def add_writes(self, good: float, bad: float) -> None:
        with self._lock:
            self._pending[0] += good
            self._pending[1] += bad
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_forever, name="shop-db-writer",
                                            daemon=True)
            self._writer.start()

    def _write_forever(self) -> None:
        with contextlib.suppress(psycopg.Error), self.connect() as conn:
            while not self._stop.wait(FLUSH_S):
                self.flush(conn)

    def flush(self, conn: psycopg.Connection | None = None) -> None:
        """Insert the whole rows queued so far (fractions wait for the next flush)."""
        with self._lock:
            good, bad = int(self._pending[0]), int(self._pending[1])
            self._pending[0] -= good
            self._pending[1] -= bad
        if not good and not bad:
            return
        if conn is None:
            with self.connect() as own:
                self._insert(own, good, bad)
        else:
            self._insert(conn, good, bad)

    def _insert(self, conn: psycopg.Connection, good: int, bad: int) -> None:
        try:
            self.add_orders(conn, good, good=True)
            self.add_orders(conn, bad, good=False, writer="worker-0.11.0")
        except psycopg.Error:
            return  # the table is being restored (dropped): these writes fail, as they would
        self.rows_written[0] += good
        self.rows_written[1] += bad

    def close(self) -> None:
        self._stop.set()
        if self._writer is not None:
            self._writer.join(5)


def _is_ancestor(config: Config, current: str, target: str) -> bool:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(config)
    return any(rev.revision == current for rev in script.walk_revisions("base", target))
