"""The scenario picker: `warroom drill` without `--scenario` asks first, before anything starts."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable, Static

import console.cli.main as cli
from console.ui.scenario_pick import ScenarioPickerApp, scenario_rows
from drill.scenarios import SCENARIOS
from widgets.scenario_picker import ScenarioPicker, difficulty_text

SIZE = (150, 40)


def test_every_scenario_is_a_row_with_brief_difficulty_and_runbook() -> None:
    rows = scenario_rows()
    assert sorted(r.name for r in rows) == sorted(SCENARIOS)
    assert [r.name for r in rows][-2:] == ["random", "none"]  # the incidents first
    by_name = {r.name: r for r in rows}
    for name, cls in SCENARIOS.items():
        row = by_name[name]
        assert row.brief == cls.brief and "\n" not in row.brief
        assert row.difficulty in ("easy", "medium", "hard")
        assert row.runbook == cls.runbook and row.speed == cls.default_speed
    assert by_name["data-loss"].runbook == "data-loss"
    assert by_name["memory-leak"].runbook == "performance-degradation"


async def test_enter_picks_the_highlighted_scenario() -> None:
    rows = scenario_rows()
    app = ScenarioPickerApp(rows)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ScenarioPicker)
        table = picker.query_one("#scenarios", DataTable)
        assert table.row_count == len(rows)
        first = [str(cell) for cell in table.get_row_at(0)]
        assert first == [
            rows[0].name,
            difficulty_text(rows[0].difficulty),
            rows[0].runbook or "—",
            rows[0].brief,
        ]
        detail = picker.query_one("#scenario-detail", Static)
        assert rows[0].title in str(detail.render())
        await pilot.press("down", "down")
        await pilot.pause()
        assert picker.highlighted == rows[2].name
        assert rows[2].handbook in str(detail.render())
        await pilot.press("enter")
    assert app.return_value == rows[2].name


async def test_escape_leaves_without_a_scenario() -> None:
    app = ScenarioPickerApp(scenario_rows())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("escape")
    assert app.return_value is None


class FakeDrillThread:
    """Stands in for the drill cluster thread: records what it was asked to play."""

    started: list[dict[str, Any]] = []

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def start(self) -> Any:
        FakeDrillThread.started.append(self.kwargs)
        raise OSError("not in a test")

    def stop(self) -> None:
        pass


@pytest.fixture
def fake_drill(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> list[dict[str, Any]]:
    monkeypatch.setenv("WARROOM_STATE_DIR", str(tmp_path / "state"))
    FakeDrillThread.started = []
    monkeypatch.setattr("drill.cluster.DrillThread", FakeDrillThread)
    return FakeDrillThread.started


def test_drill_without_scenario_picks_before_starting(
    fake_drill: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[Any] = []
    monkeypatch.setattr(
        "console.ui.scenario_pick.pick_scenario", lambda theme=None: asked.append(theme) or "data-loss"
    )
    assert cli.main(["drill", "--speed", "60"]) == 1  # the fake cluster does not start
    assert asked == ["warroom-dark"]
    assert fake_drill == [{"scenario": "data-loss", "speed": 60.0, "seed": 7}]


def test_leaving_the_picker_starts_nothing(
    fake_drill: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("console.ui.scenario_pick.pick_scenario", lambda theme=None: None)
    assert cli.main(["drill"]) == 0
    assert fake_drill == []


def test_scenario_option_skips_the_picker(
    fake_drill: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(theme: Any = None) -> None:
        raise AssertionError("the picker was shown")

    monkeypatch.setattr("console.ui.scenario_pick.pick_scenario", never)
    assert cli.main(["drill", "--scenario", "slow-release"]) == 1
    assert fake_drill[0]["scenario"] == "slow-release"


def test_drill_server_still_defaults_to_no_incident() -> None:
    args = cli.build_parser().parse_args(["drill-server", "--kubeconfig-out", "/tmp/x"])
    assert args.scenario is None  # run_drill_server plays "none"
