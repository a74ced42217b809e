"""The drill cluster's HTTP API: the Kubernetes REST surface kubectl and the python client use.

Everything answers JSON (`Status` objects for errors); `kubectl get` gets server-side Tables;
watches are chunked JSON lines. See ../shared/K8S_API.md for the contract this follows.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import copy
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, Protocol

from aiohttp import web

from . import printers, prometheus_api, protobuf
from .access import ANONYMOUS, PUBLIC_PATHS, Access
from .clock import DrillClock
from .control_plane import ControlPlane
from .errors import ApiError, bad_request, forbidden, invalid, not_found
from .faults import Faults
from .list_limits import ListLimits, watch_options_errors
from .patch import apply_patch
from .resources import ARGO_GROUP, GROUP_VERSIONS, RESOURCES, ResourceType
from .selectors import format_match_labels, parse_field_selector, parse_label_selector
from .store import Store
from .traffic import Traffic


class ApiBackend(Protocol):
    """What the API serves from (`DrillCluster` is one): objects, time, tokens, pods' logs
    and deletion, traffic for the metrics, injected faults."""

    store: Store
    clock: DrillClock
    access: Access
    control: ControlPlane
    traffic: Traffic
    faults: Faults
    limits: ListLimits

    def prepare_deployment(self, body: dict[str, Any]) -> None: ...


JSON = "application/json"
CLUSTER_KEY: web.AppKey[ApiBackend] = web.AppKey("cluster")
PRINCIPAL: web.RequestKey[Any] = web.RequestKey("principal", object)
OPEN_PATHS = {"/healthz", "/readyz", "/livez"}
DEFAULT_WATCH_SECONDS = 1800

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


INITIAL_WRITE = 500  # a watch's initial events are written this many at a time


def dump(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(), status=status, content_type=JSON
    )


def error_response(error: ApiError) -> web.Response:
    return dump(error.status(), status=error.code)


# ---- middleware -------------------------------------------------------------------------
@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error)
    except web.HTTPException as exc:
        if exc.status == 404:
            return error_response(ApiError(404, "the server could not find the requested resource"))
        if exc.status == 405:
            return error_response(ApiError(405, "the server does not allow this method on the requested resource"))
        raise


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in OPEN_PATHS:
        return await handler(request)
    cluster = request.app[CLUSTER_KEY]
    principal = cluster.access.authenticate(request.headers.get("Authorization"))
    if principal is None:
        raise ApiError(401, "Unauthorized")
    if principal is ANONYMOUS and request.path not in PUBLIC_PATHS \
            and not _resource_path(request.path):
        raise ApiError(403, f'forbidden: User "{principal.user}" cannot '
                            f'{request.method.lower()} path "{request.path}"')
    principal = cluster.access.impersonated(principal, request.headers)
    cluster.access.saw(principal, request.method, request.path)
    request[PRINCIPAL] = principal
    return await handler(request)


def _resource_path(path: str) -> bool:
    """A path RBAC checks by resource (``_authorize`` does), not by non-resource URL."""
    parts = path.strip("/").split("/")
    return (parts[0] == "api" and len(parts) > 2) or (parts[0] == "apis" and len(parts) > 3)


@web.middleware
async def faults_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Injected faults (drill/faults.py); runs before auth: a down server authenticates nobody."""
    cluster = request.app[CLUSTER_KEY]
    faults = getattr(cluster, "faults", None)
    if faults is not None and request.path not in OPEN_PATHS and not request.path.startswith("/drill/"):
        injected = await faults.before_request(request)
        if injected is not None:
            return injected
    return await handler(request)


# ---- discovery --------------------------------------------------------------------------
def _resource_list(group_version: str) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for name in GROUP_VERSIONS[group_version]:
        rt = RESOURCES[name]
        entry = {
            "name": rt.name, "singularName": rt.kind.lower(), "namespaced": rt.namespaced,
            "kind": rt.kind, "verbs": list(rt.verbs),
        }
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        for sub in rt.subresources:
            if sub == "log":
                resources.append({"name": f"{rt.name}/log", "singularName": "", "namespaced": True,
                                  "kind": "Pod", "verbs": ["get"]})
            elif sub == "status":
                resources.append({"name": f"{rt.name}/status", "singularName": "",
                                  "namespaced": rt.namespaced, "kind": rt.kind,
                                  "verbs": ["get", "patch", "update"]})
            elif sub == "scale":
                resources.append({"name": f"{rt.name}/scale", "singularName": "", "namespaced": True,
                                  "group": "autoscaling", "version": "v1", "kind": "Scale",
                                  "verbs": ["get", "patch", "update"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": resources}


def _group(name: str, version: str) -> dict[str, Any]:
    gv = {"groupVersion": f"{name}/{version}", "version": version}
    return {"name": name, "versions": [gv], "preferredVersion": gv}


async def version(request: web.Request) -> web.Response:
    return dump({
        "major": "1", "minor": "31", "gitVersion": "v1.31.0-drill", "gitCommit": "drill",
        "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.22.0",
        "compiler": "gc", "platform": "linux/amd64",
    })


async def api_versions(request: web.Request) -> web.Response:
    return dump({"kind": "APIVersions", "versions": ["v1"],
                 "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                 "serverAddress": request.host}]})


def _served(request: web.Request) -> list[str]:
    """The group-versions this cluster serves (Argo Rollouts' CRDs only when installed)."""
    crds = getattr(request.app[CLUSTER_KEY], "argo_crds", True)
    return [gv for gv in GROUP_VERSIONS if crds or not gv.startswith(f"{ARGO_GROUP}/")]


async def api_groups(request: web.Request) -> web.Response:
    served = [gv.split("/") for gv in _served(request) if "/" in gv]
    return dump({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        *(_group(name, ver) for name, ver in served), _group("authorization.k8s.io", "v1"),
    ]})


async def core_resources(request: web.Request) -> web.Response:
    return dump(_resource_list("v1"))


async def group_resources(request: web.Request) -> web.Response:
    group, ver = request.match_info["group"], request.match_info["version"]
    if f"{group}/{ver}" in _served(request):
        return dump(_resource_list(f"{group}/{ver}"))
    if group == "authorization.k8s.io" and ver == "v1":
        return dump({"kind": "APIResourceList", "apiVersion": "v1",
                     "groupVersion": "authorization.k8s.io/v1", "resources": [{
                         "name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview",
                         "namespaced": False, "kind": "SelfSubjectAccessReview", "verbs": ["create"]}]})
    raise ApiError(404, "the server could not find the requested resource")


async def group_info(request: web.Request) -> web.Response:
    group = request.match_info["group"]
    served = next((gv for gv in _served(request) if gv.startswith(f"{group}/")), None)
    if served is not None:
        return dump({"kind": "APIGroup", "apiVersion": "v1",
                     **_group(group, served.split("/")[1])})
    if group == "authorization.k8s.io":
        return dump({"kind": "APIGroup", "apiVersion": "v1", **_group(group, "v1")})
    raise ApiError(404, "the server could not find the requested resource")


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


# ---- resource requests ------------------------------------------------------------------
def _resolve(request: web.Request) -> tuple[ResourceType, str | None, str | None, str | None]:
    info = request.match_info
    group = info.get("group", "")
    ver = info.get("version", "v1")
    rt = RESOURCES.get(info["resource"])
    if rt is None or rt.group != group or rt.version != ver or \
            rt.api_version not in _served(request):
        raise ApiError(404, "the server could not find the requested resource")
    namespace = info.get("namespace")
    if namespace is not None and not rt.namespaced:
        raise ApiError(404, "the server could not find the requested resource")
    sub = info.get("sub")
    if sub is not None and sub not in rt.subresources:
        raise ApiError(404, "the server could not find the requested resource")
    return rt, namespace, info.get("name"), sub


def _authorize(request: web.Request, verb: str, rt: ResourceType, namespace: str | None,
               sub: str | None = None) -> None:
    principal = request[PRINCIPAL]
    resource = f"{rt.name}/{sub}" if sub else rt.name
    if not principal.allowed(verb, resource) or not principal.allowed(verb, rt.name):
        raise forbidden(principal.user, verb, resource, rt.group, namespace)


def _wants_table(request: web.Request) -> bool:
    return "as=Table" in request.headers.get("Accept", "")


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


def _dry_run(request: web.Request) -> bool:
    return "All" in request.query.getall("dryRun", [])


async def _read_json(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        return None
    if raw.startswith(protobuf.MAGIC):
        return None  # protobuf bodies other than SSAR carry nothing we need (e.g. DeleteOptions)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise bad_request(f"the request body is not valid JSON: {exc}") from exc


async def resource_handler(request: web.Request) -> web.StreamResponse:
    rt, namespace, name, sub = _resolve(request)
    cluster = request.app[CLUSTER_KEY]
    method = request.method
    if name is None:
        if method == "GET":
            if _truthy(request.query.get("watch")):
                _authorize(request, "watch", rt, namespace)
                return await _watch(request, cluster, rt, namespace)
            _authorize(request, "list", rt, namespace)
            return _list(request, cluster, rt, namespace)
        if method == "POST":
            if namespace is None and rt.namespaced:
                raise ApiError(405, "the server does not allow this method on the requested resource")
            _authorize(request, "create", rt, namespace)
            return await _create(request, cluster, rt, namespace)
        raise ApiError(405, "the server does not allow this method on the requested resource")
    if sub == "log":
        _authorize(request, "get", rt, namespace, sub)
        return _logs(request, cluster, namespace, name)
    if sub == "scale":
        return await _scale(request, cluster, rt, namespace, name)
    verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)
    if verb is None:
        raise ApiError(405, "the server does not allow this method on the requested resource")
    _authorize(request, verb, rt, namespace, sub)
    if method == "GET":
        obj = cluster.store.get(rt.name, namespace, name)
        if _wants_table(request):
            return dump(_table(cluster, rt, [obj]))
        return dump(obj)
    if method == "PUT":
        return await _replace(request, cluster, rt, namespace, name, sub)
    if method == "PATCH":
        return await _patch(request, cluster, rt, namespace, name, sub)
    return await _delete(request, cluster, rt, namespace, name)


def _table(cluster: ApiBackend, rt: ResourceType, items: list[dict[str, Any]],
           with_columns: bool = True) -> dict[str, Any]:
    table = printers.table(rt.name, items, cluster.clock.now(), with_columns)
    table["metadata"]["resourceVersion"] = str(cluster.store.rv)
    return table


def _list_position(obj: dict[str, Any]) -> tuple[str, str]:
    """Where an object sits in a list (the store sorts lists by namespace, then name)."""
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def _list(request: web.Request, cluster: ApiBackend, rt: ResourceType,
          namespace: str | None) -> web.Response:
    labels = parse_label_selector(request.query.get("labelSelector"))
    fields = parse_field_selector(request.query.get("fieldSelector"))
    items = cluster.store.list(rt.name, namespace, labels, fields)
    rv = str(cluster.store.rv)
    meta: dict[str, Any] = {"resourceVersion": rv}
    limit = int(request.query.get("limit", "0") or 0)
    start = 0
    if request.query.get("continue"):
        # tokens expire as a real server's do (drill/list_limits.py)
        start = bisect.bisect_right(items, cluster.limits.position(request.query["continue"]),
                                    key=_list_position)
    if limit > 0 or start:
        page = items[start:start + limit] if limit > 0 else items[start:]
        if limit > 0 and start + limit < len(items):
            # the next page starts after the last object listed (by key, as the API server
            # does: objects created or deleted meanwhile neither shift it nor get skipped)
            meta["continue"] = cluster.limits.token(_list_position(page[-1]))
            meta["remainingItemCount"] = len(items) - start - limit
        items = page
    if _wants_table(request):
        table = _table(cluster, rt, items)
        table["metadata"].update(meta)
        return dump(table)
    return dump({"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta,
                 "items": items})


async def _watch(request: web.Request, cluster: ApiBackend, rt: ResourceType,
                 namespace: str | None) -> web.StreamResponse:
    labels = parse_label_selector(request.query.get("labelSelector"))
    fields = parse_field_selector(request.query.get("fieldSelector"))
    rv_param = request.query.get("resourceVersion", "")
    invalid_options = watch_options_errors(request.query, cluster.limits.watch_list)
    if invalid_options is not None:
        raise invalid_options
    send_initial = _truthy(request.query.get("sendInitialEvents"))
    bookmarks = _truthy(request.query.get("allowWatchBookmarks"))
    timeout = float(request.query.get("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
    table = _wants_table(request)
    since: int | None
    if send_initial or rv_param in ("", "0"):
        since = None
    else:
        try:
            since = int(rv_param)
        except ValueError as exc:
            raise bad_request(f"invalid resourceVersion {rv_param!r}") from exc

    # register the watch before answering, so no write between the two is missed
    expired_error: ApiError | None = None
    try:
        watch = cluster.store.watch(rt.name, namespace, since, labels, fields)
    except ApiError as error:
        expired_error = error
    snapshot_rv = cluster.store.rv  # the state the initial events hold
    response = web.StreamResponse(status=200, headers={"Content-Type": JSON})
    response.enable_chunked_encoding()
    try:
        await response.prepare(request)
    except BaseException:
        if expired_error is None:
            cluster.store.unwatch(watch)
        raise
    columns_sent = False

    async def send(event_type: str, obj: dict[str, Any]) -> None:
        await response.write(encode_event(event_type, obj))

    def encode_event(event_type: str, obj: dict[str, Any]) -> bytes:
        nonlocal columns_sent
        if table and event_type in ("ADDED", "MODIFIED", "DELETED"):
            obj = _table(cluster, rt, [obj], with_columns=not columns_sent)
            columns_sent = True
        return json.dumps({"type": event_type, "object": obj},
                          separators=(",", ":")).encode() + b"\n"

    if expired_error is not None:
        await send("ERROR", expired_error.status())
        return response
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        if since is None:
            initial = watch.queue.qsize()
            lines: list[bytes] = []  # the current state goes out in large writes
            for _ in range(initial):
                event = watch.queue.get_nowait()
                if event is not None:
                    lines.append(encode_event(event.type, event.obj))
                    if len(lines) >= INITIAL_WRITE:
                        await response.write(b"".join(lines))
                        lines = []
            if send_initial and bookmarks:
                lines.append(encode_event("BOOKMARK", {
                    "kind": rt.kind, "apiVersion": rt.api_version, "metadata": {
                        "resourceVersion": str(snapshot_rv),
                        "annotations": {"k8s.io/initial-events-end": "true"}}}))
            if lines:
                await response.write(b"".join(lines))
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                event = await asyncio.wait_for(watch.queue.get(), min(remaining, cluster.limits.bookmark_every))
            except TimeoutError:
                if bookmarks:
                    await send("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version,
                                            "metadata": {"resourceVersion": str(cluster.store.rv)}})
                continue
            if event is None:  # the server dropped this watch (fault injection or shutdown)
                break
            await send(event.type, event.obj)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        cluster.store.unwatch(watch)
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response


async def _create(request: web.Request, cluster: ApiBackend, rt: ResourceType,
                  namespace: str | None) -> web.Response:
    body = await _read_json(request)
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    meta = body.setdefault("metadata", {})
    if namespace:
        if meta.get("namespace") and meta["namespace"] != namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        meta["namespace"] = namespace
    if rt.name == "deployments":
        cluster.prepare_deployment(body)
    if rt.name != "namespaces" and namespace and cluster.store.try_get("namespaces", None, namespace) is None:
        raise not_found("namespaces", "", namespace)
    if _dry_run(request):
        return dump(body, 201)
    return dump(cluster.store.create(rt.name, body), 201)


async def _replace(request: web.Request, cluster: ApiBackend, rt: ResourceType,
                   namespace: str | None, name: str, sub: str | None) -> web.Response:
    body = await _read_json(request)
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    meta = body.setdefault("metadata", {})
    if meta.get("name", name) != name:
        raise bad_request("the name of the object does not match the name on the URL")
    meta["name"] = name
    if namespace:
        meta["namespace"] = namespace
    return _store_update(request, cluster, rt, body, sub)


def _store_update(request: web.Request, cluster: ApiBackend, rt: ResourceType,
                  body: dict[str, Any], sub: str | None) -> web.Response:
    if rt.name == "deployments" and sub is None:
        cluster.prepare_deployment(body)
    if _dry_run(request):
        cluster.store.get(rt.name, body["metadata"].get("namespace"), body["metadata"]["name"])
        return dump(body)
    return dump(cluster.store.update(rt.name, body, subresource=sub))


async def _patch(request: web.Request, cluster: ApiBackend, rt: ResourceType,
                 namespace: str | None, name: str, sub: str | None) -> web.Response:
    patch = await _read_json(request)
    current = cluster.store.get(rt.name, namespace, name)
    patched = apply_patch(current, patch, request.headers.get("Content-Type", ""))
    meta = patched.setdefault("metadata", {})
    meta["name"] = name
    if namespace:
        meta["namespace"] = namespace
    return _store_update(request, cluster, rt, patched, sub)


async def _delete(request: web.Request, cluster: ApiBackend, rt: ResourceType,
                  namespace: str | None, name: str) -> web.Response:
    options = await _read_json(request) or {}
    obj = cluster.store.get(rt.name, namespace, name)
    if _dry_run(request) or "All" in (options.get("dryRun") or []):
        return dump(obj)
    if rt.name == "pods":
        grace = options.get("gracePeriodSeconds")
        if grace is None and request.query.get("gracePeriodSeconds"):
            grace = int(request.query["gracePeriodSeconds"])
        return dump(cluster.control.delete_pod(namespace or "", name, grace))
    return dump(cluster.store.delete(rt.name, namespace, name))


def _scale_of(deployment: dict[str, Any]) -> dict[str, Any]:
    meta = deployment["metadata"]
    return {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                          "creationTimestamp") if k in meta},
        "spec": {"replicas": deployment["spec"].get("replicas", 1)},
        "status": {"replicas": deployment.get("status", {}).get("replicas", 0),
                   "selector": format_match_labels(
                       deployment["spec"].get("selector", {}).get("matchLabels", {}))},
    }


async def _scale(request: web.Request, cluster: ApiBackend, rt: ResourceType,
                 namespace: str | None, name: str) -> web.Response:
    verb = {"GET": "get", "PUT": "update", "PATCH": "patch"}.get(request.method)
    if verb is None:
        raise ApiError(405, "the server does not allow this method on the requested resource")
    _authorize(request, verb, rt, namespace, "scale")
    current = cluster.store.get(rt.name, namespace, name)
    scale = _scale_of(current)
    if request.method == "GET":
        return dump(scale)
    body = await _read_json(request)
    if request.method == "PATCH":
        wanted = apply_patch(scale, body, request.headers.get("Content-Type", ""))
    else:
        if not isinstance(body, dict):
            raise bad_request("the request body must be a Scale object")
        wanted = body
    replicas = (wanted.get("spec") or {}).get("replicas")
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise invalid("scale", "autoscaling", name,
                      f"spec.replicas: Invalid value: {json.dumps(replicas)}: must be a non-negative integer")
    sent_rv = (wanted.get("metadata") or {}).get("resourceVersion")
    updated = copy.deepcopy(current)
    updated["spec"]["replicas"] = replicas
    if sent_rv:
        updated["metadata"]["resourceVersion"] = sent_rv
    if _dry_run(request):
        return dump(_scale_of(updated))
    return dump(_scale_of(cluster.store.update(rt.name, updated)))


def _logs(request: web.Request, cluster: ApiBackend, namespace: str | None,
          name: str) -> web.Response:
    pod = cluster.store.get("pods", namespace, name)
    container = request.query.get("container")
    containers = [c["name"] for c in pod["spec"].get("containers", [])]
    if container and container not in containers:
        raise bad_request(f"container {container} is not valid for pod {name}")
    tail = request.query.get("tailLines")
    text = cluster.control.logs(pod, container or (containers[0] if containers else None),
                                _truthy(request.query.get("previous")),
                                int(tail) if tail and tail.lstrip("-").isdigit() else None)
    body = text.encode()
    limit = request.query.get("limitBytes")
    if limit is not None:
        if not limit.isdigit() or int(limit) < 1:
            raise bad_request(f"limitBytes: Invalid value: {limit}: must be greater than 0")
        body = body[: int(limit)]  # bytes, as the kube-apiserver counts them
    return web.Response(body=body, content_type="text/plain", charset="utf-8")


async def self_subject_access_review(request: web.Request) -> web.Response:
    raw = await request.read()
    if raw.startswith(protobuf.MAGIC):
        try:
            review = protobuf.decode_ssar(raw)
        except ValueError as exc:
            raise bad_request(f"cannot decode SelfSubjectAccessReview: {exc}") from exc
    else:
        try:
            review = json.loads(raw or b"{}")
        except ValueError as exc:
            raise bad_request(f"the request body is not valid JSON: {exc}") from exc
    spec = review.get("spec") or {}
    attrs = spec.get("resourceAttributes")
    principal = request[PRINCIPAL]
    if principal is ANONYMOUS:  # system:basic-user is bound to system:authenticated only
        raise forbidden(principal.user, "create", "selfsubjectaccessreviews",
                        "authorization.k8s.io", None)
    if attrs:
        resource = attrs.get("resource", "")
        if attrs.get("subresource"):
            resource = f"{resource}/{attrs['subresource']}"
        allowed = principal.allowed(attrs.get("verb", ""), resource) and principal.allowed(
            attrs.get("verb", ""), attrs.get("resource", ""))
    else:
        allowed = True
    reason = "drill cluster: allowed" if allowed else ""
    return dump({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                 "metadata": {"creationTimestamp": None}, "spec": spec,
                 "status": {"allowed": allowed, "reason": reason}}, 201)


# ---- metrics ----------------------------------------------------------------------------
async def metrics_text(request: web.Request) -> web.Response:
    cluster = request.app[CLUSTER_KEY]
    return web.Response(text=cluster.traffic.exposition(),
                        content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})


async def prom_query(request: web.Request) -> web.Response:
    cluster = request.app[CLUSTER_KEY]
    params: dict[str, str] = dict(request.query)
    if request.method == "POST":
        params.update({k: str(v) for k, v in (await request.post()).items()})
    ranged = request.path.endswith("query_range")
    return await prometheus_api.answer(cluster.traffic, params, ranged)


async def _server_date(request: web.Request, response: web.StreamResponse) -> None:
    """``Date`` is the server's wall clock, as on a real API server: this machine's, shifted by
    the cluster's ``clock_skew`` (a server whose clock is ahead of or behind the bastion's).
    Not the drill clock: a faster drill's simulated time is no server's wall clock, and
    kubectl's credential plugin refresh misbehaves against a Date hours away from its own."""
    skew = getattr(request.app[CLUSTER_KEY], "clock_skew", 0.0)
    response.headers["Date"] = format_datetime(datetime.now(UTC) + timedelta(seconds=skew),
                                               usegmt=True)


def build_app(cluster: ApiBackend) -> web.Application:
    """The Kubernetes and Prometheus API of `cluster`; drill controls are added by the caller
    (drill/admin_api.py)."""
    app = web.Application(middlewares=[errors_middleware, faults_middleware, auth_middleware],
                          client_max_size=8 * 1024 * 1024)
    app[CLUSTER_KEY] = cluster
    app.on_response_prepare.append(_server_date)
    r = app.router
    for path in OPEN_PATHS:
        r.add_get(path, healthz)
    r.add_get("/version", version)
    r.add_get("/version/", version)
    r.add_get("/api", api_versions)
    r.add_get("/api/", api_versions)
    r.add_get("/apis", api_groups)
    r.add_get("/apis/", api_groups)
    r.add_get("/api/v1", core_resources)
    r.add_get("/api/v1/", core_resources)
    r.add_get("/metrics", metrics_text)
    for prefix in ("", "/prometheus"):
        r.add_route("*", prefix + "/api/v1/query", prom_query)
        r.add_route("*", prefix + "/api/v1/query_range", prom_query)
    r.add_post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", self_subject_access_review)
    r.add_get("/apis/{group}", group_info)
    r.add_get("/apis/{group}/", group_info)
    r.add_get("/apis/{group}/{version}", group_resources)
    r.add_get("/apis/{group}/{version}/", group_resources)
    core = "/api/{version:v1}"
    grp = "/apis/{group}/{version}"
    for base in (core, grp):
        r.add_route("*", base + "/{resource}", resource_handler)
        r.add_route("*", base + "/namespaces/{namespace}/{resource}", resource_handler)
        r.add_route("*", base + "/namespaces/{namespace}/{resource}/{name}", resource_handler)
        r.add_route("*", base + "/namespaces/{namespace}/{resource}/{name}/{sub}", resource_handler)
    # cluster-scoped objects (namespaces): /api/v1/namespaces/{name}[/{sub}]
    r.add_route("*", core + "/{resource:namespaces}/{name}", resource_handler)
    return app
