"""Metric presets: configuration (`preset`, `service_map`, custom templates over a preset),
the series each one names when it finds no data, and the Service -> Deployment mapping of
ingress-nginx against the drill's own PromQL."""

from __future__ import annotations

import pytest

from adapters.errors import Invalid
from adapters.metric_presets import PRESETS, preset_templates
from adapters.metrics import MetricsClient
from adapters.metrics_config import MetricsConfig
from drill.promql import parse
from tests.conftest import Drill, wait_for

URL = "http://prometheus:9090"


def test_generic_is_the_default_and_keeps_todays_queries() -> None:
    config = MetricsConfig.from_mapping({"base_url": URL})
    assert config.preset == "generic"
    assert config.queries == preset_templates("generic")
    assert "http_requests_total" in config.queries.request_rate


@pytest.mark.parametrize(("value", "words"), [
    ("istoi", "preset 'istoi' is not a known preset (did you mean 'istio'?)"),
    ("kube_prometheus", "did you mean 'kube-prometheus'?"),
    ("nginx", "known presets: generic, kube-prometheus, istio, linkerd, ingress-nginx"),
])
def test_unknown_preset_is_named_with_a_suggestion(value: str, words: str) -> None:
    with pytest.raises(Invalid) as caught:
        MetricsConfig.from_mapping({"base_url": URL, "preset": value})
    assert words in caught.value.message
    with pytest.raises(Invalid, match="is not a known preset"):
        MetricsConfig(base_url=URL, preset=value)


def test_preset_must_be_a_string_and_keys_are_checked() -> None:
    with pytest.raises(Invalid, match="preset must be a string"):
        MetricsConfig.from_mapping({"base_url": URL, "preset": 3})
    with pytest.raises(Invalid, match="did you mean 'preset'"):
        MetricsConfig.from_mapping({"base_url": URL, "presets": "istio"})


def test_custom_templates_override_the_presets_one_by_one() -> None:
    p99 = ("histogram_quantile(0.99, sum by (namespace, deployment, le) "
           "(rate(my_latency_bucket{selector}[{window}])))")
    config = MetricsConfig.from_mapping({"base_url": URL, "preset": "istio",
                                         "queries": {"p99": p99}})
    assert config.queries.p99 == p99
    assert "istio_requests_total" in config.queries.request_rate  # the rest stays the preset's
    assert config.queries.memory == preset_templates("istio").memory
    with pytest.raises(Invalid, match="did you mean 'memory'"):
        MetricsConfig.from_mapping({"base_url": URL, "queries": {"memroy": p99}})


def test_label_names_apply_to_the_generic_preset_only() -> None:
    assert MetricsConfig(base_url=URL, deployment_label="app").deployment_label == "app"
    with pytest.raises(Invalid, match="namespace_label and deployment_label apply to the generic"):
        MetricsConfig.from_mapping({"base_url": URL, "preset": "linkerd",
                                    "deployment_label": "app"})


def test_service_map_is_checked() -> None:
    with pytest.raises(Invalid, match="service_map must be a table"):
        MetricsConfig.from_mapping({"base_url": URL, "service_map": ["a"]})
    with pytest.raises(Invalid, match=r"service_map\.a must be a string"):
        MetricsConfig.from_mapping({"base_url": URL, "service_map": {"a": 1}})
    config = MetricsConfig.from_mapping({"base_url": URL, "preset": "ingress-nginx",
                                         "service_map": {"shop-frontend": "web"}})
    query = MetricsClient(config).expression("request_rate", "shop", "web")
    assert 'service=~"shop-frontend|web"' in query
    assert '"deployment", "web", "service", "shop-frontend"' in query


@pytest.mark.parametrize("preset", PRESETS)
def test_every_query_parses_on_the_drills_engine(preset: str) -> None:
    client = MetricsClient(MetricsConfig(base_url=URL, preset=preset))
    for kind in ("request_rate", "error_ratio", "p95", "p99", "baseline_p99", "memory"):
        for narrowing in ((None, None), ("shop", None), ("shop", "api.v2")):
            parse(client.expression(kind, *narrowing))


@pytest.mark.parametrize(("preset", "series"), [
    ("generic", 'http_requests_total{namespace="shop",deployment="api"}'),
    ("kube-prometheus", 'http_requests_total{namespace="shop",deployment="api"}'),
    ("istio", 'istio_requests_total{reporter="destination",destination_workload_namespace='
              '"shop",destination_workload="api"}'),
    ("linkerd", 'response_total{direction="inbound",namespace="shop",deployment="api"}'),
    ("ingress-nginx", 'nginx_ingress_controller_requests{exported_namespace="shop",'
                      'service="api"}'),
])
def test_no_data_names_the_series_looked_for(preset: str, series: str) -> None:
    client = MetricsClient(MetricsConfig(base_url=URL, preset=preset))
    assert client.looked_for("shop", "api") == series
    memory = client.looked_for("shop", "api", "memory")
    assert memory.startswith('container_memory_working_set_bytes{container!="",')


def test_ingress_nginx_maps_services_to_deployments_on_the_drill(drill: Drill) -> None:
    auth = {"bearer_token": drill.cluster.token, "verify_tls": str(drill.cluster.ca_path)}
    base = drill.cluster.url + "/prometheus"
    mapped = MetricsClient(MetricsConfig(base_url=base, preset="ingress-nginx",
                                         service_map={"web": "frontend"}, **auth))
    plain = MetricsClient(MetricsConfig(base_url=base, **auth))

    def serving() -> bool:
        sample = plain.deployment_rates("shop").get(("shop", "web"))
        return bool(sample and sample.request_rate)

    wait_for(serving, timeout=30, interval=0.2, message="web's traffic")
    at = plain.server_time()
    rates = mapped.deployment_rates("shop", at=at)
    # Service web's requests are Deployment frontend's now; web keeps its memory (by owner)
    assert rates[("shop", "web")].request_rate is None
    assert rates[("shop", "web")].memory_bytes
    assert rates[("shop", "frontend")].request_rate == pytest.approx(
        plain.deployment_rates("shop", at=at)[("shop", "web")].request_rate)
    narrowed = mapped.deployment_rates("shop", "frontend", at=at)
    assert set(narrowed) == {("shop", "frontend")} and narrowed[("shop", "frontend")].error_ratio == 0
