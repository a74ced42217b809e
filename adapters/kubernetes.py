"""Kubernetes adapter: connect like kubectl, read state, and act with kubectl's semantics.

``KubeClient`` is the one object the console holds per cluster context. It is a
``KubeRequests`` (the connection: requests, lists, watches, errors in words) that composes
small collaborators, one per concern, and offers their methods:

- ``kube_config``: which kubeconfig, context, cluster and user (``connect``);
- ``kube_reads``: deployments, pods, events, revisions (``history``), pod logs;
- ``kube_actions``: scale, rollout restart, rollout undo, delete pod;
- ``kube_pause``: rollout pause and rollout resume;
- ``kube_rollouts``: rollout status following and the template diff an undo would apply;
- ``kube_access``: access reviews (``can_i``);
- ``kube_argo``: Argo Rollouts, with the ``kubectl argo rollouts`` plugin's patches (``argo``);
- ``informer``: live state, list + watch with a local cache (``KubeClient.informer``).

Every failure leaves these modules as an ``AdapterError`` whose message says what happened and
what to try (``errors.translate``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kubernetes import client

from .errors import AdapterError
from .kube_access import AccessReview, AccessReviews
from .kube_actions import ActionResult, KubeActions
from .kube_argo import ArgoRollouts
from .kube_config import DEFAULT_PRODUCTION_PATTERNS, KubeconfigArg, connection_settings
from .kube_exec import ExecCredentials
from .kube_pause import KubePause
from .kube_proxy import shown
from .kube_reads import DEFAULT_LOG_BYTES, KubeReads
from .kube_requests import KubeRequests
from .kube_rollouts import KubeRollouts, RolloutSnapshot, TemplateDiff
from .kube_transport import KubeApiClient
from .kube_views import DeploymentView, EventView, PodView, RevisionView

if TYPE_CHECKING:
    from .informer import Informer


class KubeClient(KubeRequests):
    """One cluster context: reads, actions with kubectl semantics, and informers."""

    def __init__(self, api: client.ApiClient, context: str, namespace: str = "default", *,
                 production: bool = False, cluster: str = "", user: str = "",
                 request_timeout: float = 30.0,
                 credentials: ExecCredentials | None = None) -> None:
        super().__init__(api, context, request_timeout=request_timeout,
                         credentials=credentials)
        self.namespace = namespace
        self.production = production
        self.cluster = cluster
        self.user = user
        self._reads = KubeReads(self)
        self._actions = KubeActions(self, self._reads)
        self._rollouts = KubeRollouts(self, self._reads)
        self._pause = KubePause(self, self._reads)
        self._access = AccessReviews(self)
        self.argo = ArgoRollouts(self)  # Argo Rollouts, when served (kube_argo)

    @classmethod
    def connect(cls, kubeconfig: KubeconfigArg = None, context: str | None = None,
                namespace: str | None = None, *, production: bool | None = None,
                production_patterns: Sequence[str] = DEFAULT_PRODUCTION_PATTERNS,
                request_timeout: float = 30.0, in_cluster: bool = True) -> KubeClient:
        """Connect like kubectl.

        kubeconfig: ``--kubeconfig`` (a file; a list merges several), else ``$KUBECONFIG``
        (colon-separated, merged, missing files skipped), else ``~/.kube/config``; when none
        exists and we run in a pod, the in-cluster service account. context: ``--context``
        (default: current-context). namespace: ``-n`` (default: the context's, else
        "default"). production: force the production mark; None decides by
        ``production_patterns`` on the context and cluster names.
        """
        settings = connection_settings(kubeconfig, context, namespace, production=production,
                                       production_patterns=production_patterns,
                                       in_cluster=in_cluster)
        try:
            api = KubeApiClient(settings.configuration, impersonation=settings.impersonation)
        except ImportError as exc:  # socks5:// without PySocks installed
            proxy = shown(settings.configuration.proxy or "")
            raise AdapterError(f"Context {settings.context!r} uses the proxy {proxy}, which "
                               "needs the PySocks package (pip install PySocks).",
                               repr(exc)) from exc
        except (ValueError, OSError) as exc:  # a proxy URL or certificate it cannot use
            raise AdapterError(f"Cannot set up the connection to context {settings.context!r}:"
                               f" {exc}", repr(exc)) from exc
        return cls(api, settings.context,
                   settings.namespace, production=settings.production,
                   cluster=settings.cluster, user=settings.user,
                   request_timeout=request_timeout, credentials=settings.credentials)

    @property
    def credentials_expiry(self) -> datetime | None:
        """When the exec plugin's credential expires (None: no plugin, or not known)."""
        return self.credentials.expiry if self.credentials is not None else None

    # -- reads (kube_reads) -------------------------------------------------------------
    def get_deployment(self, namespace: str, name: str) -> DeploymentView:
        """One deployment."""
        return self._reads.get_deployment(namespace, name)

    def list_deployments(self, namespace: str | None = None,
                         label_selector: str | None = None) -> list[DeploymentView]:
        """Deployments of a namespace (None: all namespaces)."""
        return self._reads.list_deployments(namespace, label_selector)

    def list_pods(self, namespace: str | None = None,
                  label_selector: str | None = None) -> list[PodView]:
        """Pods of a namespace (None: all namespaces)."""
        return self._reads.list_pods(namespace, label_selector)

    def list_events(self, namespace: str | None = None, *, involved_name: str | None = None,
                    involved_kind: str | None = None) -> list[EventView]:
        """Events, optionally about one object, oldest first."""
        return self._reads.list_events(namespace, involved_name=involved_name,
                                       involved_kind=involved_kind)

    def history(self, namespace: str, deployment: str) -> list[RevisionView]:
        """``kubectl rollout history``: the deployment's revisions, oldest first."""
        return self._reads.history(namespace, deployment)

    def pod_logs(self, namespace: str, pod: str, container: str | None = None,
                 tail: int | None = None, previous: bool = False,
                 limit_bytes: int = DEFAULT_LOG_BYTES) -> str:
        """``kubectl logs [-c C] [--tail N] [--previous] [--limit-bytes N]`` as text."""
        return self._reads.pod_logs(namespace, pod, container, tail, previous, limit_bytes)

    # -- actions (kube_actions) ---------------------------------------------------------
    def scale(self, namespace: str, deployment: str, replicas: int) -> ActionResult:
        """``kubectl scale`` through the scale subresource."""
        return self._actions.scale(namespace, deployment, replicas)

    def restart(self, namespace: str, deployment: str) -> ActionResult:
        """``kubectl rollout restart``."""
        return self._actions.restart(namespace, deployment)

    def undo(self, namespace: str, deployment: str,
             to_revision: int | None = None) -> ActionResult:
        """``kubectl rollout undo [--to-revision=N]``."""
        return self._actions.undo(namespace, deployment, to_revision)

    def delete_pod(self, namespace: str, pod: str,
                   grace_period_seconds: int | None = None) -> ActionResult:
        """``kubectl delete pod``: its controller replaces it."""
        return self._actions.delete_pod(namespace, pod, grace_period_seconds)

    def pause(self, namespace: str, deployment: str) -> ActionResult:
        """``kubectl rollout pause``: set ``spec.paused``."""
        return self._pause.pause(namespace, deployment)

    def resume(self, namespace: str, deployment: str) -> ActionResult:
        """``kubectl rollout resume``: clear ``spec.paused``."""
        return self._pause.resume(namespace, deployment)

    # -- rollouts (kube_rollouts) -------------------------------------------------------
    def template_diff(self, namespace: str, deployment: str,
                      revision: int | None = None) -> TemplateDiff:
        """What ``undo(namespace, deployment, revision)`` would change."""
        return self._rollouts.template_diff(namespace, deployment, revision)

    def rollout_status(self, namespace: str, deployment: str, timeout: float = 600.0
                       ) -> Iterator[RolloutSnapshot]:
        """``kubectl rollout status``: a snapshot per change until done or ``timeout``."""
        return self._rollouts.rollout_status(namespace, deployment, timeout)

    # -- access (kube_access) -----------------------------------------------------------
    def can_i(self, verb: str, resource: str, namespace: str | None = None,
              subresource: str | None = None, name: str | None = None,
              group: str | None = None) -> AccessReview:
        """``kubectl auth can-i`` through a SelfSubjectAccessReview."""
        return self._access.can_i(verb, resource, namespace, subresource, name, group)

    # -- live state (informer) ----------------------------------------------------------
    def informer(self, namespace: str | None = None, **kwargs: Any) -> Informer:
        """A (not yet started) Informer on this context; see ``informer.Informer``."""
        from .informer import Informer

        return Informer(self, namespace, **kwargs)


__all__ = ["KubeClient"]
