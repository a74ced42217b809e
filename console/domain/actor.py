"""Who is at the keyboard: the person, SSH connection, terminal and console behind an action.

Every audit record and every incident change carries an ``Actor``. On a bastion two engineers
often pair-drive, each in their own SSH session and console; the actor is what tells them apart
in the log and what the two-person rule (``same_operator``) compares.

The facts come from the process (uid, pid, controlling terminal) and the SSH environment
(``SSH_CLIENT``, ``SUDO_USER``). Environment variables can be forged by the person they
describe, so they are recorded but never decide who is who: a person is an account, the uid
of the console process. Two sessions of one account are one person.
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

    ``user`` is the account the console runs as and ``uid`` its uid (``os.getuid()``, not
    ``$USER``): the identity the two-person rule compares (None when unknown, e.g. an older
    record). ``sudo_user`` is what ``$SUDO_USER`` claims (recorded, never trusted); ``ssh_client`` is ``$SSH_CLIENT``
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
    uid: int | None = None

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
            uid=os.getuid(),
        )

    @property
    def client_ip(self) -> str | None:
        """The SSH client's address, if the console runs in an SSH session."""
        return self.ssh_client.split()[0] if self.ssh_client else None

    @property
    def label(self) -> str:
        """Short human form: ``alice (ssh 10.0.0.5, pts/3)``; the account comes first, a
        ``SUDO_USER`` claim after it (``ops (sudo from alice, pts/3)``)."""
        name = self.user
        where = [f"sudo from {self.sudo_user}"] if self.sudo_user else []
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
        pid, uid = data.get("pid"), data.get("uid")
        return cls(
            user=str(data.get("user") or "?"),
            ssh_client=_opt_str(data.get("ssh_client")),
            tty=_opt_str(data.get("tty")),
            pid=pid if isinstance(pid, int) else 0,
            console_id=str(data.get("console_id") or ""),
            host=str(data.get("host") or ""),
            sudo_user=_opt_str(data.get("sudo_user")),
            uid=uid if isinstance(uid, int) and not isinstance(uid, bool) else None,
        )


def same_operator(a: Actor, b: Actor) -> bool:
    """True when ``a`` and ``b`` cannot count as two different people (two-person rule).

    See ``two_person_refusal``: the same account (uid), an unknown uid, the same console or the
    same terminal on one host. Environment variables (``SSH_CLIENT``, ``SUDO_USER``) play no
    part: their owner can set them to anything.
    """
    return two_person_refusal(a, b) is not None


def two_person_refusal(proposer: Actor, approver: Actor) -> str | None:
    """Why ``approver`` cannot be the second person for what ``proposer`` proposed, or None.

    1. the same console: a console never approves its own proposal;
    2. an unknown uid on either side: who it is cannot be told, so it does not count;
    3. the same uid: one account is one person, however many SSH sessions or terminals it
       has (a shared account cannot satisfy the rule: each person needs their own);
    4. the same terminal on the same host, whatever account is in use (``su``).
    """
    if proposer.console_id and proposer.console_id == approver.console_id:
        return (f"two-person rule: this console proposed it ({proposer.label}); approval must "
                "come from another person at their own console")
    if proposer.uid is None or approver.uid is None:
        unknown = proposer if proposer.uid is None else approver
        return (f"two-person rule: the account of {unknown.label} is not known (no uid on "
                "record), so it cannot count as a second person")
    if proposer.uid == approver.uid:
        return (f"the two-person rule needs two accounts: {proposer.label} proposed this as "
                f"{proposer.user} (uid {proposer.uid}), and this console runs as the same "
                "account. A second session of one account is not a second person: the approver "
                "must log in with their own account and join the incident (--resume)")
    if proposer.tty and proposer.tty == approver.tty and proposer.host == approver.host:
        return (f"two-person rule: {proposer.label} proposed this on terminal {proposer.tty}, "
                "the terminal this console runs on: one terminal is one person")
    return None


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


__all__ = ["Actor", "process_console_id", "same_operator", "two_person_refusal"]
