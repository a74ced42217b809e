"""The database drills' start-up: how long a drill cluster takes to be ready to serve with and
without its real PostgreSQL (initdb, pg_ctl start, the shop schema by Alembic, tens of
thousands of rows, the nightly pg_dump backups), and how long the db-* steps' commands take on
that database. Prints figures beside targets; asserts nothing.
Run: .venv/bin/python bench/drill_database.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters import postgres as pg  # noqa: E402
from drill.cluster import DrillThread  # noqa: E402

TARGETS = {"none": 3.0, "bad-migration": 5.0, "data-loss": 6.0}  # seconds to a served cluster


def start(scenario: str) -> float:
    began = time.monotonic()
    runner = DrillThread(scenario=scenario, speed=1.0)
    runner.start(timeout=120)
    took = time.monotonic() - began
    runner.stop()
    return took


def commands() -> None:
    runner = DrillThread(scenario="data-loss", speed=1.0)
    cluster = runner.start(timeout=120)
    shop = cluster.scenario.database
    config = pg.DatabaseConfig(shop.dsn, str(shop.pg.password_file))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "now.dump"
        began = time.monotonic()
        dumped = asyncio.run(pg.pg_dump(config, path, timeout_s=120))
        dump_s = time.monotonic() - began
        began = time.monotonic()
        listed, _tables = asyncio.run(pg.pg_restore_list(path))
        list_s = time.monotonic() - began
        began = time.monotonic()
        restored = asyncio.run(pg.pg_restore(config, path, timeout_s=120))
        restore_s = time.monotonic() - began
        size = path.stat().st_size
    rows = shop.scalar("SELECT count(*) FROM orders")
    runner.stop()
    print(f"pg_dump -Fc of {rows} orders ({size} bytes): {dump_s:.2f} s  ok={dumped.ok}")
    print(f"pg_restore --list:                       {list_s:.2f} s  ok={listed.ok}")
    print(f"pg_restore --clean --single-transaction: {restore_s:.2f} s  ok={restored.ok}")


def main() -> None:
    for scenario, target in TARGETS.items():
        took = min(start(scenario) for _ in range(2))
        verdict = "ok" if took <= target else "SLOW"
        print(f"drill cluster {scenario:14s} ready in {took:5.2f} s (target <= {target:.0f} s) "
              f"{verdict}")
    commands()


if __name__ == "__main__":
    main()
