"""The Textual application. (First cut: a live pod list; the full war-room screen follows.)"""

from __future__ import annotations

import threading
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header, Static

from adapters.errors import AdapterError
from adapters.kubernetes import KubeClient, PodView


class WarroomApp(App[int]):
    TITLE = "warroom"
    BINDINGS = [("q", "quit", "Quit")]
    CSS = "#status { height: 1; padding: 0 1; }"

    def __init__(self, kubeconfig: str | None, context: str | None, namespace: str | None,
                 title: str | None = None) -> None:
        super().__init__()
        self._kube_config = kubeconfig
        self._kube_context = context
        self._kube_namespace = namespace
        self._stop = threading.Event()
        if title:
            self.sub_title = title

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("connecting…", id="status")
        yield DataTable(id="pods", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label in ("NAME", "READY", "STATUS", "RESTARTS", "AGE", "REVISION"):
            table.add_column(label, key=label)
        self.run_worker(self._watch, thread=True, exclusive=True, group="pods")

    def _watch(self) -> None:
        try:
            client = KubeClient.connect(self._kube_config, self._kube_context)
        except AdapterError as error:
            self.call_from_thread(self._set_status, f"[b red]{error.message}[/]")
            return
        namespace = self._kube_namespace or client.namespace
        self.call_from_thread(self._set_status,
                              f"context {client.context} · namespace {namespace} · live")
        client.watch_pods(namespace, lambda kind, pod: self.call_from_thread(self._apply, kind, pod),
                          self._stop,
                          lambda msg: self.call_from_thread(self._set_status, msg))

    def _set_status(self, text: str) -> None:
        self.query_one("#status", Static).update(text)

    def _apply(self, kind: str, pod: PodView) -> None:
        table = self.query_one(DataTable)
        row: list[Any] = [pod.name, pod.ready, pod.status, str(pod.restarts), pod.age, pod.revision]
        if kind == "DELETED":
            if pod.name in table.rows:
                table.remove_row(pod.name)
        elif pod.name in table.rows:
            for label, value in zip(("NAME", "READY", "STATUS", "RESTARTS", "AGE", "REVISION"),
                                    row, strict=True):
                table.update_cell(pod.name, label, value)
        else:
            table.add_row(*row, key=pod.name)

    def on_unmount(self) -> None:
        self._stop.set()


def run_app(kubeconfig: str | None, context: str | None, namespace: str | None,
            title: str | None = None) -> int:
    app = WarroomApp(kubeconfig, context, namespace, title)
    return app.run() or 0
