"""Rows for the widgets: times are measured on the cluster's clock, not the console's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.kube_views import PodView
from console.ui.view_model import pod_row

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
