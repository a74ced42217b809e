"""A watch cache (informer) for pods, deployments, replicasets and events.

Like client-go's reflector + store: sync each kind once, with a watch-list where the server
has one (the current state as the watch's first events, ``informer_watchlist``) or else a
LIST and then a WATCH from the list's resourceVersion; after a dropped stream resume from
the last resourceVersion seen (events or bookmarks) without listing again; relist only when the server answers 410 Gone; back off
exponentially with jitter on errors. Changes go to the caller as batched, coalesced
``Delta`` lists (every ``flush_interval`` seconds or ``max_batch`` items) so a UI can apply
many at once, and the connection state (connecting / live / reconnecting / stale since T) is
reported through a callback. Everything runs in daemon threads; ``stop()`` returns promptly.

The cache and its views are in ``informer_cache``, the deltas and their batching in
``informer_deltas``, the connection state in ``informer_status``, the paged LIST in
``informer_pages``, the watch-list's initial events in ``informer_watchlist``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kubernetes.client.exceptions import ApiException

from .errors import AdapterError, Invalid, Operation, error_for_status, translate
from .informer_cache import InformerCache
from .informer_deltas import ADDED, DELETED, MODIFIED, Delta, View
from .informer_pages import RESTARTED, list_pages
from .informer_status import StatusBoard, WatchStatus
from .informer_watchlist import InitialEvents, ends_initial_events

if TYPE_CHECKING:
    from .kube_requests import KubeRequests, WatchStream

log = logging.getLogger(__name__)

ALL_KINDS: tuple[str, ...] = ("pods", "deployments", "replicasets", "events")
# Argo Rollouts' kinds: watched only when discovery shows the cluster serves them
ARGO_KINDS: tuple[str, ...] = ("rollouts", "analysisruns")


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


class Informer(InformerCache):
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
        super().__init__(self.kinds, clock, kube.server_now, flush_interval, max_batch)
        self.watch_list = watch_list  # try sendInitialEvents first (then list where refused)
        self._no_watch_list: set[str] = set()  # kinds whose server refused it
        self.stats: dict[str, KindStats] = {k: KindStats() for k in self.kinds}
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
                    if received == 0 and time.monotonic() - opened < 1.0:
                        backoff.wait(self._stop)
            except ApiException as exc:
                if self._stop.is_set():
                    break
                if exc.status == 410:
                    stats.relists_after_410 += 1
                    rv = None
                    continue
                self._failed(kind, stats, translate(exc, op, self.kube.context,
                                                    self.kube.server), backoff)
            except AdapterError as exc:
                if self._stop.is_set():
                    break
                self._failed(kind, stats, exc, backoff)
            except Exception as exc:  # noqa: BLE001 - broken streams, bad JSON: retry
                if self._stop.is_set():
                    break
                self._failed(kind, stats, translate(exc, op, self.kube.context,
                                                    self.kube.server), backoff)
            finally:
                if initial is not None:  # cut off before the end bookmark: start over
                    rv = None
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
