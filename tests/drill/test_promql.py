"""The drill cluster's PromQL subset: parsing, evaluation and the API result shapes."""

from __future__ import annotations

import math
from array import array

import pytest

from drill import promql
from drill.promql import PromQLError, bucket_quantile, format_value, query, query_range
from drill.traffic import History

T0 = 1_700_000_000.0


class FakeTraffic:
    """Hand-written series: {(name, labels): [(t, value), ...]} sampled at common times."""

    def __init__(self, series: dict[tuple[str, tuple[tuple[str, str], ...]], list], now: float):
        self.keys = list(series)
        times = sorted({t for points in series.values() for t, _ in points})
        lookup = [dict(points) for points in series.values()]
        self.times = times
        self.rows = [array("d", [values.get(t, math.nan) for values in lookup]) for t in times]
        self.now = now

    def history(self) -> History:
        return History(self.keys, self.times, self.rows, lookback=300.0)

    def drill_time(self) -> float:
        return self.now


def key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


def counter(rate: float, start: float = T0, seconds: int = 600, step: int = 15) -> list:
    return [(start + s, rate * s) for s in range(0, seconds + 1, step)]


@pytest.fixture
def requests() -> FakeTraffic:
    """api: 100 rps ok + 10 rps 500; web: 50 rps ok; over 10 minutes, 15 s samples."""
    return FakeTraffic(
        {
            key("http_requests_total", namespace="shop", deployment="api", path="/a", code="200"):
                counter(60),
            key("http_requests_total", namespace="shop", deployment="api", path="/b", code="200"):
                counter(40),
            key("http_requests_total", namespace="shop", deployment="api", path="/b", code="500"):
                counter(10),
            key("http_requests_total", namespace="shop", deployment="web", path="/", code="200"):
                counter(50),
            key("warroom_drill_ready_pods", namespace="shop", deployment="api"):
                [(T0 + s, 3.0) for s in range(0, 601, 15)],
        },
        now=T0 + 600,
    )


def values(result: dict) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in result["result"]}


def single(result: dict) -> float:
    assert len(result["result"]) == 1, result
    return float(result["result"][0]["value"][1])


# ---- selectors and functions -------------------------------------------------------------
def test_instant_selector_with_matchers(requests: FakeTraffic) -> None:
    result = query(requests, 'http_requests_total{deployment="api",code!="500",path=~"/a|/b"}')
    assert result["resultType"] == "vector"
    assert len(result["result"]) == 2
    first = result["result"][0]
    assert first["metric"]["__name__"] == "http_requests_total"
    assert first["value"] == [T0 + 600, "36000"]
    assert len(query(requests, 'http_requests_total{path!~"/.?"}')["result"]) == 0
    assert len(query(requests, '{__name__="http_requests_total",code="500"}')["result"]) == 1


def test_rate_increase_and_sum_by(requests: FakeTraffic) -> None:
    by_deployment = values(
        query(requests, "sum by (namespace, deployment) (rate(http_requests_total[1m]))")
    )
    assert by_deployment == {
        (("deployment", "api"), ("namespace", "shop")): pytest.approx(110.0),
        (("deployment", "web"), ("namespace", "shop")): pytest.approx(50.0),
    }
    assert single(query(requests, 'sum(increase(http_requests_total{code="500"}[5m]))')) == (
        pytest.approx(3000.0)
    )
    assert values(query(requests, "sum(rate(http_requests_total[1m])) without (path, code)"))
    assert single(query(requests, 'irate(http_requests_total{code="500"}[1m])')) == 10.0


def test_error_ratio_matches_by_labels(requests: FakeTraffic) -> None:
    expr = (
        'sum by (namespace, deployment) (rate(http_requests_total{code=~"5.."}[1m])) / '
        "sum by (namespace, deployment) (rate(http_requests_total[1m]))"
    )
    result = values(query(requests, expr))
    # web has no 5xx series, so one-to-one matching leaves only api
    assert result == {(("deployment", "api"), ("namespace", "shop")): pytest.approx(10 / 110)}


def test_error_ratio_with_zero_fallback(requests: FakeTraffic) -> None:
    """The console's error-ratio template: deployments without 5xx series read 0, not absent."""
    by = "sum by (namespace, deployment)"
    expr = (
        f'({by} (rate(http_requests_total{{code=~"5..",}}[1m])) '
        f"or {by} (rate(http_requests_total[1m])) * 0) "
        f"/ {by} (rate(http_requests_total[1m]))"
    )
    assert values(query(requests, expr)) == {
        (("deployment", "api"), ("namespace", "shop")): pytest.approx(10 / 110),
        (("deployment", "web"), ("namespace", "shop")): 0.0,
    }


def test_on_and_ignoring(requests: FakeTraffic) -> None:
    expr = (
        'sum by (deployment, code) (rate(http_requests_total{code="500"}[1m])) '
        "/ ignoring (code) sum by (deployment) (rate(http_requests_total[1m]))"
    )
    assert values(query(requests, expr)) == {(("deployment", "api"),): pytest.approx(10 / 110)}
    expr = (
        'rate(http_requests_total{code="500"}[1m]) / on (deployment) '
        'sum by (deployment) (rate(http_requests_total[1m]))'
    )
    assert values(query(requests, expr)) == {(("deployment", "api"),): pytest.approx(10 / 110)}


def test_duplicate_match_is_an_error(requests: FakeTraffic) -> None:
    with pytest.raises(PromQLError, match="many"):
        query(requests, "rate(http_requests_total[1m]) / on (deployment) "
                        "rate(http_requests_total[1m])")


def test_scalar_arithmetic_and_comparisons(requests: FakeTraffic) -> None:
    assert query(requests, "1 + 2 * 3")["result"] == [T0 + 600, "7"]
    assert query(requests, "2 ^ 3 ^ 2")["result"][1] == "512"
    assert query(requests, "-2 ^ 2")["result"][1] == "-4"
    assert query(requests, "1 / 0")["result"][1] == "+Inf"
    assert query(requests, "-1 / 0")["result"][1] == "-Inf"
    assert query(requests, "0 / 0")["result"][1] == "NaN"
    assert query(requests, "3 > bool 2")["result"][1] == "1"
    rates = "sum by (deployment) (rate(http_requests_total[1m]))"
    assert values(query(requests, f"{rates} > 100")) == {(("deployment", "api"),): 110.0}
    assert values(query(requests, f"{rates} > bool 100")) == {
        (("deployment", "api"),): 1.0, (("deployment", "web"),): 0.0,
    }
    assert values(query(requests, f"200 - {rates}")) == {
        (("deployment", "api"),): pytest.approx(90.0),
        (("deployment", "web"),): pytest.approx(150.0),
    }
    assert values(query(requests, f"({rates}) * 2 <= 100")) == {(("deployment", "web"),): 100.0}


def test_misc_functions(requests: FakeTraffic) -> None:
    assert single(query(requests, "vector(3)")) == 3
    assert single(query(requests, 'clamp_min(sum(rate(http_requests_total{code="503"}[1m])), 1)'
                      " or vector(1)")) == 1
    assert values(query(requests, 'absent(http_requests_total{code="503",deployment="api"})')) == {
        (("code", "503"), ("deployment", "api")): 1.0
    }
    assert query(requests, "absent(http_requests_total)")["result"] == []
    assert single(query(requests, "clamp_max(warroom_drill_ready_pods, 2)")) == 2
    assert query(requests, "scalar(warroom_drill_ready_pods) * 2")["result"][1] == "6"
    assert query(requests, "time()")["result"][1] == format_value(T0 + 600)


def test_aggregations(requests: FakeTraffic) -> None:
    expr = "{op} by (deployment) (rate(http_requests_total[1m]))"
    assert values(query(requests, expr.format(op="max")))[(("deployment", "api"),)] == (
        pytest.approx(60)
    )
    assert values(query(requests, expr.format(op="min")))[(("deployment", "api"),)] == (
        pytest.approx(10)
    )
    assert values(query(requests, expr.format(op="avg")))[(("deployment", "api"),)] == (
        pytest.approx(110 / 3)
    )
    assert values(query(requests, expr.format(op="count")))[(("deployment", "api"),)] == 3


def test_offset_looks_back(requests: FakeTraffic) -> None:
    now = single(query(requests, 'http_requests_total{path="/a"}'))
    before = single(query(requests, 'http_requests_total{path="/a"} offset 5m'))
    assert now - before == pytest.approx(60 * 300)
    assert single(query(requests, 'rate(http_requests_total{path="/a"}[1m] offset 5m)')) == 60


def test_rate_falls_back_to_two_latest_samples() -> None:
    """Samples 180 s apart (speed 3600) and a 1m window: the last two samples give the rate."""
    sparse = FakeTraffic({key("c", job="x"): counter(2.0, seconds=1800, step=180)}, T0 + 1850)
    assert single(query(sparse, "rate(c[1m])")) == pytest.approx(2.0)
    assert single(query(sparse, "increase(c[1m])")) == pytest.approx(120.0)


def test_stale_series_drop_out() -> None:
    old = FakeTraffic({key("c", job="x"): counter(1.0, seconds=60)}, T0 + 3600)
    assert query(old, "c")["result"] == []
    assert query(old, "rate(c[5m])")["result"] == []


def test_counter_reset_is_handled() -> None:
    points = [(T0, 100.0), (T0 + 15, 130.0), (T0 + 30, 10.0), (T0 + 45, 40.0)]
    reset = FakeTraffic({key("c", job="x"): points}, T0 + 45)
    # +30, reset to 10 (counts as +10), +30: 70 over 45 s, scaled to the 60 s window
    assert single(query(reset, "increase(c[1m])")) == pytest.approx(70 / 45 * 60)


def test_matrix_and_range_query_shapes(requests: FakeTraffic) -> None:
    matrix = query(requests, 'http_requests_total{path="/a"}[1m]')
    assert matrix["resultType"] == "matrix"
    assert len(matrix["result"][0]["values"]) == 4  # (t-60, t] at 15 s
    ranged = query_range(requests, "sum(rate(http_requests_total[1m]))", T0 + 300, T0 + 600, 60)
    assert ranged["resultType"] == "matrix"
    points = ranged["result"][0]["values"]
    assert [p[0] for p in points] == [T0 + 300 + 60 * i for i in range(6)]
    assert all(float(v) == pytest.approx(160) for _, v in points)
    scalar = query_range(requests, "1 + 1", T0, T0 + 30, 15)
    assert scalar["result"] == [{"metric": {}, "values": [[T0, "2"], [T0 + 15, "2"],
                                                          [T0 + 30, "2"]]}]


@pytest.mark.parametrize(
    ("start", "end", "step", "message"),
    [
        (T0 + 10, T0, 15, "end timestamp"),
        (T0, T0 + 10, 0, "zero or negative"),
        (T0, T0 + 100000, 1, "11,000 points"),
    ],
)
def test_range_query_limits(requests: FakeTraffic, start, end, step, message) -> None:
    with pytest.raises(PromQLError, match=message):
        query_range(requests, "vector(1)", start, end, step)
    with pytest.raises(PromQLError, match="range vector"):
        query_range(requests, "http_requests_total[1m]", T0, T0 + 60, 15)


# ---- histogram_quantile ------------------------------------------------------------------
def test_bucket_quantile_on_known_buckets() -> None:
    buckets = [(0.1, 50.0), (0.5, 90.0), (1.0, 100.0), (math.inf, 100.0)]
    assert bucket_quantile(0.5, buckets) == pytest.approx(0.1)
    assert bucket_quantile(0.25, buckets) == pytest.approx(0.05)
    assert bucket_quantile(0.7, buckets) == pytest.approx(0.1 + 0.4 * 20 / 40)
    assert bucket_quantile(0.95, buckets) == pytest.approx(0.5 + 0.5 * 5 / 10)
    assert bucket_quantile(1.5, buckets) == math.inf
    assert bucket_quantile(-1, buckets) == -math.inf
    assert bucket_quantile(0.99, [(0.1, 1.0), (math.inf, 10.0)]) == 0.1  # in +Inf bucket
    assert math.isnan(bucket_quantile(0.5, [(0.1, 0.0), (math.inf, 0.0)]))
    assert math.isnan(bucket_quantile(0.5, [(0.1, 5.0), (1.0, 9.0)]))  # no +Inf


def test_histogram_quantile_query() -> None:
    counts = {"0.1": 50, "0.5": 90, "1": 100, "+Inf": 100}
    series = {
        key("lat_bucket", deployment=d, path=p, le=le): counter(n * share, seconds=120)
        for d in ("api", "web")
        for p, share in (("/a", 1.0), ("/b", 3.0))
        for le, n in counts.items()
    }
    traffic = FakeTraffic(series, T0 + 120)
    result = values(query(
        traffic, "histogram_quantile(0.7, sum by (deployment, le) (rate(lat_bucket[1m])))"
    ))
    assert result == {
        (("deployment", "api"),): pytest.approx(0.3),
        (("deployment", "web"),): pytest.approx(0.3),
    }


# ---- parse errors ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("", "no expression"),
        ("sum(rate(x[1m])", "unclosed left parenthesis"),
        ('x{a="1"', "inside braces"),
        ("x{a=1}", "expected string"),
        ("rate(x)", "expected type range vector"),
        ("rate(x[1m], 2)", "expected 1 argument"),
        ("foo(x)", 'unknown function with name "foo"'),
        ("x[5x]", "unexpected"),
        ("x[1m:10s]", "subqueries"),
        ("1 > 2", "BOOL modifier"),
        ("x + y[1m]", "scalar and instant vector"),
        ("sum(x[1m])", "expected type instant vector in aggregation"),
        ('{a=~".*"}', "at least one non-empty matcher"),
        ('x{a=~"("}', "error parsing regexp"),
        ("x )", "unexpected right parenthesis"),
        ("x offset 1m offset 2m", "multiple times"),
        ("rate(x[1m]) offset 5m", "offset modifier"),
        ("x / group_left y", "unexpected"),
        ("x and on(a) group_left y", "no grouping allowed"),
        ("topk(3, x)", "not supported"),
        ("1 and 2", "set operator"),
        ("x + bool 1", "bool modifier can only be used on comparison"),
        ('x{a="unterminated}', "unterminated quoted string"),
        ("x $ y", "unexpected character"),
    ],
)
def test_parse_errors(requests: FakeTraffic, expr: str, message: str) -> None:
    with pytest.raises(PromQLError) as caught:
        query(requests, expr)
    assert message in str(caught.value)
    assert caught.value.error_type == "bad_data"


def test_parse_error_position_like_prometheus() -> None:
    with pytest.raises(PromQLError, match=r'^1:5: parse error: unexpected "\)"'):
        promql.parse("x + )")
    with pytest.raises(PromQLError, match=r"^2:3: parse error"):
        promql.parse("x +\n  )")


def test_parser_accepts_console_shapes() -> None:
    for expr in (
        'sum by (namespace, deployment) (rate(http_requests_total{namespace="shop",'
        'deployment="api"}[1m] offset 30m))',
        "histogram_quantile(0.95, sum(rate(x_bucket[5m])) by (le))",
        "sum without (path) (x) # trailing comment",
        "x{a='single', b=`raw\\n`}",
        "1.5e3 + 0x10 - Inf",
        "rate(x[1h30m])",
        "(x)",
        "x unless y or z and w",
    ):
        promql.parse(expr)


# ---- API helpers -------------------------------------------------------------------------
def test_format_value() -> None:
    assert format_value(1.0) == "1"
    assert format_value(0.1) == "0.1"
    assert format_value(1e-7) == "0.0000001"
    assert format_value(math.nan) == "NaN"
    assert format_value(-math.inf) == "-Inf"


def test_parse_time_and_step() -> None:
    assert promql.parse_time("1700000000.5") == 1700000000.5
    assert promql.parse_time("2023-11-14T22:13:20Z") == 1700000000.0
    assert promql.parse_step("15") == 15.0
    assert promql.parse_step("1m30s") == 90.0
    with pytest.raises(PromQLError):
        promql.parse_step("soon")
