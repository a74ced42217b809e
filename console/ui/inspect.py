"""Logs and events of what is selected, fetched in a worker and shown in a text modal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.errors import AdapterError
from adapters.kube_views import PodView
from console.ui.messages import Notice, ShowText
from widgets.pod_table import PodTable

if TYPE_CHECKING:
    from console.ui.main_screen import MainScreen


class Inspect:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def logs(self) -> None:
        pod = self.screen.live.selected_pod()
        if pod is not None and self.screen.session.kube is not None:
            self.screen.run_worker(lambda: self._logs(pod), thread=True, group="logs",
                                   exit_on_error=False)

    def _logs(self, pod: PodView) -> None:
        kube = self.screen.session.kube
        parts = []
        try:
            parts.append(kube.pod_logs(pod.namespace, pod.name, tail=500))
        except AdapterError as error:
            parts.append(f"(logs unavailable: {error.message})")
        if pod.restarts:
            try:
                previous = kube.pod_logs(pod.namespace, pod.name, tail=200, previous=True)
                parts.append("──── previous container (before the last restart) ────\n"
                             + previous)
            except AdapterError as error:
                parts.append(f"(previous container: {error.message})")
        self.screen.post_message(ShowText(f"logs: {pod.name}", "\n".join(parts)))

    def events(self) -> None:
        session, live = self.screen.session, self.screen.live
        if session.kube is None:
            return
        table = self.screen.query_one(PodTable)
        pod = live.pods.get(table.cursor_key) if table.has_focus else None
        target = pod.name if pod else (live.selected.partition("/")[2] if live.selected
                                       else None)
        self.screen.run_worker(lambda: self._events(target), thread=True, group="events",
                               exit_on_error=False)

    def _events(self, name: str | None) -> None:
        session = self.screen.session
        try:
            events = session.kube.list_events(session.namespace, involved_name=name)
        except AdapterError as error:
            self.screen.post_message(Notice(error.message, "events", "error", 5))
            return
        lines = [f"{e.age:>8}  {e.type:<7} {e.reason:<20} {e.object:<40} {e.message}"
                 for e in events[-300:]]
        self.screen.post_message(ShowText(f"events: {name or session.namespace}",
                                          "\n".join(lines) or "no events"))
