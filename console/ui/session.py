"""One console's connection to its cluster and incident: what the screen acts through.

`Session.connect` runs in a worker thread (it makes network requests and opens files): it
connects the cluster client, starts the watch at once (listing thousands of pods takes
seconds and waits for nothing else), opens the incident (runbook, audit log), then builds the
action runner, the metrics client and the runbook engine. It raises `ConnectError` with the
message to show. No Textual here: the screen turns what it does into messages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from adapters.errors import AdapterError
from adapters.informer import Informer
from adapters.informer_deltas import Delta
from adapters.informer_status import WatchStatus
from adapters.kube_config import is_production
from adapters.kubernetes import KubeClient
from adapters.metrics import MetricsClient
from adapters.postgres import DatabaseConfig
from console.domain.actions import ActionRunner, prober_for
from console.domain.audit import AuditError, AuditLog
from console.domain.incident import IncidentError
from console.domain.settings import ConsoleSettings
from console.runbook.session import ChecklistState

INFORMER_FLUSH = 0.015  # the informer gathers a batch for this long before handing it over
LIST_PAGE = 2000  # pods listed a page at a time: shown as they come, no 10,000-pod JSON held
ENGINE_SHUTDOWN_S = 2.5  # on exit: running runbook commands are killed and recorded (< HANGUP_GRACE)


class ConnectError(Exception):
    """The console cannot act: `message` says why (the watch may still run and show pods)."""

    def __init__(self, message: str, *, title: str = "cannot connect") -> None:
        super().__init__(message)
        self.message = message
        self.title = title


class Session:
    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self.kube: KubeClient | None = None
        self.informer: Informer | None = None
        self.metrics: MetricsClient | None = None
        self.audit: AuditLog | None = None
        self.checklist: ChecklistState | None = None
        self.runner: ActionRunner | None = None
        self.context = settings.context or "?"
        self.namespace = settings.namespace or "?"
        self.production = bool(settings.production)
        self.connection: WatchStatus | None = None
        self.cannot_act = ""  # why no action can run for the whole session (said on each key)
        self.denied: dict[str, str] = {}  # action kind -> why the user may not run it
        self.identity: str | None = None  # impersonation, for the header: "as alice (...)"

    def connect(self, *, on_deltas: Callable[[list[Delta]], None],
                on_status: Callable[[WatchStatus], None],
                redact: Callable[[Any], None],
                prompt: Callable[[Callable[[], Any]], Any] | None = None) -> None:
        """Connect, watch, open the incident and build the runner (see the module docstring).
        ``redact`` is given the client's secret values as soon as they are known; ``prompt``
        runs an exec credential plugin that must ask something with the terminal handed over."""
        s = self.settings
        try:
            kube = KubeClient.connect(s.kubeconfig, s.context, s.namespace,
                                      production=s.production)
        except AdapterError as error:
            raise ConnectError(error.message) from error
        self.kube = kube
        if kube.credentials is not None:
            kube.credentials.prompt = prompt
        self.identity = kube.impersonation.label if kube.impersonation else None
        redact(kube.secret_values())
        self.context = kube.context
        self.namespace = kube.namespace
        self.production = s.production if s.production is not None else is_production(
            kube.context)
        self.informer = kube.informer(
            self.namespace, kinds=("pods", "deployments", "replicasets"),
            label_selector=s.selector or None, on_deltas=on_deltas, on_status=on_status,
            flush_interval=INFORMER_FLUSH, page_size=LIST_PAGE,
            clock=s.cluster_clock, backoff_max=s.watch_backoff_max, stale_after=s.stale_after)
        self.informer.start()
        try:
            self._open_incident()
        except (AuditError, IncidentError, OSError, ValueError) as error:
            message = getattr(error, "message", str(error))
            # the pods stay on screen; no action runs without its audit trail
            self.cannot_act = f"cannot open the incident: {message}"
            raise ConnectError(self.cannot_act) from error
        assert self.audit is not None and self.checklist is not None
        self.audit.add_secrets(kube.secret_values())
        prober = prober_for(s.probe_ca)
        self.runner = ActionRunner(kube, self.audit, read_only=s.read_only, prober=prober,
                                   checks=s.checks)
        if s.metrics is not None:
            self.metrics = MetricsClient(s.metrics)
        unbound = self.checklist.attach_engine(
            actions=self.runner, metrics=self.metrics, prober=prober,
            context=self.context, namespace=self.namespace, two_person=s.two_person,
            database=DatabaseConfig(s.database_dsn, s.database_password_file)
            if s.database_dsn else None)
        if unbound:
            self.checklist.problems.append(unbound)  # type: ignore[arg-type]

    def _open_incident(self) -> None:
        s = self.settings
        self.checklist = ChecklistState.open(
            s.state_dir, resume=s.resume, context=self.context, namespace=self.namespace,
            title=s.incident_title or f"incident on {self.context}/{self.namespace}",
            severity=s.severity, runbook=s.runbook, runbook_values=s.runbook_values,
            user_dirs=s.user_runbook_dirs, clock=s.wall_clock, actor=s.actor)
        self.audit = self.checklist.audit

    @property
    def credentials_expiry(self) -> datetime | None:
        """When the exec plugin's credential expires, when known (shown in the header)."""
        return self.kube.credentials_expiry if self.kube is not None else None

    def namespace_missing(self) -> str | None:
        """The message when the watched namespace does not exist (a network request)."""
        if self.kube is not None and self.kube.namespace_exists(self.namespace) is False:
            return (f"namespace {self.namespace} not found in context {self.context}: "
                    "check -n/--namespace")
        return None

    def probe_permissions(self) -> bool:
        """Ask which actions the user may not run (network requests); True if that changed."""
        if self.runner is None or self.settings.read_only:
            return False
        denied = self.runner.denied_kinds(self.context, self.namespace)
        if denied == self.denied:
            return False
        self.denied = denied
        return True

    def close(self) -> None:
        engine = self.checklist.engine if self.checklist is not None else None
        if engine is not None:  # running commands (pg_dump...) killed, their end on record
            engine.shut_down(ENGINE_SHUTDOWN_S)
        if self.informer is not None:
            self.informer.stop(timeout=1.0)
        if self.metrics is not None:
            with contextlib.suppress(Exception):
                self.metrics.close()
