"""Helpers for tests that talk to a drill cluster through the official client."""

from __future__ import annotations

import itertools
from typing import Any

from kubernetes import client

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}"


def make_namespace(api: client.ApiClient, name: str) -> str:
    client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    return name


def make_deployment(api: client.ApiClient, namespace: str, name: str, replicas: int = 2,
                    image: str = "registry.local/demo:1.0", cause: str | None = None) -> Any:
    annotations = {"kubernetes.io/change-cause": cause} if cause else {}
    body = {
        "metadata": {"name": name, "labels": {"app": name}, "annotations": annotations},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image,
                                         "ports": [{"containerPort": 8080}]}]},
            },
        },
    }
    return client.AppsV1Api(api).create_namespaced_deployment(namespace, body)


def deployment_settled(api: client.ApiClient, namespace: str, name: str) -> bool:
    d = client.AppsV1Api(api).read_namespaced_deployment(name, namespace)
    s = d.status
    want = d.spec.replicas
    return bool(
        s.observed_generation == d.metadata.generation
        and (s.updated_replicas or 0) == want
        and (s.replicas or 0) == want
        and (s.available_replicas or 0) == want
        and (s.ready_replicas or 0) == want
    )


def pods_of(api: client.ApiClient, namespace: str, app: str) -> list[Any]:
    return client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=f"app={app}").items


def revision(api: client.ApiClient, namespace: str, name: str) -> str:
    d = client.AppsV1Api(api).read_namespaced_deployment(name, namespace)
    return d.metadata.annotations.get("deployment.kubernetes.io/revision", "")


def image_of(api: client.ApiClient, namespace: str, name: str) -> str:
    d = client.AppsV1Api(api).read_namespaced_deployment(name, namespace)
    return d.spec.template.spec.containers[0].image
