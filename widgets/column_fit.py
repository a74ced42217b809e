"""Fitting a table's columns into the width of its pane.

A column wider than the pane is not cut at the pane's edge without a sign: columns that may
shrink are squeezed (their cells end in "…", or keep both ends with "…" in the middle), then
the least important columns are hidden and the first column's header says how many
("POD (+2 cols)"). Which columns may shrink, how far, and which go first is the table's to say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text


@dataclass(frozen=True)
class ColumnNeed:
    """What one column would like: ``natural`` (its widest cell or label) and the narrowest
    it may be squeezed to (``least``, at most ``natural``)."""

    key: str
    label: str
    natural: int
    least: int


@dataclass(frozen=True)
class ColumnFit:
    """Content widths of the columns shown, in display order, and the columns hidden."""

    widths: Mapping[str, int]
    hidden: tuple[str, ...] = ()

    @property
    def shown(self) -> tuple[str, ...]:
        return tuple(self.widths)


def hidden_label(label: str, hidden: int) -> str:
    """The first column's header when ``hidden`` columns do not fit: "POD (+2 cols)"."""
    if not hidden:
        return label
    return f"{label} (+{hidden} col{'s' if hidden > 1 else ''})"


def fit_columns(needs: Sequence[ColumnNeed], available: int | None, padding: int,
                drop_order: Sequence[str] = ()) -> ColumnFit:
    """Widths for ``needs`` within ``available`` cells, each column taking ``padding`` more.

    Every column gets its natural width when they all fit. Otherwise the columns are
    squeezed towards their ``least``; when even that is too wide, columns are hidden in
    ``drop_order`` until the rest fit. The room left over goes back to the columns in display
    order (the first column, the pod name, first). ``available=None`` (not laid out yet):
    natural widths.
    """
    if not needs:
        return ColumnFit({})
    if available is None:
        return ColumnFit({need.key: need.natural for need in needs})
    if any(key == needs[0].key for key in drop_order):
        raise ValueError("the first column carries the hidden-columns marker: never hidden")
    hidden: list[str] = []
    candidates = [key for key in drop_order if any(need.key == key for need in needs)]
    while True:
        shown = [need for need in needs if need.key not in hidden]
        marker = Text(hidden_label(shown[0].label, len(hidden))).cell_len
        least = {need.key: need.least for need in shown}
        most = {need.key: need.natural for need in shown}
        first = shown[0].key
        least[first] = max(least[first], marker)
        most[first] = max(most[first], marker)
        total = padding * len(shown)
        if not hidden and sum(most.values()) + total <= available:
            return ColumnFit(most)
        if sum(least.values()) + total <= available or not candidates:
            break
        hidden.append(candidates.pop(0))
    spare = max(0, available - sum(least.values()) - total)
    widths = dict(least)
    for key in widths:
        grow = min(spare, most[key] - widths[key])
        widths[key] += grow
        spare -= grow
    return ColumnFit(widths, tuple(hidden))


class MiddleEllipsis(Text):
    """Text that, given less room than it needs, keeps both ends with "…" between them.

    Pod names differ at their end (``api-7d9f8c6b5-qq7lm``): cutting the end would make every
    pod of a ReplicaSet look the same.
    """

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if self.cell_len <= width or width < 3 or len(self.plain) != self.cell_len:
            yield from super().__rich_console__(console, options)
            return
        keep = width - 1
        head = keep // 2
        short = self[:head]
        short.append("…")
        short.append_text(self[len(self.plain) - (keep - head):])
        short.end = self.end
        short.no_wrap = True
        yield from short.__rich_console__(console, options)

