"""A real PostgreSQL server for the drill: `initdb` + `pg_ctl` in a temporary directory.

The server listens on a Unix socket in its own directory and on 127.0.0.1 at a free port.
Local (socket) connections are trusted, which is how the drill itself writes; TCP connections
need the password the drill keeps in a 0600 file, which is how the console connects (the
password never appears in a DSN). `initdb` refuses to run as root, so as root the server runs
as the unprivileged `postgres` system user (Debian's `postgresql` package creates it).
`stop()` (or the object going away, or interpreter exit) stops the server and removes the
directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import weakref
from pathlib import Path
from typing import Any

SERVER_USER = "postgres"  # who runs the server when the drill runs as root
SUPERUSER = "warroom"  # the database role the drill creates (and connects as)
START_TIMEOUT_S = 30


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are missing or the server did not start."""


def server_bin(name: str) -> str:
    """Path of a PostgreSQL server binary (`initdb`, `pg_ctl`): PATH, then Debian's dirs."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        if os.access(candidate, os.X_OK):
            return candidate
    raise PostgresUnavailable(
        f"{name} not found: install Debian's postgresql package (apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user() -> dict[str, Any]:
    """subprocess options that run a command as the server's user (nothing unless root)."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, the drill needs the unprivileged {SERVER_USER!r} user to run "
            "PostgreSQL (apt-get install postgresql creates it)") from None
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _stop(pg_ctl: str, data: Path, root: Path, options: dict[str, Any]) -> None:
    if (data / "postmaster.pid").exists():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run([pg_ctl, "stop", "-D", str(data), "-m", "immediate", "-w"],
                           capture_output=True, timeout=30, check=False, **options)
    shutil.rmtree(root, ignore_errors=True)


class DrillPostgres:
    """One throw-away PostgreSQL cluster. `start()` then use `dsn` / `local_dsn`."""

    def __init__(self, prefix: str = "warroom-pg-") -> None:
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self.data = self.root / "data"
        self.socket_dir = self.root / "run"
        self.backup_dir = self.root / "backups"  # the drill's scheduled dumps
        self.password_file = self.root / "password"
        self.pgpass_file = self.root / "pgpass"  # libpq's format, for psql & co (PGPASSFILE)
        self.port = 0
        self._options = _as_server_user()
        self._stopper: weakref.finalize | None = None
        self._remove_root = weakref.finalize(self, shutil.rmtree, self.root, ignore_errors=True)

    # ---- connection settings ----------------------------------------------------------------
    @property
    def dsn(self) -> str:
        """TCP DSN without the password (it is in `password_file`)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def dsn_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def local_dsn(self, database: str = "postgres") -> str:
        """Unix-socket DSN (trusted): how the drill itself connects."""
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={database}"

    def libpq_env(self) -> dict[str, str]:
        """What a shell's environment needs for `psql`, `pg_dump`... to reach this server."""
        return {"PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGUSER": SUPERUSER,
                "PGPASSFILE": str(self.pgpass_file)}

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> DrillPostgres:
        initdb, pg_ctl = server_bin("initdb"), server_bin("pg_ctl")
        self.socket_dir.mkdir()
        self.backup_dir.mkdir()
        pwfile = self.root / "initdb-password"
        pwfile.write_text(secrets.token_urlsafe(18) + "\n")
        pwfile.chmod(0o600)
        if self._options:  # root: the server's user owns its directories
            for path in (self.root, self.socket_dir, pwfile):
                os.chown(path, self._options["user"], self._options["group"])
        self._run([initdb, "-D", str(self.data), "-U", SUPERUSER, "--auth-local=trust",
                   "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "--no-sync",
                   "-E", "UTF8", "--locale=C"], "initdb")
        shutil.copyfile(pwfile, self.password_file)
        self.password_file.chmod(0o600)
        pwfile.unlink()
        if self._options:
            os.chown(self.password_file, 0, 0)
        self.port = _free_port()
        self.pgpass_file.write_text(f"127.0.0.1:{self.port}:*:{SUPERUSER}:{self.password}\n")
        self.pgpass_file.chmod(0o600)
        server_options = (f"-k {self.socket_dir} -p {self.port} -c listen_addresses=127.0.0.1 "
                          "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                          "-c max_connections=40 -c shared_buffers=32MB")
        self._stopper = weakref.finalize(self, _stop, pg_ctl, self.data, self.root,
                                         self._options)
        self._run([pg_ctl, "start", "-D", str(self.data), "-w", "-t", str(START_TIMEOUT_S),
                   "-l", str(self.root / "server.log"), "-o", server_options], "pg_ctl start")
        return self

    def _run(self, argv: list[str], what: str) -> None:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                                  check=False, cwd=self.root, **self._options)
        except (OSError, subprocess.SubprocessError) as exc:
            raise PostgresUnavailable(f"{what} failed: {exc}") from None
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-600:] if log.exists() else ""
            raise PostgresUnavailable(
                f"{what} failed (exit {done.returncode}): {(done.stderr or done.stdout)[-600:]}"
                f"{tail}")

    def stop(self) -> None:
        """Stop the server (immediately) and remove its directory; safe to call twice."""
        if self._stopper is not None:
            self._stopper()
        self._remove_root()

    @property
    def running(self) -> bool:
        return self._stopper is not None and self._stopper.alive
