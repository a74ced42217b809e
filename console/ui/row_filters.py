"""The `/` filter and the sort keys of the pod table and the workloads pane.

A pod filter searches every pod the console watches, not only the selected workload's: at
10,000 pods it is how one pod is found. The workloads pane has its own filter. While a pod
filter is in force the pod table shows the matches of every workload (and the header says
"showing 12 of 10,000 pods"); when it is cleared the table shows the selected workload's pods
again. A pattern that does not compile leaves the filter in force, and the tables, unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.domain.pod_search import PodSearch
from console.domain.row_filter import FilterError, RowFilter, deployment_words, pod_words
from console.ui import view_model as vm
from widgets.deployment_list import DeploymentList
from widgets.filter_bar import FilterBar
from widgets.keyed_table import KeyedTable
from widgets.pod_table import PodTable

# At most this many matching pods go into the table: building rows costs ~0.1 ms each, so a
# keystroke stays well under 50 ms even when the pattern matches all 50,000 pods. The header
# says how many matched; typing more narrows them.
MAX_MATCHES = 500

if TYPE_CHECKING:
    from adapters.kube_views import DeploymentView, PodView
    from console.ui.main_screen import MainScreen


class RowFilters:
    """The filters in force and the sort of each table."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.pods = RowFilter()
        self.deployments = RowFilter()
        self.matched = 0  # pods the pod filter matched (the table holds MAX_MATCHES at most)
        self.search = PodSearch()  # what keystrokes share (words, name order, last matches)

    # ---- what the live data asks ------------------------------------------------------------
    def shows_pod(self, pod: PodView, selected: str | None, deployment: str) -> bool:
        if self.pods.active:
            return self.pods.keeps(pod_words(pod))
        return selected is None or deployment == selected

    def shows_deployment(self, view: DeploymentView) -> bool:
        return self.deployments.keeps(deployment_words(view))

    def showing(self) -> str | None:
        """For the header: "showing 12 of 10,000 pods" while a filter is in force."""
        parts = []
        live = self.screen.live
        if self.pods.active:
            shown = self.screen.query_one(PodTable).row_count
            if self.matched > shown:
                parts.append(f"showing {shown:,} of {self.matched:,} matches "
                             f"({len(live.pods):,} pods): type more to narrow")
            else:
                parts.append(f"showing {shown:,} of {len(live.pods):,} pods")
        if self.deployments.active:
            shown = self.screen.query_one(DeploymentList).row_count
            parts.append(f"{shown:,} of {len(live.deployments):,} workloads")
        return ", ".join(parts) or None

    # ---- the bar ------------------------------------------------------------------------------
    def open(self) -> None:
        """`/`: filter the workloads pane if it has the keys, else the pods."""
        target = "deployments" if isinstance(self.screen.focused, DeploymentList) else "pods"
        current = self.deployments if target == "deployments" else self.pods
        if target == "pods":
            self.search.prepare(self.screen.live.pods)  # sorted before the first keystroke
        self.screen.query_one(FilterBar).open(target, current.text)

    def changed(self, target: str, text: str) -> None:
        bar = self.screen.query_one(FilterBar)
        try:
            wanted = RowFilter.parse(text)
        except FilterError as error:
            bar.note(error.message, error=True)
            return
        self._set(target, wanted)
        bar.note(self.showing() or "")

    def closed(self, target: str, kept: bool) -> None:
        if not kept:
            self._set(target, RowFilter())
        if not self.pods.active:
            self.search.release()
        table = self.screen.query_one(DeploymentList if target == "deployments" else PodTable)
        table.focus()

    def _set(self, target: str, wanted: RowFilter) -> None:
        if target == "deployments":
            if wanted != self.deployments:
                self.deployments = wanted
                self.apply_deployments()
        elif wanted != self.pods:
            self.pods = wanted
            self.apply_pods()
        self.screen.refresh_header()

    # ---- applying -----------------------------------------------------------------------------
    def apply_pods(self) -> None:
        """Show the pods the filter keeps (or the selected workload's) in the pod table."""
        live = self.screen.live
        now = live.now()
        table = self.screen.query_one(PodTable)
        if self.pods.active:
            by_name = table.sort_column == "name"
            found = self.search.find(live.pods, self.pods, MAX_MATCHES if by_name else 0,
                                     reverse=table.sort_reverse)
            self.matched = found.matched
            pods = found.first  # the first ones in the table's order, when that is by name
            if not by_name:
                pods = first_in_order(table, [live.pods[key] for key in found.keys], now)
        elif live.selected is not None:
            pods = list(live.pods.of_deployment(live.selected))
        else:
            pods = []
        table.sync([vm.pod_row(pod, now) for pod in pods])

    def apply_deployments(self) -> None:
        """Show the workloads the filter keeps, of every context (their header rows stay)."""
        table = self.screen.query_one(DeploymentList)
        wanted = {}
        for live in self.screen.workloads.lives:
            for view in live.deployments.values():
                if self.shows_deployment(view):
                    row = live._row(view)
                    wanted[row.key] = row
        gone = [key for key in table.keys if key not in wanted
                and not getattr(table.row_for(key), "heading", None)]
        table.apply_deltas(list(wanted.values()), gone)

    # ---- sorting ------------------------------------------------------------------------------
    def focused_table(self) -> KeyedTable | None:  # type: ignore[type-arg]
        focused = self.screen.focused
        if isinstance(focused, KeyedTable):
            return focused
        return self.screen.query_one(PodTable)

    def cycle_sort(self) -> None:
        table = self.focused_table()
        if table is not None:
            table.cycle_sort()

    def reverse_sort(self) -> None:
        table = self.focused_table()
        if table is not None:
            table.reverse_sort()


def first_in_order(table: PodTable, pods: list[PodView], now: object) -> list[PodView]:
    """The MAX_MATCHES pods that come first in the table's sort order (by a column other
    than the name: PodSearch gives those in order)."""
    key_of = table.SORT_KEYS[table.sort_column]
    ranked = sorted(((key_of(vm.pod_row(pod, now)), pod.key), pod) for pod in pods)  # type: ignore[arg-type]
    if table.sort_reverse:
        ranked.reverse()
    return [pod for _, pod in ranked[:MAX_MATCHES]]
