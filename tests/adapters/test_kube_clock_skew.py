"""Clock skew (issue 14 item 9): ages are computed on the API server's clock, estimated from
its Date headers, so a bastion seconds behind it does not show ``<invalid>`` for new pods."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from adapters.kube_time import ServerClock
from adapters.kubernetes import KubeClient
from tests.conftest import Drill, wait_for

SKEW = 5.0  # the API server's clock runs 5 s ahead of this machine's


def scale(drill: Drill, replicas: int) -> None:
    def change(obj: dict[str, Any]) -> None:
        obj["spec"]["replicas"] = replicas

    drill.call(drill.cluster.store.mutate, "deployments", "shop", "api", change)


def test_new_pods_have_a_sensible_age_on_a_skewed_server(
        drill_factory: Callable[..., Drill]) -> None:
    """Before: AGE of a pod created a moment ago was ``<invalid>`` (-5 s on the local clock)."""
    drill = drill_factory(speed=1.0, clock_skew=SKEW)
    kube = KubeClient.connect(str(drill.kubeconfig))
    before = {p.name for p in kube.list_pods("shop", "app=api")}
    scale(drill, 5)
    new = wait_for(lambda: [p for p in kube.list_pods("shop", "app=api")
                            if p.name not in before], message="new api pods")
    assert all(p.age in ("0s", "1s", "2s") for p in new), [p.age for p in new]
    assert abs(kube.server_clock.offset - SKEW) < 1.5
    # informer views too
    seen: list[Any] = []
    informer = kube.informer("shop", kinds=("pods",), on_deltas=seen.extend)
    informer.start()
    try:
        wait_for(lambda: any(getattr(d.view, "name", "") == new[0].name for d in seen),
                 message="the informer to list the new pod")
        ages = [d.view.age for d in seen if getattr(d.view, "name", "") in {p.name for p in new}]
        assert ages and "<invalid>" not in ages, ages
    finally:
        informer.stop(timeout=1.0)
    kube.close()


def test_server_clock_estimate_from_date_headers() -> None:
    clock = ServerClock()
    local = datetime.now(UTC).timestamp()
    for lag in (0.0, 0.3, 0.7):  # three answers, each with a whole-second Date
        server = datetime.fromtimestamp(local + lag + SKEW, UTC)
        clock.observe(format_datetime(server, usegmt=True), local + lag - 0.01, local + lag)
    assert abs(clock.offset - SKEW) <= 0.5
    # a clock stepped by a minute: the newest answer wins over the disagreeing history
    stepped = datetime.fromtimestamp(local + 60 + SKEW, UTC)
    clock.observe(format_datetime(stepped, usegmt=True), local - 0.01, local)
    assert abs(clock.offset - (SKEW + 60)) <= 1.0
    clock.observe("not a date", local, local)
    assert clock.now() - datetime.now(UTC) > timedelta(seconds=SKEW + 58)
