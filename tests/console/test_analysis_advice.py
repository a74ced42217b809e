"""The advisor on canary analysis: an empty or NaN measurement is "no data", never a pass."""

from __future__ import annotations

from adapters.argo_views import AnalysisRunView, MeasurementView, MetricView
from console.domain.advisor import MONITOR, OK, ROLL_BACK_NOW, UNKNOWN
from console.domain.analysis_advice import NO_DATA, advise_analysis, judge_measurement, numbers


def run(phase: str, *measurements: tuple[str, str], metric_phase: str = "Running"
        ) -> AnalysisRunView:
    metric = MetricView("error-rate", metric_phase, success_condition="result[0] < 0.05",
                        measurements=tuple(MeasurementView(p, v) for p, v in measurements))
    return AnalysisRunView("shop", "checkout-abc-2", "checkout", phase, metrics=(metric,))


def test_empty_and_nan_values_are_no_data_whatever_the_phase() -> None:
    for value in ("", "[]", "[NaN]", "NaN", "[0.01, NaN]"):
        assert judge_measurement(MeasurementView("Successful", value)) == NO_DATA
    assert judge_measurement(MeasurementView("Successful", "[0.01]")) == "pass"
    assert judge_measurement(MeasurementView("Failed", "[0.07]")) == "fail"
    assert numbers("[0.07, 1e-3]") == [0.07, 0.001]


def test_a_successful_run_with_no_data_is_not_a_pass() -> None:
    advice = advise_analysis(run("Successful", ("Successful", "[0.01]"), ("Successful", "[]"),
                                 metric_phase="Successful"))
    assert advice.level == UNKNOWN
    assert "no data from error-rate (measured [])" in advice.reason
    assert "not a pass" in advice.reason
    nan = advise_analysis(run("Successful", ("Successful", "[NaN]"), metric_phase="Successful"))
    assert nan.level == UNKNOWN


def test_failed_measurements_say_roll_back_with_the_value_and_condition() -> None:
    advice = advise_analysis(run("Failed", ("Failed", "[0.0702]"), ("Failed", "[0.0703]"),
                                 metric_phase="Failed"))
    assert advice.level == ROLL_BACK_NOW
    assert "error-rate measured [0.0703], needs result[0] < 0.05" in advice.reason
    assert "abort the canary" in advice.reason


def test_passing_measurements_monitor_while_running_then_ok() -> None:
    assert advise_analysis(run("Running", ("Successful", "[0.002]"))).level == MONITOR
    assert advise_analysis(run("Successful", ("Successful", "[0.002]"),
                               metric_phase="Successful")).level == OK
    assert advise_analysis(AnalysisRunView("shop", "r", "x", "Pending")).level == UNKNOWN
