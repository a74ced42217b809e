"""Reading a cluster: deployments, pods, events, a deployment's revisions, pod logs.

Lists go through ``KubeRequests.list_objects`` (no typed API classes); single objects through
the typed calls read as raw JSON. Results are the frozen views of ``kube_views``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .errors import Invalid, NotFound, Operation
from .kube_json import controller_of, format_selector, revision_of
from .kube_requests import KubeRequests
from .kube_views import (
    DeploymentView,
    EventView,
    PodView,
    RevisionView,
    deployment_view,
    event_view,
    pod_view,
    revision_view,
)

DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
DEFAULT_LOG_BYTES = 4 * 1024 * 1024
"""What ``pod_logs`` reads at most unless told otherwise (``kubectl logs --limit-bytes``)."""


class KubeReads:
    """Reads through one ``KubeRequests``."""

    def __init__(self, kube: KubeRequests) -> None:
        self.kube = kube

    def read_deployment(self, namespace: str, name: str) -> dict[str, Any]:
        """One deployment as JSON."""
        return self.kube.call_json(Operation("get", "deployments", namespace, name),
                                   self.kube.apps.read_namespaced_deployment, name, namespace)

    def owned_replicasets(self, deployment: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The deployment's ReplicaSets, as kubectl finds them (selector + controller uid)."""
        meta, spec = deployment["metadata"], deployment.get("spec") or {}
        try:
            selector = format_selector(spec.get("selector"))
        except ValueError as exc:
            raise Invalid(f"Deployment {meta['name']} has a selector we cannot use: {exc}") from exc
        listing = self.kube.list_objects("replicasets", meta["namespace"],
                                         label_selector=selector or None)
        uid = meta.get("uid")
        owned = []
        for rs in listing.get("items") or []:
            owner = controller_of(rs.get("metadata") or {})
            if owner and owner[0] == "Deployment" and (owner[2] == uid or not uid):
                owned.append(rs)
        return owned

    def get_deployment(self, namespace: str, name: str) -> DeploymentView:
        """One deployment."""
        return deployment_view(self.read_deployment(namespace, name),
                               now=self.kube.server_now())

    def list_deployments(self, namespace: str | None = None,
                         label_selector: str | None = None) -> list[DeploymentView]:
        """Deployments of a namespace (None: all namespaces)."""
        items = self.kube.list_objects("deployments", namespace, label_selector=label_selector)
        now = self.kube.server_now()
        return [deployment_view(d, now=now) for d in items.get("items") or []]

    def list_pods(self, namespace: str | None = None,
                  label_selector: str | None = None) -> list[PodView]:
        """Pods of a namespace (None: all namespaces)."""
        items = self.kube.list_objects("pods", namespace, label_selector=label_selector)
        now = self.kube.server_now()
        return [pod_view(p, now=now) for p in items.get("items") or []]

    def list_events(self, namespace: str | None = None, *, involved_name: str | None = None,
                    involved_kind: str | None = None) -> list[EventView]:
        """Events, optionally about one object, oldest first."""
        selectors = []
        if involved_name:
            selectors.append(f"involvedObject.name={involved_name}")
        if involved_kind:
            selectors.append(f"involvedObject.kind={involved_kind}")
        items = self.kube.list_objects("events", namespace,
                                       field_selector=",".join(selectors) or None)
        now = self.kube.server_now()
        views = [event_view(e, now=now) for e in items.get("items") or []]
        epoch = datetime.min.replace(tzinfo=UTC)
        return sorted(views, key=lambda e: e.last_seen or epoch)

    def history(self, namespace: str, deployment: str) -> list[RevisionView]:
        """``kubectl rollout history``: the deployment's revisions, oldest first."""
        dep = self.read_deployment(namespace, deployment)
        current = revision_of(dep["metadata"])
        views = [revision_view(rs, current_revision=current)
                 for rs in self.owned_replicasets(dep)]
        return sorted(views, key=lambda v: (v.revision or 0, v.name))

    def pod_logs(self, namespace: str, pod: str, container: str | None = None,
                 tail: int | None = None, previous: bool = False,
                 limit_bytes: int = DEFAULT_LOG_BYTES) -> str:
        """``kubectl logs [-c C] [--tail N] [--previous] [--limit-bytes N]`` as text.

        Without a container, picks the ``kubectl.kubernetes.io/default-container`` or the
        first container, as kubectl does. At most ``limit_bytes`` bytes are read: the server
        is asked for no more, and what a server sends beyond it is not kept.
        """
        if tail is not None and (isinstance(tail, bool) or not isinstance(tail, int) or tail < 0):
            raise Invalid(f"tail must be a whole number of lines >= 0, not {tail!r}.")
        if isinstance(limit_bytes, bool) or not isinstance(limit_bytes, int) or limit_bytes < 1:
            raise Invalid(f"limit_bytes must be a whole number of bytes >= 1, not "
                          f"{limit_bytes!r}.")
        if container is None:
            obj = self.kube.call_json(Operation("get", "pods", namespace, pod),
                                      self.kube.core.read_namespaced_pod, pod, namespace)
            annotations = (obj.get("metadata") or {}).get("annotations") or {}
            names = [c.get("name") for c in (obj.get("spec") or {}).get("containers") or []]
            default = annotations.get(DEFAULT_CONTAINER_ANNOTATION)
            container = default if default in names else (names[0] if names else None)
        kwargs: dict[str, Any] = {"limit_bytes": limit_bytes}
        if container:
            kwargs["container"] = container
        if tail is not None:
            kwargs["tail_lines"] = tail
        if previous:
            kwargs["previous"] = True
        op = Operation("get", "pods/log", namespace, pod)
        try:
            response = self.kube.core.read_namespaced_pod_log(
                pod, namespace, _preload_content=False, _request_timeout=self.kube.timeouts,
                **kwargs)
            data = _read_capped(response, limit_bytes)
        except Exception as exc:  # noqa: BLE001 - translated
            raise self.kube.fail(exc, op) from exc
        return data.decode("utf-8", errors="replace")


def _read_capped(response: Any, limit: int) -> bytes:
    """At most ``limit`` bytes of a raw (not preloaded) response; a connection left with
    unread data is closed, not returned to the pool."""
    raw = getattr(response, "response", response)  # the client's RESTResponse wraps urllib3's
    if not hasattr(raw, "stream"):
        return bytes(raw.data or b"")[:limit]
    chunks: list[bytes] = []
    kept = 0
    try:
        for chunk in raw.stream(65536, decode_content=True):
            chunks.append(chunk[: limit - kept])
            kept += len(chunk)
            if kept >= limit:
                raw.close()
                break
    finally:
        raw.release_conn()
    return b"".join(chunks)


def rs_for_revision(dep: Mapping[str, Any], rss: list[dict[str, Any]],
                    to_revision: int) -> dict[str, Any]:
    """kubectl's ``rsForRevision``: revision N, or the second-highest when N is 0."""
    name = dep["metadata"]["name"]
    latest: tuple[int, dict[str, Any] | None] = (-1, None)
    previous: tuple[int, dict[str, Any] | None] = (-1, None)
    for rs in rss:
        revision = revision_of(rs["metadata"]) or 0
        if to_revision == 0:
            if latest[0] < revision:
                previous, latest = latest, (revision, rs)
            elif previous[0] < revision:
                previous = (revision, rs)
        elif revision == to_revision:
            return rs
    known = ", ".join(str(r) for r in sorted({revision_of(rs["metadata"]) or 0
                                              for rs in rss})) or "none"
    if to_revision > 0:
        raise NotFound(f"unable to find specified revision {to_revision} in history of "
                       f"deployment {name} (known revisions: {known}).")
    if previous[1] is None:
        raise Invalid(f'no rollout history found for deployment "{name}": it has no '
                      f"previous revision to roll back to (known revisions: {known}).")
    return previous[1]


__all__ = ["DEFAULT_CONTAINER_ANNOTATION", "DEFAULT_LOG_BYTES", "KubeReads", "rs_for_revision"]
