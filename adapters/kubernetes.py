"""Kubernetes adapter: connect like kubectl, read state, and act with kubectl's semantics.

Everything goes through the official ``kubernetes`` client over HTTP. Responses are read as
plain JSON (``_preload_content=False``, or ``_request`` on the client's ``ApiClient``) and
turned into the frozen views of ``kube_views``: that skips the client's model validation,
which is slow for thousands of pods and strict about fields some servers omit. Every failure
leaves this module as an ``AdapterError`` whose message says what happened and what to try
(``translate``).

Live state (list + watch with a local cache) lives in ``informer.py``; ``KubeClient.informer``
builds one.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

from .errors import (
    AdapterError,
    Conflict,
    Invalid,
    NotFound,
    Operation,
    Timeout,
    Unreachable,
    error_for_status,
    translate,
)
from .kube_json import (
    CHANGE_CAUSE_ANNOTATION,
    REVISION_ANNOTATION,
    TEMPLATE_HASH_LABEL,
    as_json,
    controller_of,
    format_selector,
    revision_of,
)
from .kube_views import (
    DeploymentView,
    EventView,
    PodView,
    RevisionView,
    deployment_view,
    event_view,
    pod_view,
    revision_view,
    rollout_state,
)
from .redact import redact

if TYPE_CHECKING:
    from .informer import Informer, WatchStatus

RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
# Deployment annotations `kubectl rollout undo` keeps instead of copying them from the RS.
UNDO_ANNOTATIONS_TO_SKIP = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION_ANNOTATION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
})
DEFAULT_PRODUCTION_PATTERNS: tuple[str, ...] = ("prod", "production", "prd")
IN_CLUSTER_CONTEXT = "in-cluster"
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
CONFLICT_ATTEMPTS = 5
KINDS = ("pods", "deployments", "replicasets", "events")
_API_BASE = {"pods": "/api/v1", "events": "/api/v1", "namespaces": "/api/v1",
             "deployments": "/apis/apps/v1", "replicasets": "/apis/apps/v1"}
_GROUP_OF = {"deployments": "apps", "replicasets": "apps", "statefulsets": "apps",
             "daemonsets": "apps", "horizontalpodautoscalers": "autoscaling",
             "selfsubjectaccessreviews": "authorization.k8s.io"}


# ---- results ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ActionResult:
    """What an action did. Failures raise ``AdapterError`` instead; ``ok`` is True here
    unless a caller builds a failed result itself. ``details`` keeps machine-readable facts
    for the audit log (``changed`` tells a real change from a no-op)."""

    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0


@dataclass(frozen=True)
class ContextInfo:
    """One kubeconfig context."""

    name: str
    cluster: str
    user: str
    namespace: str  # the context's default namespace ("default" when unset)
    current: bool = False
    production: bool = False


@dataclass(frozen=True)
class AccessReview:
    """Answer of a SelfSubjectAccessReview (``kubectl auth can-i``); truthy when allowed."""

    allowed: bool
    verb: str
    resource: str
    namespace: str | None
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True)
class RolloutSnapshot:
    """One step of ``rollout_status``: kubectl's sentence plus the numbers behind it."""

    namespace: str
    name: str
    state: str  # progressing | paused | complete | stalled | timeout
    message: str
    done: bool
    desired: int = 0
    updated: int = 0
    ready: int = 0
    available: int = 0
    current: int = 0
    revision: int | None = None
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the rollout finished successfully."""
        return self.state == "complete"


@dataclass(frozen=True)
class TemplateChange:
    """One difference between the current pod template and a revision's."""

    what: str  # image | env | change-cause | field
    container: str  # "" when not about a container
    name: str  # env var name or field path ("" for images / change-cause)
    current: str | None
    target: str | None

    def describe(self) -> str:
        """One line for the undo modal."""
        now = "(unset)" if self.current is None else self.current
        then = "(unset)" if self.target is None else self.target
        if self.what == "image":
            return f"image {self.container}: {now} -> {then}"
        if self.what == "env":
            return f"env {self.container} {self.name}: {now} -> {then}"
        if self.what == "change-cause":
            return f"change-cause: {now} -> {then}"
        return f"{self.name}: {now} -> {then}"


@dataclass(frozen=True)
class TemplateDiff:
    """What ``undo`` to ``target_revision`` would change in the deployment's pod template."""

    namespace: str
    deployment: str
    current_revision: int | None
    target_revision: int | None
    target_replicaset: str
    identical: bool  # templates equal ignoring the pod-template-hash: undo would be skipped
    changes: tuple[TemplateChange, ...] = ()

    def of(self, what: str) -> tuple[TemplateChange, ...]:
        """Changes of one sort: image, env, change-cause or field."""
        return tuple(c for c in self.changes if c.what == what)

    def lines(self) -> list[str]:
        """Human-readable lines, images first."""
        order = {"image": 0, "env": 1, "change-cause": 2, "field": 3}
        return [c.describe() for c in sorted(self.changes, key=lambda c: order.get(c.what, 9))]



# ---- kubeconfig ------------------------------------------------------------------------
def is_production(name: str, patterns: Sequence[str] = DEFAULT_PRODUCTION_PATTERNS) -> bool:
    """True when a name contains one of ``patterns`` as a word ("gke_acme_prod-eu", "prd1").

    A pattern matches when it is not glued to other letters: "prod" matches "shop-prod" and
    "prod2" but not "product" or "reproduce". Patterns are regular expressions.
    """
    for pattern in patterns:
        if re.search(rf"(?<![a-z])(?:{pattern})(?![a-z])", name, re.IGNORECASE):
            return True
    return False


def _kubeconfig_paths(kubeconfig: str | os.PathLike[str] | Sequence[str] | None) -> list[str]:
    """The kubeconfig files kubectl would read, in precedence order (may be empty)."""
    if kubeconfig:
        explicit = [str(kubeconfig)] if isinstance(kubeconfig, (str, os.PathLike)) else [
            str(p) for p in kubeconfig]
        for path in explicit:
            if not Path(path).expanduser().is_file():
                raise AdapterError(f"The kubeconfig file {path} does not exist; check "
                                   "--kubeconfig.")
        return [str(Path(p).expanduser()) for p in explicit]
    env = os.environ.get("KUBECONFIG", "")
    if env:
        listed = [p for p in env.split(os.pathsep) if p]
        # kubectl skips missing files in $KUBECONFIG
        return [str(Path(p).expanduser()) for p in listed if Path(p).expanduser().is_file()]
    default = Path("~/.kube/config").expanduser()
    return [str(default)] if default.is_file() else []


def _load_merged(paths: list[str]) -> Any:
    """Merge kubeconfig files like kubectl: the first file to define a name or
    current-context wins. Returns the client's ConfigNode (keeps file paths for certs)."""
    merger = KubeConfigMerger("")
    current: str | None = None
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
            data = yaml.safe_load(text)
        except OSError as exc:
            raise AdapterError(f"Cannot read kubeconfig {path}: {exc.strerror or exc}.",
                               repr(exc)) from exc
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            line = f" (line {where.line + 1})" if where is not None else ""
            raise AdapterError(f"The kubeconfig {path} is not valid YAML{line}; fix or "
                               "remove it.", str(exc)) from exc
        if data is None:
            continue  # kubectl ignores empty files
        if not isinstance(data, dict):
            raise AdapterError(f"The kubeconfig {path} is not a kubeconfig (expected a YAML "
                               "mapping with clusters, users and contexts).")
        for section in ("clusters", "contexts", "users"):
            items = data.get(section) or []
            if not isinstance(items, list) or not all(
                    isinstance(i, dict) and "name" in i for i in items):
                raise AdapterError(f"The kubeconfig {path} has a malformed '{section}' list "
                                   "(each entry needs a name).")
        try:
            merger.load_config(path)
        except (ConfigException, TypeError, KeyError, AttributeError) as exc:
            raise AdapterError(f"The kubeconfig {path} is malformed: {exc}", repr(exc)) from exc
        merger.paths.append(path)
        if current is None and data.get("current-context"):
            current = str(data["current-context"])
    if merger.config is None:
        raise AdapterError("The kubeconfig files are empty: " + ", ".join(paths))
    merger.config.value["current-context"] = current or ""
    return merger.config


def list_contexts(kubeconfig: str | os.PathLike[str] | Sequence[str] | None = None, *,
                  production_patterns: Sequence[str] = DEFAULT_PRODUCTION_PATTERNS,
                  production_contexts: Sequence[str] = ()) -> list[ContextInfo]:
    """The contexts of the (merged) kubeconfig, as kubectl would see them."""
    paths = _kubeconfig_paths(kubeconfig)
    if not paths:
        return []
    merged = _load_merged(paths)
    current = merged.value.get("current-context") or ""
    result = []
    for node in merged.value.get("contexts") or []:
        entry = node.value if hasattr(node, "value") else node
        ctx = entry.get("context") or {}
        name = str(entry.get("name", ""))
        cluster = str(ctx.get("cluster", ""))
        result.append(ContextInfo(
            name=name, cluster=cluster, user=str(ctx.get("user", "")),
            namespace=str(ctx.get("namespace") or "default"), current=name == current,
            production=name in production_contexts
            or is_production(name, production_patterns)
            or is_production(cluster, production_patterns),
        ))
    return result


def _new_configuration() -> client.Configuration:
    # type.__call__ skips the client's "copy the global default" metaclass behaviour
    configuration: client.Configuration = type.__call__(client.Configuration)
    return configuration


# ---- the client ------------------------------------------------------------------------
class WatchStream:
    """An open watch: iterate for event dicts ({"type", "object"}); ``close`` from any thread."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self._closed = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        pending = b""
        for chunk in self._response.stream(amt=None, decode_content=True):
            if not chunk:
                continue
            data = pending + chunk if pending else chunk
            lines = data.split(b"\n")
            pending = lines.pop()
            for line in lines:
                if line.strip():
                    yield json.loads(line)
        if pending.strip() and not self._closed:
            yield json.loads(pending)

    def close(self) -> None:
        """Stop the stream; a reader blocked in ``__iter__`` wakes up (with an error)."""
        if self._closed:
            return
        self._closed = True
        try:
            shutdown = getattr(self._response, "shutdown", None)
            if shutdown is not None:
                shutdown()
            self._response.release_conn()
            self._response.close()
        except Exception:  # noqa: BLE001 - closing a dead socket must never raise
            pass

    def __enter__(self) -> WatchStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _decoded(data: bytes, op: Operation) -> Any:
    """A response body as JSON ({} when empty), or an error saying what came instead."""
    try:
        return json.loads(data) if data else {}
    except ValueError as exc:
        raise AdapterError(f"The API server sent something that is not JSON while we "
                           f"tried to {op.verb} {op.target}.", repr(data[:200])) from exc


class KubeClient:
    """One cluster context: reads, actions with kubectl semantics, and informers."""

    def __init__(self, api: client.ApiClient, context: str, namespace: str = "default", *,
                 production: bool = False, cluster: str = "", user: str = "",
                 request_timeout: float = 30.0) -> None:
        self.api = api
        self.context = context
        self.namespace = namespace
        self.production = production
        self.cluster = cluster
        self.user = user
        self.server = str(api.configuration.host or "")
        self.request_timeout = request_timeout
        # Called as before_write(verb, resource, namespace, name) just before each write
        # request: a seam for audit "started" records and for tests that race a write.
        self.before_write: Callable[[str, str, str, str], None] | None = None

    # The client's typed API classes import some 1,500 generated pydantic models (about a
    # second of CPU): made on first use, not at connect. Lists, watches, the namespace check
    # and access reviews -- everything a console needs to show the first picture -- go
    # through ``_request`` and never need them (``warm_up`` makes them ahead of an action).
    @functools.cached_property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @functools.cached_property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    def warm_up(self) -> None:
        """Make the typed API classes now (in a worker, while nobody waits), so the first
        action does not spend a second importing them."""
        self.core, self.apps  # noqa: B018 - the cached properties are made here

    # -- connecting ---------------------------------------------------------------------
    @classmethod
    def connect(cls, kubeconfig: str | os.PathLike[str] | Sequence[str] | None = None,
                context: str | None = None, namespace: str | None = None, *,
                production: bool | None = None,
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
        paths = _kubeconfig_paths(kubeconfig)
        if not paths:
            if in_cluster and os.environ.get("KUBERNETES_SERVICE_HOST") and context is None:
                return cls._connect_in_cluster(namespace, production, request_timeout)
            where = ("$KUBECONFIG (" + os.environ["KUBECONFIG"] + ")"
                     if os.environ.get("KUBECONFIG") else "~/.kube/config")
            raise AdapterError(f"No kubeconfig found: {where} does not exist and this is not "
                               "a pod. Pass --kubeconfig or set KUBECONFIG.")
        merged = _load_merged(paths)
        contexts = {}
        for node in merged.value.get("contexts") or []:
            entry = node.value if hasattr(node, "value") else node
            contexts[str(entry.get("name"))] = entry
        name = context or merged.value.get("current-context") or ""
        known = ", ".join(sorted(contexts)) or "none"
        if not name:
            raise AdapterError(f"The kubeconfig ({', '.join(paths)}) sets no current-context; "
                               f"pass --context (known contexts: {known}).")
        if name not in contexts:
            raise AdapterError(f"Context {name!r} is not in the kubeconfig "
                               f"({', '.join(paths)}); known contexts: {known}.")
        entry = contexts[name]
        ctx = entry.get("context") or {}
        configuration = _new_configuration()
        try:
            loader = KubeConfigLoader(config_dict=merged, active_context=name,
                                      config_base_path=None)
            loader.load_and_set(configuration)
        except (ConfigException, KeyError, TypeError, ValueError, OSError) as exc:
            raise AdapterError(f"Cannot use context {name!r} from the kubeconfig: {exc}",
                               repr(exc)) from exc
        cluster = str(ctx.get("cluster", ""))
        marked = production if production is not None else (
            is_production(name, production_patterns) or is_production(cluster,
                                                                       production_patterns))
        return cls(client.ApiClient(configuration), name,
                   namespace or str(ctx.get("namespace") or "default"), production=marked,
                   cluster=cluster, user=str(ctx.get("user", "")),
                   request_timeout=request_timeout)

    @classmethod
    def _connect_in_cluster(cls, namespace: str | None, production: bool | None,
                            request_timeout: float) -> KubeClient:
        configuration = _new_configuration()
        try:
            config.load_incluster_config(client_configuration=configuration)
        except ConfigException as exc:
            raise AdapterError(f"No kubeconfig found and the in-cluster service account is "
                               f"unusable: {exc}", repr(exc)) from exc
        try:
            default_ns = SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or "default"
        except OSError:
            default_ns = "default"
        return cls(client.ApiClient(configuration), IN_CLUSTER_CONTEXT,
                   namespace or default_ns, production=bool(production),
                   request_timeout=request_timeout)

    def close(self) -> None:
        """Release the connection pool."""
        self.api.close()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -----------------------------------------------------------------------
    @property
    def _timeout(self) -> tuple[float, float]:
        return (min(10.0, self.request_timeout), self.request_timeout)

    def _fail(self, exc: BaseException, op: Operation) -> AdapterError:
        return self.mask(translate(exc, op, self.context, self.server))

    def secret_values(self) -> list[str]:
        """The credentials this client sends (bearer token, basic-auth password, as sent and
        bare): exact strings to mask wherever text leaves the process (screen, audit, logs)."""
        configuration = self.api.configuration
        found: list[str] = []
        for value in (configuration.api_key or {}).values():
            if isinstance(value, str) and value:
                found.append(value)
                scheme, _, bare = value.partition(" ")
                if bare and scheme.lower() in ("bearer", "basic"):
                    found.append(bare)
        for value in (configuration.password, getattr(configuration, "access_token", None)):
            if isinstance(value, str) and value:
                found.append(value)
        return [v for v in dict.fromkeys(found) if len(v) >= 4]

    def mask(self, error: AdapterError) -> AdapterError:
        """``error`` with this client's credentials (and anything ``redact`` recognises)
        masked in its message and detail: a server or proxy that echoes the Authorization
        header into an error body must not put the token on screen or in the audit log."""
        secrets = self.secret_values()
        message = redact(error.message, secrets)
        if message != error.message:
            error.message = message
            error.args = (message,)
        if error.detail:
            error.detail = redact(error.detail, secrets)
        return error

    def namespace_exists(self, namespace: str) -> bool | None:
        """True or False when the API server says so; None when we cannot tell (no
        permission to read namespaces, or the server is unreachable): callers then carry on."""
        try:
            self._request_json(Operation("get", "namespaces", None, namespace),
                           f"/api/v1/namespaces/{quote(namespace, safe='')}")
        except NotFound:
            return False
        except AdapterError:
            return None
        return True

    def _json(self, op: Operation, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a typed client call with ``_preload_content=False``; return decoded JSON."""
        try:
            response = call(*args, _preload_content=False, _request_timeout=self._timeout,
                            **kwargs)
            data = response.data
        except Exception as exc:  # noqa: BLE001 - translated into the adapter family
            raise self._fail(exc, op) from exc
        return _decoded(data, op)

    def _request(self, method: str, path: str, query: Sequence[tuple[str, Any]] = (),
                 body: Any = None, *, timeout: Any = None) -> Any:
        """One request through the official client's ApiClient (its auth, TLS, proxy and
        connection pool), without the typed API classes: the urllib3 response, unread. A
        status outside 2xx raises the client's ``ApiException``, as a typed call would."""
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = self.api.param_serialize(method=method, resource_path=path,
                                           query_params=list(query) or None,
                                           header_params=headers, body=body,
                                           auth_settings=["BearerToken"])
        response = self.api.call_api(*request, _request_timeout=timeout or self._timeout)
        if not 200 <= response.status <= 299:
            response.read()
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return response.response

    def _request_json(self, op: Operation, path: str,
                      query: Sequence[tuple[str, Any]] = (), body: Any = None) -> Any:
        """GET ``path`` (POST ``body`` when there is one) through ``_request``; the answer
        as JSON, every failure as an ``AdapterError``."""
        try:
            data = self._request("POST" if body is not None else "GET", path, query,
                                 body).data
        except Exception as exc:  # noqa: BLE001 - translated into the adapter family
            raise self._fail(exc, op) from exc
        return _decoded(data, op)

    def _write(self, op: Operation, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.before_write is not None:
            self.before_write(op.verb, op.resource, op.namespace or "", op.name or "")
        return self._json(op, call, *args, **kwargs)

    @staticmethod
    def _collection(kind: str, namespace: str | None) -> str:
        """The API path of a kind's collection: ``/api/v1/namespaces/shop/pods``."""
        base = _API_BASE.get(kind)
        if base is None:
            raise Invalid(f"Unknown kind {kind!r}; expected one of {', '.join(KINDS)}.")
        where = f"/namespaces/{quote(namespace, safe='')}" if namespace else ""
        return f"{base}{where}/{kind}"

    def list_objects(self, kind: str, namespace: str | None = None, *,
                     label_selector: str | None = None, field_selector: str | None = None,
                     limit: int | None = None, continue_token: str | None = None
                     ) -> dict[str, Any]:
        """One LIST request as JSON: ``{"metadata": {"resourceVersion", "continue"},
        "items": [...]}``. kind is pods, deployments, replicasets or events."""
        path = self._collection(kind, namespace)
        query = [(name, value) for name, value in (
            ("labelSelector", label_selector), ("fieldSelector", field_selector),
            ("limit", limit), ("continue", continue_token)) if value]
        result = self._request_json(Operation("list", kind, namespace), path, query)
        if not isinstance(result, dict):
            raise AdapterError(f"The API server answered the list of {kind} with "
                               "something other than a list.")
        return result

    def open_watch(self, kind: str, namespace: str | None, resource_version: str | None, *,
                   label_selector: str | None = None, field_selector: str | None = None,
                   timeout_seconds: int = 300, bookmarks: bool = True) -> WatchStream:
        """Start a WATCH from ``resource_version`` (None: current state as ADDED events)."""
        path = self._collection(kind, namespace)
        query: list[tuple[str, Any]] = [("watch", "true"),
                                        ("timeoutSeconds", int(timeout_seconds))]
        if bookmarks:
            query.append(("allowWatchBookmarks", "true"))
        query.extend((name, value) for name, value in (
            ("resourceVersion", resource_version), ("labelSelector", label_selector),
            ("fieldSelector", field_selector)) if value)
        try:
            response = self._request("GET", path, query, timeout=(
                min(10.0, self.request_timeout), timeout_seconds + 30))
        except Exception as exc:  # noqa: BLE001 - translated
            if isinstance(exc, ApiException) and exc.status == 410:
                raise
            raise self._fail(exc, Operation("watch", kind, namespace)) from exc
        return WatchStream(response)

    def _read_deployment(self, namespace: str, name: str) -> dict[str, Any]:
        return self._json(Operation("get", "deployments", namespace, name),
                          self.apps.read_namespaced_deployment, name, namespace)

    def _owned_replicasets(self, deployment: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The deployment's ReplicaSets, as kubectl finds them (selector + controller uid)."""
        meta, spec = deployment["metadata"], deployment.get("spec") or {}
        try:
            selector = format_selector(spec.get("selector"))
        except ValueError as exc:
            raise Invalid(f"Deployment {meta['name']} has a selector we cannot use: {exc}") from exc
        listing = self.list_objects("replicasets", meta["namespace"],
                                    label_selector=selector or None)
        uid = meta.get("uid")
        owned = []
        for rs in listing.get("items") or []:
            owner = controller_of(rs.get("metadata") or {})
            if owner and owner[0] == "Deployment" and (owner[2] == uid or not uid):
                owned.append(rs)
        return owned

    # -- reads --------------------------------------------------------------------------
    def get_deployment(self, namespace: str, name: str) -> DeploymentView:
        """One deployment."""
        return deployment_view(self._read_deployment(namespace, name))

    def list_deployments(self, namespace: str | None = None,
                         label_selector: str | None = None) -> list[DeploymentView]:
        """Deployments of a namespace (None: all namespaces)."""
        items = self.list_objects("deployments", namespace, label_selector=label_selector)
        return [deployment_view(d) for d in items.get("items") or []]

    def list_pods(self, namespace: str | None = None,
                  label_selector: str | None = None) -> list[PodView]:
        """Pods of a namespace (None: all namespaces)."""
        items = self.list_objects("pods", namespace, label_selector=label_selector)
        return [pod_view(p) for p in items.get("items") or []]

    def list_events(self, namespace: str | None = None, *, involved_name: str | None = None,
                    involved_kind: str | None = None) -> list[EventView]:
        """Events, optionally about one object, oldest first."""
        selectors = []
        if involved_name:
            selectors.append(f"involvedObject.name={involved_name}")
        if involved_kind:
            selectors.append(f"involvedObject.kind={involved_kind}")
        items = self.list_objects("events", namespace,
                                  field_selector=",".join(selectors) or None)
        views = [event_view(e) for e in items.get("items") or []]
        epoch = datetime.min.replace(tzinfo=UTC)
        return sorted(views, key=lambda e: e.last_seen or epoch)

    def history(self, namespace: str, deployment: str) -> list[RevisionView]:
        """``kubectl rollout history``: the deployment's revisions, oldest first."""
        dep = self._read_deployment(namespace, deployment)
        current = revision_of(dep["metadata"])
        views = [revision_view(rs, current_revision=current)
                 for rs in self._owned_replicasets(dep)]
        return sorted(views, key=lambda v: (v.revision or 0, v.name))

    # -- actions ------------------------------------------------------------------------
    def scale(self, namespace: str, deployment: str, replicas: int) -> ActionResult:
        """``kubectl scale``: merge-patch ``spec.replicas`` through the scale subresource."""
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
            raise Invalid(f"Replicas must be a whole number >= 0, not {replicas!r}.")
        started = time.monotonic()
        op = Operation("patch", "deployments/scale", namespace, deployment)

        def attempt() -> ActionResult:
            before = self._json(Operation("get", "deployments/scale", namespace, deployment),
                                self.apps.read_namespaced_deployment_scale, deployment,
                                namespace)
            previous = int((before.get("spec") or {}).get("replicas") or 0)
            after = self._write(op, self.apps.patch_namespaced_deployment_scale, deployment,
                                namespace, {"spec": {"replicas": replicas}},
                                _content_type="application/merge-patch+json")
            now = int((after.get("spec") or {}).get("replicas") or 0)
            message = (f"deployment.apps/{deployment} scaled from {previous} to {now} replicas"
                       if previous != now else
                       f"deployment.apps/{deployment} already has {now} replicas")
            return ActionResult(True, message, {
                "namespace": namespace, "deployment": deployment, "from": previous, "to": now,
                "changed": previous != now})

        result, attempts = self._retry_on_conflict(attempt)
        return ActionResult(True, result.message, {**result.details, "attempts": attempts},
                            time.monotonic() - started)

    def restart(self, namespace: str, deployment: str) -> ActionResult:
        """``kubectl rollout restart``: stamp ``restartedAt`` on the pod template."""
        started = time.monotonic()

        def attempt() -> ActionResult:
            dep = self._read_deployment(namespace, deployment)
            spec = dep.get("spec") or {}
            if spec.get("paused"):
                raise Invalid(f"can't restart paused deployment {deployment} (run rollout "
                              "resume first)")
            stamp = _rfc3339_local(datetime.now().astimezone())
            template_annotations = ((spec.get("template") or {}).get("metadata") or {}).get(
                "annotations") or {}
            if template_annotations.get(RESTARTED_AT_ANNOTATION) == stamp:
                raise Invalid(f"deployment {deployment} was restarted within the past second; "
                              "wait a moment before restarting it again.")
            patch = {"spec": {"template": {"metadata": {"annotations": {
                RESTARTED_AT_ANNOTATION: stamp}}}}}
            after = self._write(Operation("patch", "deployments", namespace, deployment),
                                self.apps.patch_namespaced_deployment, deployment, namespace,
                                patch, field_manager="kubectl-rollout")
            return ActionResult(True, f"deployment.apps/{deployment} restarted", {
                "namespace": namespace, "deployment": deployment, "restartedAt": stamp,
                "generation": (after.get("metadata") or {}).get("generation"),
                "changed": True})

        result, attempts = self._retry_on_conflict(attempt)
        return ActionResult(True, result.message, {**result.details, "attempts": attempts},
                            time.monotonic() - started)

    def _rs_for_revision(self, dep: Mapping[str, Any], rss: list[dict[str, Any]],
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

    def undo(self, namespace: str, deployment: str,
             to_revision: int | None = None) -> ActionResult:
        """``kubectl rollout undo [--to-revision=N]``.

        Copies the pod template of the ReplicaSet with revision N (the previous revision when
        None) into the deployment with kubectl's JSON patch (replace ``/spec/template`` and
        ``/metadata/annotations``). Refuses paused deployments and unknown revisions; a
        template that already matches is "skipped rollback". Unlike kubectl, the patch also
        carries the resourceVersion we decided on, so a concurrent change gives 409 and we
        decide again on fresh state (up to a few times).
        """
        if to_revision is not None and (isinstance(to_revision, bool)
                                        or not isinstance(to_revision, int)):
            raise Invalid(f"The revision must be a whole number, not {to_revision!r}.")
        if to_revision is not None and to_revision < 0:
            raise NotFound(f"unable to find specified revision {to_revision} in history")
        wanted = to_revision or 0
        started = time.monotonic()
        op = Operation("patch", "deployments", namespace, deployment)

        def attempt() -> ActionResult:
            dep = self._read_deployment(namespace, deployment)
            meta, spec = dep["metadata"], dep.get("spec") or {}
            if spec.get("paused"):
                raise Invalid(f"you cannot rollback a paused deployment; resume it first with "
                              f"'kubectl rollout resume deployment/{deployment}' and try again")
            rs = self._rs_for_revision(dep, self._owned_replicasets(dep), wanted)
            revision = revision_of(rs["metadata"]) or 0
            details: dict[str, Any] = {
                "namespace": namespace, "deployment": deployment, "to_revision": revision,
                "from_revision": revision_of(meta), "replicaset": rs["metadata"]["name"]}
            target = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
            if templates_equal(target, spec.get("template") or {}):
                return ActionResult(True, f"skipped rollback (current template already "
                                          f"matches revision {revision})",
                                    {**details, "changed": False, "skipped": True})
            labels = (target.get("metadata") or {}).get("labels")
            if isinstance(labels, dict):
                labels.pop(TEMPLATE_HASH_LABEL, None)
            current_annotations = meta.get("annotations") or {}
            annotations = {k: v for k, v in current_annotations.items()
                           if k in UNDO_ANNOTATIONS_TO_SKIP}
            annotations.update({k: v for k, v in (rs["metadata"].get("annotations") or {}).items()
                                if k not in UNDO_ANNOTATIONS_TO_SKIP})
            patch = [
                {"op": "replace", "path": "/spec/template", "value": target},
                {"op": "replace", "path": "/metadata/annotations", "value": annotations},
                {"op": "replace", "path": "/metadata/resourceVersion",
                 "value": meta["resourceVersion"]},
            ]
            self._write(op, self.apps.patch_namespaced_deployment, deployment, namespace, patch)
            return ActionResult(True, f"deployment.apps/{deployment} rolled back to revision "
                                      f"{revision}", {**details, "changed": True,
                                                      "skipped": False})

        result, attempts = self._retry_on_conflict(attempt)
        return ActionResult(result.ok, result.message, {**result.details, "attempts": attempts},
                            time.monotonic() - started)

    def _retry_on_conflict(self, attempt: Callable[[], ActionResult],
                           attempts: int = CONFLICT_ATTEMPTS) -> tuple[ActionResult, int]:
        """client-go's RetryOnConflict: re-read and re-apply after a 409, a few times."""
        for number in range(1, attempts + 1):
            try:
                return attempt(), number
            except Conflict:
                if number == attempts:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * number)
        raise AssertionError("unreachable")

    def delete_pod(self, namespace: str, pod: str,
                   grace_period_seconds: int | None = None) -> ActionResult:
        """``kubectl delete pod``: its controller replaces it."""
        if grace_period_seconds is not None and (isinstance(grace_period_seconds, bool) or
                                                 not isinstance(grace_period_seconds, int)
                                                 or grace_period_seconds < 0):
            raise Invalid(f"The grace period must be a whole number of seconds >= 0, not "
                          f"{grace_period_seconds!r}.")
        started = time.monotonic()
        kwargs: dict[str, Any] = {}
        if grace_period_seconds is not None:
            kwargs["grace_period_seconds"] = grace_period_seconds
        gone = self._write(Operation("delete", "pods", namespace, pod),
                           self.core.delete_namespaced_pod, pod, namespace, **kwargs)
        terminating = bool((gone.get("metadata") or {}).get("deletionTimestamp"))
        return ActionResult(True, f'pod "{pod}" deleted', {
            "namespace": namespace, "pod": pod, "terminating": terminating, "changed": True,
            "grace_period_seconds": grace_period_seconds}, time.monotonic() - started)

    def pod_logs(self, namespace: str, pod: str, container: str | None = None,
                 tail: int | None = None, previous: bool = False) -> str:
        """``kubectl logs [-c C] [--tail N] [--previous]`` as text.

        Without a container, picks the ``kubectl.kubernetes.io/default-container`` or the
        first container, as kubectl does.
        """
        if tail is not None and (isinstance(tail, bool) or not isinstance(tail, int) or tail < 0):
            raise Invalid(f"tail must be a whole number of lines >= 0, not {tail!r}.")
        if container is None:
            obj = self._json(Operation("get", "pods", namespace, pod),
                             self.core.read_namespaced_pod, pod, namespace)
            annotations = (obj.get("metadata") or {}).get("annotations") or {}
            names = [c.get("name") for c in (obj.get("spec") or {}).get("containers") or []]
            default = annotations.get(DEFAULT_CONTAINER_ANNOTATION)
            container = default if default in names else (names[0] if names else None)
        kwargs: dict[str, Any] = {}
        if container:
            kwargs["container"] = container
        if tail is not None:
            kwargs["tail_lines"] = tail
        if previous:
            kwargs["previous"] = True
        op = Operation("get", "pods/log", namespace, pod)
        try:
            response = self.core.read_namespaced_pod_log(
                pod, namespace, _preload_content=False, _request_timeout=self._timeout,
                **kwargs)
            data: bytes = response.data
        except Exception as exc:  # noqa: BLE001 - translated
            raise self._fail(exc, op) from exc
        return data.decode("utf-8", errors="replace")

    def can_i(self, verb: str, resource: str, namespace: str | None = None,
              subresource: str | None = None, name: str | None = None,
              group: str | None = None) -> AccessReview:
        """``kubectl auth can-i`` through a SelfSubjectAccessReview."""
        if "/" in resource and subresource is None:
            resource, subresource = resource.split("/", 1)
        attributes: dict[str, Any] = {"verb": verb, "resource": resource,
                                      "group": _GROUP_OF.get(resource, "") if group is None
                                      else group}
        if namespace:
            attributes["namespace"] = namespace
        if subresource:
            attributes["subresource"] = subresource
        if name:
            attributes["name"] = name
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attributes}}
        answer = self._request_json(Operation("create", "selfsubjectaccessreviews"),
                                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                body=body)
        status = answer.get("status") or {}
        full = f"{resource}/{subresource}" if subresource else resource
        reason = str(status.get("reason") or status.get("evaluationError") or "")
        return AccessReview(bool(status.get("allowed")) and not status.get("denied"), verb,
                            full, namespace, reason)

    # -- rollback helpers ---------------------------------------------------------------
    def template_diff(self, namespace: str, deployment: str,
                      revision: int | None = None) -> TemplateDiff:
        """What ``undo(namespace, deployment, revision)`` would change: images, env,
        change-cause and any other template fields."""
        dep = self._read_deployment(namespace, deployment)
        rs = self._rs_for_revision(dep, self._owned_replicasets(dep), revision or 0)
        current = (dep.get("spec") or {}).get("template") or {}
        target = (rs.get("spec") or {}).get("template") or {}
        changes = list(_container_changes(current, target))
        cause_now = (dep["metadata"].get("annotations") or {}).get(CHANGE_CAUSE_ANNOTATION)
        cause_then = (rs["metadata"].get("annotations") or {}).get(CHANGE_CAUSE_ANNOTATION)
        if cause_now != cause_then:
            changes.append(TemplateChange("change-cause", "", "", cause_now, cause_then))
        changes.extend(_other_changes(current, target))
        return TemplateDiff(namespace, deployment, revision_of(dep["metadata"]),
                            revision_of(rs["metadata"]), rs["metadata"]["name"],
                            templates_equal(current, target), tuple(changes))

    def rollout_status(self, namespace: str, deployment: str, timeout: float = 600.0
                       ) -> Iterator[RolloutSnapshot]:
        """``kubectl rollout status``: yield a snapshot whenever the status changes, until
        the rollout is complete, stalled (ProgressDeadlineExceeded) or ``timeout`` seconds
        pass (a last snapshot with state "timeout"). Watches the deployment; drops are
        resumed, 410 re-reads. Raises NotFound when the deployment is deleted meanwhile."""
        started = time.monotonic()
        deadline = started + timeout
        last: tuple[Any, ...] | None = None
        snapshot: RolloutSnapshot | None = None

        def snap(obj: Mapping[str, Any]) -> RolloutSnapshot:
            view = deployment_view(obj)
            state, message, done = rollout_state(obj)
            return RolloutSnapshot(namespace, deployment, state, message, done, view.desired,
                                   view.updated, view.ready, view.available, view.current,
                                   view.revision, time.monotonic() - started)

        obj = self._read_deployment(namespace, deployment)
        snapshot = snap(obj)
        last = (snapshot.state, snapshot.message)
        yield snapshot
        if snapshot.done:
            return
        rv = obj["metadata"].get("resourceVersion")
        delay = 0.2
        last_error: AdapterError | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            stream: WatchStream | None = None
            try:
                stream = self.open_watch(
                    "deployments", namespace, rv, field_selector=f"metadata.name={deployment}",
                    timeout_seconds=max(1, math.ceil(remaining)))
                for event in stream:
                    kind, body = event.get("type"), event.get("object") or {}
                    if kind == "ERROR":
                        if body.get("code") == 410:
                            obj = self._read_deployment(namespace, deployment)
                            rv = obj["metadata"].get("resourceVersion")
                        else:
                            raise error_for_status(int(body.get("code") or 500),
                                                   str(body.get("message", "")),
                                                   Operation("watch", "deployments", namespace,
                                                             deployment), self.context)
                    elif kind == "BOOKMARK":
                        rv = (body.get("metadata") or {}).get("resourceVersion") or rv
                        continue
                    elif kind == "DELETED":
                        raise NotFound(f'deployment "{deployment}" in namespace {namespace} was '
                                       "deleted while we waited for its rollout.")
                    else:
                        obj = body
                        rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                    snapshot = snap(obj)
                    key = (snapshot.state, snapshot.message)
                    if key != last:
                        last = key
                        yield snapshot
                    if snapshot.done:
                        return
                    if time.monotonic() >= deadline:
                        break
                    delay = 0.2
            except ApiException as exc:
                if exc.status != 410:
                    raise self._fail(exc, Operation("watch", "deployments", namespace)) from exc
                obj = self._read_deployment(namespace, deployment)
                rv = obj["metadata"].get("resourceVersion")
            except (Unreachable, Timeout) as exc:
                last_error = exc
                time.sleep(min(random.uniform(delay / 2, delay), max(0.0, deadline -
                                                                     time.monotonic())))
                delay = min(delay * 2, 5.0)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                last_error = self._fail(exc, Operation("watch", "deployments", namespace))
                time.sleep(min(random.uniform(delay / 2, delay), max(0.0, deadline -
                                                                     time.monotonic())))
                delay = min(delay * 2, 5.0)
            finally:
                if stream is not None:
                    stream.close()
        assert snapshot is not None
        why = f" (last error: {last_error.message})" if last_error else ""
        yield RolloutSnapshot(namespace, deployment, "timeout",
                              f"timed out after {timeout:g}s waiting for deployment "
                              f"\"{deployment}\" rollout to finish: {snapshot.message}{why}",
                              True, snapshot.desired, snapshot.updated, snapshot.ready,
                              snapshot.available, snapshot.current, snapshot.revision,
                              time.monotonic() - started)

    # -- live state ---------------------------------------------------------------------
    def informer(self, namespace: str | None = None, **kwargs: Any) -> Informer:
        """A (not yet started) Informer on this context; see ``informer.Informer``."""
        from .informer import Informer

        return Informer(self, namespace, **kwargs)

    def watch_pods(self, namespace: str | None, on_event: Callable[[str, PodView], None],
                   stop: threading.Event, on_state: Callable[[str], None]) -> None:
        """Blocking compatibility shim for the first console cut: informer deltas as
        (type, PodView) calls until ``stop`` is set."""

        def deliver(deltas: list[Any]) -> None:
            for delta in deltas:
                on_event(delta.type, delta.view)

        def status(state: WatchStatus) -> None:
            if state.state == "stopped":  # the caller asked for it; its UI may be gone
                return
            on_state(f"context {self.context} · namespace {namespace or 'all'} · "
                     f"{state.message}")

        informer = self.informer(namespace, kinds=("pods",), on_deltas=deliver,
                                 on_status=status)
        informer.start()
        try:
            stop.wait()
        finally:
            informer.stop()


# ---- helpers ---------------------------------------------------------------------------
def _rfc3339_local(moment: datetime) -> str:
    """Go's ``time.Now().Format(time.RFC3339)``: local time, "Z" for UTC."""
    text = moment.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _prune(value: Any) -> Any:
    """Drop None, empty maps and empty lists (apimachinery's semantic equality ignores the
    difference between nil and empty)."""
    if isinstance(value, Mapping):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _without_hash(template: Mapping[str, Any]) -> Any:
    cleaned = copy.deepcopy(dict(template))
    labels = (cleaned.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(TEMPLATE_HASH_LABEL, None)
    return _prune(cleaned)


def templates_equal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """kubectl's ``equalIgnoreHash``: pod templates equal apart from pod-template-hash."""
    return bool(_without_hash(as_json(a)) == _without_hash(as_json(b)))


def _env_value(entry: Mapping[str, Any]) -> str:
    if "value" in entry:
        return str(entry.get("value"))
    if entry.get("valueFrom") is not None:
        return "from " + json.dumps(entry["valueFrom"], sort_keys=True)
    return ""


def _container_changes(current: Mapping[str, Any],
                       target: Mapping[str, Any]) -> Iterator[TemplateChange]:
    def containers(template: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        spec = template.get("spec") or {}
        return {str(c.get("name")): c for c in spec.get("containers") or []}

    now, then = containers(current), containers(target)
    for name in list(now) + [n for n in then if n not in now]:
        a, b = now.get(name) or {}, then.get(name) or {}
        if a.get("image") != b.get("image"):
            yield TemplateChange("image", name, "", a.get("image"), b.get("image"))
        env_a = {str(e.get("name")): _env_value(e) for e in a.get("env") or []}
        env_b = {str(e.get("name")): _env_value(e) for e in b.get("env") or []}
        for var in list(env_a) + [v for v in env_b if v not in env_a]:
            if env_a.get(var) != env_b.get(var):
                yield TemplateChange("env", name, var, env_a.get(var), env_b.get(var))


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            name = item.get("name") if isinstance(item, Mapping) else None
            yield from _leaves(item, f"{path}[{name if name is not None else index}]")
    else:
        yield path, value


def _other_changes(current: Mapping[str, Any], target: Mapping[str, Any],
                   limit: int = 20) -> Iterator[TemplateChange]:
    """Template differences other than images and env (e.g. the restartedAt stamp)."""

    def strip(template: Mapping[str, Any]) -> Any:
        cleaned = _without_hash(template)
        for container in (cleaned.get("spec") or {}).get("containers") or []:
            container.pop("image", None)
            container.pop("env", None)
        return cleaned

    a, b = dict(_leaves(strip(current))), dict(_leaves(strip(target)))
    count = 0
    for path in sorted(set(a) | set(b)):
        if a.get(path) != b.get(path):
            count += 1
            if count > limit:
                yield TemplateChange("field", "", "…", None, "more differences")
                return
            yield TemplateChange(
                "field", "", path,
                None if path not in a else json.dumps(a[path]) if not isinstance(a[path], str)
                else a[path],
                None if path not in b else json.dumps(b[path]) if not isinstance(b[path], str)
                else b[path])


__all__ = [
    "AccessReview",
    "ActionResult",
    "ContextInfo",
    "DEFAULT_PRODUCTION_PATTERNS",
    "DeploymentView",
    "EventView",
    "KubeClient",
    "PodView",
    "RevisionView",
    "RolloutSnapshot",
    "TemplateChange",
    "TemplateDiff",
    "WatchStream",
    "is_production",
    "list_contexts",
    "pod_view",
    "templates_equal",
]
