"""The Prometheus adapter: config validation, answer parsing, error mapping (against a fake
transport) and per-deployment figures read from the drill cluster's own query API."""

from __future__ import annotations

import math
import re
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.errors import (
    AdapterError,
    Forbidden,
    Invalid,
    NotFound,
    Timeout,
    Unauthorized,
    Unreachable,
)
from adapters.metrics import MetricsClient, RateSample
from adapters.metrics_config import MetricsConfig
from adapters.metrics_queries import QueryTemplates, render
from adapters.prometheus_api import Sample
from tests.conftest import Drill, wait_for

TOKEN = "pr0m-s3cret-token-value"
NOW = 1_700_000_000.0


# ---- a fake Prometheus -------------------------------------------------------------------
def _vector(*samples: tuple[dict[str, str], str], at: float = NOW) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": labels, "value": [at, value]} for labels, value in samples],
        },
    }


def _error(error_type: str, error: str) -> dict[str, Any]:
    return {"status": "error", "errorType": error_type, "error": error}


def _fake(
    answer: Callable[[httpx.Request], httpx.Response], **config: Any
) -> tuple[MetricsClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    cfg = MetricsConfig(base_url="http://prom.test:9090/prefix/", **config)
    return MetricsClient(cfg, transport=httpx.MockTransport(handler)), seen


def _json(body: Any, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _request: httpx.Response(status, json=body)


API = {"namespace": "shop", "deployment": "api"}
WEB = {"namespace": "shop", "deployment": "web"}


# ---- configuration -----------------------------------------------------------------------
def test_defaults_follow_the_common_conventions() -> None:
    config = MetricsConfig("http://prometheus:9090")
    assert (config.window, config.baseline_offset, config.timeout_s) == ("1m", "30m", 5.0)
    assert "http_requests_total{selector}[{window}]" in config.queries.request_rate
    assert "histogram_quantile(0.99" in config.queries.p99
    assert "by (namespace, deployment, le)" in config.queries.p95


def test_from_mapping_reads_every_key(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    config = MetricsConfig.from_mapping(
        {
            "base_url": "https://prom.example/prometheus",
            "bearer_token_file": str(token_file),
            "verify_tls": False,
            "timeout_s": 2,
            "window": "5m",
            "baseline_offset": "1h",
            "namespace_label": "kubernetes_namespace",
            "deployment_label": "app",
            "queries": {
                "p99": "max by (kubernetes_namespace, app) (p99{selector})",
                "baseline_p99": "max by (kubernetes_namespace, app) "
                "(p99{selector} offset {offset})",
            },
        }
    )
    assert config.bearer_token == TOKEN
    assert config.timeout_s == 2.0 and config.verify_tls is False
    assert config.queries.p99.startswith("max by")
    assert config.queries.request_rate == QueryTemplates().request_rate
    assert TOKEN not in repr(config)

    basic = MetricsConfig.from_mapping(
        {"base_url": "http://p:9090", "basic_auth": {"username": "ops", "password": "pw"}}
    )
    assert basic.basic_auth == ("ops", "pw")
    assert "pw" not in repr(basic)


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({}, "base_url is required"),
        (
            {"base_url": "http://p", "timeout": 3},
            "unknown key 'timeout' (did you mean 'timeout_s'?)",
        ),
        ({"base_url": "prometheus:9090"}, "must be an http:// or https:// URL"),
        ({"base_url": "http://p", "window": "1 minute"}, "window must be a Prometheus duration"),
        ({"base_url": "http://p", "baseline_offset": "0m"}, "longer than zero"),
        ({"base_url": "http://p", "timeout_s": "5"}, "timeout_s must be a number"),
        ({"base_url": "http://p", "timeout_s": -1}, "above 0"),
        ({"base_url": "http://p", "verify_tls": "/nope/ca.pem"}, "CA bundle that does not exist"),
        (
            {
                "base_url": "http://p",
                "bearer_token": "t",
                "basic_auth": {"username": "u", "password": "p"},
            },
            "either bearer_token or basic_auth",
        ),
        ({"base_url": "http://p", "basic_auth": {"username": "u"}}, "password or password_file"),
        (
            {"base_url": "http://p", "basic_auth": {"user": "u", "password": "p"}},
            "unknown key 'user' (did you mean 'username'?)",
        ),
        (
            {"base_url": "http://p", "queries": {"p999": "x{selector}"}},
            "queries: unknown key 'p999'",
        ),
        (
            {"base_url": "http://p", "queries": {"p99": "histogram_quantile(0.99, x)"}},
            "neither {selector} nor {matchers}",
        ),
        (
            {"base_url": "http://p", "queries": {"p95": "rate(x{selector}[{windw}])"}},
            "unknown placeholder {windw} (did you mean 'window'?)",
        ),
        (
            {"base_url": "http://p", "queries": {"p99": "p99_recorded{selector}"}},
            "set queries.baseline_p99",
        ),
        ({"base_url": "http://p", "deployment_label": "app-name"}, "Prometheus label name"),
        ({"base_url": "http://p", "bearer_token_file": "/nope/token"}, "cannot read"),
    ],
)
def test_from_mapping_says_what_is_wrong(mapping: dict[str, Any], expected: str) -> None:
    with pytest.raises(Invalid) as caught:
        MetricsConfig.from_mapping(mapping)
    assert expected in caught.value.message
    assert caught.value.message.startswith("metrics config")


def test_a_ca_bundle_that_is_not_pem_is_rejected(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.crt"
    bundle.write_text("not a certificate\n")
    with pytest.raises(Invalid, match="not a PEM CA bundle"):
        MetricsClient(MetricsConfig("https://p:9090", verify_tls=str(bundle)))


def test_render_fills_selectors_and_drops_stray_commas() -> None:
    template = 'sum(rate(x{code=~"5..",{matchers}}[{window}])) / sum(rate(x{selector}[{window}]))'
    assert render(template, ['namespace="shop"'], "2m") == (
        'sum(rate(x{code=~"5..",namespace="shop"}[2m])) / sum(rate(x{namespace="shop"}[2m]))'
    )
    assert render(template, [], "1m") == 'sum(rate(x{code=~"5.."}[1m])) / sum(rate(x[1m]))'


def test_expressions_quote_label_values_and_shift_the_baseline() -> None:
    client = MetricsClient(MetricsConfig("http://p:9090", window="2m", baseline_offset="1h"))
    expr = client.expression("p99", 'sh"op', "api")
    assert '{namespace="sh\\"op",deployment="api"}[2m]' in expr
    baseline = client.expression("baseline_p99", "shop", "api")
    assert '{namespace="shop",deployment="api"}[2m] offset 1h' in baseline
    assert client.expression("request_rate") == (
        "sum by (namespace, deployment) (rate(http_requests_total[2m]))"
    )
    with pytest.raises(Invalid, match="Unknown query"):
        client.expression("p50")


# ---- requests and answers ----------------------------------------------------------------
def test_instant_sends_credentials_and_reads_special_floats() -> None:
    body = _vector((API, "NaN"), (WEB, "+Inf"), ({"x": "y"}, "-Inf"), ({}, "0.25"))
    client, seen = _fake(_json(body), bearer_token=TOKEN)
    samples = client.instant("up", at=datetime.fromtimestamp(NOW, UTC))
    assert seen[0].url.path == "/prefix/api/v1/query"
    assert seen[0].url.params["query"] == "up"
    assert float(seen[0].url.params["time"]) == NOW
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert math.isnan(samples[0].value)
    assert [s.value for s in samples[1:]] == [math.inf, -math.inf, 0.25]
    assert samples[0].labels == API and samples[0].at == NOW


def test_basic_auth_and_scalar_results() -> None:
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [NOW, "42"]}}
    client, seen = _fake(_json(scalar), basic_auth=("ops", "pw"))
    assert client.instant("time()") == [Sample({}, 42.0, NOW)]
    assert seen[0].headers["Authorization"].startswith("Basic ")
    assert client.server_time() == NOW


def test_range_parses_series() -> None:
    body = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [{"metric": API, "values": [[NOW, "1"], [NOW + 15, "NaN"]]}],
        },
    }
    client, seen = _fake(_json(body))
    [series] = client.range("up", NOW, NOW + 15, "15s")
    assert series.labels == API
    assert series.points[0] == (NOW, 1.0) and math.isnan(series.points[1][1])
    assert seen[0].url.path.endswith("/api/v1/query_range")
    assert seen[0].url.params["step"] == "15s"
    with pytest.raises(Invalid, match="ends before it starts"):
        client.range("up", NOW, NOW - 1, 15)


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (
            400,
            _error("bad_data", "1:5: parse error: unclosed left parenthesis"),
            Invalid,
            "Prometheus rejected the query: 1:5: parse error: unclosed left parenthesis",
        ),
        (
            422,
            _error("execution", "many-to-many matching not allowed"),
            Invalid,
            "many-to-many matching not allowed",
        ),
        (
            503,
            _error("timeout", "query timed out in expression evaluation"),
            Timeout,
            "gave up on the query",
        ),
        (503, _error("unavailable", "prometheus is down"), Unreachable, "is unavailable"),
        (500, _error("internal", "boom"), AdapterError, "failed the query (internal): boom"),
        (401, {"kind": "Status", "message": "Unauthorized"}, Unauthorized, "HTTP 401"),
        (403, {"kind": "Status"}, Forbidden, "HTTP 403"),
        (404, {"kind": "Status"}, NotFound, "path prefix"),
        (502, "bad gateway", Unreachable, "unavailable (HTTP 502)"),
        (200, "<html>login</html>", AdapterError, "is base_url a Prometheus HTTP API?"),
        (
            200,
            {
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "x"]}]},
            },
            AdapterError,
            "not a number",
        ),
    ],
)
def test_errors_map_to_the_adapter_family(
    status: int, body: Any, error: type[AdapterError], words: str
) -> None:
    def answer(_request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    client, _ = _fake(answer, bearer_token=TOKEN)
    with pytest.raises(error) as caught:
        client.instant("sum(up")
    assert type(caught.value) is error
    assert words in caught.value.message
    assert TOKEN not in caught.value.message and TOKEN not in (caught.value.detail or "")


def test_transport_failures_become_timeout_and_unreachable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client, _ = _fake(slow, timeout_s=0.5)
    with pytest.raises(Timeout, match=r"did not answer within 0.5 s"):
        client.instant("up")
    client, _ = _fake(refused)
    with pytest.raises(Unreachable) as caught:
        client.instant("up")
    assert caught.value.message == (
        "Cannot reach Prometheus at http://prom.test:9090/prefix: connection refused."
    )


# ---- per deployment, against a scripted Prometheus ---------------------------------------
def _scripted(
    answers: dict[str, list[tuple[dict[str, str], str]]],
) -> Callable[[httpx.Request], httpx.Response]:
    """Answer each query by the first marker (a substring) it contains."""

    def answer(request: httpx.Request) -> httpx.Response:
        query = request.url.params["query"]
        at = float(request.url.params.get("time", NOW))
        for marker, samples in answers.items():
            if marker in query:
                return httpx.Response(200, json=_vector(*samples, at=at))
        if "container_memory_working_set_bytes" in query:  # not scripted: no cAdvisor
            return httpx.Response(200, json=_vector(at=at))
        raise AssertionError(f"unexpected query {query}")

    return answer


SCRIPT = {
    "container_memory_working_set_bytes": [(API, "268435456")],
    "offset": [(API, "0.2"), (WEB, "0.1")],
    "histogram_quantile(0.99": [(API, "4.0"), (WEB, "NaN")],
    "histogram_quantile(0.95": [(API, "1.5")],
    '"5.."': [(API, "0.6"), (WEB, "NaN")],
    "rate(http_requests_total": [(API, "50"), (WEB, "0")],
}


def test_deployment_rates_leave_unknowns_as_none() -> None:
    client, seen = _fake(_scripted(SCRIPT))
    rates = client.deployment_rates(at=NOW)
    api, web = rates[("shop", "api")], rates[("shop", "web")]
    assert api.latency_ratio == pytest.approx(20.0)
    assert api == RateSample(
        "shop", "api", 50.0, 0.6, 1.5, 4.0, 0.2, api.latency_ratio, datetime.fromtimestamp(NOW, UTC),
        memory_bytes=268435456.0,
    )
    assert web.request_rate == 0.0 and web.memory_bytes is None
    assert web.error_ratio is None and web.p95_s is None and web.p99_s is None
    assert web.latency_ratio is None and web.baseline_p99_s == 0.1
    assert {float(r.url.params["time"]) for r in seen} == {NOW}


def test_deployment_rates_evaluate_every_query_at_the_first_answers_time() -> None:
    client, seen = _fake(_scripted(SCRIPT))
    client.deployment_rates(namespace="shop")
    assert "time" not in seen[0].url.params
    assert {r.url.params["time"] for r in seen[1:]} == {f"{NOW:.3f}"}
    assert all(re.search(r'namespace=~?"shop"', r.url.params["query"]) for r in seen)


def test_the_shifted_baseline_of_now_is_asked_again_only_once_it_is_a_minute_old() -> None:
    """The poll runs every 5 s; the baseline is p99 half an hour ago and moves as slowly:
    asked for the server's now, one answer serves the polls of the next minute (server
    time), unless a deployment it does not know appears. Asked for a given time: always."""
    clock = {"now": NOW}

    def answer(request: httpx.Request) -> httpx.Response:
        at = float(request.url.params.get("time", clock["now"]))
        query = request.url.params["query"]
        for marker, samples in SCRIPT.items():
            if marker in query:
                return httpx.Response(200, json=_vector(*samples, at=at))
        raise AssertionError(query)

    client, seen = _fake(answer)
    offsets = lambda: sum("offset" in r.url.params["query"] for r in seen)  # noqa: E731
    assert client.deployment_rates()[("shop", "api")].baseline_p99_s == 0.2
    assert offsets() == 1
    clock["now"] = NOW + 30
    assert client.deployment_rates()[("shop", "api")].baseline_p99_s == 0.2
    assert offsets() == 1  # used again
    clock["now"] = NOW + 61
    client.deployment_rates()
    assert offsets() == 2  # a minute old: asked again
    client.deployment_rates(at=NOW + 62)
    client.deployment_rates(at=NOW + 62)
    assert offsets() == 4  # a given time: never from what was kept


def test_pinned_baseline_replaces_the_offset_query() -> None:
    client, seen = _fake(_scripted(SCRIPT))
    assert client.pin_baseline() == {("shop", "api"): 4.0}  # web's NaN p99 is not pinned
    assert client.pinned_baseline == {("shop", "api"): 4.0}
    seen.clear()
    rates = client.deployment_rates()
    assert rates[("shop", "api")].baseline_p99_s == 4.0
    assert rates[("shop", "api")].latency_ratio == 1.0
    # web has no pinned value, so it still compares with the offset baseline
    assert rates[("shop", "web")].baseline_p99_s == 0.1
    assert any("offset" in r.url.params["query"] for r in seen)

    client.pin_baseline(values={("shop", "api"): 2.0, ("shop", "web"): 0.05})
    seen.clear()
    rates = client.deployment_rates()
    assert rates[("shop", "api")].latency_ratio == 2.0
    assert not any("offset" in r.url.params["query"] for r in seen)

    client.clear_baseline()
    assert client.pinned_baseline is None
    assert client.deployment_rates()[("shop", "api")].baseline_p99_s == 0.2


def test_history_aligns_points_on_a_grid() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if params["query"] == "time()":
            return httpx.Response(
                200,
                json={
                    "status": "success",
                    "data": {"resultType": "scalar", "result": [NOW, str(NOW)]},
                },
            )
        start, step = float(params["start"]), float(params["step"])
        value = "0.5" if '"5.."' in params["query"] else "NaN"
        # a gap at the second point, as Prometheus leaves when a series has no sample
        values = [[start, value], [start + 2 * step, value]]
        return httpx.Response(
            200,
            json={
                "status": "success",
                "data": {"resultType": "matrix", "result": [{"metric": API, "values": values}]},
            },
        )

    client, _ = _fake(answer)
    history = client.history("shop", "api", minutes=2, step=30)
    assert history.end == datetime.fromtimestamp(NOW, UTC)
    assert history.times == [NOW - 120 + i * 30 for i in range(5)]
    assert history.error_ratio == [0.5, None, 0.5, None, None]
    assert history.p99_s == [None] * 5
    with pytest.raises(Invalid, match="larger step"):
        client.history("shop", "api", minutes=10_000, step=1)


# ---- against the drill cluster's own query API -------------------------------------------
def _client(drill: Drill, **config: Any) -> MetricsClient:
    config.setdefault("base_url", drill.cluster.url)
    config.setdefault("bearer_token", drill.cluster.token)
    config.setdefault("verify_tls", str(drill.cluster.ca_path))
    return MetricsClient(MetricsConfig(**config))


@pytest.fixture
def auth_drill(drill_factory: Callable[..., Drill]) -> Drill:
    return drill_factory(scenario="bad-deploy-auth", speed=600)


@pytest.fixture
def metrics(auth_drill: Drill) -> Iterator[MetricsClient]:
    with _client(auth_drill) as client:
        yield client


def test_bad_deploy_auth_shows_in_the_error_ratio(
    auth_drill: Drill, metrics: MetricsClient
) -> None:
    def api_failing() -> dict[tuple[str, str], RateSample] | None:
        rates = metrics.deployment_rates()
        api = rates.get(("shop", "api"))
        return rates if api and api.error_ratio is not None and api.error_ratio > 0.5 else None

    rates = wait_for(api_failing, timeout=60, interval=0.2, message="shop/api error ratio > 0.5")
    healthy = {key: rate for key, rate in rates.items() if key != ("shop", "api")}
    assert healthy, "the drill seeds more deployments than shop/api"
    for key, rate in healthy.items():
        assert rate.request_rate is not None and rate.request_rate > 0, key
        assert rate.error_ratio is not None and rate.error_ratio < 0.05, (key, rate)
        assert rate.p99_s is not None and rate.p99_s > 0, key
    api = rates[("shop", "api")]
    assert api.request_rate is not None and api.request_rate > 0
    assert api.p95_s is not None and api.p99_s is not None and api.p95_s <= api.p99_s

    only_api = metrics.deployment_rates(namespace="shop", deployment="api")
    assert list(only_api) == [("shop", "api")]


def test_drill_history_and_pinned_baseline(auth_drill: Drill, metrics: MetricsClient) -> None:
    wait_for(
        lambda: (
            (r := metrics.deployment_rates(namespace="shop").get(("shop", "api")))
            and r.error_ratio is not None
            and r.error_ratio > 0.5
        ),
        timeout=60,
        interval=0.2,
        message="shop/api failing",
    )
    history = metrics.history("shop", "api", minutes=5)
    known = [v for v in history.error_ratio if v is not None]
    assert known and max(known) > 0.5
    assert any(v is not None and v > 0 for v in history.p99_s)

    # 30 drill minutes pass in 3 s at speed 600: then the offset baseline is known, and the
    # bad revision (which fails requests fast, not slowly) is about as fast as before
    def with_baseline() -> RateSample | None:
        rate = metrics.deployment_rates(namespace="shop")[("shop", "api")]
        return rate if rate.baseline_p99_s is not None else None

    rate = wait_for(with_baseline, timeout=60, interval=0.2, message="a shop/api baseline")
    assert rate.latency_ratio is not None and 0.5 < rate.latency_ratio < 2

    pinned = metrics.pin_baseline(namespace="shop")
    assert ("shop", "api") in pinned
    rate = metrics.deployment_rates(namespace="shop")[("shop", "api")]
    assert rate.baseline_p99_s == pinned[("shop", "api")]
    assert rate.latency_ratio is not None and 0.2 < rate.latency_ratio < 5


def test_drill_api_under_the_prometheus_prefix(drill: Drill) -> None:
    with _client(drill, base_url=f"{drill.cluster.url}/prometheus") as client:

        def serving() -> list[RateSample]:
            rates = client.deployment_rates()
            return [r for r in rates.values() if r.request_rate and r.request_rate > 0]

        assert wait_for(serving, timeout=30, message="a deployment serving requests")
        assert client.server_time() > 0


def test_bad_token_is_unauthorized(drill: Drill) -> None:
    with _client(drill, bearer_token="not-the-drill-token") as client:
        with pytest.raises(Unauthorized) as caught:
            client.deployment_rates()
    assert "HTTP 401" in caught.value.message
    assert "not-the-drill-token" not in caught.value.message


def test_bad_promql_is_invalid_with_the_servers_message(drill: Drill) -> None:
    query = "sum by (namespace (rate(http_requests_total[1m]))"
    with drill.http() as http:
        raw = http.get("/api/v1/query", params={"query": query})
    server_message = raw.json()["error"]
    with _client(drill) as client:
        with pytest.raises(Invalid) as caught:
            client.instant(query)
    assert caught.value.message == f"Prometheus rejected the query: {server_message}"
    assert caught.value.detail == query


def test_untrusted_certificate_is_unreachable(drill: Drill) -> None:
    with _client(drill, verify_tls=True) as client:
        with pytest.raises(Unreachable) as caught:
            client.instant("time()")
    assert caught.value.message.startswith(
        f"Cannot reach Prometheus at {drill.cluster.url}: TLS certificate rejected"
    )


def test_unreachable_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # nothing listens on the port once the socket is closed
    with MetricsClient(MetricsConfig(f"http://127.0.0.1:{port}", timeout_s=2)) as client:
        with pytest.raises(Unreachable) as caught:
            client.deployment_rates()
    assert caught.value.message.startswith(f"Cannot reach Prometheus at http://127.0.0.1:{port}: ")


def test_drill_faults_slow_and_down(drill_factory: Callable[..., Drill]) -> None:
    drill = drill_factory(speed=600)
    traffic = drill.cluster.traffic
    with _client(drill, timeout_s=0.3) as client:
        drill.call(traffic.set_query_delay, 2.0)
        with pytest.raises(Timeout):
            client.instant("time()")
        drill.call(traffic.set_query_delay, 0.0)
        drill.call(traffic.set_down, True)
        with pytest.raises(Unreachable, match="is unavailable: prometheus is down"):
            client.instant("time()")
