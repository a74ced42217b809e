"""The database steps (db-backup, db-restore, db-migrate, sql-gate) on a real PostgreSQL (the
drill's server and shop schema), with the writers checked on the drill cluster. Every refusal
is asserted with the database state read back by SQL."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from adapters.kubernetes import KubeClient
from adapters.postgres import DatabaseConfig, redact_dsn
from console.domain.audit import AuditLog
from console.domain.incident import IncidentStore, SharedIncident
from console.runbook.engine import RunbookEngine
from console.runbook.loading import parse_runbook
from drill.postgres import DrillPostgres
from drill.shop_db import ShopDatabase, revision_of
from drill.shop_migrations import ALEMBIC_INI
from tests.conftest import Drill, wait_for
from tests.console.test_runbook_engine import step_records
from tests.drill.kube_helpers import make_deployment, make_namespace, unique

pytestmark = pytest.mark.postgres
YES = lambda _prompt: True  # noqa: E731
_names = itertools.count()


@pytest.fixture(scope="module")
def server() -> Iterator[DrillPostgres]:
    pg = DrillPostgres().start()
    yield pg
    pg.stop()


@pytest.fixture
def shop(server: DrillPostgres) -> Iterator[ShopDatabase]:
    db = ShopDatabase(server, f"shop_{os.getpid()}_{next(_names)}")
    db.create("1.7.0", users=2400, orders=5000)
    yield db
    db.close()


@pytest.fixture
def config(shop: ShopDatabase) -> DatabaseConfig:
    return DatabaseConfig(shop.dsn, str(shop.pg.password_file))


@pytest.fixture
def shared(tmp_path: Path) -> SharedIncident:
    return IncidentStore(tmp_path / "state").open_new("orders corrupted", "high",
                                                      context="drill", namespace="shop")


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit" / "incident.jsonl")


@pytest.fixture
def writer(drill: Drill) -> str:
    """A writer deployment in its own namespace: `namespace/name`."""
    namespace = unique("db")
    make_namespace(drill.api(), namespace)
    make_deployment(drill.api(), namespace, "worker", replicas=1)
    return f"{namespace}/worker"


@pytest.fixture
def kube(drill: Drill) -> Iterator[KubeClient]:
    with KubeClient.connect(str(drill.kubeconfig)) as client:
        yield client


def engine(text: str, shared: SharedIncident, audit: AuditLog, config: DatabaseConfig,
           kube: KubeClient | None = None, values: dict[str, str] | None = None
           ) -> RunbookEngine:
    runbook = parse_runbook(textwrap.dedent(text), default_id="db").bind(values or {})
    return RunbookEngine(runbook, incident=shared, audit=audit, kube=kube, context="drill",
                         namespace="shop", database=config)


def count(shop: ShopDatabase, sql: str) -> int:
    return shop.scalar(sql)


def scale(drill: Drill, writer: str, replicas: int) -> None:
    from kubernetes import client

    namespace, name = writer.split("/")
    client.AppsV1Api(drill.api()).patch_namespaced_deployment_scale(
        name, namespace, {"spec": {"replicas": replicas}})


def ready(kube: KubeClient, writer: str) -> int:
    return kube.get_deployment(*writer.split("/")).ready


BACKUP_RESTORE = """
    title: Restore
    kind: procedure
    steps:
      - id: backup-old
        title: the last good backup
        type: db-backup
        file: {old}
      - id: backup-current
        title: backup current state
        type: db-backup
        file: {current}
      - id: restore
        title: restore the last good backup
        type: db-restore
        file: {old}
        current_backup: {current}
        writers: [{writer}]
        scratch: true
    """


def test_backup_is_verified_and_audited(tmp_path, shared, audit, config, shop) -> None:
    dump = tmp_path / "now.dump"
    e = engine(BACKUP_RESTORE.format(old=tmp_path / "old.dump", current=dump, writer="w"),
               shared, audit, config)
    outcome = e.run_step("backup-current")
    assert outcome.ok, outcome.message
    record = json.loads(Path(f"{dump}.json").read_text())
    assert record["verified"] and record["incident"] == shared.id
    assert record["size"] == dump.stat().st_size > 0
    assert set(record["tables"]) >= {"users", "orders", "alembic_version"}
    listed = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True,
                            check=True).stdout
    assert "TABLE DATA public orders" in listed
    final = step_records(audit, "backup-current")[-1]
    assert final.result["status"] == "done"
    assert record["sha256"] in final.result["detail"] and str(record["size"]) in \
        final.result["detail"]
    password = shop.pg.password
    assert password not in audit.path.read_text()


def test_restore_refused_without_a_current_backup(tmp_path, shared, audit, config, shop, kube,
                                                  writer, drill) -> None:
    scale(drill, writer, 0)
    wait_for(lambda: ready(kube, writer) == 0, message="the writer stopped")
    e = engine(BACKUP_RESTORE.format(old=tmp_path / "old.dump", current=tmp_path / "now.dump",
                                     writer=writer), shared, audit, config, kube)
    assert e.run_step("backup-old").ok
    shop.add_orders(shop.connect(), 7, good=True)
    e.skip("backup-current", "no time")
    outcome = e.run_step("restore", YES)
    assert outcome.refused and "no verified backup of the current state" in outcome.message
    assert count(shop, "SELECT count(*) FROM orders") == 5007  # untouched
    assert step_records(audit, "restore")[-1].result["status"] == "refused"


def test_restore_refused_with_writers_running(tmp_path, shared, audit, config, shop, kube,
                                              writer) -> None:
    wait_for(lambda: ready(kube, writer) == 1, message="the writer ready")
    e = engine(BACKUP_RESTORE.format(old=tmp_path / "old.dump", current=tmp_path / "now.dump",
                                     writer=writer), shared, audit, config, kube)
    assert e.run_step("backup-old").ok
    assert e.run_step("backup-current").ok
    outcome = e.run_step("restore", YES)
    assert outcome.refused, outcome.message
    assert f"writes are not stopped: {writer} has 1 ready pod(s)" in outcome.message


def test_restore_refused_when_rows_were_written_after_the_backup(
        tmp_path, shared, audit, config, shop, kube, writer, drill) -> None:
    scale(drill, writer, 0)
    wait_for(lambda: ready(kube, writer) == 0, message="the writer stopped")
    e = engine(BACKUP_RESTORE.format(old=tmp_path / "old.dump", current=tmp_path / "now.dump",
                                     writer=writer), shared, audit, config, kube)
    assert e.run_step("backup-old").ok
    assert e.run_step("backup-current").ok
    shop.add_orders(shop.connect(), 3, good=True)
    outcome = e.run_step("restore", YES)
    assert outcome.refused and "the database changed since backup" in outcome.message


def test_restore_after_a_current_backup_with_writes_stopped(
        tmp_path, shared, audit, config, shop, kube, writer, drill) -> None:
    scale(drill, writer, 0)
    wait_for(lambda: ready(kube, writer) == 0, message="the writer stopped")
    e = engine(BACKUP_RESTORE.format(old=tmp_path / "old.dump", current=tmp_path / "now.dump",
                                     writer=writer), shared, audit, config, kube)
    assert e.run_step("backup-old").ok
    shop.add_orders(shop.connect(), 40, good=False)
    assert count(shop, "SELECT count(*) FROM orders WHERE total_cents IS NULL") == 40
    assert e.run_step("backup-current").ok
    prompts: list[str] = []
    outcome = e.run_step("restore", lambda p: prompts.append(p) or True)
    assert outcome.ok, outcome.message
    assert "It replaces: " in prompts[0] and "orders 5040 rows" in prompts[0]
    assert count(shop, "SELECT count(*) FROM orders") == 5000
    assert count(shop, "SELECT count(*) FROM orders WHERE total_cents IS NULL") == 0
    assert count(shop, "SELECT count(*) FROM pg_database WHERE position('scratch' in datname) > 0") == 0


MIGRATE = """
    title: Migrate
    kind: procedure
    steps:
      - id: assess
        title: users without a verified email
        type: sql-gate
        query: SELECT COUNT(*) FROM users WHERE email_verified IS NULL
        op: "<"
        threshold: 1000
      - id: down
        title: rollback migration
        type: db-migrate
        config: {ini}
        direction: down
      - id: up
        title: migrate up again
        type: db-migrate
        config: {ini}
        direction: up
    """


def test_migrate_down_shows_the_sql_then_restores_the_numbers(shared, audit, config, shop
                                                               ) -> None:
    e = engine(MIGRATE.format(ini=ALEMBIC_INI), shared, audit, config)
    assert count(shop, "SELECT count(*) FROM users WHERE email_verified IS NULL") == 2400
    gate = e.run_step("assess")
    assert not gate.ok and "2400 is not < 1000" in gate.message
    prompts: list[str] = []
    outcome = e.run_step("down", lambda p: prompts.append(p) or False)
    assert outcome.refused and shop.revision_of_db() == revision_of("1.7.0")
    assert "DROP COLUMN email_verified_at" in prompts[0], prompts[0]
    assert "api_1_7_0 → api_1_6_0" in prompts[0]
    outcome = e.run_step("down", YES)
    assert outcome.ok, outcome.message
    assert shop.revision_of_db() == revision_of("1.6.0")
    assert count(shop, "SELECT count(*) FROM users WHERE email_verified IS NULL") == 200
    assert count(shop, "SELECT count(*) FROM users WHERE email_verified = true") == 2200
    e.reopen("assess")
    assert e.run_step("assess").ok


def test_irreversible_downgrade_is_refused(tmp_path, shared, audit, config, shop) -> None:
    scripts = tmp_path / "migrations"
    (scripts / "versions").mkdir(parents=True)
    for name in ("env.py", "script.py.mako"):
        (scripts / name).write_text((ALEMBIC_INI.parent / name).read_text())
    for source in (ALEMBIC_INI.parent / "versions").glob("api_*.py"):
        (scripts / "versions" / source.name).write_text(source.read_text())
    (scripts / "versions" / "api_1_8_0.py").write_text(textwrap.dedent('''\
        """api 1.8.0: drop the legacy column"""
        from alembic import op

        revision = "api_1_8_0"
        down_revision = "api_1_7_0"
        irreversible = "drops users.email_verified_at and its data"


        def upgrade() -> None:
            op.execute("ALTER TABLE users DROP COLUMN email_verified_at")


        def downgrade() -> None:
            pass
        '''))
    ini = scripts / "alembic.ini"
    ini.write_text("[alembic]\nscript_location = %(here)s\n")
    e = engine(MIGRATE.format(ini=ini), shared, audit, config)
    assert e.run_step("up", YES).ok
    assert shop.revision_of_db() == "api_1_8_0"
    outcome = e.run_step("down", YES)
    assert outcome.refused
    assert "api_1_8_0 is irreversible: marked irreversible: drops users.email_verified_at" \
        in outcome.message
    assert shop.revision_of_db() == "api_1_8_0"


def test_sql_gate_with_no_rows_never_passes(shared, audit, config, shop) -> None:
    e = engine("""
        title: Gate
        kind: procedure
        steps:
          - id: gate
            title: corrupted orders
            type: sql-gate
            query: SELECT count(*) FROM orders WHERE total_cents IS NULL GROUP BY written_by
            op: "<"
            threshold: 1
          - id: write
            title: a write in a gate
            type: sql-gate
            query: DELETE FROM orders RETURNING 0
            op: "<"
            threshold: 1
        """, shared, audit, config)
    outcome = e.run_step("gate")
    assert not outcome.ok and "no rows" in outcome.message
    outcome = e.run_step("write")
    assert not outcome.ok and "read-only transaction" in outcome.message
    assert count(shop, "SELECT count(*) FROM orders") == 5000


def test_redact_dsn() -> None:
    assert redact_dsn("postgresql://app:s3cret@db:5432/shop") == "postgresql://app:***@db:5432/shop"
    assert "s3cret" not in redact_dsn("host=db password=s3cret dbname=shop")


KILL_SCRIPT = """
import os, signal, sys, threading
from adapters.kubernetes import KubeClient
from adapters.postgres import DatabaseConfig
from console.domain.audit import AuditLog
from console.domain.incident import IncidentStore
from console.runbook.engine import RunbookEngine
from console.runbook.loading import parse_runbook
dsn, pwfile, state, dump, kubeconfig, writer, step = sys.argv[1:8]
shared = IncidentStore(state).open_new("kill", "high", context="drill", namespace="shop")
audit = AuditLog(f"{state}/audit.jsonl")
steps = f'''
title: Kill
kind: procedure
steps:
  - id: backup
    title: backup
    type: db-backup
    file: {dump}
  - id: restore
    title: restore
    type: db-restore
    file: {dump}
    current_backup: {dump}
    writers: [{writer}]
'''
e = RunbookEngine(parse_runbook(steps, default_id="kill").bind({}), incident=shared,
                  audit=audit, context="drill", namespace="shop",
                  kube=KubeClient.connect(kubeconfig), database=DatabaseConfig(dsn, pwfile))
def terminate(*_args):  # what the console does on SIGTERM/SIGHUP (Session.close)
    e.shut_down(2.5)
    os._exit(143)
signal.signal(signal.SIGTERM, terminate)
if step == "restore":
    assert e.run_step("backup").ok
worker = threading.Thread(target=e.run_step, args=(step, lambda _q: True),
                          kwargs={"progress": lambda m, f: print("progress", m, flush=True)})
worker.start()
while worker.is_alive():  # a signal delivered to another thread runs its handler here
    worker.join(0.05)
"""


@pytest.mark.parametrize(("step", "program", "started", "lock"), [
    ("backup", "pg_dump", "pg_dump -Fc", "ACCESS EXCLUSIVE"),  # pg_dump waits for it
    ("restore", "pg_restore", "pg_restore --clean", "SHARE"),  # its DROP TABLE waits
])
def test_killing_the_console_during_a_dump_or_restore_leaves_no_orphan(
        tmp_path, shop, server, drill, step, program, started, lock) -> None:
    """A console killed (SIGTERM, as a closing terminal or `kill` does) while pg_dump or
    pg_restore runs (held up by a lock another session keeps on a table): the program is not
    left running, the step's interruption is on record, a killed restore changed nothing."""
    rows = count(shop, "SELECT count(*) FROM orders")
    namespace = unique("kill")
    make_namespace(drill.api(), namespace)
    make_deployment(drill.api(), namespace, "worker", replicas=0)
    holder = shop.connect()
    holder.execute("CREATE SCHEMA hold")
    holder.execute("CREATE TABLE hold.t (x int)")
    holder.autocommit = False
    holder.execute(f"LOCK TABLE hold.t IN {lock} MODE")
    script = tmp_path / "dumping_console.py"
    script.write_text(KILL_SCRIPT)
    dump = tmp_path / "big.dump"
    child = subprocess.Popen(
        [sys.executable, str(script), shop.dsn, str(server.password_file), str(tmp_path),
         str(dump), str(drill.kubeconfig), f"{namespace}/worker", step],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    try:
        assert child.stdout is not None
        wait_for(lambda: f"progress {started}" in child.stdout.readline(), timeout=60,
                 message=f"{program} started")

        def running() -> list[psutil.Process]:
            return [p for p in psutil.Process(child.pid).children(recursive=True)
                    if p.name() == program]

        pids = [p.pid for p in wait_for(running, message=f"a running {program}")]
        child.send_signal(signal.SIGTERM)
        child.wait(30)
    finally:
        holder.rollback()
        holder.close()
    wait_for(lambda: not any(psutil.pid_exists(pid) and psutil.Process(pid).status()
                             != psutil.STATUS_ZOMBIE for pid in pids),
             message=f"{program} gone")
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()
               if line.strip()]
    mine = [r for r in records if r.get("target") == step]
    assert [r["result"]["status"] for r in mine][-2:] == ["running", "interrupted"], mine
    assert f"stopped: {program} was killed" in mine[-1]["result"]["detail"]
    if step == "backup":
        assert not dump.exists()
    else:
        assert count(shop, "SELECT count(*) FROM orders") == rows
