"""PostgreSQL for runbook steps: connections, read-only queries, pg_dump / pg_restore, Alembic.

Connection settings are a libpq DSN (URL or ``key=value``) without the password and, apart
from it, a password file (the password alone) or libpq's own PGPASSFILE / ~/.pgpass. The
password goes to psycopg as a parameter and to child processes as PGPASSWORD (which the shell
adapter redacts from their output); it is never in a DSN that is shown or audited
(``redact_dsn`` masks one that carries it anyway).
Commands (`pg_dump`, `pg_restore`, `python -m alembic`) run through ``adapters.shell``: their
own process group, killed with everything they started when the step is stopped.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import conninfo, sql

from adapters.errors import AdapterError
from adapters.redact import MASK
from adapters.shell import ShellResult, run_command

CONNECT_TIMEOUT_S = 10
_URL_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s]*):[^@\s]*@")
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


class DatabaseError(AdapterError):
    """A database operation failed (connection, query, command)."""


def redact_dsn(dsn: str) -> str:
    """The DSN with any password masked (URL ``user:pw@`` or ``password=pw``)."""
    return _KV_PASSWORD.sub(rf"\g<1>{MASK}", _URL_PASSWORD.sub(rf"\g<1>:{MASK}@", dsn))


@dataclass(frozen=True)
class DatabaseConfig:
    """Where a context's database is: ``dsn`` (no password) and where the password is."""

    dsn: str
    password_file: str | None = None

    def password(self) -> str | None:
        if not self.password_file:
            return None
        try:
            return Path(self.password_file).read_text().strip() or None
        except OSError as exc:
            raise DatabaseError(f"cannot read the database password file "
                                f"{self.password_file}: {exc.strerror or exc}") from None

    def for_database(self, name: str | None) -> DatabaseConfig:
        """The same server with another database name (``None``: unchanged)."""
        if not name:
            return self
        try:
            return DatabaseConfig(conninfo.make_conninfo(self.dsn, dbname=name),
                                  self.password_file)
        except psycopg.ProgrammingError as exc:
            raise DatabaseError(f"bad database DSN {redact_dsn(self.dsn)}: {exc}") from None

    @property
    def dbname(self) -> str:
        try:
            return conninfo.conninfo_to_dict(self.dsn).get("dbname") or ""
        except psycopg.ProgrammingError:
            return ""

    def shown(self) -> str:
        return redact_dsn(self.dsn)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment for a child process (libpq reads PGPASSWORD)."""
        env = {**os.environ, **extra}
        password = self.password()
        if password:
            env["PGPASSWORD"] = password
        return env

    def connect(self, **options: Any) -> psycopg.Connection:
        kwargs: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S, **options}
        password = self.password()
        if password:
            kwargs["password"] = password
        try:
            return psycopg.connect(self.dsn, **kwargs)
        except psycopg.Error as exc:
            raise DatabaseError(f"cannot connect to {self.shown()}: {_first_line(exc)}",
                                detail=str(exc)) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def read_only_query(config: DatabaseConfig, query: str, timeout_s: float = 30.0
                    ) -> list[tuple[Any, ...]]:
    """Run ``query`` in a READ ONLY transaction (rolled back) with a statement timeout."""
    try:
        with config.connect() as conn:
            conn.execute("BEGIN READ ONLY")
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(
                int(timeout_s * 1000)))
            rows = conn.execute(query).fetchall()  # type: ignore[arg-type]
            conn.rollback()
            return rows
    except psycopg.Error as exc:
        raise DatabaseError(f"query failed: {_first_line(exc)}", detail=str(exc)) from None


def table_counts(config: DatabaseConfig) -> dict[str, int]:
    """Rows per table of the public schema (what a restore would replace)."""
    try:
        with config.connect() as conn:
            conn.execute("BEGIN READ ONLY")
            names = [row[0] for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
            counts = {}
            for name in names:
                row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
                    sql.Identifier(name))).fetchone()
                counts[name] = int(row[0]) if row else 0
            conn.rollback()
            return counts
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot count rows: {_first_line(exc)}", detail=str(exc)) from None


def state_fingerprint(config: DatabaseConfig) -> str:
    """A digest of the database's visible state: per table its row count and the largest
    ``id`` (when it has one) plus the schema revision. Two equal fingerprints: nothing was
    written between them (as far as inserts, deletes and migrations go)."""
    try:
        with config.connect() as conn:
            conn.execute("BEGIN READ ONLY")
            parts = []
            tables = conn.execute(
                "SELECT t.tablename, EXISTS (SELECT 1 FROM information_schema.columns c "
                "WHERE c.table_schema = 'public' AND c.table_name = t.tablename "
                "AND c.column_name = 'id') FROM pg_tables t WHERE t.schemaname = 'public' "
                "ORDER BY 1").fetchall()
            for name, has_id in tables:
                query = (sql.SQL("SELECT count(*), max(id)::text FROM {}") if has_id
                         else sql.SQL("SELECT count(*), NULL FROM {}"))
                row = conn.execute(query.format(sql.Identifier(name))).fetchone()
                parts.append(f"{name}:{row[0] if row else 0}:{row[1] if row else ''}")
            columns = conn.execute(
                "SELECT table_name || '.' || column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY 1").fetchall()
            parts.append(",".join(c[0] for c in columns))
            conn.rollback()
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot read the database state: {_first_line(exc)}",
                            detail=str(exc)) from None
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def create_database(config: DatabaseConfig, name: str) -> None:
    _admin(config, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(config: DatabaseConfig, name: str) -> None:
    _admin(config, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(name)))


def _admin(config: DatabaseConfig, statement: sql.Composed) -> None:
    try:
        with config.connect(autocommit=True) as conn:
            conn.execute(statement)
    except psycopg.Error as exc:
        raise DatabaseError(_first_line(exc), detail=str(exc)) from None


# ---- commands -------------------------------------------------------------------------------
LineSink = Callable[[str, str], None]


async def pg_dump(config: DatabaseConfig, path: Path, *, timeout_s: float,
                  on_line: LineSink | None = None) -> ShellResult:
    """``pg_dump -Fc`` (custom format, what pg_restore reads) into ``path``."""
    return await run_command(["pg_dump", "-Fc", f"--file={path}", "-d", config.dsn],
                             timeout_s=timeout_s, on_line=on_line, env=config.env())


async def pg_restore_list(path: Path, *, timeout_s: float = 120.0) -> tuple[ShellResult,
                                                                             list[str]]:
    """``pg_restore --list``: proves the archive readable; returns the TABLE DATA entries."""
    tables: list[str] = []

    def collect(stream: str, line: str) -> None:
        if stream == "stdout" and " TABLE DATA " in line:
            tables.append(line.split(" TABLE DATA ", 1)[1].split()[1])

    result = await run_command(["pg_restore", "--list", str(path)], timeout_s=timeout_s,
                               on_line=collect)
    return result, tables


async def pg_restore(config: DatabaseConfig, path: Path, *, timeout_s: float,
                     on_line: LineSink | None = None, clean: bool = True) -> ShellResult:
    """``pg_restore`` into the database, in one transaction (all or nothing)."""
    argv = ["pg_restore", "--single-transaction", "--no-owner", "-d", config.dsn]
    if clean:
        argv[1:1] = ["--clean", "--if-exists"]
    return await run_command([*argv, str(path)], timeout_s=timeout_s, on_line=on_line,
                             env=config.env())


def alembic_argv(ini: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "alembic", "-c", ini, *args]


async def alembic(config: DatabaseConfig, ini: str, args: Sequence[str], *, timeout_s: float,
                  on_line: LineSink | None = None) -> ShellResult:
    """Alembic against the database (its env.py reads WARROOM_DATABASE_DSN)."""
    return await run_command(alembic_argv(ini, *args), timeout_s=timeout_s, on_line=on_line,
                             env=config.env(WARROOM_DATABASE_DSN=config.dsn),
                             cwd=str(Path(ini).parent))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
