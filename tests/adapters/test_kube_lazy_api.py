"""The first picture needs none of the client's typed API classes.

kubernetes 37's generated CoreV1Api / AppsV1Api import ~1,500 pydantic models, about a second
of CPU: a console that made them at connect showed its first pods a second later. Lists,
watches, the namespace check and access reviews go through ``KubeClient.request``; the typed
classes are made on first use, or by ``warm_up`` once the first picture is on screen.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Drill

ROOT = Path(__file__).resolve().parents[2]
TYPED = ("kubernetes.client.api.core_v1_api", "kubernetes.client.api.apps_v1_api",
         "kubernetes.client.api.authorization_v1_api")

FIRST_PICTURE = """
import json, sys
from adapters.kubernetes import KubeClient

kube = KubeClient.connect(sys.argv[1], namespace="shop")
seen = {"pods": len(kube.list_objects("pods", "shop", limit=2)["items"]),
        "namespace": kube.namespace_exists("shop"),
        "missing_namespace": kube.namespace_exists("no-such-namespace"),
        "can_scale": kube.can_i("patch", "deployments/scale", "shop").allowed}
stream = kube.open_watch("deployments", "shop", None, timeout_seconds=5)
seen["first_watch_event"] = next(iter(stream))["type"]
stream.close()
typed = %r
seen["imported_before_warm_up"] = [m for m in typed if m in sys.modules]
kube.warm_up()
seen["imported_after_warm_up"] = [m for m in typed if m in sys.modules]
seen["scaled"] = kube.scale("shop", "web", 3).ok
print(json.dumps(seen))
"""


def test_first_picture_without_typed_apis_then_warm_up(
        drill_factory: Callable[..., Drill]) -> None:
    drill = drill_factory()  # its own cluster: the test scales a deployment
    out = subprocess.run([sys.executable, "-c", FIRST_PICTURE % (TYPED,), str(drill.kubeconfig)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["pods"] == 2
    assert (seen["namespace"], seen["missing_namespace"]) == (True, False)
    assert seen["can_scale"] is True
    assert seen["first_watch_event"] == "ADDED"
    assert seen["imported_before_warm_up"] == []
    assert seen["imported_after_warm_up"] == list(TYPED[:2])  # actions never review access
    assert seen["scaled"] is True
