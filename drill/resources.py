"""The resource types the drill cluster serves, and their discovery metadata."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ResourceType:
    name: str  # plural, as in the URL
    kind: str
    group: str  # "" for core
    version: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = (
        "create", "delete", "get", "list", "patch", "update", "watch",
    )
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = field(default=())

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


ARGO_GROUP = "argoproj.io"

RESOURCES: dict[str, ResourceType] = {
    rt.name: rt
    for rt in (
        ResourceType("namespaces", "Namespace", "", "v1", namespaced=False, short_names=("ns",)),
        ResourceType("pods", "Pod", "", "v1", short_names=("po",), categories=("all",),
                     subresources=("log", "status")),
        ResourceType("events", "Event", "", "v1", short_names=("ev",)),
        ResourceType("deployments", "Deployment", "apps", "v1", short_names=("deploy",),
                     categories=("all",), subresources=("scale", "status")),
        ResourceType("replicasets", "ReplicaSet", "apps", "v1", short_names=("rs",),
                     categories=("all",), subresources=("scale", "status")),
        # Argo Rollouts' CRDs, served as the API server serves custom resources
        ResourceType("rollouts", "Rollout", ARGO_GROUP, "v1alpha1", short_names=("ro",),
                     subresources=("status",)),
        ResourceType("analysisruns", "AnalysisRun", ARGO_GROUP, "v1alpha1",
                     short_names=("ar",), subresources=("status",)),
        ResourceType("analysistemplates", "AnalysisTemplate", ARGO_GROUP, "v1alpha1",
                     short_names=("at",)),
    )
}

GROUP_VERSIONS: dict[str, list[str]] = {
    "v1": ["namespaces", "pods", "events"],
    "apps/v1": ["deployments", "replicasets"],
    f"{ARGO_GROUP}/v1alpha1": ["rollouts", "analysisruns", "analysistemplates"],
}
