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
