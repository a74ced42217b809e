"""Who is at the keyboard: the person, SSH connection, terminal and console behind an action.

Every audit record and every incident change carries an ``Actor``. On a bastion two engineers
often pair-drive, each in their own SSH session and console; the actor is what tells them apart
in the log and what the two-person rule (``same_operator``) compares.

The facts come from the process (uid, pid, controlling terminal) and the SSH environment
(``SSH_CLIENT``, ``SUDO_USER``). Environment variables can be forged by the person they
describe: the rule guards against *accidental* self-approval and the log records every fact,
it is not a defence against an insider editing their own environment.
"""

from __future__ import annotations

import os
import pwd
import secrets
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

_CONSOLE_ID = f"c-{secrets.token_hex(4)}"


def process_console_id() -> str:
    """A random id for this console process, stable for its lifetime."""
    return _CONSOLE_ID


@dataclass(frozen=True)
class Actor:
    """The operator behind an action.

    ``user`` is the account the console runs as (from the uid, not ``$USER``); ``sudo_user`` the
    account that ran ``sudo`` to get there, if any; ``ssh_client`` is ``$SSH_CLIENT``
    ("client-ip client-port server-port", one value per SSH connection); ``tty`` the controlling
    terminal (``/dev/pts/3``); ``console_id`` is random per console process.
    """

    user: str
    ssh_client: str | None = None
    tty: str | None = None
    pid: int = 0
    console_id: str = ""
    host: str = ""
    sudo_user: str | None = None

    @classmethod
    def current(cls, env: Mapping[str, str] | None = None, console_id: str | None = None) -> Actor:
        """The actor for this process."""
        env = os.environ if env is None else env
        ssh = env.get("SSH_CLIENT") or _ssh_client_from_connection(env.get("SSH_CONNECTION"))
        return cls(
            user=_account_name(),
            ssh_client=ssh or None,
            tty=_terminal(env),
            pid=os.getpid(),
            console_id=console_id or process_console_id(),
            host=socket.gethostname(),
            sudo_user=env.get("SUDO_USER") or None,
        )

    @property
    def person(self) -> str:
        """The human behind the account: the sudo caller if there is one, else the account."""
        return self.sudo_user or self.user

    @property
    def client_ip(self) -> str | None:
        """The SSH client's address, if the console runs in an SSH session."""
        return self.ssh_client.split()[0] if self.ssh_client else None

    @property
    def label(self) -> str:
        """Short human form: ``alice (ssh 10.0.0.5, pts/3)``."""
        name = self.user if not self.sudo_user else f"{self.sudo_user} as {self.user}"
        where = []
        if self.client_ip:
            where.append(f"ssh {self.client_ip}")
        if self.tty:
            where.append(self.tty.removeprefix("/dev/"))
        return f"{name} ({', '.join(where)})" if where else name

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (all keys always present)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Actor:
        """Inverse of ``to_dict``; tolerant of missing keys in older records."""
        pid = data.get("pid")
        return cls(
            user=str(data.get("user") or "?"),
            ssh_client=_opt_str(data.get("ssh_client")),
            tty=_opt_str(data.get("tty")),
            pid=pid if isinstance(pid, int) else 0,
            console_id=str(data.get("console_id") or ""),
            host=str(data.get("host") or ""),
            sudo_user=_opt_str(data.get("sudo_user")),
        )


def same_operator(a: Actor, b: Actor) -> bool:
    """True when ``a`` and ``b`` cannot count as two different people (two-person rule).

    They are the same operator when any of these holds:

    1. the same console (``console_id``): a console never approves its own proposal;
    2. the same terminal on the same host (``tty``), whatever account is in use: one terminal is
       one person, even after ``su``;
    3. the same person (``sudo_user`` or else ``user``) over the same SSH connection
       (``ssh_client`` equal, which includes both being local, i.e. no SSH at all).

    So two engineers with their own accounts always qualify; two SSH connections to one shared
    account qualify (the log records both connections); a second tmux pane or a second local
    terminal of the same person does not.
    """
    if a.console_id and a.console_id == b.console_id:
        return True
    if a.tty and a.tty == b.tty and a.host == b.host:
        return True
    return a.person == b.person and a.ssh_client == b.ssh_client


def _account_name() -> str:
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


def _terminal(env: Mapping[str, str]) -> str | None:
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return os.ttyname(fd)
        except OSError:
            continue
    return env.get("SSH_TTY") or None


def _ssh_client_from_connection(connection: str | None) -> str | None:
    # SSH_CONNECTION is "client-ip client-port server-ip server-port".
    if not connection:
        return None
    parts = connection.split()
    if len(parts) != 4:
        return None
    return f"{parts[0]} {parts[1]} {parts[3]}"


def _opt_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


__all__ = ["Actor", "process_console_id", "same_operator"]
