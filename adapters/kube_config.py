"""Kubeconfig, as kubectl reads it: which files, which context, which cluster and user.

``connection_settings`` decides what ``KubeClient.connect`` connects to: the merged kubeconfig
files (``--kubeconfig``, ``$KUBECONFIG`` or ``~/.kube/config``), the context and its namespace,
or the in-cluster service account; and whether the context is marked production.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

from .errors import AdapterError
from .kube_exec import ExecConfig, ExecCredentials
from .kube_identity import Impersonation, impersonation_of
from .kube_proxy import use_proxy_url
from .kubeconfig_files import KubeconfigArg, kubeconfig_paths

DEFAULT_PRODUCTION_PATTERNS: tuple[str, ...] = ("prod", "production", "prd")
IN_CLUSTER_CONTEXT = "in-cluster"
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")



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
class ConnectionSettings:
    """Where to connect and as whom: what ``KubeClient.connect`` builds its client from."""

    configuration: client.Configuration
    context: str
    namespace: str
    production: bool
    cluster: str = ""
    user: str = ""
    # the user's exec credential plugin, run per request (kube_exec), when it has one
    credentials: ExecCredentials | None = None
    impersonation: Impersonation | None = None  # the user's as / as-groups / as-uid


def is_production(name: str, patterns: Sequence[str] = DEFAULT_PRODUCTION_PATTERNS) -> bool:
    """True when a name contains one of ``patterns`` as a word ("gke_acme_prod-eu", "prd1").

    A pattern matches when it is not glued to other letters: "prod" matches "shop-prod" and
    "prod2" but not "product" or "reproduce". Patterns are regular expressions.
    """
    for pattern in patterns:
        if re.search(rf"(?<![a-z])(?:{pattern})(?![a-z])", name, re.IGNORECASE):
            return True
    return False


def load_merged(paths: list[str]) -> Any:
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


def list_contexts(kubeconfig: KubeconfigArg = None, *,
                  production_patterns: Sequence[str] = DEFAULT_PRODUCTION_PATTERNS,
                  production_contexts: Sequence[str] = ()) -> list[ContextInfo]:
    """The contexts of the (merged) kubeconfig, as kubectl would see them."""
    paths = kubeconfig_paths(kubeconfig)
    if not paths:
        return []
    merged = load_merged(paths)
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


def new_configuration() -> client.Configuration:
    """A fresh client Configuration, not a copy of the client's global default."""
    # type.__call__ skips the client's "copy the global default" metaclass behaviour
    configuration: client.Configuration = type.__call__(client.Configuration)
    return configuration


def connection_settings(kubeconfig: KubeconfigArg = None, context: str | None = None,
                        namespace: str | None = None, *, production: bool | None = None,
                        production_patterns: Sequence[str] = DEFAULT_PRODUCTION_PATTERNS,
                        in_cluster: bool = True) -> ConnectionSettings:
    """What ``KubeClient.connect`` connects to (its docstring has the rules)."""
    paths = kubeconfig_paths(kubeconfig)
    if not paths:
        if in_cluster and os.environ.get("KUBERNETES_SERVICE_HOST") and context is None:
            return in_cluster_settings(namespace, production)
        where = ("$KUBECONFIG (" + os.environ["KUBECONFIG"] + ")"
                 if os.environ.get("KUBECONFIG") else "~/.kube/config")
        raise AdapterError(f"No kubeconfig found: {where} does not exist and this is not "
                           "a pod. Pass --kubeconfig or set KUBECONFIG.")
    merged = load_merged(paths)
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
    configuration = new_configuration()
    credentials = None
    try:
        loader = KubeConfigLoader(config_dict=merged, active_context=name,
                                  config_base_path=None)
        credentials = _exec_credentials(loader, name)
        if credentials is not None:
            # The client would run the plugin here, once, and go on without credentials
            # when it fails; kube_exec runs it per request instead.
            loader._load_from_exec_plugin = lambda: None  # type: ignore[method-assign]
        loader.load_and_set(configuration)
    except (ConfigException, KeyError, TypeError, ValueError, OSError) as exc:
        raise AdapterError(f"Cannot use context {name!r} from the kubeconfig: {exc}",
                           repr(exc)) from exc
    cluster = str(ctx.get("cluster", ""))
    user = str(ctx.get("user", ""))
    impersonation = impersonation_of(_entry(merged, "users", user, "user"), user)
    use_proxy_url(configuration, _entry(merged, "clusters", cluster, "cluster"))
    marked = production if production is not None else (
        is_production(name, production_patterns) or is_production(cluster,
                                                                  production_patterns))
    return ConnectionSettings(configuration, name,
                              namespace or str(ctx.get("namespace") or "default"), marked,
                              cluster, user, credentials, impersonation)


def _exec_credentials(loader: KubeConfigLoader, context: str) -> ExecCredentials | None:
    """The context's exec credential plugin, when its user has one (and no token or
    auth-provider, which the client prefers, as kubectl does)."""
    user = loader._user
    if not user or "exec" not in user or "token" in user or "tokenFile" in user \
            or "auth-provider" in user:
        return None
    path = getattr(user, "path", None)
    base = os.path.abspath(os.path.dirname(path)) if path else ""
    return ExecCredentials(ExecConfig.from_kubeconfig(user["exec"], loader._cluster, base),
                           context=context)


def _entry(merged: Any, section: str, name: str, key: str) -> dict[str, Any]:
    """The ``key`` mapping of the entry called ``name`` in a merged kubeconfig ``section``
    (``users`` / ``user``, ``clusters`` / ``cluster``): {} when absent."""
    for node in merged.value.get(section) or []:
        entry = node.value if hasattr(node, "value") else node
        if str(entry.get("name")) == name:
            found = entry.get(key) or {}
            found = found.value if hasattr(found, "value") else found
            return dict(found) if isinstance(found, dict) else {}
    return {}


def in_cluster_settings(namespace: str | None, production: bool | None) -> ConnectionSettings:
    """The pod's service account, as ``kubectl`` uses it inside a cluster."""
    configuration = new_configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)
    except ConfigException as exc:
        raise AdapterError(f"No kubeconfig found and the in-cluster service account is "
                           f"unusable: {exc}", repr(exc)) from exc
    # client-go's inClusterClientConfig.Namespace: $POD_NAMESPACE, then the file
    default_ns = os.environ.get("POD_NAMESPACE", "")
    if not default_ns:
        try:
            default_ns = SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or "default"
        except OSError:
            default_ns = "default"
    return ConnectionSettings(configuration, IN_CLUSTER_CONTEXT, namespace or default_ns,
                              bool(production))


__all__ = [
    "DEFAULT_PRODUCTION_PATTERNS",
    "IN_CLUSTER_CONTEXT",
    "ConnectionSettings",
    "ContextInfo",
    "connection_settings",
    "in_cluster_settings",
    "is_production",
    "kubeconfig_paths",
    "list_contexts",
    "load_merged",
    "new_configuration",
]
