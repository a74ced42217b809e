"""Running the database steps (``schema_db``): each has a ``plan`` (checks that may refuse,
and the confirmation prompt saying what it will do) and a ``run``.

Refusals, in the handbook's words ("Before restoring: TAKE CURRENT BACKUP!"):

- ``db-restore`` without a verified ``db-backup`` of the database *as it is now* taken during
  this incident (its ``.json`` record names the incident, the archive's sha256 and the
  database's state fingerprint: a row written since makes it stale), or while a writer
  deployment has ready pods;
- ``db-migrate down`` of an irreversible revision (``adapters.migrations``), or with nothing
  to undo; ``up`` at head;
- ``sql-gate`` never passes on no rows, NULL, a non-number or an error.

Commands run through ``adapters.postgres`` (``adapters.shell``): the engine's stop event kills
them with their process group; the step fails with a message saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import operator
import os
import threading
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters import migrations
from adapters import postgres as pg
from adapters.errors import AdapterError, NotFound
from adapters.kubernetes import KubeClient
from adapters.shell import ShellResult
from console.runbook.outcomes import Interrupted, Progress
from console.runbook.schema_db import (
    DbBackupStep,
    DbMigrateStep,
    DbRestoreStep,
    DbStep,
    SqlGateStep,
)
from console.runbook.shell_steps import run_coroutine

SQL_SHOWN_LINES = 60
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class DbRefused(Exception):
    """The step must not run; args[0]: why, for the operator and the audit."""


def record_path(file: str | Path) -> Path:
    """Where ``db-backup`` records what it verified about ``file``."""
    return Path(f"{file}.json")


class DbSteps:
    """The database steps of one engine (one incident, one context)."""

    def __init__(self, database: pg.DatabaseConfig | None, *, incident_id: str | None,
                 kube: KubeClient | None, namespace: str, stop: threading.Event) -> None:
        self.database = database
        self.incident_id = incident_id
        self.kube = kube
        self.namespace = namespace
        self.stop = stop

    # ---- planning -----------------------------------------------------------------------
    def plan(self, step: DbStep) -> str:
        """Check the step may run; returns its confirmation prompt or raises ``DbRefused``."""
        config = self._config(step)
        try:
            if isinstance(step, DbRestoreStep):
                return self._plan_restore(step, config)
            if isinstance(step, DbMigrateStep):
                return self._plan_migrate(step, config)[0]
        except AdapterError as error:
            raise DbRefused(error.message) from None
        return f"{step.title}: {step.describe()} on {config.shown()}"

    def _config(self, step: DbStep) -> pg.DatabaseConfig:
        if self.database is None:
            raise DbRefused("no database is configured for this context (database_dsn in "
                            "the settings)")
        try:
            return self.database.for_database(step.database or None)
        except AdapterError as error:
            raise DbRefused(error.message) from None

    def _check_writers(self, step: DbRestoreStep) -> None:
        if self.kube is None:
            raise DbRefused("cannot check that writes are stopped: no cluster connection")
        running = []
        for writer in step.writers:
            namespace, _, name = writer.rpartition("/")
            try:
                ready = self.kube.get_deployment(namespace or self.namespace, name).ready
            except NotFound:
                ready = 0  # a writer that is gone writes nothing
            if ready:
                running.append(f"{namespace or self.namespace}/{name} has {ready} ready pod(s)")
        if running:
            raise DbRefused("writes are not stopped: " + "; ".join(running)
                            + " — scale the writers to 0 first")

    def _check_current_backup(self, step: DbRestoreStep, config: pg.DatabaseConfig
                              ) -> dict[str, Any]:
        name = step.current_backup
        record_file = record_path(name)
        if not Path(name).is_file() or not record_file.is_file():
            raise DbRefused(f"no verified backup of the current state at {name}: take it with "
                            "a db-backup step first (Before restoring: TAKE CURRENT BACKUP!)")
        try:
            record = json.loads(record_file.read_text())
        except (OSError, ValueError) as exc:
            raise DbRefused(f"the record of backup {name} cannot be read: {exc}") from None
        if not record.get("verified") or record.get("incident") != self.incident_id:
            raise DbRefused(f"backup {name} was not taken and verified during this incident "
                            f"(incident {record.get('incident') or 'unknown'}): take a new "
                            "backup of the current state")
        if pg.sha256_of(Path(name)) != record.get("sha256"):
            raise DbRefused(f"backup {name} changed since it was verified (sha256 differs)")
        if pg.state_fingerprint(config) != record.get("fingerprint"):
            raise DbRefused(f"the database changed since backup {name} was taken (rows "
                            "written since): it is not a backup of the current state; take "
                            "a new one")
        return record

    def _plan_restore(self, step: DbRestoreStep, config: pg.DatabaseConfig) -> str:
        self._check_writers(step)
        record = self._check_current_backup(step, config)
        if not Path(step.file).is_file():
            raise DbRefused(f"backup {step.file} does not exist")
        result, tables = self._run(pg.pg_restore_list(Path(step.file)), "pg_restore --list")
        if not result.ok:
            raise DbRefused(f"backup {step.file} is not a readable archive: {result.message}")
        now = pg.table_counts(config)
        replaced = ", ".join(f"{t} {n} rows" for t, n in now.items()) or "no tables"
        scratch = "restore into a scratch database first, then " if step.scratch else ""
        return (f"{step.title}: {scratch}pg_restore {step.file} (tables "
                f"{', '.join(tables) or 'none'}) into {config.shown()}. It replaces: "
                f"{replaced}. Current state saved in {step.current_backup} (sha256 "
                f"{str(record.get('sha256'))[:12]}…)")

    def _plan_migrate(self, step: DbMigrateStep, config: pg.DatabaseConfig
                      ) -> tuple[str, str, str | None]:
        """(prompt, the alembic revision argument, the revision it ends at)."""
        current = self._current_revision(config)
        if step.direction == "down":
            if current is None:
                raise DbRefused(f"nothing to downgrade: {config.shown()} has no Alembic "
                                "revision")
            revision = migrations.revision(step.config, current)
            if revision.irreversible:
                raise DbRefused(f"revision {current} is irreversible: {revision.irreversible}"
                                "; restore a backup instead")
            end = revision.down_revision
            sql_range = f"{current}:{end or 'base'}"
            verb, argument = "downgrade", "-1"
        else:
            target = step.target or (getattr(migrations.next_up(step.config, current),
                                             "revision", None))
            if target is None or target == current:
                raise DbRefused(f"nothing to upgrade: {config.shown()} is at {current}")
            end = target
            sql_range = f"{current}:{target}" if current else target
            verb, argument = "upgrade", target
        lines: list[str] = []
        result = self._run(pg.alembic(config, step.config, [verb, sql_range, "--sql"],
                                      timeout_s=120, on_line=self._collect(lines)),
                           f"alembic {verb} --sql")
        if not result.ok:
            raise DbRefused(f"alembic {verb} --sql failed: {result.message}"
                            + (f"; {lines[-1]}" if lines else ""))
        statements = [line for line in lines if not line.startswith("stderr: ")]
        shown = "\n".join(statements[:SQL_SHOWN_LINES])
        if len(statements) > SQL_SHOWN_LINES:
            shown += f"\n… {len(statements) - SQL_SHOWN_LINES} more lines"
        prompt = (f"{step.title}: alembic {verb} {argument} on {config.shown()} "
                  f"({current or 'base'} → {end or 'base'}). SQL:\n{shown}")
        return prompt, argument, end

    @staticmethod
    def _collect(lines: list[str]) -> Callable[[str, str], None]:
        def on_line(stream: str, line: str) -> None:
            lines.append(line if stream == "stdout" else f"stderr: {line}")
        return on_line

    @staticmethod
    def _current_revision(config: pg.DatabaseConfig) -> str | None:
        rows = pg.read_only_query(config, "SELECT to_regclass('alembic_version')::text")
        if not rows or rows[0][0] is None:
            return None
        rows = pg.read_only_query(config, "SELECT version_num FROM alembic_version")
        return str(rows[0][0]) if rows else None

    # ---- running ------------------------------------------------------------------------
    def run(self, step: DbStep, progress: Progress) -> tuple[str, str]:
        config = self._config(step)
        try:
            if isinstance(step, DbBackupStep):
                return self._backup(step, config, progress)
            if isinstance(step, DbRestoreStep):
                return self._restore(step, config, progress)
            if isinstance(step, DbMigrateStep):
                return self._migrate(step, config, progress)
            if isinstance(step, SqlGateStep):
                return self._gate(step, config)
        except DbRefused as refused:
            return "failed", str(refused)
        except AdapterError as error:
            return "failed", error.message
        return "failed", f"do not know how to run a {step.kind} step"

    def _backup(self, step: DbBackupStep, config: pg.DatabaseConfig, progress: Progress
                ) -> tuple[str, str]:
        path = Path(step.file)
        record_path(path).unlink(missing_ok=True)  # whatever was there is not verified now
        fingerprint = pg.state_fingerprint(config)
        progress(f"pg_dump -Fc {config.shown()} → {path}", None)
        result = self._run(pg.pg_dump(config, path, timeout_s=step.timeout_s,
                                      on_line=self._relay(progress)), "pg_dump",
                           cleanup=lambda: path.unlink(missing_ok=True))
        if not result.ok:
            path.unlink(missing_ok=True)
            return "failed", f"pg_dump failed: {result.message}{_tail(result)}"
        progress(f"pg_restore --list {path}", None)
        listed, tables = self._run(pg.pg_restore_list(path), "pg_restore --list")
        if not listed.ok:
            return "failed", f"{path} is not readable by pg_restore: {listed.message}"
        size, digest = path.stat().st_size, pg.sha256_of(path)
        after = pg.state_fingerprint(config)
        record = {"file": str(path), "database": config.shown(), "incident": self.incident_id,
                  "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
                  "size": size, "sha256": digest, "tables": tables, "verified": True,
                  "fingerprint": fingerprint if fingerprint == after else None}
        tmp = record_path(path).with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=1))
        os.replace(tmp, record_path(path))
        moved = "" if fingerprint == after else (
            "; the database changed while it was dumped (writes are running): it is not a "
            "backup of the current state")
        return "done", (f"{path}: {size} bytes, sha256 {digest}, readable by pg_restore "
                        f"({len(tables)} tables: {', '.join(tables)}){moved}")

    def _restore(self, step: DbRestoreStep, config: pg.DatabaseConfig, progress: Progress
                 ) -> tuple[str, str]:
        self._check_writers(step)  # again: things may have moved since the confirmation
        self._check_current_backup(step, config)
        path = Path(step.file)
        if step.scratch:
            scratch = f"{config.dbname or 'db'}_scratch_restore"
            scratch_config = config.for_database(scratch)
            progress(f"restoring {path} into scratch database {scratch}", None)
            pg.drop_database(config, scratch)
            pg.create_database(config, scratch)
            try:
                result = self._run(pg.pg_restore(scratch_config, path, clean=False,
                                                 timeout_s=step.timeout_s,
                                                 on_line=self._relay(progress)),
                                   "pg_restore into the scratch database")
                if not result.ok:
                    return "failed", (f"the scratch restore of {path} failed: "
                                      f"{result.message}{_tail(result)}; {config.shown()} "
                                      "was not touched")
                counts = pg.table_counts(scratch_config)
                progress("scratch restore: " + ", ".join(f"{t} {n} rows"
                                                         for t, n in counts.items()), None)
            finally:
                with contextlib.suppress(AdapterError):
                    pg.drop_database(config, scratch)
        progress(f"pg_restore --clean --single-transaction {path} → {config.shown()}", None)
        result = self._run(pg.pg_restore(config, path, timeout_s=step.timeout_s,
                                         on_line=self._relay(progress)), "pg_restore")
        if not result.ok:
            return "failed", (f"pg_restore failed: {result.message}{_tail(result)} (one "
                              "transaction: the database is as it was)")
        counts = pg.table_counts(config)
        return "done", (f"restored {path} into {config.shown()}: "
                        + ", ".join(f"{t} {n} rows" for t, n in counts.items()))

    def _migrate(self, step: DbMigrateStep, config: pg.DatabaseConfig, progress: Progress
                 ) -> tuple[str, str]:
        _prompt, argument, end = self._plan_migrate(step, config)  # checks again
        before = self._current_revision(config)
        verb = "downgrade" if step.direction == "down" else "upgrade"
        lines: list[str] = []

        def on_line(stream: str, line: str) -> None:
            self._collect(lines)(stream, line)
            progress(line, None)

        result = self._run(pg.alembic(config, step.config, [verb, argument],
                                      timeout_s=step.timeout_s, on_line=on_line),
                           f"alembic {verb}")
        after = self._current_revision(config)
        if not result.ok:
            return "failed", (f"alembic {verb} {argument} failed: {result.message}"
                              + (f"; {lines[-1]}" if lines else "") + f" (now at {after})")
        return "done", f"alembic {verb} {argument}: {before or 'base'} → {after or 'base'}"

    def _gate(self, step: SqlGateStep, config: pg.DatabaseConfig) -> tuple[str, str]:
        try:
            rows = pg.read_only_query(config, step.query, step.timeout_s)
        except AdapterError as error:
            return "failed", f"gate unknown (never a pass): {error.message}"
        if not rows:
            return "failed", "no rows: a gate with no result never passes"
        values = []
        for row in rows:
            value = row[0] if row else None
            if isinstance(value, bool) or value is None:
                return "failed", f"not a number ({value!r}): never a pass"
            try:
                values.append(float(value))
            except (TypeError, ValueError):
                return "failed", f"not a number ({value!r}): never a pass"
        failing = [v for v in values if not _OPS[step.op](v, step.threshold)]
        shown = ", ".join(f"{v:g}" for v in values[:10])
        if failing:
            return "failed", f"{shown}: {failing[0]:g} is not {step.op} {step.threshold:g}"
        return "done", f"{shown} {step.op} {step.threshold:g}"

    # ---- plumbing -----------------------------------------------------------------------
    @staticmethod
    def _relay(progress: Progress) -> Callable[[str, str], None]:
        def on_line(stream: str, line: str) -> None:
            progress(line if stream == "stdout" else f"stderr: {line}", None)
        return on_line

    def _run(self, coro: Coroutine[Any, Any, Any], what: str,
             cleanup: Callable[[], object] | None = None) -> Any:
        """Run a command coroutine; the stop event kills it (``Interrupted``, failed)."""
        stop = self.stop

        async def watch() -> Any:
            task = asyncio.ensure_future(coro)
            while not task.done():
                if stop.is_set():
                    task.cancel()  # adapters.shell kills the command's process group
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                    return _STOPPED
                await asyncio.wait({task}, timeout=0.05)
            return task.result()

        outcome = run_coroutine(watch())
        if outcome is _STOPPED:
            if cleanup is not None:
                cleanup()
            raise Interrupted("failed", f"stopped: {what} was killed before it finished")
        return outcome


_STOPPED = object()


def _tail(result: ShellResult) -> str:
    return f"; last output: {result.output_tail[-1]}" if result.output_tail else ""
