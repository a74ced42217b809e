"""A watch cache (informer) for pods, deployments, replicasets and events.

Like client-go's reflector + store: sync each kind once, with a watch-list where the server
has one (the current state as the watch's first events, ``informer_watchlist``) or else a
LIST and then a WATCH from the list's resourceVersion; after a dropped stream resume from the last resourceVersion seen (events or
bookmarks) without listing again; relist only when the server answers 410 Gone; back off
exponentially with jitter on errors. Changes go to the caller as batched, coalesced
``Delta`` lists (every ``flush_interval`` seconds or ``max_batch`` items) so a UI can apply
many at once, and the connection state (connecting / live / reconnecting / stale since T) is
reported through a callback. Everything runs in daemon threads; ``stop()`` returns promptly.

The deltas and their batching are in ``informer_deltas``, the connection state in
``informer_status``, the paged LIST in ``informer_pages``, the watch-list's initial events
in ``informer_watchlist``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kubernetes.client.exceptions import ApiException

from .argo_views import analysis_run_view, rollout_view
from .errors import AdapterError, Invalid, Operation, error_for_status, translate
from .informer_deltas import ADDED, DELETED, MODIFIED, Delta, DeltaBatcher, View
from .informer_pages import RESTARTED, list_pages
from .informer_status import StatusBoard, WatchStatus
from .informer_watchlist import InitialEvents, ends_initial_events
from .kube_views import (
    DeploymentView,
    PodView,
    RevisionView,
    deployment_view,
    event_view,
    pod_view,
    revision_view,
)

if TYPE_CHECKING:
    from .kube_requests import KubeRequests, WatchStream

log = logging.getLogger(__name__)

ALL_KINDS: tuple[str, ...] = ("pods", "deployments", "replicasets", "events")
# Argo Rollouts' kinds: watched only when discovery shows the cluster serves them
ARGO_KINDS: tuple[str, ...] = ("rollouts", "analysisruns")
ARGO_VIEWS: dict[str, Callable[[Any], View]] = {"rollouts": rollout_view,
                                                 "analysisruns": analysis_run_view}


@dataclass
class KindStats:
    """Counters per kind (tests and the benchmark read them)."""

    lists: int = 0  # LIST requests that completed (first list + relists)
    relists_after_410: int = 0
    continue_expired: int = 0  # paged lists started over unpaged after a 410 (token expired)
    watches: int = 0  # WATCH requests opened
    resumes: int = 0  # watches reopened from a known resourceVersion
    events: int = 0  # ADDED/MODIFIED/DELETED events applied
    bookmarks: int = 0
    errors: int = 0
    watch_lists: int = 0  # watch-lists opened (the state as initial events, no LIST)
    resource_version: str = ""


class _Backoff:
    """Exponential back-off with full jitter in [d/2, d]."""

    def __init__(self, initial: float, maximum: float) -> None:
        self.initial, self.maximum = initial, maximum
        self.delay = initial

    def reset(self) -> None:
        self.delay = self.initial

    def wait(self, stop: threading.Event) -> None:
        stop.wait(random.uniform(self.delay / 2, self.delay))
        self.delay = min(self.delay * 2, self.maximum)


def _key(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"


class Informer:
    """List + watch of several kinds into a local cache, delivering batched deltas.

    kube: a connected KubeClient (any ``KubeRequests``). namespace: one namespace, or None for all. kinds: a subset
    of pods, deployments, replicasets, events. label_selector: applied to pods, deployments
    and replicasets (not events). on_deltas(list[Delta]): called from the informer's flush
    thread; without it, deltas accumulate for ``drain()``. on_status(WatchStatus): called on
    every change of the overall connection state. stale_after: seconds down before
    "reconnecting" becomes "stale". clock: "now" for the views' ages (the drill's clock, say).
    """

    def __init__(self, kube: KubeRequests, namespace: str | None = None, *,
                 kinds: Iterable[str] = ALL_KINDS, label_selector: str | None = None,
                 on_deltas: Callable[[list[Delta]], None] | None = None,
                 on_status: Callable[[WatchStatus], None] | None = None,
                 flush_interval: float = 0.05, max_batch: int = 1000,
                 backoff_initial: float = 0.5, backoff_max: float = 30.0,
                 stale_after: float = 10.0, watch_timeout: tuple[int, int] = (300, 600),
                 page_size: int = 0, clock: Callable[[], datetime] | None = None,
                 watch_list: bool = True) -> None:
        self.kube = kube
        self.namespace = namespace
        self.kinds = tuple(kinds)
        unknown = [k for k in self.kinds if k not in ALL_KINDS + ARGO_KINDS]
        if unknown or not self.kinds:
            raise ValueError(f"kinds must be a non-empty subset of {ALL_KINDS + ARGO_KINDS}")
        self.label_selector = label_selector
        self.on_deltas = on_deltas
        self.on_status = on_status
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.stale_after = stale_after
        self.watch_timeout = watch_timeout
        self.page_size = page_size
        self.clock = clock
        self.watch_list = watch_list  # try sendInitialEvents first (then list where refused)
        self._no_watch_list: set[str] = set()  # kinds whose server refused it
        self.stats: dict[str, KindStats] = {k: KindStats() for k in self.kinds}
        self._cache: dict[str, dict[str, View]] = {k: {} for k in self.kinds}
        self._pods_by_rs: dict[str, set[str]] = {}
        self._lock = threading.RLock()
        self._batches = DeltaBatcher(flush_interval, max_batch)
        self._stop = threading.Event()
        self._board = StatusBoard(self.kinds, stale_after, self._stop, self._notify_status)
        self._streams: set[Any] = set()
        self._streams_lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    # ---- lifecycle --------------------------------------------------------------------
    def start(self) -> Informer:
        """Start the watch threads and the flush thread; returns at once."""
        if self._threads:
            raise RuntimeError("the informer was already started")
        for kind in self.kinds:
            thread = threading.Thread(target=self._run_kind, args=(kind,), daemon=True,
                                      name=f"informer-{kind}")
            self._threads.append(thread)
        self._threads.append(threading.Thread(target=self._run_flusher, daemon=True,
                                              name="informer-flush"))
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every thread (open streams are shut down) and wait for them. The last
        ``on_status`` call ("stopped") happens on the calling thread."""
        self._stop.set()
        with self._streams_lock:
            streams = list(self._streams)
        for stream in streams:
            stream.close()
        self._batches.wake_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        self._board.stopped()

    def __enter__(self) -> Informer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def synced(self) -> bool:
        """True once every kind has been listed."""
        return self._board.synced.is_set()

    def wait_synced(self, timeout: float | None = None) -> bool:
        """Block until every kind has been listed; False on timeout."""
        return self._board.synced.wait(timeout)

    @property
    def status(self) -> WatchStatus:
        """The current overall connection state."""
        return self._board.status

    # ---- the cache --------------------------------------------------------------------
    def get(self, kind: str, key: str) -> View | None:
        """A cached view by ``namespace/name``."""
        with self._lock:
            return self._cache[kind].get(key)

    def items(self, kind: str) -> dict[str, View]:
        """A copy of one kind's cache, keyed by ``namespace/name``."""
        with self._lock:
            return dict(self._cache[kind])

    def pods(self) -> list[PodView]:
        """Cached pods."""
        return [v for v in self.items("pods").values() if isinstance(v, PodView)]

    def deployments(self) -> list[DeploymentView]:
        """Cached deployments."""
        return [v for v in self.items("deployments").values() if isinstance(v, DeploymentView)]

    def drain(self, limit: int | None = None) -> list[Delta]:
        """Take pending deltas (pull mode, when no ``on_deltas`` was given)."""
        return self._batches.drain(limit)

    # ---- delivery -------------------------------------------------------------------
    def _notify_status(self, status: WatchStatus) -> None:
        if self.on_status is not None:
            try:
                self.on_status(status)
            except Exception:  # noqa: BLE001 - a broken callback must not kill the informer
                log.exception("informer on_status callback failed")

    def _run_flusher(self) -> None:
        last_status = 0.0
        while not self._stop.is_set():
            batch = self._batches.next_batch(self._stop, self._board.idle_wait(),
                                             push=self.on_deltas is not None)
            if batch and self.on_deltas is not None and not self._stop.is_set():
                try:
                    self.on_deltas(batch)
                except Exception:  # noqa: BLE001 - keep delivering
                    log.exception("informer on_deltas callback failed")
            now = time.monotonic()
            if now - last_status >= self._board.idle_wait():  # "reconnecting" turns "stale"
                last_status = now
                self._board.recompute()

    # ---- views ------------------------------------------------------------------------
    def _now(self) -> datetime:
        return self.clock() if self.clock is not None else self.kube.server_now()

    def _build(self, kind: str, obj: Mapping[str, Any]) -> View:
        if kind == "pods":
            owner_rs = None
            if "replicasets" in self._cache:
                for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
                    if ref.get("controller") and ref.get("kind") == "ReplicaSet":
                        ns = (obj.get("metadata") or {}).get("namespace") or ""
                        found = self._cache["replicasets"].get(f"{ns}/{ref.get('name')}")
                        owner_rs = found if isinstance(found, RevisionView) else None
            return pod_view(obj, replicaset=owner_rs, now=self._now())
        if kind == "deployments":
            return deployment_view(obj, now=self._now())
        if kind == "replicasets":
            return revision_view(obj)
        if kind in ARGO_VIEWS:
            return ARGO_VIEWS[kind](obj)
        return event_view(obj, now=self._now())

    def _index_pod(self, key: str, old: View | None, new: View | None) -> None:
        if isinstance(old, PodView) and old.replicaset:
            keys = self._pods_by_rs.get(f"{old.namespace}/{old.replicaset}")
            if keys is not None:
                keys.discard(key)
        if isinstance(new, PodView) and new.replicaset:
            self._pods_by_rs.setdefault(f"{new.namespace}/{new.replicaset}", set()).add(key)

    def _refresh_pods_of(self, rs: RevisionView, at: float) -> list[Delta]:
        """A ReplicaSet's revision changed (rollback reuses an old RS): update its pods."""
        if "pods" not in self._cache:
            return []
        deltas = []
        pods = self._cache["pods"]
        revision = str(rs.revision) if rs.revision is not None else None
        for key in list(self._pods_by_rs.get(rs.key, ())):
            pod = pods.get(key)
            if not isinstance(pod, PodView):
                continue
            updated = replace(pod, revision=revision or pod.pod_template_hash,
                              deployment=rs.deployment or pod.deployment)
            if updated != pod:
                pods[key] = updated
                deltas.append(Delta("pods", MODIFIED, key, updated, at))
        return deltas

    def _apply(self, kind: str, event_type: str, obj: Mapping[str, Any]) -> None:
        at = time.monotonic()
        key = _key(obj)
        with self._lock:
            cache = self._cache[kind]
            old = cache.get(key)
            view = self._build(kind, obj)
            deltas: list[Delta] = []
            if event_type == DELETED:
                cache.pop(key, None)
                deltas.append(Delta(kind, DELETED, key, view, at))
            else:
                cache[key] = view
                deltas.append(Delta(kind, MODIFIED if old is not None else ADDED, key, view, at))
            if kind == "pods":
                self._index_pod(key, old, None if event_type == DELETED else view)
            elif kind == "replicasets" and event_type != DELETED and isinstance(
                    view, RevisionView):
                if not isinstance(old, RevisionView) or (old.revision, old.deployment) != (
                        view.revision, view.deployment):
                    deltas.extend(self._refresh_pods_of(view, at))
        self._batches.emit(deltas)

    def _replace(self, kind: str, fresh: dict[str, View]) -> None:
        """A (re)list: the new truth. Emit ADDED / MODIFIED (resourceVersion changed) /
        DELETED (gone meanwhile) against the cache, like client-go's Replace."""
        at = time.monotonic()
        with self._lock:
            cache = self._cache[kind]
            deltas: list[Delta] = []
            for key, view in fresh.items():
                old = cache.get(key)
                if old is None:
                    deltas.append(Delta(kind, ADDED, key, view, at))
                elif old.resource_version != view.resource_version or old != view:
                    deltas.append(Delta(kind, MODIFIED, key, view, at))
            for key, old in cache.items():
                if key not in fresh:
                    deltas.append(Delta(kind, DELETED, key, old, at))
            if kind == "pods":
                self._pods_by_rs.clear()
                for key, view in fresh.items():
                    self._index_pod(key, None, view)
            self._cache[kind] = fresh
            if kind == "replicasets":
                for view in fresh.values():
                    if isinstance(view, RevisionView):
                        deltas.extend(self._refresh_pods_of(view, at))
        self._batches.emit(deltas)

    def _add_page(self, kind: str, views: dict[str, View]) -> None:
        """One page of the first list into the (so far empty) cache, handed over at once."""
        at = time.monotonic()
        with self._lock:
            cache = self._cache[kind]
            deltas = [Delta(kind, ADDED, key, view, at) for key, view in views.items()
                      if key not in cache]
            cache.update(views)
            if kind == "pods":
                for key, view in views.items():
                    self._index_pod(key, None, view)
            elif kind == "replicasets":
                for view in views.values():
                    if isinstance(view, RevisionView):
                        deltas.extend(self._refresh_pods_of(view, at))
        self._batches.emit(deltas)

    def _build_page(self, kind: str, items: list[Mapping[str, Any]]) -> dict[str, View]:
        with self._lock:  # pods read the ReplicaSet cache for their revision
            return {_key(obj): self._build(kind, obj) for obj in items}

    # ---- list + watch -----------------------------------------------------------------
    def _selector(self, kind: str) -> str | None:
        return None if kind == "events" else self.label_selector

    def _track(self, stream: WatchStream, add: bool) -> None:
        with self._streams_lock:
            if add:
                self._streams.add(stream)
            else:
                self._streams.discard(stream)

    def _list(self, kind: str) -> str:
        """LIST (paged when ``page_size``) and replace the cache; returns the list's RV.

        Each page is turned into views as it arrives and its JSON dropped (while the next
        page is on its way), so a list of 10,000 pods never holds more than two pages of raw
        JSON. The first list of a kind (an
        empty cache) hands every page over as ADDED deltas at once, so a UI can show the
        first pods while the rest are still on their way; a relist replaces the cache only
        once it has every page (client-go's Replace), so nothing seems to vanish meanwhile.
        """
        progressive = not self._cache[kind]
        fresh: dict[str, View] = {}
        resource_version = ""

        def fetch(token: str | None, limit: int | None = self.page_size or None
                  ) -> dict[str, Any]:
            return self.kube.list_objects(kind, self.namespace,
                                          label_selector=self._selector(kind),
                                          limit=limit, continue_token=token)

        for page in list_pages(fetch, bool(self.page_size), self._stop, f"list-{kind}",
                               full=lambda: fetch(None, None)):
            if page is RESTARTED:  # a continue token expired: the whole list, unpaged, next
                self.stats[kind].continue_expired += 1
                progressive, fresh, resource_version = False, {}, ""
                continue
            if not resource_version:
                meta = page.get("metadata") or {}
                resource_version = str(meta.get("resourceVersion") or "")
            views = self._build_page(kind, page.get("items") or [])
            page = None  # the JSON goes as soon as its views are built
            if progressive:
                self._add_page(kind, views)
            else:
                fresh.update(views)
        if not progressive:
            self._replace(kind, fresh)
        stats = self.stats[kind]
        stats.lists += 1
        stats.resource_version = resource_version
        return resource_version

    def _run_kind(self, kind: str) -> None:
        stats = self.stats[kind]
        backoff = _Backoff(self.backoff_initial, self.backoff_max)
        rv: str | None = None
        op = Operation("watch", kind, self.namespace)
        while not self._stop.is_set():
            stream = None
            initial: InitialEvents | None = None  # a watch-list's initial events, until the end
            try:
                timeout = random.randint(*self.watch_timeout)
                if rv is None:
                    stream = self._open_watch_list(kind, timeout)
                    if stream is not None:
                        initial = self._initial_events(kind)
                    else:
                        rv = self._list(kind)
                        self._board.mark_synced(kind)
                        self._board.kind_live(kind)
                else:
                    stats.resumes += 1
                opened = time.monotonic()
                if stream is None:
                    stream = self.kube.open_watch(kind, self.namespace, rv,
                                                  label_selector=self._selector(kind),
                                                  timeout_seconds=timeout)
                self._track(stream, True)
                stats.watches += 1
                if self._stop.is_set():
                    break
                self._board.kind_live(kind)
                backoff.reset()
                received = 0
                for event in stream:
                    kind_of_event = event.get("type")
                    body = event.get("object") or {}
                    if kind_of_event == "ERROR":
                        code = int(body.get("code") or 500)
                        if code == 410:
                            stats.relists_after_410 += 1
                            rv = None
                            break
                        raise error_for_status(code, str(body.get("message") or ""), op,
                                               self.kube.context, self.kube.server)
                    new_rv = (body.get("metadata") or {}).get("resourceVersion")
                    if initial is not None:  # the current state, until the end bookmark
                        if kind_of_event == ADDED:
                            initial.add(body)
                        elif ends_initial_events(event):
                            initial.finish()
                            initial = None
                            stats.lists += 1
                            self._board.mark_synced(kind)
                            self._board.kind_live(kind)
                    elif kind_of_event == "BOOKMARK":
                        stats.bookmarks += 1
                    elif kind_of_event in (ADDED, MODIFIED, DELETED):
                        self._apply(kind, kind_of_event, body)
                        stats.events += 1
                    received += 1
                    if new_rv:
                        rv = str(new_rv)
                        stats.resource_version = rv
                    if self._stop.is_set():
                        break
                else:
                    # The server closed the stream (its timeout, or a dropped connection):
                    # resume from rv. A watch that ends at once with nothing is throttled.
                    if initial is not None:  # cut off before the state was complete
                        rv = None
                    if received == 0 and time.monotonic() - opened < 1.0:
                        backoff.wait(self._stop)
            except ApiException as exc:
                if initial is not None:
                    rv = None  # the initial events were cut off: start the watch-list over
                if self._stop.is_set():
                    break
                if exc.status == 410:
                    stats.relists_after_410 += 1
                    rv = None
                    continue
                self._failed(kind, stats, translate(exc, op, self.kube.context,
                                                    self.kube.server), backoff)
            except AdapterError as exc:
                if initial is not None:
                    rv = None
                if self._stop.is_set():
                    break
                self._failed(kind, stats, exc, backoff)
            except Exception as exc:  # noqa: BLE001 - broken streams, bad JSON: retry
                if initial is not None:
                    rv = None
                if self._stop.is_set():
                    break
                self._failed(kind, stats, translate(exc, op, self.kube.context,
                                                    self.kube.server), backoff)
            finally:
                if stream is not None:
                    self._track(stream, False)
                    stream.close()

    def _open_watch_list(self, kind: str, timeout: int) -> WatchStream | None:
        """A watch-list of ``kind`` (informer_watchlist.py), or None where the server refuses
        it (422) or ``watch_list`` is off: then the kind is listed."""
        if not self.watch_list or kind in self._no_watch_list:
            return None
        try:
            stream = self.kube.open_watch(kind, self.namespace, None,
                                          label_selector=self._selector(kind),
                                          timeout_seconds=timeout, initial_events=True)
        except Invalid as exc:
            log.info("informer %s: no watch-list here, listing (%s)", kind, exc.message)
            self._no_watch_list.add(kind)
            return None
        self.stats[kind].watch_lists += 1
        return stream

    def _initial_events(self, kind: str) -> InitialEvents:
        return InitialEvents(lambda items: self._build_page(kind, items),
                             lambda views: self._add_page(kind, views),
                             lambda views: self._replace(kind, views),
                             progressive=not self._cache[kind])

    def _failed(self, kind: str, stats: KindStats, error: AdapterError,
                backoff: _Backoff) -> None:
        stats.errors += 1
        mask = getattr(self.kube, "mask", None)
        if mask is not None:  # credentials echoed into an error must not reach a screen or log
            error = mask(error)
        log.info("informer %s: %s", kind, error.message)
        self._board.kind_down(kind, error)
        backoff.wait(self._stop)


__all__ = ["ALL_KINDS", "ARGO_KINDS", "Informer", "KindStats"]
