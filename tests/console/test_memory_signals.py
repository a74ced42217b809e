"""Handbook Example 3 on screen: the memory-leak drill's OOM kills, memory and crash verdict,
and the verdict moving on after the scale-up and again after the rollback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from console.domain.advisor_crashes import RULE_NAMES
from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import until
from tests.console.test_drill_mode import SIZE, ready, scale, scenario_settings, undo
from widgets.pod_table import PodTable
from widgets.rates_panel import RatesPanel

KEY = "shop/api"
SPEED = 600.0  # a drill hour in 6 s: the first OOM kills come about 10 s in
CRASH_RULES = (RULE_NAMES["repeated"], RULE_NAMES["occasional"])
LEAK_RULES = (*CRASH_RULES, RULE_NAMES["memory"])


def verdict(app: WarroomApp):
    card = app.query_one(RatesPanel).card(KEY)
    return card.verdict if card is not None else None


def oom_cells(app: WarroomApp) -> list[str]:
    table = app.query_one(PodTable)
    rows = (table.row_for(key) for key in table.keys)
    return [row.last_exit for row in rows if row is not None and row.last_exit.startswith("OOM ")]


async def test_memory_leak_shows_oom_kills_memory_and_the_crash_verdict(
    drill_factory: Callable[..., Drill], state_dir: Path
) -> None:
    drill = drill_factory(scenario="memory-leak", speed=SPEED)
    app = WarroomApp(scenario_settings(drill))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app, KEY)
        # the OOM kills: the pod table's LAST column and the advisor's verdict
        await until(pilot, lambda: oom_cells(app), 40, "an OOM kill in the pod table")
        crash = await until(pilot, lambda: (v := verdict(app)) and v.rule in CRASH_RULES and v,
                            40, "the crash verdict")
        assert crash.level == "MONITOR"
        assert crash.reasons[0].startswith("OOM-killed ")
        assert "scale up to buy time, then roll back" in crash.reasons[0]
        assert "(handbook Example 3)" in crash.reasons[0]
        card = app.query_one(RatesPanel).card(KEY)
        assert card is not None and card.row.restarts_last_hour >= 1  # restarts per workload
        # memory from Prometheus, with the limit the pods declare (512Mi in the pod spec)
        row = await until(pilot, lambda: (c := app.query_one(RatesPanel).card(KEY))
                          and c.row.memory_bytes is not None and c.row.memory_history
                          and c.row, 40, "the memory figures")
        assert row.memory_limit == 512 * 2**20
        assert 0 < row.memory_bytes <= row.memory_limit
        # scale up to buy time: the advice moves on to the rollback
        await scale(pilot, app, 6)
        scaled = await until(pilot, lambda: (v := verdict(app)) and v.rule in CRASH_RULES
                             and "scaled up 3 → 6" in v.reasons[0] and v, 40,
                             "the verdict after the scale-up")
        assert "now roll back to the previous version" in scaled.reasons[0]
        # roll back: the leaking pods are gone, and with them the crash verdict (and, once the
        # memory history is read again, the climb)
        await undo(pilot, app)
        after = await until(pilot, lambda: (v := verdict(app)) and v.rule not in LEAK_RULES
                            and v, 60, "the verdict after the rollback")
        assert "OOM" not in " ".join(after.reasons)
        assert app.main_screen.live.pods.restarts_within(KEY, app.main_screen.live.now()).total == 0
