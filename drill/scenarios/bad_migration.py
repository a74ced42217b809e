"""`bad-migration`: the handbook's Example 2, "Database Migration Corrupts Data"."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import psycopg

from ..clock import DrillClock
from ..events import EventRecorder
from ..postgres import DrillPostgres
from ..profiles import Endpoint, TrafficProfile
from ..shop_db import ShopDatabase
from ..shop_migrations import ALEMBIC_INI
from ..store import Store
from .base import ActionReport, RolloutView, Scenario
from .registry import register
from .rehearsal import ROLLBACK_RULES, Rehearsal, Rule

MIGRATION = "api_1_7_0"  # drill/shop_migrations/versions/api_1_7_0.py
GOOD_REVISION = "api_1_6_0"
BROKEN_ERROR_RATIO = 0.98  # "~100 %": nearly every /users/* request fails


def affected(path: str) -> bool:
    return path == "/users" or path.startswith("/users/")


@register
class BadMigration(Scenario):
    """Handbook Example 2: "Migration to add column had bad logic, set wrong values".

    `shop/api` 1.7.0 ships migration 20241109_add_email_verified, which sets
    `users.email_verified` to NULL for ALL users; 1.7.0 code reads the column and its
    `/users/*` endpoints fail (~100 %), while the overall error ratio stays moderate (~15 %).
    1.6.0 does not read the column, so rolling the code back ends the user-facing errors; the
    bad values stay in the table until the migration is rolled back. The handbook's actions:
    stop the deployment (`kubectl rollout pause`), back up, `npm run migrate:down`, roll back
    the code (`kubectl rollout undo deployment/api`), verify the users table.
    `migrate_down()` records the migration rollback (drill action `migrate-down`, what `npm
    run migrate:down` does in a drill runbook); the drill is resolved by the undo and lists the
    migration rollback as a follow-up until it is done.
    """

    name = "bad-migration"
    title = "Migration corrupts the users table"
    brief = "api 1.7.0's migration set users.email_verified wrong: /users/* fails."
    difficulty = "hard"
    order = 30
    rehearsal = Rehearsal(
        rules=ROLLBACK_RULES + (
            Rule("required", "migration rolled back (npm run migrate:down)", "migrate-down",
                 points=5),
        ),
        step_aliases=(("rollback-migration", "migrate-down"),),
    )
    runbook = "migration-failed"
    handbook = "Example 2: Database Migration Corrupts Data"
    default_speed = 1.0
    actions = ("migrate-down",)
    bad_image = "registry.local/shop/api:1.7.0"
    good_image = "registry.local/shop/api:1.6.0"
    change_cause = f"deploy api 1.7.0: add users.email_verified (migration {MIGRATION})"
    resolution = (
        "migrate:down + undo: stop the deployment, npm run migrate:down, "
        "kubectl rollout undo deployment/api, verify the users table"
    )
    bad_log_lines = (
        "ERROR GET /users/me 500: email_verified is NULL for user 48213 (NOT NULL expected)",
        "ERROR GET /users/{id} 500: invalid user row: email_verified=NULL",
    )

    def __init__(self) -> None:
        super().__init__()
        self._applied = False  # unattached (unit tests): no database, a flag
        self.database: ShopDatabase | None = None
        self._pg: DrillPostgres | None = None

    def prepare(self, incident_at: datetime) -> None:
        """A running drill: the shop database on a real PostgreSQL, at api 1.6.0's schema
        (made while the cluster warms up)."""
        def start() -> None:
            self._pg = DrillPostgres()
            self._pg.start()
            database = ShopDatabase(self._pg)
            database.create("1.6.0")
            self.database = database

        self.in_background(start)

    def attach(self, cluster: Any) -> None:
        self.prepared()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.prepared()
        if self._pg is not None:
            self._pg.stop()

    def runbook_values(self) -> dict[str, str]:
        if self.database is None or self._pg is None:
            return {}
        return {"database": self.database.name, "migrations": str(ALEMBIC_INI),
                "backup_file": str(self._pg.backup_dir / "pre_rollback_backup.dump")}

    @property
    def migration_applied(self) -> bool:
        if self.database is None:
            return self._applied
        try:
            applied = self.database.revision_of_db() == MIGRATION
        except psycopg.Error:
            return True  # cannot tell: the follow-up stays
        if not applied:
            self.note_step("migrate-down")  # e.g. alembic downgrade -1 from a runbook step
        return applied

    def after_setup(self, store: Store, clock: DrillClock, deployment: dict[str, Any]) -> None:
        self._applied = True
        users = "every"
        if self.database is not None:  # the release's deploy job runs its migration
            self.database.migrate(MIGRATION)
            users = str(self.database.scalar("SELECT count(*) FROM users"))
        EventRecorder(store, clock).record(
            deployment,
            "MigrationApplied",
            f"migration {MIGRATION} applied: users.email_verified set for {users} rows "
            "(all rows NULL)",
            component="db-migrate",
        )

    def migrate_down(self) -> None:
        """`alembic downgrade -1` (the drill's `npm run migrate:down`): the bad values go."""
        if self.database is not None:
            self.database.migrate(GOOD_REVISION)
        self._applied = False
        self.note_step("migrate-down")

    def do_action(self, action: str, store: Store) -> ActionReport:
        if not self.migration_applied:
            return ActionReport(action, f"migration {MIGRATION} is already rolled back")
        self.migrate_down()
        return ActionReport(
            action, f"migration {MIGRATION} rolled back (npm run migrate:down): "
            "users.email_verified no longer holds the bad values")

    def details(self, store: Store) -> dict[str, Any]:
        found: dict[str, Any] = {"migration": MIGRATION,
                                  "migrationApplied": self.migration_applied}
        if self.database is not None:
            with contextlib.suppress(psycopg.Error):
                found["revision"] = self.database.revision_of_db()
                found["users_email_verified_null"] = self.database.scalar(
                    "SELECT count(*) FROM users WHERE email_verified IS NULL")
        return found

    def bad_traffic(
        self, deployment: dict[str, Any], pod: dict[str, Any], healthy: TrafficProfile
    ) -> TrafficProfile:
        return TrafficProfile(
            tuple(
                Endpoint(ep.path, ep.share, BROKEN_ERROR_RATIO, ep.latency_factor)
                if affected(ep.path)
                else ep
                for ep in healthy.endpoints
            )
        )

    def mitigation(self, view: RolloutView) -> str | None:
        if view.paused:
            return "deployment stopped (rollout paused)"
        return None

    def followups(self) -> tuple[str, ...]:
        if self.migration_applied:
            return (
                f"roll back migration {MIGRATION} (npm run migrate:down): "
                "users.email_verified still holds the bad values",
            )
        return ()
