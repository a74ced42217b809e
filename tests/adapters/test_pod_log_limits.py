"""Pod logs are read with a byte limit (``kubectl logs --limit-bytes``), and the drill cluster
counts ``limitBytes`` in bytes as the kube-apiserver does."""

from __future__ import annotations

import pytest

from adapters.errors import Invalid
from adapters.kubernetes import KubeClient
from tests.conftest import Drill, wait_for
from tests.drill.kube_helpers import deployment_settled, make_deployment, make_namespace, unique


def test_pod_logs_stop_at_limit_bytes(drill: Drill) -> None:
    ns = make_namespace(drill.api(), unique("logs"))
    make_deployment(drill.api(), ns, "l", replicas=1)
    wait_for(lambda: deployment_settled(drill.api(), ns, "l"), message="settled")
    with KubeClient.connect(str(drill.kubeconfig)) as kube:
        pod = kube.list_pods(ns, "app=l")[0]
        whole = kube.pod_logs(ns, pod.name)
        assert len(whole.encode()) > 100
        limited = kube.pod_logs(ns, pod.name, limit_bytes=100)
        assert limited == whole.encode()[:100].decode()
        with pytest.raises(Invalid):
            kube.pod_logs(ns, pod.name, limit_bytes=0)
    with drill.http() as http:
        raw = http.get(f"/api/v1/namespaces/{ns}/pods/{pod.name}/log",
                       params={"limitBytes": "7"})
        assert raw.status_code == 200 and raw.content == whole.encode()[:7]
        assert http.get(f"/api/v1/namespaces/{ns}/pods/{pod.name}/log",
                        params={"limitBytes": "0"}).status_code == 400
