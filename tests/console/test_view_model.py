"""Rows for the widgets: times are measured on the cluster's clock, not the console's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.kube_views import DeploymentView, PodView
from console.ui.view_model import deployment_row, pod_row

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def crashed_pod() -> PodView:
    return PodView(namespace="shop", name="api-1", ready="0/1", status="OOMKilled", restarts=2,
                   age="?", last_restart=START + timedelta(minutes=30), created=START)


def test_age_and_restarts_follow_the_cluster_clock() -> None:
    # a drill's clock runs hours ahead of the machine's: "<invalid> ago" if mixed up
    row = pod_row(crashed_pod(), START + timedelta(hours=3))
    assert row.age == "3h"
    assert row.restarts == "2 (150m ago)"


def test_without_a_cluster_clock_the_view_as_it_arrived() -> None:
    row = pod_row(crashed_pod(), None)
    assert row.age == "?"
    assert row.restarts.startswith("2 (") and row.restarts.endswith(" ago)")


def test_last_exit_is_abbreviated_on_the_cluster_clock() -> None:
    from dataclasses import replace

    pod = replace(crashed_pod(), last_termination="OOMKilled",
                  terminated_at=START + timedelta(minutes=48))
    assert pod_row(pod, START + timedelta(hours=1)).last_exit == "OOM 12m"
    error = replace(pod, last_termination="ContainerStatusUnknown")
    assert pod_row(error, START + timedelta(hours=1)).last_exit == "Containe 12m"
    assert pod_row(replace(pod, last_termination=""), START).last_exit == ""


def test_memory_note_names_the_revision_and_when_full() -> None:
    from adapters.kube_views import DeploymentView
    from console.ui.view_model import memory_note
    from widgets.rows import RateRow

    deployment = DeploymentView(namespace="shop", name="api", desired=3, updated=3, ready=3,
                                available=3, revision=4,
                                images=("registry.local/shop/api:1.7.0",))
    row = RateRow("shop/api", "shop", "api", 1.0, 0.0, 30.0, 1.0, memory_full_in="12m")
    assert memory_note(row, deployment) == ("memory climbs on revision 4 (1.7.0): at the limit "
                                            "in 12m")
    flat = RateRow("shop/api", "shop", "api", 1.0, 0.0, 30.0, 1.0)
    assert memory_note(flat, deployment) is None


def test_a_paused_deployment_row_says_paused_even_when_every_pod_is_new() -> None:
    def view(rollout: str, paused: bool) -> DeploymentView:
        return DeploymentView("shop", "api", desired=5, updated=2 if rollout != "complete"
                              else 5, ready=5, available=5, rollout=rollout, paused=paused)

    assert deployment_row(view("paused", True)).rollout == "paused"
    assert deployment_row(view("complete", True)).rollout == "paused"  # kubectl: complete
    assert deployment_row(view("stalled", True)).rollout == "stalled"  # the deadline says more
    assert deployment_row(view("complete", False)).rollout == "complete"
    row = deployment_row(view("paused", True))
    assert (row.updated, row.desired) == (2, 5)  # "paused at 2/5 new pods"
