"""Requests to one Kubernetes API server, through the official client, answered as JSON.

``KubeRequests`` holds the connection (the client's ``ApiClient``: auth, TLS, proxy, pool) and
does the plumbing every Kubernetes call shares: a LIST or WATCH by path without the typed API
classes (``request``), a typed call read as raw JSON (``call_json``), the ``before_write`` seam,
and turning every failure into an ``AdapterError`` with the credentials masked (``fail``).
Responses are read as plain JSON (``_preload_content=False``): that skips the client's model
validation, which is slow for thousands of pods and strict about fields some servers omit.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Self, TypeVar
from urllib.parse import quote

from kubernetes import client
from kubernetes.client import rest
from kubernetes.client.exceptions import ApiException
from msgspec.json import decode as decode_json  # ~30 % faster than json on big lists

from .errors import AdapterError, Invalid, NotFound, Operation, translate
from .kube_exec import Credential, ExecCredentials
from .kube_identity import Impersonation, explain_denial
from .kube_proxy import explain_proxy_failure
from .kube_retry import call_with_retry, gave_up
from .kube_time import ServerClock
from .redact import redact, remember_secrets

T = TypeVar("T")
KINDS = ("pods", "deployments", "replicasets", "events")
_API_BASE = {"pods": "/api/v1", "events": "/api/v1", "namespaces": "/api/v1",
             "deployments": "/apis/apps/v1", "replicasets": "/apis/apps/v1",
             # Argo Rollouts' custom resources, when the cluster serves them
             "rollouts": "/apis/argoproj.io/v1alpha1",
             "analysisruns": "/apis/argoproj.io/v1alpha1"}


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
                    yield decode_json(line)
        if pending.strip() and not self._closed:
            yield decode_json(pending)

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
        return decode_json(data) if data else {}
    except ValueError as exc:
        raise AdapterError(f"The API server sent something that is not JSON while we "
                           f"tried to {op.verb} {op.target}.", repr(data[:200])) from exc


def _credential_forms(value: object) -> list[str]:
    """A credential as sent (``Bearer abc``) and bare (``abc``)."""
    if not isinstance(value, str) or not value:
        return []
    scheme, _, bare = value.partition(" ")
    return [value, bare] if bare and scheme.lower() in ("bearer", "basic") else [value]


class _RememberedCredentials(dict[str, Any]):
    """The client configuration's ``api_key``: every credential stored in it is remembered for
    redaction (``remember_secrets``) -- the one loaded at connect and each one a refresh hook
    (an exec credential plugin, OIDC, the in-cluster token file) stores later."""

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        remember_secrets(_credential_forms(value))

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


class KubeRequests:
    """One API server as one user: requests, lists and watches, errors in words.

    ``KubeClient`` is one of these plus reads, actions, rollouts and access reviews.
    """

    def __init__(self, api: client.ApiClient, context: str, *,
                 request_timeout: float = 30.0,
                 credentials: ExecCredentials | None = None) -> None:
        self.api = api
        # an exec credential plugin, asked before each request (kube_exec)
        self.credentials = credentials
        self._cert_files: tuple[str, str] | None = None
        self.context = context
        self.server = str(api.configuration.host or "")
        self.request_timeout = request_timeout
        # Called as before_write(verb, resource, namespace, name) just before each write
        # request: a seam for audit "started" records and for tests that race a write.
        self.before_write: Callable[[str, str, str, str], None] | None = None
        # as whom requests act and the server's clock: kept by a KubeApiClient (kube_transport)
        self.impersonation: Impersonation | None = getattr(api, "impersonation", None)
        self.server_clock: ServerClock = getattr(api, "server_clock", None) or ServerClock()
        configuration = api.configuration
        if not isinstance(configuration.api_key, _RememberedCredentials):
            configuration.api_key = _RememberedCredentials(configuration.api_key or {})
        remember_secrets(self.secret_values())

    # The client's typed API classes import some 1,500 generated pydantic models (about a
    # second of CPU): made on first use, not at connect. Lists, watches, the namespace check
    # and access reviews -- everything a console needs to show the first picture -- go
    # through ``request`` and never need them (``warm_up`` makes them ahead of an action).
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

    def close(self) -> None:
        """Release the connection pool."""
        self.api.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------
    @property
    def timeouts(self) -> tuple[float, float]:
        """(connect, read) timeouts of an ordinary request."""
        return (min(10.0, self.request_timeout), self.request_timeout)

    def fail(self, exc: BaseException, op: Operation) -> AdapterError:
        """``exc`` (from the client or the transport) as an AdapterError, credentials masked."""
        error = translate(exc, op, self.context, self.server)
        error = explain_denial(error, self.impersonation)  # who was denied: the "as" user?
        error = explain_proxy_failure(error, self.api.configuration)  # which proxy is down
        return self.mask(error)

    def server_now(self) -> datetime:
        """The API server's time now (its ``Date`` headers tell us how far our clock is off)."""
        return self.server_clock.now()

    def secret_values(self) -> list[str]:
        """The credentials this client sends (bearer token, basic-auth password, as sent and
        bare): exact strings to mask wherever text leaves the process (screen, audit, logs)."""
        configuration = self.api.configuration
        found: list[str] = []
        for value in (configuration.api_key or {}).values():
            found.extend(_credential_forms(value))
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
            self.request_json(Operation("get", "namespaces", None, namespace),
                           f"/api/v1/namespaces/{quote(namespace, safe='')}")
        except NotFound:
            return False
        except AdapterError:
            return None
        return True

    def namespace_names(self) -> list[str]:
        """The namespaces' names, sorted; [] when they may not be listed (the console then
        offers only the namespace it watches)."""
        try:
            result = self.request_json(Operation("list", "namespaces", None), "/api/v1/namespaces")
        except AdapterError:
            return []
        items = result.get("items") if isinstance(result, dict) else None
        names = {item.get("metadata", {}).get("name") for item in items or []
                 if isinstance(item, dict) and isinstance(item.get("metadata"), dict)}
        return sorted(name for name in names if isinstance(name, str) and name)

    # -- credentials from an exec plugin -----------------------------------------------
    def authenticate(self) -> Credential | None:
        """Put the plugin's current credential (run it if needed) on the connection;
        raises ``CredentialPluginError`` when the plugin fails: nothing is sent then."""
        if self.credentials is None:
            return None
        credential = self.credentials.get()
        configuration = self.api.configuration
        if credential.token is not None:
            configuration.api_key["BearerToken"] = f"Bearer {credential.token}"
        elif credential.cert_pem and credential.key_pem:
            self._use_client_certificate(credential.cert_pem, credential.key_pem)
        return credential

    def _use_client_certificate(self, cert_pem: str, key_pem: str) -> None:
        """A new client certificate from the plugin: a new connection pool that presents it
        (open watches finish on the old one)."""
        import tempfile

        if self._cert_files is not None:
            with open(self._cert_files[0], encoding="utf-8") as handle:
                if handle.read() == cert_pem:
                    return
        folder = tempfile.mkdtemp(prefix="warroom-exec-")
        cert, key = f"{folder}/client.crt", f"{folder}/client.key"
        for path, text in ((cert, cert_pem), (key, key_pem)):
            with open(path, "w", encoding="utf-8", opener=lambda p, f: os.open(p, f, 0o600)) \
                    as handle:
                handle.write(text)
        configuration = self.api.configuration
        configuration.cert_file, configuration.key_file = cert, key
        self.api.rest_client = rest.RESTClientObject(configuration)
        self._cert_files = (cert, key)
        remember_secrets([key_pem])

    def _sent(self, send: Callable[[], T]) -> T:
        """``send()`` with the plugin's credential; on a 401 the credential is dropped and
        the request sent once more with a fresh one, as client-go does (a 401 means the
        server did nothing, so a write is safe to repeat)."""
        used = self.authenticate()
        if used is None:
            return send()
        try:
            return send()
        except ApiException as exc:
            if exc.status != 401 or self.credentials is None:
                raise
            self.credentials.invalidate(used)
        self.authenticate()
        return send()

    def call_json(self, op: Operation, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a typed client call with ``_preload_content=False``; return decoded JSON.
        A 429 (or 5xx) with Retry-After is retried as client-go does (``kube_retry``)."""
        try:
            data = call_with_retry(lambda: self._sent(lambda: call(
                *args, _preload_content=False, _request_timeout=self.timeouts, **kwargs)).data)
        except Exception as exc:  # noqa: BLE001 - translated into the adapter family
            raise gave_up(self.fail(exc, op), exc) from exc
        return _decoded(data, op)

    def request(self, method: str, path: str, query: Sequence[tuple[str, Any]] = (),
                body: Any = None, *, timeout: Any = None) -> Any:
        """One request through the official client's ApiClient (its auth, TLS, proxy and
        connection pool), without the typed API classes: the urllib3 response, unread. A
        status outside 2xx raises the client's ``ApiException``, as a typed call would."""
        return self._sent(lambda: self._request(method, path, query, body, timeout))

    def _request(self, method: str, path: str, query: Sequence[tuple[str, Any]],
                 body: Any, timeout: Any) -> Any:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = self.api.param_serialize(method=method, resource_path=path,
                                           query_params=list(query) or None,
                                           header_params=headers, body=body,
                                           auth_settings=["BearerToken"])
        response = self.api.call_api(*request, _request_timeout=timeout or self.timeouts)
        if not 200 <= response.status <= 299:
            response.read()
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return response.response

    def request_json(self, op: Operation, path: str,
                     query: Sequence[tuple[str, Any]] = (), body: Any = None) -> Any:
        """GET ``path`` (POST ``body`` when there is one) through ``request``; the answer
        as JSON, every failure as an ``AdapterError``."""
        try:
            data = self.request("POST" if body is not None else "GET", path, query,
                                body).data
        except Exception as exc:  # noqa: BLE001 - translated into the adapter family
            raise self.fail(exc, op) from exc
        return _decoded(data, op)

    def write(self, op: Operation, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``call_json`` for a write: ``before_write`` hears of it first."""
        if self.before_write is not None:
            self.before_write(op.verb, op.resource, op.namespace or "", op.name or "")
        return self.call_json(op, call, *args, **kwargs)

    @staticmethod
    def collection(kind: str, namespace: str | None) -> str:
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
        path = self.collection(kind, namespace)
        query = [(name, value) for name, value in (
            ("labelSelector", label_selector), ("fieldSelector", field_selector),
            ("limit", limit), ("continue", continue_token)) if value]
        result = self.request_json(Operation("list", kind, namespace), path, query)
        if not isinstance(result, dict):
            raise AdapterError(f"The API server answered the list of {kind} with "
                               "something other than a list.")
        return result

    def open_watch(self, kind: str, namespace: str | None, resource_version: str | None, *,
                   label_selector: str | None = None, field_selector: str | None = None,
                   timeout_seconds: int = 300, bookmarks: bool = True,
                   initial_events: bool = False) -> WatchStream:
        """Start a WATCH from ``resource_version`` (None: current state as ADDED events).

        ``initial_events``: a watch-list (``sendInitialEvents``): the current state as ADDED
        events, then a bookmark annotated ``k8s.io/initial-events-end``; a server without it
        answers 422 (``Invalid``)."""
        path = self.collection(kind, namespace)
        query: list[tuple[str, Any]] = [("watch", "true"),
                                        ("timeoutSeconds", int(timeout_seconds))]
        if initial_events:
            query.extend((("sendInitialEvents", "true"),
                          ("resourceVersionMatch", "NotOlderThan")))
        if bookmarks or initial_events:
            query.append(("allowWatchBookmarks", "true"))
        query.extend((name, value) for name, value in (
            ("resourceVersion", resource_version), ("labelSelector", label_selector),
            ("fieldSelector", field_selector)) if value)
        try:
            response = self.request("GET", path, query, timeout=(
                min(10.0, self.request_timeout), timeout_seconds + 30))
        except Exception as exc:  # noqa: BLE001 - translated
            if isinstance(exc, ApiException) and exc.status == 410:
                raise
            raise self.fail(exc, Operation("watch", kind, namespace)) from exc
        return WatchStream(response)


__all__ = ["KINDS", "KubeRequests", "WatchStream"]
