"""The drill's traffic as other monitoring stacks would report it.

Real clusters rarely have `http_requests_total{namespace,deployment}`; they have a service
mesh, an ingress controller, cAdvisor and kube-state-metrics. `StackSeries` derives those
stacks' series from the drill's own counters (`traffic.Traffic`), so every metric preset of
the console (adapters/metric_presets.py) reads the same incident:

- Istio (destination and source reporters): `istio_requests_total{reporter,
  destination_workload, destination_workload_namespace, destination_service, response_code,
  ...}` and `istio_request_duration_milliseconds` (ms buckets);
- Linkerd proxies: `response_total{direction="inbound", namespace, deployment,
  classification, status_code, tls}` and `response_latency_ms`;
- ingress-nginx: `nginx_ingress_controller_requests{namespace, ingress, service, status,
  method, path, host, controller_*}` and `nginx_ingress_controller_request_duration_seconds`
  (the backend Service is named like the deployment);
- kube-state-metrics: `kube_deployment_spec_replicas`, `kube_replicaset_owner`,
  `kube_pod_owner`, `kube_pod_container_resource_limits{resource="memory"}`, which the
  kube-prometheus memory join uses with the cAdvisor series `Traffic` writes
  (`container_memory_working_set_bytes`, see `memory.py`).

Mesh and ingress series are sums of the drill's per-path series (the mesh has no `path`), so
their rates, error ratios and latency quantiles equal the drill's own. The histograms are not
split by status code (real ones are; the queries sum it away). Per-pod series stop (as a
restarted kube-state-metrics would) when the cluster has more than `max_pods` pods, to keep the
sample history bounded at 10,000-pod scale.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .memory import limit_bytes

LabelPairs = tuple[tuple[str, str], ...]
Register = Callable[[str, LabelPairs], int]
Obj = dict[str, Any]

MESH_GATEWAY = ("istio-ingressgateway", "istio-system")
NGINX_CONTROLLER = ("ingress-nginx", "ingress-nginx-controller-5c8d66c76d-x7k2p")
NGINX_CLASS = "k8s.io/ingress-nginx"
MAX_PODS = 1000

FAMILIES: dict[str, tuple[str, str]] = {
    "istio_requests_total": ("counter", "Istio: requests handled by a proxy."),
    "istio_request_duration_milliseconds": ("histogram", "Istio: request duration in ms."),
    "response_total": ("counter", "Linkerd proxy: responses."),
    "response_latency_ms": ("histogram", "Linkerd proxy: response latency in ms."),
    "nginx_ingress_controller_requests": ("counter", "ingress-nginx: client requests."),
    "nginx_ingress_controller_request_duration_seconds": (
        "histogram", "ingress-nginx: request processing time in seconds."),
    "kube_deployment_spec_replicas": ("gauge", "kube-state-metrics: desired pods."),
    "kube_replicaset_owner": ("gauge", "kube-state-metrics: the ReplicaSet's owner."),
    "kube_pod_owner": ("gauge", "kube-state-metrics: the pod's owner."),
    "kube_pod_container_resource_limits": ("gauge", "kube-state-metrics: container limits."),
}


def _pairs(labels: dict[str, str]) -> LabelPairs:
    return tuple(sorted(labels.items()))


def _ms(le: str) -> str:
    if le == "+Inf":
        return le
    value = float(le) * 1000
    return str(int(value)) if value == int(value) else f"{value:g}"


class StackSeries:
    """Series of other stacks, registered in (and valued from) the traffic's series table."""

    def __init__(self, register: Register, max_pods: int = MAX_PODS) -> None:
        self._register = register
        self.max_pods = max_pods
        self._mirrors: dict[int, list[int]] = {}  # derived series -> the drill series summed
        self._scale: dict[int, float] = {}
        self._members: dict[str, list[int]] = {name: [] for name in FAMILIES}
        self._state: dict[tuple[str, LabelPairs], int] = {}
        self._live: set[int] = set()

    # ---- mirrors of the drill's request series --------------------------------------------
    def _mirror(self, family: str, name: str, labels: dict[str, str], source: int,
                scale: float = 1.0) -> None:
        index = self._register(name, _pairs(labels))
        sources = self._mirrors.setdefault(index, [])
        if source not in sources:
            sources.append(source)
        self._scale[index] = scale
        if index not in self._members[family]:
            self._members[family].append(index)

    @staticmethod
    def _istio(namespace: str, deployment: str, reporter: str) -> dict[str, str]:
        source, source_ns = MESH_GATEWAY
        return {
            "reporter": reporter, "source_workload": source,
            "source_workload_namespace": source_ns, "source_app": source,
            "destination_workload": deployment, "destination_workload_namespace": namespace,
            "destination_app": deployment, "destination_canonical_service": deployment,
            "destination_service": f"{deployment}.{namespace}.svc.cluster.local",
            "destination_service_name": deployment, "destination_service_namespace": namespace,
            "request_protocol": "http", "response_flags": "-",
            "connection_security_policy": "mutual_tls" if reporter == "destination" else "unknown",
        }

    @staticmethod
    def _linkerd(namespace: str, deployment: str) -> dict[str, str]:
        return {"direction": "inbound", "namespace": namespace, "deployment": deployment,
                "tls": "true", "authority": f"{deployment}.{namespace}.svc.cluster.local"}

    @staticmethod
    def _nginx(namespace: str, deployment: str, path: str) -> dict[str, str]:
        controller_ns, controller_pod = NGINX_CONTROLLER
        return {"namespace": namespace, "ingress": deployment, "service": deployment,
                "host": f"{deployment}.{namespace}.example.com", "path": path, "method": "GET",
                "canary": "", "controller_class": NGINX_CLASS,
                "controller_namespace": controller_ns, "controller_pod": controller_pod}

    def requests(self, namespace: str, deployment: str, path: str, code: str,
                 source: int) -> None:
        """Mirror one `http_requests_total{namespace,deployment,path,code}` series."""
        for reporter in ("destination", "source"):
            self._mirror("istio_requests_total", "istio_requests_total",
                         self._istio(namespace, deployment, reporter)
                         | {"response_code": code}, source)
        self._mirror("response_total", "response_total",
                     self._linkerd(namespace, deployment)
                     | {"status_code": code,
                        "classification": "failure" if code.startswith("5") else "success"},
                     source)
        self._mirror("nginx_ingress_controller_requests", "nginx_ingress_controller_requests",
                     self._nginx(namespace, deployment, path) | {"status": code}, source)

    def histogram(self, namespace: str, deployment: str, path: str,
                  buckets: list[tuple[str, int]], sum_index: int, count_index: int) -> None:
        """Mirror one path's `http_request_duration_seconds` histogram (`le` as written)."""
        stacks = [
            ("istio_request_duration_milliseconds",
             self._istio(namespace, deployment, "destination"), True),
            ("istio_request_duration_milliseconds",
             self._istio(namespace, deployment, "source"), True),
            ("response_latency_ms", self._linkerd(namespace, deployment), True),
            ("nginx_ingress_controller_request_duration_seconds",
             self._nginx(namespace, deployment, path), False),
        ]
        for family, labels, in_ms in stacks:
            for le, index in buckets:
                self._mirror(family, family + "_bucket",
                             labels | {"le": _ms(le) if in_ms else le}, index)
            self._mirror(family, family + "_sum", labels, sum_index, 1000.0 if in_ms else 1.0)
            self._mirror(family, family + "_count", labels, count_index)

    def update_mirrors(self, values: list[float]) -> None:
        for index, sources in self._mirrors.items():
            values[index] = self._scale[index] * math.fsum(values[s] for s in sources)

    # ---- kube-state-metrics and cAdvisor ---------------------------------------------------
    def _set(self, family: str, labels: dict[str, str], value: float,
             values: list[float], live: set[int]) -> None:
        key = (family, _pairs(labels))
        index = self._state.get(key)
        if index is None:
            index = self._register(family, key[1])
            self._state[key] = index
            self._members[family].append(index)
        values[index] = value
        live.add(index)

    def update_state(self, store: Any, values: list[float]) -> None:
        """Set the kube-state-metrics and cAdvisor gauges from the objects as they are now;
        series of objects gone are stale (NaN), as Prometheus marks a vanished series."""
        live: set[int] = set()
        for deployment in store.list("deployments"):
            meta = deployment["metadata"]
            self._set("kube_deployment_spec_replicas",
                      {"namespace": meta.get("namespace", ""), "deployment": meta["name"]},
                      float(deployment.get("spec", {}).get("replicas", 1)), values, live)
        for replicaset in store.list("replicasets"):
            meta = replicaset["metadata"]
            for ref in meta.get("ownerReferences") or []:
                self._set("kube_replicaset_owner",
                          {"namespace": meta.get("namespace", ""), "replicaset": meta["name"],
                           "owner_kind": ref.get("kind", ""), "owner_name": ref.get("name", ""),
                           "owner_is_controller": str(bool(ref.get("controller"))).lower()},
                          1.0, values, live)
        if store.count("pods") <= self.max_pods:
            for pod in store.list("pods"):
                self._pod(pod, values, live)
        for index in self._live - live:
            values[index] = math.nan
        self._live = live

    def _pod(self, pod: Obj, values: list[float], live: set[int]) -> None:
        meta = pod["metadata"]
        ident = {"namespace": meta.get("namespace", ""), "pod": meta["name"],
                 "uid": meta.get("uid", "")}
        for ref in meta.get("ownerReferences") or []:
            self._set("kube_pod_owner",
                      ident | {"owner_kind": ref.get("kind", ""),
                               "owner_name": ref.get("name", ""),
                               "owner_is_controller": str(bool(ref.get("controller"))).lower()},
                      1.0, values, live)
        node = pod.get("spec", {}).get("nodeName", "")
        for container in pod.get("spec", {}).get("containers") or []:
            limit = limit_bytes(container)
            if limit is not None:
                self._set("kube_pod_container_resource_limits",
                          ident | {"container": container.get("name", ""), "node": node,
                                   "resource": "memory", "unit": "byte"},
                          limit, values, live)

    # ---- exposition ------------------------------------------------------------------------
    def exposition(self, line: Callable[[int], str], values: list[float]) -> list[str]:
        lines: list[str] = []
        for family, (kind, text) in FAMILIES.items():
            members = [i for i in self._members[family] if not math.isnan(values[i])]
            if not members:
                continue
            lines += [f"# HELP {family} {text}", f"# TYPE {family} {kind}"]
            lines += [line(i) for i in members]
        return lines
