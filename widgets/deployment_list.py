"""The deployment list: name, ready x/y, revision and rollout state, one row per deployment."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

from rich.text import Text
from textual.message import Message

from widgets.keyed_table import KeyedTable
from widgets.rows import DeploymentRow

ROLLOUT_SYMBOLS = {"complete": "✔", "progressing": "⟳", "stalled": "✖", "paused": "⏸"}


def _ready(row: DeploymentRow) -> tuple[float, int]:
    if row.ready is None or not row.desired:
        return (-1.0, row.desired or 0)
    return (row.ready / row.desired, row.desired)


def count(value: int | None) -> str:
    return "?" if value is None else str(value)


def rollout_text(row: DeploymentRow) -> str:
    """The ROLLOUT cell after its symbol; a paused rollout says how far it got: "paused at
    2/5 new pods" (pods of the current template out of the replicas wanted)."""
    if row.rollout == "paused":
        return f"paused at {count(row.updated)}/{count(row.desired)} new pods"
    return row.rollout


class DeploymentList(KeyedTable[DeploymentRow]):
    """Deployments with their rollout state (✔ complete, ⟳ progressing, ✖ stalled, ⏸ paused at
    2/5 new pods).

    ``apply(rows)`` takes the full current list and updates it in place by key. Moving the
    cursor posts ``DeploymentList.Selected(key)``; Enter posts it with ``activated=True``.
    """

    COLUMNS = (("name", "DEPLOYMENT"), ("ready", "READY"), ("revision", "REV"),
               ("rollout", "ROLLOUT"))
    SQUEEZE: ClassVar[dict[str, int]] = {"rollout": 12}  # "⏸ paused at…" in a narrow pane
    SORT_KEYS: ClassVar[dict[str, Callable[[DeploymentRow], object]]] = {
        "name": lambda row: (row.namespace, row.name),
        "ready": _ready,
        "revision": lambda row: row.revision if row.revision is not None else -1,
        "rollout": lambda row: row.rollout,
    }
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "deployment-list--complete",
        "deployment-list--progressing",
        "deployment-list--stalled",
        "deployment-list--paused",
        "deployment-list--short",  # fewer ready than desired
        "deployment-list--unknown",
        "deployment-list--group",  # a context's header row (a console on several contexts)
    }

    class Selected(Message):
        """The deployment under the cursor changed (or Enter was pressed on it)."""

        def __init__(self, deployment_list: DeploymentList, key: str,
                     activated: bool = False) -> None:
            super().__init__()
            self.deployment_list = deployment_list
            self.key = key
            self.activated = activated

        @property
        def control(self) -> DeploymentList:
            return self.deployment_list

    def __init__(self, *, show_namespace: bool = False, name: str | None = None,
                 id: str | None = None, classes: str | None = None,
                 disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.show_namespace = show_namespace

    def apply_deltas(self, upserts: Iterable[DeploymentRow], deletes: Iterable[str] = ()) -> None:
        """Apply one batch: add or update ``upserts``, remove the deployments in ``deletes``."""
        self._apply(upserts, deletes)

    def apply(self, rows: Iterable[DeploymentRow]) -> None:
        """Show exactly ``rows``: changed rows are updated, new added, missing removed."""
        self.sync(rows)

    def _cells(self, row: DeploymentRow) -> tuple[Text, ...]:
        if row.heading:
            return (Text(row.heading, style=self.component_style("deployment-list--group")),
                    Text(""), Text(""), Text(""))
        name = f"{row.namespace}/{row.name}" if self.show_namespace else row.name
        style = self.component_style
        short = row.ready is None or row.desired is None or row.ready < row.desired
        ready = Text(f"{count(row.ready)}/{count(row.desired)}",
                     style=style("deployment-list--short") if short else "")
        revision = Text(count(row.revision))
        symbol = ROLLOUT_SYMBOLS.get(row.rollout)
        if symbol is None:
            rollout = Text(f"? {row.rollout}", style=style("deployment-list--unknown"))
        else:
            rollout = Text(f"{symbol} {rollout_text(row)}",
                           style=style(f"deployment-list--{row.rollout}"))
        return Text(name), ready, revision, rollout

    def _resort(self) -> None:
        """Grouped by context (``DeploymentRow.group``): each group's header row, then its
        deployments by name. DataTable's sort hands the key function cells, not row keys:
        the name cells are told apart by identity (each row's is its own object)."""
        if all(row.group is None for row in self._rows.values()):
            super()._resort()
            return
        order = {id(self._shown[key][0]): (row.group or 0, not row.heading,
                                           self._shown[key][0].plain)
                 for key, row in self._rows.items() if key in self._shown}
        self.sort("name", key=lambda cell: order.get(id(cell), (-1, False, cell.plain)))

    def _row_highlighted(self, key: str, activated: bool) -> None:
        self.post_message(self.Selected(self, key, activated))
