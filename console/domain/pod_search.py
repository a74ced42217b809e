"""Finding pods by the `/` filter, keystroke after keystroke, among 50,000.

Each keystroke asks again which pods match and which come first by name. Done plainly that
is, per keystroke, a text built for every pod, the pattern searched in each, and the matches
ranked: 50,000 pods take over 100 ms. Here what does not change between keystrokes is kept:

- each pod's words (what the filter searches), built once per version of the pod;
- every pod's key in name order, sorted again only when pods came or went;
- the last matches: a plain pattern typed further ("bulk" -> "bulk-7") can only narrow
  them, so while no pod changed only those are searched again.

``prepare`` does the first two ahead (when the bar opens); ``release`` drops it all (when the
filter is cleared) -- at 10,000 pods the words are a few megabytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.kube_views import PodView
from console.domain.pod_index import PodIndex
from console.domain.row_filter import RowFilter, pod_words

_SPECIAL = frozenset(".^$*+?{}[]\\|()")


def plain_text(wanted: RowFilter) -> str | None:
    """The pattern's text when it is plain (no regex syntax, not negated), lower-cased."""
    if not wanted.active or wanted.negate or _SPECIAL.intersection(wanted.text):
        return None
    return wanted.text.lower()


@dataclass
class Found:
    """The pods a filter matched: the first ``limit`` in name order, and how many in all."""

    first: list[PodView]
    matched: int
    keys: list[str] = field(default_factory=list, repr=False)  # every match, in name order


class PodSearch:
    """The `/` filter over a ``PodIndex``, with what keystrokes share kept."""

    def __init__(self) -> None:
        self.release()

    def release(self) -> None:
        """Forget everything kept (the filter was cleared)."""
        self._index: PodIndex | None = None
        self._words: dict[str, tuple[PodView, str]] = {}
        self._order: list[str] = []
        self._order_at = -1  # the index's memberships when _order was sorted
        self._last: tuple[str, int, list[str]] | None = None  # (plain text, changes, keys)

    def prepare(self, index: PodIndex) -> None:
        """Sort the pods by name and make their words (when the bar opens, so the first
        keystroke need not)."""
        self._sort(index)
        for key in self._order:
            self._words_of(index, key)

    def _words_of(self, index: PodIndex, key: str) -> str:
        """What pod ``key`` is found by, made again only when its view changed."""
        pod = index[key]
        known = self._words.get(key)
        if known is None or known[0] is not pod:
            known = self._words[key] = (pod, pod_words(pod))
        return known[1]

    def _sort(self, index: PodIndex) -> None:
        """Every pod's key in name order (sorted again only when pods came or went)."""
        if index is not self._index:
            self.release()
            self._index = index
        if self._order_at != index.memberships:
            self._order = sorted(index, key=lambda key: (index[key].name, key))
            self._order_at = index.memberships
            if len(self._words) > len(index):  # words of pods that have gone
                self._words = {key: known for key, known in self._words.items()
                               if key in index}

    def find(self, index: PodIndex, wanted: RowFilter, limit: int,
             reverse: bool = False) -> Found:
        """The pods ``wanted`` keeps: the first ``limit`` by name (last, when ``reverse``)
        and how many matched."""
        self._sort(index)
        text = plain_text(wanted)
        last = self._last
        if (text is not None and last is not None and last[1] == index.changes
                and last[0] in text):
            candidates = last[2]  # a plain pattern typed further: only narrower
        else:
            candidates = self._order
        keys = self._matching(index, wanted, candidates)
        self._last = (text, index.changes, keys) if text is not None else None
        ordered = reversed(keys) if reverse else iter(keys)
        first = []
        for key in ordered:
            if len(first) == limit:
                break
            first.append(index[key])
        return Found(first, len(keys), keys)

    def _matching(self, index: PodIndex, wanted: RowFilter, keys: list[str]) -> list[str]:
        pattern = wanted.pattern
        if pattern is None:
            return list(keys)
        negate, search, words_of = wanted.negate, pattern.search, self._words_of
        return [key for key in keys if (search(words_of(index, key)) is None) == negate]

