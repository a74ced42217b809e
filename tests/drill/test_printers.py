"""Tests for drill.printers: HumanDuration, printPod semantics and Table shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drill.printers import (
    COLUMNS,
    format_label_selector,
    human_duration,
    parse_timestamp,
    pod_ready,
    pod_restarts,
    pod_status,
    table,
    translate_timestamp_since,
)

NOW = datetime(2026, 11, 24, 19, 8, 10, tzinfo=UTC)


def stamp(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------
# human_duration
# ---------------------------------------------------------------------------

MIN = 60
HOUR = 3600
DAY = 24 * HOUR
YEAR = 365 * DAY


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-3, "<invalid>"),
        (-2, "<invalid>"),
        (-1.999, "0s"),  # Go truncates toward zero: int(-1.999) == -1
        (-1, "0s"),
        (-0.4, "0s"),
        (0, "0s"),
        (0.9, "0s"),
        (1, "1s"),
        (59, "59s"),
        (60, "60s"),
        (119, "119s"),
        (119.999, "119s"),
        (120, "2m"),
        (121, "2m1s"),
        (5 * MIN + 3, "5m3s"),
        (5 * MIN, "5m"),
        (10 * MIN - 1, "9m59s"),
        (10 * MIN, "10m"),
        (10 * MIN + 59, "10m"),
        (3 * HOUR - 1, "179m"),
        (3 * HOUR, "3h"),
        (3 * HOUR + MIN, "3h1m"),
        (3 * HOUR + MIN + 59, "3h1m"),
        (8 * HOUR - 1, "7h59m"),
        (8 * HOUR, "8h"),
        (8 * HOUR + 59 * MIN, "8h"),
        (48 * HOUR - 1, "47h"),
        (48 * HOUR, "2d"),
        (49 * HOUR, "2d1h"),
        (8 * DAY - 1, "7d23h"),
        (8 * DAY, "8d"),
        (8 * DAY + 5 * HOUR, "8d"),
        (2 * YEAR - 1, "729d"),
        (2 * YEAR, "2y"),
        (2 * YEAR + DAY, "2y1d"),
        (8 * YEAR - 1, "7y364d"),
        (8 * YEAR, "8y"),
        (8 * YEAR + 200 * DAY, "8y"),
        (100 * YEAR, "100y"),
    ],
)
def test_human_duration_boundaries(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


def test_human_duration_accepts_timedelta() -> None:
    assert human_duration(timedelta(minutes=3, seconds=10)) == "3m10s"
    assert human_duration(timedelta(hours=-1)) == "<invalid>"


def test_human_duration_non_finite_is_invalid() -> None:
    assert human_duration(float("nan")) == "<invalid>"
    assert human_duration(float("inf")) == "<invalid>"


def test_parse_timestamp_variants() -> None:
    assert parse_timestamp("2026-11-24T19:08:10Z") == NOW
    assert parse_timestamp("2026-11-24T19:08:10.123456789Z") == NOW.replace(microsecond=123456)
    assert parse_timestamp("2026-11-24T20:08:10+01:00") == NOW
    assert parse_timestamp(datetime(2026, 11, 24, 19, 8, 10)) == NOW  # naive means UTC
    assert parse_timestamp(None) is None
    assert parse_timestamp("") is None
    assert parse_timestamp("yesterday") is None


def test_translate_timestamp_since() -> None:
    assert translate_timestamp_since(stamp(90), NOW) == "90s"
    assert translate_timestamp_since(None, NOW) == "<unknown>"
    # a naive "now" is taken as UTC
    assert translate_timestamp_since(stamp(300), NOW.replace(tzinfo=None)) == "5m"
    # the future, beyond the one-second skew allowance
    assert translate_timestamp_since(stamp(-30), NOW) == "<invalid>"


# ---------------------------------------------------------------------------
# Pod helpers
# ---------------------------------------------------------------------------


def running(ready: bool = True, restarts: int = 0, name: str = "app") -> dict[str, Any]:
    return {
        "name": name,
        "image": f"{name}:1",
        "imageID": "",
        "ready": ready,
        "restartCount": restarts,
        "started": True,
        "state": {"running": {"startedAt": stamp(600)}},
        "lastState": {},
    }


def make_pod(
    statuses: list[dict[str, Any]] | None = None,
    phase: str = "Running",
    containers: int | None = None,
    **status_extra: Any,
) -> dict[str, Any]:
    statuses = [running()] if statuses is None else statuses
    count = len(statuses) if containers is None else containers
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-7d9f-x2k4q",
            "namespace": "shop",
            "uid": "u-1",
            "resourceVersion": "42",
            "creationTimestamp": stamp(5 * MIN),
            "labels": {"app": "web"},
        },
        "spec": {
            "nodeName": "drill-node-1",
            "containers": [{"name": f"c{i}", "image": f"img{i}"} for i in range(count)],
        },
        "status": {"phase": phase, "containerStatuses": statuses, **status_extra},
    }


def crashloop(restarts: int = 5, finished_ago: float = 3 * MIN, name: str = "app") -> dict:
    return {
        "name": name,
        "image": "app:2",
        "imageID": "",
        "ready": False,
        "restartCount": restarts,
        "started": False,
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
        "lastState": {
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": stamp(finished_ago + 5),
                "finishedAt": stamp(finished_ago),
            }
        },
    }


def terminated(reason: str = "", exit_code: int = 0, signal: int = 0, ready: bool = False) -> dict:
    term: dict[str, Any] = {"exitCode": exit_code, "finishedAt": stamp(60)}
    if reason:
        term["reason"] = reason
    if signal:
        term["signal"] = signal
    return {
        "name": "app",
        "image": "app:1",
        "imageID": "",
        "ready": ready,
        "restartCount": 0,
        "state": {"terminated": term},
        "lastState": {},
    }


def test_running_pod() -> None:
    pod = make_pod()
    assert pod_status(pod) == "Running"
    assert pod_ready(pod) == "1/1"
    assert pod_restarts(pod, NOW) == "0"


def test_crashloopbackoff_status_and_restarts_ago() -> None:
    pod = make_pod([crashloop(restarts=5, finished_ago=3 * MIN)])
    assert pod_status(pod) == "CrashLoopBackOff"
    assert pod_ready(pod) == "0/1"
    assert pod_restarts(pod, NOW) == "5 (3m ago)"


def test_oomkilled_status() -> None:
    pod = make_pod([terminated(reason="OOMKilled", exit_code=137)])
    assert pod_status(pod) == "OOMKilled"
    assert pod_ready(pod) == "0/1"


def test_terminated_without_reason_uses_exit_code_or_signal() -> None:
    assert pod_status(make_pod([terminated(exit_code=3)])) == "ExitCode:3"
    assert pod_status(make_pod([terminated(exit_code=137, signal=9)])) == "Signal:9"


def test_waiting_reason_beats_terminated_and_first_container_wins() -> None:
    # Containers are walked last to first, so the first container's reason is the one left.
    pod = make_pod([crashloop(name="a"), terminated(reason="OOMKilled", exit_code=137)])
    assert pod_status(pod) == "CrashLoopBackOff"
    pod = make_pod([terminated(reason="OOMKilled", exit_code=137), crashloop(name="b")])
    assert pod_status(pod) == "OOMKilled"


def test_waiting_with_empty_reason_falls_back_to_phase() -> None:
    status = running(ready=False)
    status["state"] = {"waiting": {}}
    assert pod_status(make_pod([status], phase="Pending")) == "Pending"


def test_pending_pod_without_statuses() -> None:
    pod = make_pod([], phase="Pending", containers=2)
    assert pod_status(pod) == "Pending"
    assert pod_ready(pod) == "0/2"
    assert pod_restarts(pod, NOW) == "0"


def test_container_creating() -> None:
    status = running(ready=False)
    status["state"] = {"waiting": {"reason": "ContainerCreating"}}
    assert pod_status(make_pod([status], phase="Pending")) == "ContainerCreating"


def test_status_reason_overrides_phase() -> None:
    pod = make_pod([], phase="Failed", reason="Evicted", containers=1)
    assert pod_status(pod) == "Evicted"


def test_scheduling_gated() -> None:
    pod = make_pod(
        [],
        phase="Pending",
        containers=1,
        conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
    )
    assert pod_status(pod) == "SchedulingGated"


def test_completed_pod() -> None:
    pod = make_pod([terminated(reason="Completed", exit_code=0)], phase="Succeeded")
    assert pod_status(pod) == "Completed"
    assert pod_ready(pod) == "0/1"


def test_completed_with_running_sibling_shows_running_or_notready() -> None:
    statuses = [running(name="a"), terminated(reason="Completed")]
    ready_cond = [{"type": "Ready", "status": "True"}]
    assert pod_status(make_pod(statuses, conditions=ready_cond)) == "Running"
    not_ready = [{"type": "Ready", "status": "False"}]
    assert pod_status(make_pod(statuses, conditions=not_ready)) == "NotReady"
    assert pod_ready(make_pod(statuses)) == "1/2"


def test_ready_requires_ready_and_running() -> None:
    pod = make_pod([running(ready=True, name="a"), running(ready=False, name="b")])
    assert pod_ready(pod) == "1/2"
    assert pod_status(pod) == "Running"
    # more containers in the spec than statuses reported
    assert pod_ready(make_pod([running()], containers=3)) == "1/3"


def test_terminating_pod() -> None:
    pod = make_pod()
    pod["metadata"]["deletionTimestamp"] = stamp(10)
    assert pod_status(pod) == "Terminating"


def test_terminating_does_not_apply_to_terminal_phases() -> None:
    pod = make_pod([terminated(reason="Completed")], phase="Succeeded")
    pod["metadata"]["deletionTimestamp"] = stamp(10)
    assert pod_status(pod) == "Completed"
    pod = make_pod([terminated(reason="Error", exit_code=1)], phase="Failed")
    pod["metadata"]["deletionTimestamp"] = stamp(10)
    assert pod_status(pod) == "Error"


def test_terminating_on_lost_node_is_unknown() -> None:
    pod = make_pod(reason="NodeLost")
    pod["metadata"]["deletionTimestamp"] = stamp(10)
    assert pod_status(pod) == "Unknown"
    # without a deletionTimestamp the status reason is shown as is
    assert pod_status(make_pod([], containers=1, reason="NodeLost")) == "NodeLost"


def test_restarts_sum_and_latest_termination() -> None:
    pod = make_pod(
        [
            crashloop(restarts=2, finished_ago=2 * HOUR, name="a"),
            crashloop(restarts=3, finished_ago=65 * MIN, name="b"),
        ]
    )
    assert pod_restarts(pod, NOW) == "5 (65m ago)"
    # same, with the most recent termination in the container walked last
    pod = make_pod(
        [
            crashloop(restarts=3, finished_ago=65 * MIN, name="a"),
            crashloop(restarts=2, finished_ago=2 * HOUR, name="b"),
        ]
    )
    assert pod_restarts(pod, NOW) == "5 (65m ago)"


def test_restarts_without_last_state_has_no_suffix() -> None:
    pod = make_pod([running(restarts=4)])
    assert pod_restarts(pod, NOW) == "4"


def test_restarts_suffix_uses_human_duration() -> None:
    pod = make_pod([crashloop(restarts=1, finished_ago=30)])
    assert pod_restarts(pod, NOW) == "1 (30s ago)"
    pod = make_pod([crashloop(restarts=12, finished_ago=3 * DAY + 4 * HOUR)])
    assert pod_restarts(pod, NOW) == "12 (3d4h ago)"
    later = NOW + timedelta(minutes=7)
    pod = make_pod([crashloop(restarts=1, finished_ago=0)])
    assert pod_restarts(pod, later) == "1 (7m ago)"


def init_status(name: str, state: dict[str, Any], restarts: int = 0, **extra: Any) -> dict:
    return {
        "name": name,
        "image": "init:1",
        "imageID": "",
        "ready": False,
        "restartCount": restarts,
        "state": state,
        "lastState": {},
        **extra,
    }


def with_init(pod: dict[str, Any], specs: list[dict], statuses: list[dict]) -> dict[str, Any]:
    pod["spec"]["initContainers"] = specs
    pod["status"]["initContainerStatuses"] = statuses
    return pod


def test_init_containers_progress() -> None:
    waiting_main = running(ready=False)
    waiting_main["state"] = {"waiting": {"reason": "PodInitializing"}}
    pod = with_init(
        make_pod([waiting_main], phase="Pending"),
        [{"name": "migrate"}, {"name": "seed"}],
        [
            init_status("migrate", {"terminated": {"exitCode": 0, "reason": "Completed"}}),
            init_status("seed", {"running": {}}),
        ],
    )
    assert pod_status(pod) == "Init:1/2"
    assert pod_ready(pod) == "0/1"


def test_init_container_failures() -> None:
    crash = with_init(
        make_pod([], phase="Pending", containers=1),
        [{"name": "migrate"}],
        [init_status("migrate", {"waiting": {"reason": "CrashLoopBackOff"}}, restarts=3)],
    )
    assert pod_status(crash) == "Init:CrashLoopBackOff"
    assert pod_restarts(crash, NOW) == "3"
    failed = with_init(
        make_pod([], phase="Pending", containers=1),
        [{"name": "migrate"}],
        [init_status("migrate", {"terminated": {"exitCode": 2}})],
    )
    assert pod_status(failed) == "Init:ExitCode:2"
    errored = with_init(
        make_pod([], phase="Pending", containers=1),
        [{"name": "migrate"}],
        [init_status("migrate", {"terminated": {"exitCode": 1, "reason": "Error"}})],
    )
    assert pod_status(errored) == "Init:Error"


def test_finished_init_containers_leave_main_status() -> None:
    pod = with_init(
        make_pod([running(restarts=1)]),
        [{"name": "migrate"}],
        [init_status("migrate", {"terminated": {"exitCode": 0}}, restarts=7)],
    )
    assert pod_status(pod) == "Running"
    # once initialised only the app containers' restarts count
    assert pod_restarts(pod, NOW) == "1"


def test_sidecar_init_container_counts_toward_ready_and_total() -> None:
    pod = with_init(
        make_pod([running()]),
        [{"name": "proxy", "restartPolicy": "Always"}],
        [init_status("proxy", {"running": {}}, restarts=2, started=True, ready=True)],
    )
    assert pod_ready(pod) == "2/2"
    assert pod_status(pod) == "Running"
    assert pod_restarts(pod, NOW) == "2"


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------


def column_summary(tbl: dict[str, Any]) -> list[tuple[str, int]]:
    return [(c["name"], c["priority"]) for c in tbl["columnDefinitions"]]


def check_table_shape(tbl: dict[str, Any], resource: str) -> None:
    assert tbl["kind"] == "Table"
    assert tbl["apiVersion"] == "meta.k8s.io/v1"
    assert tbl["metadata"] == {"resourceVersion": ""}
    for column in tbl["columnDefinitions"]:
        assert set(column) == {"name", "type", "format", "description", "priority"}
        assert column["type"] in {"string", "integer", "date"}
        assert isinstance(column["description"], str)
    names = [c["name"] for c in tbl["columnDefinitions"]]
    assert [c["format"] for c in tbl["columnDefinitions"]].count("name") == 1
    assert tbl["columnDefinitions"][names.index("Name")]["format"] == "name"
    for row in tbl["rows"]:
        assert len(row["cells"]) == len(COLUMNS.get(resource, tbl["columnDefinitions"]))
        assert row["object"]["kind"] == "PartialObjectMetadata"
        assert row["object"]["apiVersion"] == "meta.k8s.io/v1"
    json.dumps(tbl)  # must be serialisable as is


def test_pod_table_columns_and_cells() -> None:
    pod = make_pod(
        [crashloop(restarts=4, finished_ago=2 * MIN)],
        podIP="10.0.0.7",
        podIPs=[{"ip": "10.0.0.7"}],
    )
    tbl = table("pods", [pod], NOW)
    check_table_shape(tbl, "pods")
    assert column_summary(tbl) == [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ]
    assert tbl["columnDefinitions"][3]["type"] == "string"
    assert tbl["rows"][0]["cells"] == [
        "web-7d9f-x2k4q",
        "0/1",
        "CrashLoopBackOff",
        "4 (2m ago)",
        "5m",
        "10.0.0.7",
        "drill-node-1",
        "<none>",
        "<none>",
    ]
    assert "conditions" not in tbl["rows"][0]


def test_pod_table_defaults_and_wide_fields() -> None:
    pod = make_pod([], phase="Pending", containers=1)
    del pod["spec"]["nodeName"]
    del pod["metadata"]["creationTimestamp"]
    row = table("pods", [pod], NOW)["rows"][0]
    assert row["cells"] == [
        "web-7d9f-x2k4q",
        "0/1",
        "Pending",
        "0",
        "<unknown>",
        "<none>",
        "<none>",
        "<none>",
        "<none>",
    ]

    pod = make_pod(
        podIP="10.0.0.9",  # only the legacy field set
        nominatedNodeName="drill-node-2",
        conditions=[
            {"type": "Ready", "status": "True"},
            {"type": "example.com/lb", "status": "True"},
            {"type": "example.com/dns", "status": "False"},
        ],
    )
    pod["spec"]["readinessGates"] = [
        {"conditionType": "example.com/lb"},
        {"conditionType": "example.com/dns"},
        {"conditionType": "example.com/missing"},
    ]
    cells = table("pods", [pod], NOW)["rows"][0]["cells"]
    assert cells[5:] == ["10.0.0.9", "drill-node-1", "drill-node-2", "1/3"]


def test_pod_rows_carry_full_metadata_copy() -> None:
    pod = make_pod()
    pod["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": "web-7d9f"}]
    tbl = table("pods", [pod], NOW)
    meta = tbl["rows"][0]["object"]["metadata"]
    assert meta == pod["metadata"]
    meta["labels"]["app"] = "changed"
    assert pod["metadata"]["labels"]["app"] == "web"


def test_terminal_pod_rows_have_completed_condition() -> None:
    pod = make_pod([terminated(reason="Completed")], phase="Succeeded")
    row = table("pods", [pod], NOW)["rows"][0]
    assert row["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    failed = make_pod([terminated(reason="Error", exit_code=1)], phase="Failed")
    assert table("pods", [failed], NOW)["rows"][0]["conditions"][0]["reason"] == "Failed"


def test_column_definitions_can_be_omitted() -> None:
    tbl = table("pods", [make_pod()], NOW, include_column_definitions=False)
    assert tbl["columnDefinitions"] == []
    assert len(tbl["rows"][0]["cells"]) == 9


def test_empty_list_still_has_columns() -> None:
    tbl = table("deployments", [], NOW)
    assert tbl["rows"] == []
    assert len(tbl["columnDefinitions"]) == 8


def test_column_definitions_are_not_shared() -> None:
    first = table("pods", [], NOW)
    first["columnDefinitions"][0]["name"] = "Mangled"
    assert table("pods", [], NOW)["columnDefinitions"][0]["name"] == "Name"


def make_deployment(**spec_extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": 3,
        "selector": {"matchLabels": {"tier": "frontend", "app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web", "tier": "frontend"}},
            "spec": {
                "containers": [
                    {"name": "web", "image": "registry.local/web:1.4.2"},
                    {"name": "proxy", "image": "envoy:1.30"},
                ]
            },
        },
    }
    spec.update(spec_extra)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "creationTimestamp": stamp(3 * DAY)},
        "spec": spec,
        "status": {"replicas": 4, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2},
    }


def test_deployment_table() -> None:
    tbl = table("deployments", [make_deployment()], NOW)
    check_table_shape(tbl, "deployments")
    assert column_summary(tbl) == [
        ("Name", 0),
        ("Ready", 0),
        ("Up-to-date", 0),
        ("Available", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ]
    cells = tbl["rows"][0]["cells"]
    assert cells == [
        "web",
        "2/3",
        1,
        2,
        "3d",
        "web,proxy",
        "registry.local/web:1.4.2,envoy:1.30",
        "app=web,tier=frontend",
    ]
    assert type(cells[2]) is int and type(cells[3]) is int


def test_deployment_defaults_and_selector_expressions() -> None:
    dep = make_deployment(
        selector={
            "matchLabels": {"zone": "a"},
            "matchExpressions": [
                {"key": "track", "operator": "In", "values": ["stable", "canary"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "app", "operator": "Exists"},
                {"key": "env", "operator": "NotIn", "values": ["dev"]},
            ],
        }
    )
    del dep["spec"]["replicas"]
    dep["status"] = {}
    cells = table("deployments", [dep], NOW)["rows"][0]["cells"]
    assert cells[1:4] == ["0/1", 0, 0]
    assert cells[7] == "app,env notin (dev),!legacy,track in (canary,stable),zone=a"


def test_deployment_scaled_to_zero_and_no_selector() -> None:
    dep = make_deployment(replicas=0)
    del dep["spec"]["selector"]
    cells = table("deployments", [dep], NOW)["rows"][0]["cells"]
    assert cells[1] == "2/0"
    assert cells[7] == ""


def test_replicaset_table() -> None:
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web-7d9f", "namespace": "shop", "creationTimestamp": stamp(90)},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"pod-template-hash": "7d9f", "app": "web"}},
            "template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}},
        },
        "status": {"replicas": 3, "readyReplicas": 1},
    }
    tbl = table("replicasets", [rs], NOW)
    check_table_shape(tbl, "replicasets")
    assert column_summary(tbl) == [
        ("Name", 0),
        ("Desired", 0),
        ("Current", 0),
        ("Ready", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ]
    assert [c["type"] for c in tbl["columnDefinitions"][1:4]] == ["integer"] * 3
    assert tbl["rows"][0]["cells"] == [
        "web-7d9f",
        3,
        3,
        1,
        "90s",
        "web",
        "web:2",
        "app=web,pod-template-hash=7d9f",
    ]
    assert all(type(c) is int for c in tbl["rows"][0]["cells"][1:4])


def test_replicaset_zero_and_empty_selector() -> None:
    rs = {
        "metadata": {"name": "old", "creationTimestamp": stamp(10 * DAY)},
        "spec": {"replicas": 0, "selector": {}, "template": {"spec": {"containers": []}}},
        "status": {"replicas": 0},
    }
    cells = table("replicasets", [rs], NOW)["rows"][0]["cells"]
    assert cells == ["old", 0, 0, 0, "10d", "", "", "<none>"]


def test_format_label_selector() -> None:
    assert format_label_selector(None) == "<none>"
    assert format_label_selector({"matchLabels": {"b": "2", "a": "1"}}) == "a=1,b=2"
    bad = {"matchExpressions": [{"key": "x", "operator": "Bogus"}]}
    assert format_label_selector(bad) == "<invalid>"


def make_event(**extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web-7d9f-x2k4q.1879a", "namespace": "shop"},
        "involvedObject": {
            "kind": "Pod",
            "name": "web-7d9f-x2k4q",
            "namespace": "shop",
            "fieldPath": "spec.containers{web}",
        },
        "reason": "BackOff",
        "message": "Back-off restarting failed container web\n",
        "source": {"component": "kubelet", "host": "drill-node-1"},
        "firstTimestamp": stamp(20 * MIN),
        "lastTimestamp": stamp(45),
        "count": 17,
        "type": "Warning",
    }
    event.update(extra)
    return event


def test_event_table() -> None:
    tbl = table("events", [make_event()], NOW)
    check_table_shape(tbl, "events")
    assert column_summary(tbl) == [
        ("Last Seen", 0),
        ("Type", 0),
        ("Reason", 0),
        ("Object", 0),
        ("Subobject", 1),
        ("Source", 1),
        ("Message", 0),
        ("First Seen", 1),
        ("Count", 1),
        ("Name", 1),
    ]
    cells = tbl["rows"][0]["cells"]
    assert cells == [
        "45s",
        "Warning",
        "BackOff",
        "pod/web-7d9f-x2k4q",
        "spec.containers{web}",
        "kubelet, drill-node-1",
        "Back-off restarting failed container web",
        "20m",
        17,
        "web-7d9f-x2k4q.1879a",
    ]
    assert type(cells[8]) is int


def test_event_fallbacks() -> None:
    event = make_event(
        involvedObject={"kind": "Deployment", "name": "web"},
        source={"component": "deployment-controller"},
        lastTimestamp=None,
    )
    del event["count"]
    cells = table("events", [event], NOW)["rows"][0]["cells"]
    assert cells[0] == "20m"  # last seen falls back to first seen
    assert cells[3] == "deployment/web"
    assert cells[4] == ""
    assert cells[5] == "deployment-controller"
    assert cells[8] == 1


def test_event_new_api_fields() -> None:
    event = make_event(
        firstTimestamp=None,
        lastTimestamp=None,
        eventTime="2026-11-24T19:00:10.123456Z",
        series={"count": 4, "lastObservedTime": "2026-11-24T19:07:10.000000Z"},
        source={},
        reportingComponent="drill-scheduler",
        reportingInstance="drill-cp",
        involvedObject={"kind": "Node"},
    )
    cells = table("events", [event], NOW)["rows"][0]["cells"]
    assert cells[0] == "60s"
    assert cells[3] == "node"
    assert cells[5] == "drill-scheduler, drill-cp"
    assert cells[7] == "7m59s"  # fractional seconds are truncated
    assert cells[8] == 4


def test_event_without_any_time_is_unknown() -> None:
    event = make_event(firstTimestamp=None, lastTimestamp=None)
    cells = table("events", [event], NOW)["rows"][0]["cells"]
    assert cells[0] == "<unknown>" and cells[7] == "<unknown>"


def test_namespace_table() -> None:
    namespaces = [
        {"metadata": {"name": "shop", "creationTimestamp": stamp(40 * DAY)}},
        {
            "metadata": {
                "name": "old",
                "creationTimestamp": stamp(3 * HOUR + 20 * MIN),
                "deletionTimestamp": stamp(5),
            },
            "status": {"phase": "Terminating"},
        },
    ]
    tbl = table("namespaces", namespaces, NOW)
    check_table_shape(tbl, "namespaces")
    assert column_summary(tbl) == [("Name", 0), ("Status", 0), ("Age", 0)]
    assert [r["cells"] for r in tbl["rows"]] == [
        ["shop", "Active", "40d"],
        ["old", "Terminating", "3h20m"],
    ]


def test_unknown_resource_gets_default_table() -> None:
    obj = {"metadata": {"name": "cfg", "creationTimestamp": "2026-11-24T19:08:10Z"}}
    tbl = table("configmaps", [obj, {"metadata": {"name": "x"}}], NOW)
    assert [(c["name"], c["type"]) for c in tbl["columnDefinitions"]] == [
        ("Name", "string"),
        ("Created At", "date"),
    ]
    assert tbl["rows"][0]["cells"] == ["cfg", "2026-11-24T19:08:10Z"]
    assert tbl["rows"][1]["cells"] == ["x", "0001-01-01T00:00:00Z"]


def test_rows_follow_input_order() -> None:
    pods = [make_pod(), make_pod()]
    pods[1]["metadata"]["name"] = "a-first-alphabetically"
    names = [r["cells"][0] for r in table("pods", pods, NOW)["rows"]]
    assert names == ["web-7d9f-x2k4q", "a-first-alphabetically"]
