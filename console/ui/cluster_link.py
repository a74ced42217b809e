"""One kubeconfig context the console is connected to: its client, watch and state.

A console runs on one context or on several (`--context a,b`); `Session` holds one
`ClusterLink` per context and one of them is focused (the pod table, the keys and the header's
context are the focused link's). Each link has its own client, informer, action runner (all
runners write to the incident's one audit log), RBAC answers, production mark and connection
state. No Textual here.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from adapters.errors import AdapterError, Forbidden, Unauthorized
from adapters.informer import ARGO_KINDS, Informer
from adapters.informer_deltas import Delta
from adapters.informer_status import WatchStatus
from adapters.kube_config import is_production
from adapters.kubernetes import KubeClient
from adapters.metrics import MetricsClient
from console.domain import action_kinds
from console.domain.actions import ActionRunner
from console.domain.audit import AuditLog
from console.domain.connection_notes import ConnectionNotes
from console.domain.settings import ConsoleSettings

INFORMER_FLUSH = 0.015  # the informer gathers a batch for this long before handing it over
LIST_PAGE = 2000  # pods listed a page at a time: shown as they come, no 10,000-pod JSON held

# a link's state in words, for the header: every context's, side by side
CONNECTED, CONNECTING, RECONNECTING, STALE, DENIED, FAILED = (
    "connected", "connecting", "reconnecting", "stale", "denied", "failed")


class ConnectError(Exception):
    """The console cannot act: `message` says why (the watch may still run and show pods)."""

    def __init__(self, message: str, *, title: str = "cannot connect") -> None:
        super().__init__(message)
        self.message = message
        self.title = title


class ClusterLink:
    """One context: ``connect`` (a worker thread: it may run an exec credential plugin)
    builds the client and starts the watch; ``arm`` gives it its action runner."""

    def __init__(self, settings: ConsoleSettings, context: str | None) -> None:
        self.settings = settings
        self.requested = context  # None: the kubeconfig's current context
        self.kube: KubeClient | None = None
        self.informer: Informer | None = None
        self.runner: ActionRunner | None = None
        self.metrics: MetricsClient | None = None
        self.context = context or "?"
        self.namespace = settings.namespace or "?"
        self.production = bool(settings.production)
        self.connection: WatchStatus | None = None
        self.denied: dict[str, str] = {}  # action kind -> why the user may not run it
        self.identity: str | None = None  # impersonation, for the header: "as alice (...)"
        self.error: AdapterError | None = None  # why it could not connect at all
        self.notes = ConnectionNotes()  # which of its connection changes to notify
        self._on_status: Callable[[WatchStatus], None] | None = None
        self._on_deltas: Callable[[list[Delta]], None] | None = None
        self.argo: Informer | None = None  # Argo Rollouts' watch, when the cluster serves them
        self._closed = False  # close() ran: a discovery answering late starts no watch
        self._argo_lock = threading.Lock()

    def connect(self, *, on_deltas: Callable[[list[Delta]], None],
                on_status: Callable[[WatchStatus], None],
                redact: Callable[[Any], None],
                prompt: Callable[[Callable[[], Any]], Any] | None = None) -> KubeClient:
        """Build the client and start the watch; raises `ConnectError`."""
        s = self.settings
        try:
            kube = KubeClient.connect(s.kubeconfig, self.requested, s.namespace,
                                      production=s.production)
        except AdapterError as error:
            self.error = error
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
        self._on_status = on_status
        self.watch(self.namespace, on_deltas)
        return kube

    def watch(self, namespace: str, on_deltas: Callable[[list[Delta]], None]) -> None:
        """Watch ``namespace`` (the pods, deployments and replicasets the console shows)."""
        s, kube = self.settings, self.kube
        assert kube is not None and self._on_status is not None
        self.namespace = namespace
        self._on_deltas = on_deltas
        self.informer = kube.informer(
            namespace, kinds=("pods", "deployments", "replicasets"),
            label_selector=s.selector or None, on_deltas=on_deltas, on_status=self._on_status,
            flush_interval=INFORMER_FLUSH, page_size=LIST_PAGE,
            clock=s.cluster_clock, backoff_max=s.watch_backoff_max, stale_after=s.stale_after)
        self.informer.start()

    def switch_namespace(self, namespace: str,
                         on_deltas: Callable[[list[Delta]], None]) -> None:
        """Watch ``namespace`` instead (network requests: a new list and watch). The incident,
        its audit and runbook stay; actions act where the selected workload lives."""
        if self.kube is None or self._on_status is None:
            raise ConnectError("not connected")
        if self.informer is not None:
            self.informer.stop(timeout=1.0)
        had_argo = self.argo is not None
        if self.argo is not None:
            self.argo.stop(timeout=1.0)
            self.argo = None
        self.connection = None
        self.watch(namespace, on_deltas)
        if had_argo:
            self.watch_rollouts()
        self.denied = {}
        self.probe_permissions()

    def arm(self, audit: AuditLog, prober: Any,
            audit_refusal: Callable[[], str | None] | None = None) -> ActionRunner | None:
        """The action runner on this context, writing to the incident's audit log
        (``audit_refusal``: why the audit log cannot take records now, refusing mutations)."""
        if self.kube is None:
            return None
        audit.add_secrets(self.kube.secret_values())
        self.runner = ActionRunner(self.kube, audit, read_only=self.settings.read_only,
                                   prober=prober, checks=self.settings.checks,
                                   audit_refusal=audit_refusal)
        return self.runner

    @property
    def state(self) -> str:
        """connected, connecting, reconnecting, stale, denied (credentials or RBAC refused
        the watch) or failed (no client: the kubeconfig entry is unusable)."""
        if self.kube is None:
            return FAILED if self.error is not None else CONNECTING
        status = self.connection
        if status is None or status.state == "connecting":
            return CONNECTING
        if status.state == "live":
            return CONNECTED
        if isinstance(status.error, Unauthorized | Forbidden):
            return DENIED
        return STALE if status.state == "stale" else RECONNECTING

    def namespace_missing(self) -> str | None:
        """The message when the watched namespace does not exist (a network request)."""
        if self.kube is not None and self.kube.namespace_exists(self.namespace) is False:
            return (f"namespace {self.namespace} not found in context {self.context}: "
                    "check -n/--namespace")
        return None

    def watch_rollouts(self) -> None:
        """Watch Rollouts and AnalysisRuns too when discovery shows argoproj.io/v1alpha1
        rollouts (a second, lazy informer: a cluster without Argo costs one GET)."""
        kube, s = self.kube, self.settings
        if kube is None or self._on_deltas is None:
            return
        try:
            served = kube.argo.served()
        except AdapterError:
            served = False  # discovery failed: no Rollouts shown, the rest works
        if not served:
            return
        with self._argo_lock:  # not after close(): its threads would retry a gone cluster
            if self._closed:
                return
            self.argo = kube.informer(self.namespace, kinds=ARGO_KINDS,
                                      on_deltas=self._on_deltas, flush_interval=INFORMER_FLUSH,
                                      clock=s.cluster_clock, backoff_max=s.watch_backoff_max,
                                      stale_after=s.stale_after)
            self.argo.start()

    def probe_permissions(self) -> bool:
        """Ask which actions the user may not run (network requests); True if that changed."""
        if self.runner is None or self.settings.read_only:
            return False
        denied = {name: reason for name, reason in
                  self.runner.denied_kinds(self.context, self.namespace).items()
                  if self.argo is not None or not _acts_on_rollouts(name)}
        if denied == self.denied:
            return False
        self.denied = denied
        return True

    def close(self) -> None:
        if self.informer is not None:
            self.informer.stop(timeout=1.0)
        with self._argo_lock:
            self._closed = True
            if self.argo is not None:
                self.argo.stop(timeout=1.0)
        if self.metrics is not None:
            with contextlib.suppress(Exception):
                self.metrics.close()


def _acts_on_rollouts(name: str) -> bool:
    kind = action_kinds.get(name)
    return kind is not None and kind.target == "rollout"
