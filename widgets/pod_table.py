"""The pod table: pods as ``kubectl get pods`` shows them, updated live by key."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import ClassVar

from rich.text import Text
from textual.message import Message

from widgets.column_fit import MiddleEllipsis
from widgets.keyed_table import KeyedTable
from widgets.rows import PodRow

FAILING = frozenset({
    "CrashLoopBackOff", "OOMKilled", "Error", "ImagePullBackOff", "ErrImagePull",
    "CreateContainerConfigError", "CreateContainerError", "InvalidImageName",
    "RunContainerError", "Failed", "Evicted", "ContainerStatusUnknown", "StartError",
})
WAITING = frozenset({"Pending", "ContainerCreating", "PodInitializing", "NotReady"})

# (symbol, component suffix) per kind of status
KINDS = {
    "failing": ("✖", "failing"),
    "waiting": ("…", "waiting"),
    "running": ("✔", "running"),
    "completed": ("✔", "completed"),
    "terminating": ("↓", "terminating"),
    "unknown": ("?", "unknown"),
}
_READY = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def status_kind(status: str) -> str:
    """failing / waiting / running / completed / terminating / unknown."""
    if status in FAILING:
        return "failing"
    if status.startswith("Init:"):
        return "failing" if status[5:] in FAILING else "waiting"
    if status in WAITING:
        return "waiting"
    if status == "Running":
        return "running"
    if status in ("Completed", "Succeeded"):
        return "completed"
    if status == "Terminating":
        return "terminating"
    return "unknown"


def status_text(status: str) -> str:
    """The status with its symbol: "✖ CrashLoopBackOff", "… Pending", "↓ Terminating"."""
    return f"{KINDS[status_kind(status)][0]} {status}"


_AGE_PART = re.compile(r"(\d+)([smhdy])")
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}


def age_seconds(age: str) -> float:
    """kubectl's AGE ("45s", "5m30s", "3d4h", "2y30d") in seconds; -1 for "?" or "<invalid>"."""
    parts = _AGE_PART.findall(age)
    if not parts:
        return -1.0
    return float(sum(int(n) * _AGE_UNITS[unit] for n, unit in parts))


def ready_ratio(ready: str) -> float:
    match = _READY.match(ready)
    if match is None:
        return -1.0
    total = int(match[2])
    return int(match[1]) / total if total else 0.0


_KIND_ORDER = {kind: index for index, kind in enumerate(KINDS)}


def revision_number(revision: str) -> tuple[int, str]:
    return (int(revision), "") if revision.isdigit() else (-1, revision)


def restart_count(restarts: int | str) -> int | None:
    if isinstance(restarts, int):
        return restarts
    head = restarts.strip().split(" ", 1)[0]
    return int(head) if head.isdigit() else None


class PodTable(KeyedTable[PodRow]):
    """Pods: name, ready, status (symbol and colour), restarts, age, revision.

    ``apply_deltas(upserts, deletes)`` applies one batch of watch deltas by key; the cursor
    stays on the same pod. Moving the cursor posts ``PodTable.PodSelected(key)``; Enter posts
    it with ``activated=True``.

    LAST is the last termination as ``kubectl describe`` shows it, abbreviated ("OOM 12m":
    OOMKilled 12 minutes ago). In a narrow pane pod names keep both ends ("api-7d9…6b5-qq7lm"),
    statuses end in "…", and RESTARTS, then AGE, READY, LAST and REV are hidden -- the POD
    header counts them.
    """

    COLUMNS = (("name", "POD"), ("ready", "READY"), ("status", "STATUS"),
               ("restarts", "RESTARTS"), ("last", "LAST"), ("age", "AGE"), ("revision", "REV"))
    SQUEEZE: ClassVar[dict[str, int]] = {"name": 14, "status": 12, "restarts": 8}
    # the status shows a crash loop, LAST an OOM kill the status no longer shows; REV is
    # what a rollback is about
    DROP_ORDER = ("restarts", "age", "ready", "last", "revision")
    SORT_KEYS: ClassVar[dict[str, Callable[[PodRow], object]]] = {
        "name": lambda row: row.name,
        "ready": lambda row: ready_ratio(row.ready),
        "status": lambda row: (_KIND_ORDER[status_kind(row.status)], row.status),
        "restarts": lambda row: restart_count(row.restarts) or 0,
        "age": lambda row: age_seconds(row.age),
        "revision": lambda row: revision_number(row.revision),
    }
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "pod-table--failing",
        "pod-table--waiting",
        "pod-table--running",
        "pod-table--completed",
        "pod-table--terminating",
        "pod-table--unknown",
        "pod-table--not-ready",
        "pod-table--restarted",
    }

    class PodSelected(Message):
        """The pod under the cursor changed (or Enter was pressed on it)."""

        def __init__(self, pod_table: PodTable, key: str, activated: bool = False) -> None:
            super().__init__()
            self.pod_table = pod_table
            self.key = key
            self.activated = activated

        @property
        def control(self) -> PodTable:
            return self.pod_table

    class RowsRevealed(Message):
        """Scrolling brought other pods on screen (their AGE may want recomputing)."""

    def apply_deltas(self, upserts: Iterable[PodRow], deletes: Iterable[str] = ()) -> None:
        """Apply one batch: add or update ``upserts``, remove the pods keyed in ``deletes``."""
        self._apply(upserts, deletes)

    def _cells(self, row: PodRow) -> tuple[Text, ...]:
        style = self.component_style
        kind = status_kind(row.status)
        symbol, component = KINDS[kind]
        status = Text(f"{symbol} {row.status}", style=style(f"pod-table--{component}"))
        ready_match = _READY.match(row.ready)
        not_ready = ready_match is None or ready_match[1] != ready_match[2]
        ready = Text(row.ready, style=style("pod-table--not-ready") if not_ready else "")
        restarted = (restart_count(row.restarts) or 0) > 0
        restarts = Text(str(row.restarts),
                        style=style("pod-table--restarted") if restarted else "")
        last = Text(row.last_exit, style=style("pod-table--failing") if row.last_exit else "")
        return (MiddleEllipsis(row.name), ready, status, restarts, last, Text(row.age),
                Text(row.revision or "?"))

    def _row_highlighted(self, key: str, activated: bool) -> None:
        self.post_message(self.PodSelected(self, key, activated))

    def _rows_revealed(self) -> None:
        self.post_message(self.RowsRevealed())
