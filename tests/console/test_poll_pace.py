"""PollPace: the metrics poll slows down only while its answers stay the same."""

from __future__ import annotations

from console.domain.poll_pace import QUIET_AFTER, SLOWER, PollPace


def test_same_answers_slow_it_down_and_a_change_or_an_action_speeds_it_up() -> None:
    pace = PollPace(5.0)
    waits = [pace.answered(("api", 0.01)) for _ in range(QUIET_AFTER + 2)]
    assert waits[:QUIET_AFTER] == [5.0] * QUIET_AFTER
    assert waits[QUIET_AFTER:] == [5.0 * SLOWER] * 2
    assert pace.answered(("api", 0.02)) == 5.0  # the error rate moved
    for _ in range(QUIET_AFTER):
        pace.answered(("api", 0.02))
    assert pace.answered(("api", 0.02)) == 5.0 * SLOWER
    pace.hurry()  # a rollback finished
    assert pace.answered(("api", 0.02)) == 5.0
    for _ in range(QUIET_AFTER + 1):
        pace.answered(("api", 0.02))
    assert pace.failed() == 5.0  # Prometheus did not answer: ask again soon
    assert pace.answered(("api", 0.02)) == 5.0


def test_answers_that_keep_moving_keep_the_interval() -> None:
    pace = PollPace(5.0)
    assert {pace.answered(("api", i)) for i in range(10)} == {5.0}


def test_quiet_once_the_answers_stayed_the_same() -> None:
    pace = PollPace(5.0)
    for _ in range(QUIET_AFTER):
        pace.answered(("api", 0.0))
        assert not pace.quiet
    pace.answered(("api", 0.0))
    assert pace.quiet
    pace.hurry()
    assert not pace.quiet


def test_a_drill_is_never_polled_slower() -> None:
    pace = PollPace(5.0, slower=1)
    assert {pace.answered(("api", 0.0)) for _ in range(6)} == {5.0}
    assert not pace.quiet
