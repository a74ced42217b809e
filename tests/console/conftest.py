"""Fixtures of the console tests: a private state directory and a private drill cluster."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The console's tests start on the main screen: with its modules loaded there is nothing to
# wait for, so `WarroomApp` shows it at once (the start screen, shown while they load on a
# fresh start, has its own tests: test_start_screen.py).
import console.ui.main_screen  # noqa: F401
from tests.conftest import Drill


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The console's state directory for one test ($WARROOM_STATE_DIR)."""
    path = tmp_path / "state"
    monkeypatch.setenv("WARROOM_STATE_DIR", str(path))
    return path


@pytest.fixture
def cluster(drill_factory: Callable[..., Drill], state_dir: Path) -> Iterator[Drill]:
    """A drill cluster of the test's own (scenario none), with its state directory set."""
    yield drill_factory()
