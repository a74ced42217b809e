"""Database steps (PostgreSQL), safe by construction where a ``shell`` step is not enough.

- ``db-backup``: ``pg_dump -Fc`` to ``file``, then ``pg_restore --list`` proves it readable;
  size, sha256 and the database's state fingerprint go to the audit and to ``file.json``.
- ``db-restore``: restores ``file`` into the database, refused unless ``current_backup`` is a
  verified ``db-backup`` of the database as it is now, taken during this incident, and every
  deployment in ``writers`` has 0 ready pods; the confirmation shows what will be replaced;
  ``scratch: true`` restores into a scratch database first.
- ``db-migrate``: Alembic ``up`` (one revision, or to ``target``) or ``down`` (one revision),
  the SQL shown first (``alembic ... --sql``) and confirmed; an irreversible revision is refused.
- ``sql-gate``: a read-only query (READ ONLY transaction) whose first column must satisfy
  ``op threshold`` on every row; no rows, NULL or an error never pass.

``database`` names the database on the context's server (``ConsoleSettings.database_dsn``);
empty: the DSN's own.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from console.runbook.field_types import PositiveDuration, Text, comparison_op
from console.runbook.schema_steps import BaseStep


class DbStep(BaseStep):
    database: str = ""

    def where(self) -> str:
        return f" in {self.database}" if self.database else ""


class DbBackupStep(DbStep):
    type: Literal["db-backup"]
    file: Text
    timeout_s: PositiveDuration = Field(3600.0, alias="timeout")

    def describe(self) -> str:
        return f"pg_dump -Fc{self.where()} to {self.file}, then pg_restore --list"


class DbRestoreStep(DbStep):
    MUTATING = True
    type: Literal["db-restore"]
    file: Text
    current_backup: Text
    writers: list[str] = Field(min_length=1)  # deployments that write: name or namespace/name
    scratch: bool = False
    timeout_s: PositiveDuration = Field(7200.0, alias="timeout")

    def describe(self) -> str:
        first = "scratch restore, then " if self.scratch else ""
        return f"{first}pg_restore {self.file}{self.where()}"


class DbMigrateStep(DbStep):
    MUTATING = True
    type: Literal["db-migrate"]
    config: Text  # alembic.ini
    direction: Literal["up", "down"]
    target: str | None = None  # up: a revision (default: the next one)
    timeout_s: PositiveDuration = Field(1800.0, alias="timeout")

    def describe(self) -> str:
        if self.direction == "down":
            return f"alembic downgrade -1{self.where()}"
        return f"alembic upgrade {self.target or '+1'}{self.where()}"


class SqlGateStep(DbStep):
    type: Literal["sql-gate"]
    query: Text
    op: Annotated[Literal["<", "<=", ">", ">="], BeforeValidator(comparison_op)]
    threshold: float
    timeout_s: PositiveDuration = Field(30.0, alias="timeout")

    def describe(self) -> str:
        return f"sql gate: ({self.query.strip()}) {self.op} {self.threshold:g}"


DB_STEPS = (DbBackupStep, DbRestoreStep, DbMigrateStep, SqlGateStep)
