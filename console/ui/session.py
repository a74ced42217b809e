"""One console's connections to its clusters and its incident: what the screen acts through.

`Session.connect` runs in a worker thread (it makes network requests and opens files): it
connects the cluster client of every context (console/ui/cluster_link.py: one `ClusterLink`
per context, `--context a,b`), starts their watches at once (listing thousands of pods takes
seconds and waits for nothing else), opens the incident (runbook, audit log), then builds the
action runners, the metrics client and the runbook engine. It raises `ConnectError` with the
message to show. No Textual here: the screen turns what it does into messages.

One link is focused: ``kube``, ``informer``, ``runner``, ``context``, ``namespace``,
``production``, ``connection``, ``denied`` and ``identity`` are the focused link's, so a
console on one context (N=1) works exactly as before. The runbook engine and the metrics
client belong to the first context.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from adapters.informer import Informer
from adapters.informer_deltas import Delta
from adapters.informer_status import WatchStatus
from adapters.kubernetes import KubeClient
from adapters.metrics import MetricsClient
from adapters.postgres import DatabaseConfig
from console.domain.actions import ActionRunner, prober_for
from console.domain.audit import AuditError, AuditLog
from console.domain.audit_disk import AuditDiskGuard
from console.domain.incident import Incident, IncidentError
from console.domain.settings import ConsoleSettings
from console.domain.statefiles import default_state_dir
from console.runbook.session import ChecklistState
from console.ui.cluster_link import INFORMER_FLUSH, LIST_PAGE, ClusterLink, ConnectError

ENGINE_SHUTDOWN_S = 2.5  # on exit: running runbook commands are killed and recorded (< HANGUP_GRACE)

__all__ = ["INFORMER_FLUSH", "LIST_PAGE", "ClusterLink", "ConnectError", "Session"]


class Session:
    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        names = settings.contexts or (settings.context,)
        self.links: list[ClusterLink] = [ClusterLink(settings, name) for name in names]
        self.focused: ClusterLink = self.links[0]
        self.audit: AuditLog | None = None
        self.checklist: ChecklistState | None = None
        self.cannot_act = ""  # why no action can run for the whole session (said on each key)
        self.problems: list[str] = []  # contexts that could not be connected (several only)
        # the bastion's health and the audit disk (sampled by the screen's host worker)
        self.bastion = AuditDiskGuard(settings.state_dir or default_state_dir())

    # ---- the focused link (the only one, on one context) -------------------------------------
    @property
    def primary(self) -> ClusterLink:
        return self.links[0]

    @property
    def several(self) -> bool:
        return len(self.links) > 1

    @property
    def kube(self) -> KubeClient | None:
        return self.focused.kube

    @property
    def informer(self) -> Informer | None:
        return self.focused.informer

    @property
    def runner(self) -> ActionRunner | None:
        return self.focused.runner

    @property
    def metrics(self) -> MetricsClient | None:
        return self.primary.metrics

    @property
    def context(self) -> str:
        return self.focused.context

    @property
    def namespace(self) -> str:
        return self.focused.namespace

    @property
    def production(self) -> bool:
        return self.focused.production

    @property
    def identity(self) -> str | None:
        return self.focused.identity

    @property
    def connection(self) -> WatchStatus | None:
        return self.focused.connection

    @connection.setter
    def connection(self, status: WatchStatus | None) -> None:
        self.focused.connection = status

    @property
    def denied(self) -> dict[str, str]:
        return self.focused.denied

    @denied.setter
    def denied(self, denied: dict[str, str]) -> None:
        self.focused.denied = denied

    def link(self, context: str) -> ClusterLink | None:
        """The link connected to ``context`` (None: this console is not on it)."""
        return next((link for link in self.links if link.context == context), None)

    def runner_for(self, context: str) -> ActionRunner | None:
        """The runner of ``context``'s link; the focused one when this console is not on it
        (its pre-check then refuses the request, naming both contexts)."""
        link = self.link(context)
        return link.runner if link is not None else self.runner

    def production_of(self, context: str) -> bool:
        link = self.link(context)
        return link.production if link is not None else self.production

    # ---- connecting --------------------------------------------------------------------------
    def connect(self, *, on_deltas: Callable[[ClusterLink, list[Delta]], None],
                on_status: Callable[[ClusterLink, WatchStatus], None],
                redact: Callable[[Any], None],
                prompt: Callable[[Callable[[], Any]], Any] | None = None) -> None:
        """Connect, watch, open the incident and build the runners (see the module
        docstring). ``on_deltas`` and ``on_status`` are told which link the batch or status
        is of; ``redact`` is given the clients' secret values as soon as they are known;
        ``prompt`` runs an exec credential plugin that must ask something with the terminal
        handed over."""
        s = self.settings
        connected: list[ClusterLink] = []
        for link in self.links:
            try:
                link.connect(on_deltas=functools.partial(on_deltas, link),
                             on_status=functools.partial(on_status, link),
                             redact=redact, prompt=prompt)
            except ConnectError as error:
                if not self.several:
                    raise
                self.problems.append(f"context {link.context}: {error.message}")
                continue
            connected.append(link)
        if not connected:
            raise ConnectError("; ".join(self.problems))
        first = connected[0]
        try:
            self._open_incident(first)
        except (AuditError, IncidentError, OSError, ValueError) as error:
            message = getattr(error, "message", str(error))
            # the pods stay on screen; no action runs without its audit trail
            self.cannot_act = f"cannot open the incident: {message}"
            raise ConnectError(self.cannot_act) from error
        assert self.audit is not None and self.checklist is not None
        prober = prober_for(s.probe_ca)
        for link in connected:
            link.arm(self.audit, prober, audit_refusal=self.bastion.refusal)
        if s.metrics is not None:
            first.metrics = MetricsClient(s.metrics)
        assert first.runner is not None
        for link in connected:
            link.watch_rollouts()  # Argo Rollouts too, where discovery shows them
        unbound = self.checklist.attach_engine(
            actions=first.runner, metrics=first.metrics, prober=prober,
            context=first.context, namespace=first.namespace, two_person=s.two_person,
            database=DatabaseConfig(s.database_dsn, s.database_password_file)
            if s.database_dsn else None)
        if unbound:
            self.checklist.problems.append(unbound)  # type: ignore[arg-type]

    @property
    def argo(self) -> Informer | None:
        """The focused context's Argo Rollouts watch (None: the cluster serves none)."""
        return self.focused.argo

    @property
    def argo_served(self) -> bool:
        return self.focused.argo is not None

    def _open_incident(self, first: ClusterLink) -> None:
        s = self.settings
        self.checklist = ChecklistState.open(
            s.state_dir, resume=s.resume, context=first.context, namespace=first.namespace,
            title=s.incident_title or f"incident on {first.context}/{first.namespace}",
            severity=s.severity, runbook=s.runbook, runbook_values=s.runbook_values,
            user_dirs=s.user_runbook_dirs, clock=s.wall_clock, actor=s.actor)
        self.audit = self.checklist.audit
        if self.several:
            self._record_contexts()

    def _record_contexts(self) -> None:
        """The incident names every context this console works on (several consoles on one
        incident add theirs)."""
        assert self.checklist is not None
        names = [link.context for link in self.links]

        def add(incident: Incident) -> None:
            incident.contexts += [n for n in names if n not in incident.contexts]

        if any(n not in self.checklist.incident.read().contexts for n in names):
            self.checklist.incident.update(add)

    @property
    def credentials_expiry(self) -> datetime | None:
        """When the exec plugin's credential expires, when known (shown in the header)."""
        return self.kube.credentials_expiry if self.kube is not None else None

    def namespace_missing(self) -> str | None:
        """The message when a watched namespace does not exist (network requests)."""
        for link in self.links:
            message = link.namespace_missing()
            if message:
                return message
        return None

    def probe_permissions(self) -> bool:
        """Ask which actions the user may not run (network requests); True if that changed."""
        changed = [link.probe_permissions() for link in self.links]
        return any(changed)

    def close(self) -> None:
        engine = self.checklist.engine if self.checklist is not None else None
        if engine is not None:  # running commands (pg_dump...) killed, their end on record
            engine.shut_down(ENGINE_SHUTDOWN_S)
        for link in self.links:
            with contextlib.suppress(Exception):
                link.close()
