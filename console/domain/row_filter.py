"""The `/` filter of the pod table and the workloads pane, as k9s users know it.

What is typed is a case-insensitive regular expression (plain text is one: "api-7d" finds
every name containing it); a leading ``!`` keeps the rows that do *not* match. It is matched
against the words a row is found by -- for a pod its namespace, name, status, node, labels and
workload; for a deployment its namespace, name, rollout state and images. A pattern that does
not compile is refused with the reason, and the filter in force stays as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from adapters.kube_views import DeploymentView, PodView

T = TypeVar("T")
MAX_PATTERN = 200  # characters: a filter is typed, not pasted from a file


class FilterError(ValueError):
    """A filter that cannot be used; ``message`` says why in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RowFilter:
    """A parsed filter; ``RowFilter()`` (empty text) keeps every row."""

    text: str = ""
    negate: bool = False
    _pattern: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> RowFilter:
        text = text.strip()
        if len(text) > MAX_PATTERN:
            raise FilterError(f"filter too long ({len(text)} characters, at most "
                              f"{MAX_PATTERN})")
        negate = text.startswith("!")
        body = text[1:].strip() if negate else text
        if not body:
            return cls(text=text, negate=negate)
        try:
            pattern = re.compile(body, re.IGNORECASE)
        except re.error as error:
            where = f" at position {error.pos + 1}" if error.pos is not None else ""
            raise FilterError(f"not a valid pattern: {error.msg}{where} "
                              "(the filter in force is unchanged)") from None
        return cls(text=text, negate=negate, _pattern=pattern)

    @property
    def active(self) -> bool:
        return self._pattern is not None

    @property
    def pattern(self) -> re.Pattern[str] | None:
        """The compiled pattern (None: the filter keeps every row)."""
        return self._pattern

    def keeps(self, words: str) -> bool:
        """Whether a row found by ``words`` passes the filter."""
        if self._pattern is None:
            return True
        return (self._pattern.search(words) is None) == self.negate

    def select(self, items: Iterable[T], words: Callable[[T], str]) -> list[T]:
        return [item for item in items if self.keeps(words(item))]


def pod_words(pod: PodView) -> str:
    """What a pod is found by: ``namespace/name status node labels workload``."""
    return (f"{pod.namespace}/{pod.name} {pod.status} {pod.node} {pod.labels} "
            f"{pod.deployment}")


def deployment_words(view: DeploymentView) -> str:
    """What a deployment is found by: ``namespace/name rollout images``."""
    return f"{view.namespace}/{view.name} {view.rollout} {' '.join(view.images)}"
