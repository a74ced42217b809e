"""A tiny exec credential plugin for the drill cluster, so clients meet the exec path for real.

``install`` writes a stand-alone script (standard library only) and its state into a folder
and returns the kubeconfig ``exec`` block that runs it. Each run prints an ExecCredential with
the token in ``token`` and an ``expirationTimestamp`` ``ttl`` seconds ahead, and appends one
JSON line to ``runs.log`` (start, end, what it was told about interactivity, whether it got a
stdin). While a ``fail`` file exists it prints that file's text to stderr and exits 1 -- an
"SSO session expired" a test switches on and off. While a ``password`` file exists it asks
for that password on the terminal, and fails when it is not given one (a non-interactive run). ``delay`` makes each run take that long, so
parallel runs would overlap visibly.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = r'''
import json, os, sys, time
from datetime import datetime, timedelta, timezone

folder, ttl, delay = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
start = time.time()
info = json.loads(os.environ.get("KUBERNETES_EXEC_INFO") or "{}")
failing = os.path.join(folder, "fail")
try:
    stdin_open = not os.path.samefile("/dev/null", "/proc/self/fd/0")
except OSError:
    stdin_open = False
if delay:
    time.sleep(delay)
record = {"start": start, "end": time.time(), "pid": os.getpid(),
          "interactive": (info.get("spec") or {}).get("interactive"),
          "stdin_tty": os.isatty(0), "stdin_open": stdin_open,
          "failed": os.path.exists(failing)}
with open(os.path.join(folder, "runs.log"), "a") as log:
    log.write(json.dumps(record) + "\n")
if os.path.exists(failing):
    with open(failing) as reason:
        sys.stderr.write(reason.read())
    sys.exit(1)
password = os.path.join(folder, "password")
if os.path.exists(password):  # a login that asks: only when the client hands over a terminal
    if not record["interactive"]:
        sys.stderr.write("login required: this plugin asks for your password in a terminal\n")
        sys.exit(1)
    sys.stderr.write("drill SSO password: ")
    sys.stderr.flush()
    given = sys.stdin.readline().strip()
    with open(password) as expected:
        if given != expected.read().strip():
            sys.stderr.write("wrong password\n")
            sys.exit(1)
with open(os.path.join(folder, "token")) as handle:
    token = handle.read().strip()
if os.path.exists(os.path.join(folder, "next-token")):  # a rotation: the next run gets it
    os.replace(os.path.join(folder, "next-token"), os.path.join(folder, "token"))
expires = datetime.now(timezone.utc) + timedelta(seconds=ttl)
print(json.dumps({"apiVersion": info.get("apiVersion", "client.authentication.k8s.io/v1"),
                  "kind": "ExecCredential",
                  "status": {"token": token,
                             "expirationTimestamp": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}}))
'''

# v1beta1: what `aws eks update-kubeconfig` writes, and the newest kubectl 1.20 knows
API_VERSION = "client.authentication.k8s.io/v1beta1"
SSO_EXPIRED = ("Error loading SSO Token: Token for drill-sso does not exist or has expired.\n"
               "To refresh this SSO session run 'aws sso login' with the corresponding "
               "profile.\n")


@dataclass(frozen=True)
class ExecPlugin:
    """One installed plugin: its folder and the switches tests use."""

    folder: Path

    @property
    def token(self) -> str:
        return (self.folder / "token").read_text().strip()

    def set_token(self, token: str) -> None:
        path = self.folder / "token"
        path.write_text(token)
        path.chmod(0o600)

    def rotate_after_next_run(self, token: str) -> None:
        """The next run still prints the current token; the runs after it print ``token``."""
        path = self.folder / "next-token"
        path.write_text(token)
        path.chmod(0o600)

    def fail(self, reason: str = SSO_EXPIRED) -> None:
        """Runs fail (exit 1, ``reason`` on stderr) until ``recover``."""
        (self.folder / "fail").write_text(reason)

    def recover(self) -> None:
        (self.folder / "fail").unlink(missing_ok=True)

    def require_password(self, password: str) -> None:
        """Runs ask for ``password`` on the terminal (interactive runs only; others fail)."""
        path = self.folder / "password"
        path.write_text(password)
        path.chmod(0o600)

    def runs(self) -> list[dict[str, Any]]:
        import json

        log = self.folder / "runs.log"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def install(folder: str | Path, token: str, *, ttl: float = 120.0, delay: float = 0.0,
            interactive_mode: str = "Never") -> tuple[ExecPlugin, dict[str, Any]]:
    """Write the plugin into ``folder``; return it and the kubeconfig ``exec`` block."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    script = target / "drill-credential-plugin.py"
    script.write_text(SCRIPT.lstrip())
    plugin = ExecPlugin(target)
    plugin.set_token(token)
    block = {"apiVersion": API_VERSION, "command": sys.executable,
             "args": [str(script), str(target), f"{ttl:g}", f"{delay:g}"],
             "interactiveMode": interactive_mode,
             "installHint": "The drill's credential plugin is written by `warroom drill-server "
                            "--exec-plugin`; run it again.",
             "provideClusterInfo": False}
    if os.environ.get("PYTHONNOUSERSITE"):
        block["env"] = [{"name": "PYTHONNOUSERSITE", "value": "1"}]
    return plugin, block


__all__ = ["API_VERSION", "SSO_EXPIRED", "ExecPlugin", "install"]
