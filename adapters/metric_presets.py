"""Metric presets: the PromQL for the monitoring stacks real clusters have.

A cluster rarely has ``http_requests_total{namespace,deployment}``. A preset maps what its stack
exports to what the console asks for — request rate, error ratio, p95/p99 latency (the
baseline is p99 ``offset`` ago) and memory working set per Deployment (its largest
container's) — as ``QueryTemplates``.
Every preset's queries label their results ``namespace`` and ``deployment`` (with
``label_replace`` where the stack names them otherwise), so the client reads them all alike.

``generic``
    today's templates: the application's own ``http_requests_total`` /
    ``http_request_duration_seconds`` with ``namespace`` and ``deployment`` labels; memory from
    cAdvisor with the Deployment read from the pod name (``api-7d9f8b6c4-x2x9q``).
``kube-prometheus``
    requests as ``generic`` (kube-prometheus ships no request metrics of its own); memory is
    ``container_memory_working_set_bytes{container!="",image!=""}`` joined to its Deployment
    through kube-state-metrics' ``kube_pod_owner{owner_kind="ReplicaSet"}`` and
    ``kube_replicaset_owner{owner_kind="Deployment"}``, as the kubernetes-mixin workload
    recording rules do.
``istio``
    ``istio_requests_total{reporter="destination"}`` by ``destination_workload`` /
    ``destination_workload_namespace``, 5xx by ``response_code``; latency from
    ``istio_request_duration_milliseconds_bucket`` (ms, divided by 1000).
``linkerd``
    the proxies' ``response_total{direction="inbound"}`` by ``namespace`` / ``deployment``,
    failures by ``classification="failure"``; latency from ``response_latency_ms_bucket``.
``ingress-nginx``
    ``nginx_ingress_controller_requests`` by ``status`` and the backend ``service``; latency
    from ``nginx_ingress_controller_request_duration_seconds_bucket``. The ingress namespace is
    ``exported_namespace`` when the scrape added a ``namespace`` of its own (the controller
    pod's), else ``namespace``.

**ingress-nginx: from Service to Deployment.** The controller knows Services, not Deployments.
A Service's selector lives in the Kubernetes API, and kube-state-metrics does not export it,
so PromQL alone cannot follow it. The preset takes the convention almost every chart follows
(the Service is named like its Deployment) and a ``service_map`` (``{service: deployment}``)
for the Services that are not; both are applied inside the query with ``label_replace``, so
any Prometheus (or Thanos, Mimir) evaluates it and the narrowing to one Deployment selects
exactly the Services mapped to it.

The memory join of ``kube-prometheus`` serves the mesh and ingress presets too: clusters with
a mesh or an ingress controller have cAdvisor and kube-state-metrics as well.

Template placeholders beyond ``metrics_queries``: ``{namespace}`` and ``{deployment}`` are
regular-expression values (the escaped name when narrowed, ``.+`` when not), for matchers on
labels other than the configured ones: ``destination_workload=~"{deployment}"``;
``{service}`` is the Services behind the Deployment (ingress-nginx).
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import Invalid
from .metrics_queries import DEFAULT_MEMORY, QueryTemplates, did_you_mean

GENERIC = "generic"
_WORKLOAD = 'label_replace(label_replace({expr}, "namespace", "$1", "{ns}", "(.+)"), ' \
            '"deployment", "$1", "{dep}", "(.+)")'

# cAdvisor's working set per container, joined to the Deployment through the pod's
# ReplicaSet (kube_pod_owner) and the ReplicaSet's Deployment (kube_replicaset_owner); the
# largest container's, as the generic query (what meets its limit first).
KUBE_MEMORY = (
    "max by (namespace, deployment) ("
    'container_memory_working_set_bytes{container!="",image!="",namespace=~"{namespace}"}'
    " * on (namespace, pod) group_left (deployment) max by (namespace, pod, deployment) ("
    "label_replace("
    'label_replace(kube_pod_owner{owner_kind="ReplicaSet",namespace=~"{namespace}"},'
    ' "replicaset", "$1", "owner_name", "(.*)")'
    " * on (namespace, replicaset) group_left (owner_name)"
    " max by (namespace, replicaset, owner_name) (kube_replicaset_owner"
    '{owner_kind="Deployment",namespace=~"{namespace}",owner_name=~"{deployment}"}),'
    ' "deployment", "$1", "owner_name", "(.*)")))'
)
GENERIC_MEMORY = DEFAULT_MEMORY


def _ratio(errors: str, total: str) -> str:
    """errors / total, 0 (not no value) where there was traffic but no error series."""
    return f"({errors} or {total} * 0) / {total}"


def _quantile(q: float, buckets: str, scale: str = "") -> str:
    return f"histogram_quantile({q}, sum by (namespace, deployment, le) ({buckets})){scale}"


def _istio() -> QueryTemplates:
    def rate(metric: str, extra: str = "") -> str:
        selector = (f'{metric}{{reporter="destination",{extra}'
                    'destination_workload_namespace=~"{namespace}",'
                    'destination_workload=~"{deployment}"}')
        return _WORKLOAD.format(expr=f"rate({selector}[{{window}}])",
                                ns="destination_workload_namespace",
                                dep="destination_workload")

    total = f"sum by (namespace, deployment) ({rate('istio_requests_total')})"
    five = 'response_code=~"5..",'
    errors = f"sum by (namespace, deployment) ({rate('istio_requests_total', five)})"
    buckets = rate("istio_request_duration_milliseconds_bucket")
    return QueryTemplates(
        request_rate=total,
        error_ratio=_ratio(errors, total),
        p95=_quantile(0.95, buckets, " / 1000"),
        p99=_quantile(0.99, buckets, " / 1000"),
        memory=KUBE_MEMORY,
    )


def _linkerd() -> QueryTemplates:
    def rate(metric: str, extra: str = "") -> str:
        return (f'rate({metric}{{direction="inbound",{extra}namespace=~"{{namespace}}",'
                'deployment=~"{deployment}"}[{window}])')

    total = f"sum by (namespace, deployment) ({rate('response_total')})"
    failed = 'classification="failure",'
    errors = f"sum by (namespace, deployment) ({rate('response_total', failed)})"
    buckets = rate("response_latency_ms_bucket")
    return QueryTemplates(
        request_rate=total,
        error_ratio=_ratio(errors, total),
        p95=_quantile(0.95, buckets, " / 1000"),
        p99=_quantile(0.99, buckets, " / 1000"),
        memory=KUBE_MEMORY,
    )


def _ingress_nginx(service_map: Mapping[str, str]) -> QueryTemplates:
    def rate(metric: str, extra: str = "") -> str:
        narrowed = f'{extra}service=~"{{service}}"'
        # the ingress's namespace: exported_namespace when the scrape renamed it
        picked = (f'(rate({metric}{{exported_namespace=~"{{namespace}}",{narrowed}}}[{{window}}])'
                  f' or rate({metric}{{exported_namespace="",namespace=~"{{namespace}}",'
                  f"{narrowed}}}[{{window}}]))")
        expr = (f'label_replace(label_replace({picked}, "namespace", "$1", '
                '"exported_namespace", "(.+)"), "deployment", "$1", "service", "(.+)")')
        for service, deployment in sorted(service_map.items()):
            expr = (f'label_replace({expr}, "deployment", "{_quote(deployment)}", "service", '
                    f'"{_quote(_regex(service))}")')
        return expr

    total = f"sum by (namespace, deployment) ({rate('nginx_ingress_controller_requests')})"
    five = 'status=~"5..",'
    errors = f"sum by (namespace, deployment) ({rate('nginx_ingress_controller_requests', five)})"
    buckets = rate("nginx_ingress_controller_request_duration_seconds_bucket")
    return QueryTemplates(
        request_rate=total,
        error_ratio=_ratio(errors, total),
        p95=_quantile(0.95, buckets),
        p99=_quantile(0.99, buckets),
        memory=KUBE_MEMORY,
    )


PRESETS = ("generic", "kube-prometheus", "istio", "linkerd", "ingress-nginx")


def check_preset(name: object) -> str:
    """``name`` if it is a preset, else ``Invalid`` with a "did you mean"."""
    if not isinstance(name, str) or name not in PRESETS:
        hint = did_you_mean(str(name), PRESETS)
        raise Invalid(f"metrics config: preset {name!r} is not a known preset{hint}; "
                      f"known presets: {', '.join(PRESETS)}.")
    return name


def preset_templates(name: str, service_map: Mapping[str, str] | None = None) -> QueryTemplates:
    """The query templates of preset ``name``."""
    check_preset(name)
    if name == "istio":
        return _istio()
    if name == "linkerd":
        return _linkerd()
    if name == "ingress-nginx":
        return _ingress_nginx(service_map or {})
    if name == "kube-prometheus":
        return QueryTemplates(memory=KUBE_MEMORY)
    return QueryTemplates()


def services_of(deployment: str, service_map: Mapping[str, str]) -> list[str]:
    """The Services behind ``deployment``: those mapped to it, and its own name unless that
    Service is mapped to another Deployment."""
    mapped = [service for service, target in service_map.items() if target == deployment]
    if service_map.get(deployment, deployment) == deployment or not mapped:
        mapped.append(deployment)
    return sorted(set(mapped))


_REGEX_SPECIAL = set("\\.+*?()|[]{}^$")


def _regex(value: str) -> str:
    """``value`` as a regular expression that matches it alone (RE2 syntax)."""
    return "".join("\\" + ch if ch in _REGEX_SPECIAL else ch for ch in value)


def _quote(value: str) -> str:
    """``value`` inside a double-quoted PromQL string."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def regex_value(names: list[str] | None) -> str:
    """The value of a ``=~`` matcher for these names (``.+``: any, when not narrowed)."""
    if names is None:
        return ".+"
    return _quote("|".join(_regex(name) for name in names))


__all__ = [
    "GENERIC",
    "GENERIC_MEMORY",
    "KUBE_MEMORY",
    "PRESETS",
    "check_preset",
    "preset_templates",
    "regex_value",
    "services_of",
]
