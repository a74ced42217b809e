"""No data is never healthy: a preset whose query finds no series for a deployment says which
series it looked for, in the rates panel and in the advisor's verdict, instead of "0 %"."""

from __future__ import annotations

import dataclasses

from adapters.metrics import RateSample
from adapters.metrics_config import MetricsConfig
from console.domain.advisor import OK, UNKNOWN, Signals, advise
from console.ui import view_model as vm
from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import drill_settings, settled, until
from tests.drill.kube_helpers import make_deployment
from widgets.rates_panel import RatesPanel

LOOKED_FOR = ('istio_requests_total{reporter="destination",destination_workload_namespace="shop",'
              'destination_workload="idle"}')
QUIET = Signals(error_ratio=None, users_affected=None, latency_ratio=1.0, pods_crashing=0,
                pods_total=2, ready_pods=2, no_data=LOOKED_FOR)


def test_no_series_is_unknown_and_names_the_series() -> None:
    verdict = advise(QUIET)
    assert verdict.level == UNKNOWN
    assert f"no data: {LOOKED_FOR}" in verdict.missing
    row = vm.verdict_row(verdict)
    assert row.reasons.count(f"no data: {LOOKED_FOR}") == 1  # once, not as "unknown: ..."
    assert not any(r.startswith("unknown: no data") for r in row.reasons)


def test_a_known_error_ratio_is_not_no_data() -> None:
    # boundary: 0 % measured is a real answer; the no-data text is only for an empty answer
    verdict = advise(dataclasses.replace(QUIET, error_ratio=0.0))
    assert verdict.level == OK
    assert not any("no data" in reason for reason in verdict.reasons + verdict.missing)
    # without a series name the old wording stays
    plain = advise(dataclasses.replace(QUIET, no_data=None))
    assert plain.level == UNKNOWN
    assert "error ratio and share of users unknown" in plain.missing


def test_rate_row_carries_the_series_and_no_zero() -> None:
    row = vm.rate_row("shop/idle", None, None, no_data=LOOKED_FOR)
    assert row.no_data == LOOKED_FOR and row.error_ratio is None and row.request_rate is None
    sample = RateSample("shop", "api", 10.0, 0.0, 0.1, 0.2, 0.2, 1.0, at=None)  # type: ignore[arg-type]
    assert vm.rate_row("shop/api", sample, None).no_data == ""


async def test_console_says_which_istio_series_it_found_none_of(cluster: Drill) -> None:
    # a deployment that never became ready serves nothing: no stack has a series for it
    make_deployment(cluster.api(), "shop", "idle", replicas=0)
    base = drill_settings(cluster).metrics
    assert base is not None
    metrics = dataclasses.replace(base, preset="istio", queries=None)
    app = WarroomApp(drill_settings(cluster, metrics=metrics))
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot, rates=False)  # idle never has rates: wait for its card below
        panel = app.screen.query_one(RatesPanel)

        def idle_text() -> str | None:
            card = panel.card("shop/idle")
            if card is None:
                return None
            text = str(card.query_one(".ratio").render())
            return text if text.startswith("no data") else None

        text = await until(pilot, idle_text, message="the idle card's no-data line")
        assert text == f"no data: {LOOKED_FOR}"
        card = panel.card("shop/idle")
        assert card is not None
        assert str(card.query_one(".errors .value").render()).endswith(" ?")
        assert str(card.query_one(".verdict").render()) == "? UNKNOWN"
        assert f"no data: {LOOKED_FOR}" in str(card.query_one(".reasons").render())
        api = panel.card("shop/api")
        assert api is not None and "no data" not in str(api.query_one(".ratio").render())
        assert isinstance(app.session.metrics.config, MetricsConfig)
        assert app.session.metrics.config.preset == "istio"
