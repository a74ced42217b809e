"""Switching the watched namespace from the palette ("Namespace: payments"), as k9s's `:ns`.

The names come from the API server once connected (a user who may not list namespaces is
offered none but the one watched). Switching stops the watch, forgets what was shown and lists
the new namespace; the incident, its audit and the runbook stay as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.ui.messages import Notice
from console.ui.session import ConnectError

if TYPE_CHECKING:
    from console.ui.main_screen import MainScreen


class Namespaces:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.names: list[str] = []

    def learn(self) -> None:
        """In a worker thread: the namespaces the palette offers."""
        kube = self.screen.session.kube
        if kube is not None:
            self.names = kube.namespace_names()

    def choices(self) -> list[str]:
        current = self.screen.session.namespace
        return [name for name in self.names if name != current]

    def switch(self, namespace: str) -> None:
        """On the UI thread: clear the tables now, then connect the new watch in a worker."""
        screen = self.screen
        if namespace == screen.session.namespace:
            return
        arrived = screen.live.reset()
        screen.filters.apply_pods()
        screen.run_worker(lambda: self._switch(namespace, arrived), thread=True,
                          exclusive=True, group="namespace-switch", exit_on_error=False)

    def _switch(self, namespace: str, arrived: object) -> None:
        link = self.screen.session.focused
        try:
            link.switch_namespace(namespace, arrived)  # type: ignore[arg-type]
        except ConnectError as error:
            self.screen.post_message(Notice(error.message, "cannot switch namespace",
                                            "error", 10))
            return
        self.screen.post_message(Notice(f"watching namespace {namespace}", "namespace",
                                        "information", 4))
        self.screen.app.call_from_thread(self.screen.refresh_header)
