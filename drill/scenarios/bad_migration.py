"""`bad-migration`: the handbook's Example 2, "Database Migration Corrupts Data"."""

from __future__ import annotations

from typing import Any

from ..clock import DrillClock
from ..events import EventRecorder
from ..profiles import Endpoint, TrafficProfile
from ..store import Store
from .base import ActionReport, RolloutView, Scenario
from .registry import register
from .rehearsal import ROLLBACK_RULES, Rehearsal, Rule

MIGRATION = "20241109_add_email_verified"
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
        self.migration_applied = False

    def after_setup(self, store: Store, clock: DrillClock, deployment: dict[str, Any]) -> None:
        self.migration_applied = True
        EventRecorder(store, clock).record(
            deployment,
            "MigrationApplied",
            f"migration {MIGRATION} applied: users.email_verified set for 1204331 rows "
            "(all rows NULL)",
            component="db-migrate",
        )

    def migrate_down(self) -> None:
        """Record `npm run migrate:down`: the column's bad values are gone."""
        self.migration_applied = False
        self.note_step("migrate-down")

    def do_action(self, action: str, store: Store) -> ActionReport:
        if not self.migration_applied:
            return ActionReport(action, f"migration {MIGRATION} is already rolled back")
        self.migrate_down()
        return ActionReport(
            action, f"migration {MIGRATION} rolled back (npm run migrate:down): "
            "users.email_verified no longer holds the bad values")

    def details(self, store: Store) -> dict[str, Any]:
        return {"migration": MIGRATION, "migrationApplied": self.migration_applied}

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
