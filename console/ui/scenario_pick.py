"""`warroom drill` without `--scenario`: choose the scenario before the drill cluster starts.

The scenario is the drill cluster's constructor argument, so the choice is made in a small app
of its own (``ScenarioPickerApp``) that exits with the scenario's name — or ``None`` when the
operator leaves with Esc — before anything is started.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import App

from drill.scenarios import SCENARIOS
from themes import CSS_PATH, DEFAULT_THEME, THEMES, register_themes
from widgets.rows import ScenarioRow
from widgets.scenario_picker import ScenarioPicker

NO_INCIDENT = "none"
SURPRISE = "random"


def scenario_rows() -> list[ScenarioRow]:
    """Every scenario as a picker row: the incidents first, then the surprise, then none."""
    rows = [
        ScenarioRow(
            name=name,
            title=cls.title,
            brief=cls.brief,
            difficulty=cls.difficulty,
            runbook=cls.runbook,
            handbook=cls.handbook,
            speed=cls.default_speed,
        )
        for name, cls in SCENARIOS.items()
    ]
    last = {SURPRISE: 1, NO_INCIDENT: 2}
    return sorted(rows, key=lambda row: last.get(row.name, 0))


class ScenarioPickerApp(App[str | None]):
    """Shows the ``ScenarioPicker`` and exits with its result."""

    TITLE = "warroom drill"
    CSS_PATH = CSS_PATH

    def __init__(self, rows: Sequence[ScenarioRow], theme: str | None = None) -> None:
        super().__init__()
        self.rows = list(rows)
        self.wanted_theme = theme

    def on_mount(self) -> None:
        theme = self.wanted_theme or DEFAULT_THEME
        register_themes(self, theme if theme in THEMES else DEFAULT_THEME)
        if theme not in THEMES:
            self.theme = theme  # a built-in Textual theme
        self.push_screen(ScenarioPicker(self.rows), self.exit)


def pick_scenario(theme: str | None = None) -> str | None:
    """Run the picker (blocking): the chosen scenario's name, or None."""
    return ScenarioPickerApp(scenario_rows(), theme).run()
