"""Kubernetes adapter over the official `kubernetes` client. (First cut: connect and watch pods.)"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import urllib3
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from .errors import AdapterError, Forbidden, NotFound, Unauthorized, Unreachable


@dataclass(frozen=True)
class PodView:
    name: str
    namespace: str
    ready: str
    status: str
    restarts: int
    age: str
    revision: str


def _age(created: datetime | None) -> str:
    if created is None:
        return "?"
    seconds = int((datetime.now(UTC) - created).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def pod_view(pod: Any) -> PodView:
    statuses = pod.status.container_statuses or []
    status = pod.status.reason or pod.status.phase or "Unknown"
    for cs in reversed(statuses):
        if cs.state and cs.state.waiting and cs.state.waiting.reason:
            status = cs.state.waiting.reason
            break
        if cs.state and cs.state.terminated and cs.state.terminated.reason:
            status = cs.state.terminated.reason
            break
    if pod.metadata.deletion_timestamp and pod.status.phase not in ("Succeeded", "Failed"):
        status = "Terminating"
    ready = sum(1 for cs in statuses if cs.ready)
    return PodView(
        name=pod.metadata.name,
        namespace=pod.metadata.namespace,
        ready=f"{ready}/{len(pod.spec.containers)}",
        status=status,
        restarts=sum(cs.restart_count for cs in statuses),
        age=_age(pod.metadata.creation_timestamp),
        revision=(pod.metadata.labels or {}).get("pod-template-hash", ""),
    )


def translate(exc: Exception, what: str) -> AdapterError:
    if isinstance(exc, ApiException):
        if exc.status == 401:
            return Unauthorized(
                f"The API server rejected our credentials while trying to {what}; "
                "check the kubeconfig's token or certificate.",
                str(exc),
            )
        if exc.status == 403:
            return Forbidden(f"Not allowed to {what} (HTTP 403).", str(exc))
        if exc.status == 404:
            return NotFound(f"Not found while trying to {what}.", str(exc))
    if isinstance(exc, urllib3.exceptions.HTTPError):
        return Unreachable(
            f"Cannot reach the API server to {what}: {exc}. "
            "Is the cluster up and the kubeconfig right?",
            str(exc),
        )
    return AdapterError(f"Failed to {what}: {exc}", repr(exc))


class KubeClient:
    def __init__(self, api: client.ApiClient, context: str, namespace: str) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.context = context
        self.namespace = namespace

    @classmethod
    def connect(cls, kubeconfig: str | None = None, context: str | None = None) -> KubeClient:
        try:
            contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)
            chosen = (
                next((c for c in contexts if c["name"] == context), None) if context else active
            )
            if chosen is None:
                raise AdapterError(
                    f"Context {context!r} is not in the kubeconfig; known: "
                    + ", ".join(c["name"] for c in contexts)
                )
            api = config.new_client_from_config(config_file=kubeconfig, context=chosen["name"])
        except (ConfigException, OSError, TypeError) as exc:
            raise AdapterError(
                f"Cannot load kubeconfig {kubeconfig or '(default)'}: {exc}"
            ) from exc
        namespace = chosen.get("context", {}).get("namespace") or "default"
        return cls(api, chosen["name"], namespace)

    def watch_pods(
        self,
        namespace: str,
        on_event: Callable[[str, PodView], None],
        stop: threading.Event,
        on_state: Callable[[str], None],
    ) -> None:
        """List then watch pods until `stop` is set; resumes and relists on errors."""
        resource_version: str | None = None
        delay = 0.5
        while not stop.is_set():
            try:
                if resource_version is None:
                    listing = self.core.list_namespaced_pod(namespace)
                    for pod in listing.items:
                        on_event("ADDED", pod_view(pod))
                    resource_version = listing.metadata.resource_version
                    on_state(f"context {self.context} · namespace {namespace} · live")
                stream = watch.Watch().stream(
                    self.core.list_namespaced_pod,
                    namespace,
                    resource_version=resource_version,
                    timeout_seconds=5,
                    allow_watch_bookmarks=True,
                )
                for event in stream:
                    if stop.is_set():
                        return
                    obj = event["object"]
                    if event["type"] == "BOOKMARK":
                        resource_version = obj["metadata"]["resourceVersion"]
                        continue
                    resource_version = obj.metadata.resource_version
                    on_event(event["type"], pod_view(obj))
                delay = 0.5
            except ApiException as exc:
                if exc.status == 410:
                    resource_version = None
                    continue
                on_state(f"reconnecting: {translate(exc, 'watch pods').message}")
                stop.wait(delay)
                delay = min(delay * 2, 10)
            except urllib3.exceptions.HTTPError as exc:
                on_state(f"reconnecting: {translate(exc, 'watch pods').message}")
                stop.wait(delay)
                delay = min(delay * 2, 10)
