"""How long the metrics poll waits before asking again.

Prometheus answers change once per scrape (15-60 s on most installs), so a poll every 5 s
mostly reads the same figures again, and on a quiet console that is most of what it does.
``PollPace`` waits the configured interval while the answers move, and once ``QUIET_AFTER``
answers in a row were the same, ``SLOWER`` times that (15 s instead of 5). Any change, an
error, or an action of the operator's (``hurry``) goes back to the configured interval: after
a rollback the error rate is watched as closely as ever.
"""

from __future__ import annotations

from collections.abc import Hashable

QUIET_AFTER = 2  # identical answers in a row before slowing down
SLOWER = 3  # times the configured interval, while nothing moves
QUIET_HISTORY_EVERY = 60.0  # seconds between history reads while nothing moves


class PollPace:
    def __init__(self, every: float, slower: int = SLOWER) -> None:
        """``slower``: the factor while nothing moves (1: never slower -- a drill, whose clock
        runs hundreds of times faster than the wall's: 15 s there are hours)."""
        self.every = every
        self.slower = slower
        self._last: Hashable | None = None
        self._same = 0

    def answered(self, figures: Hashable) -> float:
        """Seconds to wait after an answer whose figures are ``figures``."""
        if figures == self._last:
            self._same += 1
        else:
            self._last, self._same = figures, 0
        return self.every * self.slower if self._same >= QUIET_AFTER else self.every

    @property
    def quiet(self) -> bool:
        """The last answers were all the same (the poll is at its slower pace)."""
        return self.slower > 1 and self._same >= QUIET_AFTER

    def hurry(self) -> None:
        """Something was done (or failed): the next answers are watched closely again."""
        self._last, self._same = None, 0

    def failed(self) -> float:
        self.hurry()
        return self.every
