"""``kubectl auth can-i``: may this user do that, asked with a SelfSubjectAccessReview."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import Operation
from .kube_requests import KubeRequests

_GROUP_OF = {"deployments": "apps", "replicasets": "apps", "statefulsets": "apps",
             "daemonsets": "apps", "horizontalpodautoscalers": "autoscaling",
             "selfsubjectaccessreviews": "authorization.k8s.io",
             "rollouts": "argoproj.io", "analysisruns": "argoproj.io"}


@dataclass(frozen=True)
class AccessReview:
    """Answer of a SelfSubjectAccessReview (``kubectl auth can-i``); truthy when allowed."""

    allowed: bool
    verb: str
    resource: str
    namespace: str | None
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


class AccessReviews:
    """Access reviews through one ``KubeRequests`` (no typed API class needed)."""

    def __init__(self, kube: KubeRequests) -> None:
        self.kube = kube

    def can_i(self, verb: str, resource: str, namespace: str | None = None,
              subresource: str | None = None, name: str | None = None,
              group: str | None = None) -> AccessReview:
        """``kubectl auth can-i`` through a SelfSubjectAccessReview."""
        if "/" in resource and subresource is None:
            resource, subresource = resource.split("/", 1)
        attributes: dict[str, Any] = {"verb": verb, "resource": resource,
                                      "group": _GROUP_OF.get(resource, "") if group is None
                                      else group}
        if namespace:
            attributes["namespace"] = namespace
        if subresource:
            attributes["subresource"] = subresource
        if name:
            attributes["name"] = name
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attributes}}
        answer = self.kube.request_json(Operation("create", "selfsubjectaccessreviews"),
                                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                        body=body)
        status = answer.get("status") or {}
        full = f"{resource}/{subresource}" if subresource else resource
        reason = str(status.get("reason") or status.get("evaluationError") or "")
        return AccessReview(bool(status.get("allowed")) and not status.get("denied"), verb,
                            full, namespace, reason)


__all__ = ["AccessReview", "AccessReviews"]
