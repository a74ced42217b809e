"""Exec credential plugins (``aws eks get-token``, ``gke-gcloud-auth-plugin``, kubelogin) run
as client-go runs them, not as the official python client does.

The python client runs the plugin once at load, logs a failure and carries on without
credentials (a real server then answers as ``system:anonymous``), tells the plugin it is
interactive whenever stdout is a terminal, hands it the console's stdin and terminal, and
re-runs it on every request once the token has less than five minutes left. Here, as in
client-go (``plugin/pkg/client/auth/exec/exec.go``):

- the plugin runs when a request needs credentials, one run at a time; callers that waited
  for a run share its result, success or failure;
- a credential is kept until its ``expirationTimestamp`` (a few seconds early), not five
  minutes early; a 401 drops it (``invalidate``) so the next request runs the plugin again;
- ``interactiveMode: Never`` (and no way to prompt) runs it with no stdin and its stderr
  captured; a failure raises ``CredentialPluginError`` with the plugin's stderr, redacted;
- ``IfAvailable`` / ``Always`` use ``prompt`` when the console installs one (it hands the
  terminal over and takes it back): ``IfAvailable`` only after a quiet run failed;
- client certificates returned by the plugin are refreshed like tokens (``KubeRequests``
  rebuilds its connection pool when they change).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from .errors import Invalid, Unauthorized
from .redact import redact

T = TypeVar("T")
Prompt = Callable[[Callable[[], T]], T]

EARLY = timedelta(seconds=5)  # refresh this long before the credential expires
STDERR_SHOWN = 600  # characters of the plugin's stderr put in a message
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f]")


class CredentialPluginError(Unauthorized):
    """The exec credential plugin failed: no request was sent (kubectl stops here too)."""


@dataclass(frozen=True)
class ExecConfig:
    """A kubeconfig ``users[].user.exec`` block."""

    command: str
    api_version: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    interactive_mode: str = "IfAvailable"  # Never | IfAvailable | Always
    install_hint: str = ""
    cluster: dict[str, Any] | None = None  # sent when provideClusterInfo is true
    base_path: str = ""  # the kubeconfig's directory: relative commands and the cwd

    @classmethod
    def from_kubeconfig(cls, exec_block: Any, cluster: Any, base_path: str) -> ExecConfig:
        block = dict(getattr(exec_block, "value", exec_block) or {})
        for key in ("command", "apiVersion"):
            if not block.get(key):
                raise Invalid(f"The kubeconfig's exec credential plugin has no {key!r}.")
        mode = str(block.get("interactiveMode") or "IfAvailable")
        if mode not in ("Never", "IfAvailable", "Always"):
            raise Invalid(f"The kubeconfig's exec interactiveMode {mode!r} is not one of "
                          "Never, IfAvailable, Always.")
        env = tuple((str(e["name"]), str(e["value"])) for e in block.get("env") or [])
        cluster_info = None
        if block.get("provideClusterInfo"):
            cluster_info = dict(getattr(cluster, "value", cluster) or {})
        return cls(str(block["command"]), str(block["apiVersion"]),
                   tuple(str(a) for a in block.get("args") or ()), env, mode,
                   str(block.get("installHint") or ""), cluster_info, base_path)

    @property
    def name(self) -> str:
        """How the plugin is named in messages: ``aws eks get-token``."""
        words = [Path(w).name for w in (self.command, *self.args[:2]) if not w.startswith("-")]
        return " ".join(words)[:80]


@dataclass(frozen=True)
class Credential:
    """What one plugin run returned."""

    token: str | None = None
    cert_pem: str | None = None
    key_pem: str | None = None
    expiry: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expiry is not None and now >= self.expiry - EARLY


def _plain(text: str) -> str:
    """Outside text for a message: no escape sequences or control characters, bounded,
    secrets masked."""
    cleaned = " ".join(_CONTROL.sub(" ", text).split())
    if len(cleaned) > STDERR_SHOWN:
        cleaned = "…" + cleaned[-STDERR_SHOWN:]
    return redact(cleaned)


def _parse_time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)


class ExecCredentials:
    """The credentials of one kubeconfig user with an exec plugin; thread-safe."""

    def __init__(self, config: ExecConfig, *, context: str = "", timeout: float = 120.0,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.config = config
        self.context = context
        self.timeout = timeout
        self.now = now
        # Set by the console: runs a function with the terminal handed over (Textual's
        # App.suspend); None means no prompt is possible.
        self.prompt: Prompt[Any] | None = None
        self.runs = 0  # plugin runs so far
        self._lock = threading.Lock()
        self._current: Credential | None = None
        self._failure: CredentialPluginError | None = None
        self._generation = 0  # plugin runs finished

    @property
    def expiry(self) -> datetime | None:
        """When the current credential expires (None: unknown, or none yet)."""
        current = self._current
        return current.expiry if current is not None else None

    def get(self) -> Credential:
        """The current credential, running the plugin when there is none or it expired."""
        seen = self._generation
        with self._lock:
            if self._generation != seen and self._failure is not None:
                raise self._failure  # a run finished while we waited: it failed for us too
            current = self._current
            if current is not None and not current.expired(self.now()):
                return current
            try:
                credential = self._run()
            except CredentialPluginError as error:
                self._current, self._failure = None, error
                raise
            finally:
                self._generation += 1
            self._current, self._failure = credential, None
            return credential

    def invalidate(self, used: Credential | None) -> None:
        """The server rejected ``used`` (401): the next ``get`` runs the plugin again."""
        with self._lock:
            if self._current is not None and self._current == used:
                self._current = None

    # -- one run ----------------------------------------------------------------------------
    def _command(self) -> str:
        command = self.config.command
        if os.sep in command and not os.path.isabs(command) and self.config.base_path:
            command = os.path.join(self.config.base_path, command)
        return command

    def _run(self) -> Credential:
        mode = self.config.interactive_mode
        if mode == "Always":
            if self.prompt is None:
                raise self._error("needs a terminal to ask you something (interactiveMode: "
                                  "Always) and the console has none to hand over")
            return self._run_prompted()
        try:
            return self._run_once(interactive=False)
        except CredentialPluginError:
            if mode == "IfAvailable" and self.prompt is not None:
                return self._run_prompted()
            raise

    def _run_prompted(self) -> Credential:
        assert self.prompt is not None
        try:
            result: Credential = self.prompt(lambda: self._run_once(interactive=True))
        except CredentialPluginError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. Textual cannot suspend here
            raise self._error(f"needs a terminal to ask you something and the console could "
                              f"not hand it over ({type(exc).__name__})") from exc
        return result

    def _run_once(self, *, interactive: bool) -> Credential:
        command = self._command()
        if shutil.which(command) is None:
            hint = f" {_plain(self.config.install_hint)}" if self.config.install_hint else ""
            raise self._error(f"cannot run: executable {command} not found.{hint}")
        info: dict[str, Any] = {"apiVersion": self.config.api_version,
                                "kind": "ExecCredential", "spec": {"interactive": interactive}}
        if self.config.cluster is not None:
            info["spec"]["cluster"] = self.config.cluster
        env = {**os.environ, **dict(self.config.env),
               "KUBERNETES_EXEC_INFO": json.dumps(info)}
        self.runs += 1
        try:
            finished = subprocess.run(
                [command, *self.config.args], env=env, cwd=self.config.base_path or None,
                stdin=None if interactive else subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=None if interactive else subprocess.PIPE, timeout=self.timeout,
                check=False)
        except subprocess.TimeoutExpired as exc:
            raise self._error(f"did not finish within {self.timeout:g} s") from exc
        except OSError as exc:
            raise self._error(f"cannot run: {exc.strerror or exc}") from exc
        stderr = _plain((finished.stderr or b"").decode("utf-8", "replace"))
        if finished.returncode != 0:
            said = f": {stderr}" if stderr else ""
            raise self._error(f"failed with exit code {finished.returncode}{said}")
        return self._parse(finished.stdout.decode("utf-8", "replace"))

    def _parse(self, stdout: str) -> Credential:
        try:
            data = json.loads(stdout)
        except ValueError as exc:
            raise self._error("printed something that is not an ExecCredential "
                              "(not JSON)") from exc
        if not isinstance(data, dict) or data.get("kind") != "ExecCredential":
            raise self._error("printed something that is not an ExecCredential")
        if data.get("apiVersion") != self.config.api_version:
            raise self._error(f"answered with apiVersion {data.get('apiVersion')!r}, not "
                              f"{self.config.api_version!r} as the kubeconfig asks")
        status = data.get("status") or {}
        expiry = None
        if status.get("expirationTimestamp"):
            try:
                expiry = _parse_time(str(status["expirationTimestamp"]))
            except ValueError as exc:
                raise self._error("gave an expirationTimestamp that is not a time") from exc
        if status.get("token"):
            return Credential(token=str(status["token"]), expiry=expiry)
        if status.get("clientCertificateData") and status.get("clientKeyData"):
            return Credential(cert_pem=str(status["clientCertificateData"]),
                              key_pem=str(status["clientKeyData"]), expiry=expiry)
        raise self._error("returned neither a token nor a client certificate and key")

    def _error(self, what: str) -> CredentialPluginError:
        ctx = f" for context {self.context}" if self.context else ""
        what = what.rstrip(". ")
        message = (f"Not logged in{ctx}: the credential plugin `{self.config.name}` {what}. "
                   "No request was sent (kubectl stops here too). Log in as the plugin asks "
                   "(for example `aws sso login`, `gcloud auth login` or `az login`); the "
                   "console runs the plugin again on its next try.")
        return CredentialPluginError(message, f"exec plugin {self.config.command}: {what}")


__all__ = ["Credential", "CredentialPluginError", "ExecConfig", "ExecCredentials", "Prompt"]
