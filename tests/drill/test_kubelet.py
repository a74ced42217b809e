"""The simulated kubelet: pod lifecycle, crash loops, OOM kills, probes, deletion and logs."""

from __future__ import annotations

import re

import pytest

from drill.clock import parse_rfc3339
from drill.errors import ApiError
from drill.kubelet import go_duration
from drill.profiles import PodProfile
from tests.drill.control_sim import Sim, container_status, ready, validate

GOOD = "registry.local/shop/api:1.0.0"
CRASHY = "registry.local/shop/api:6.6.6"
LEAKY = "registry.local/shop/api:7.0.0"
SLOW = PodProfile(schedule_delay=1.0, start_delay=2.0, ready_delay=3.0)


def only_pod(sim: Sim, name: str = "api") -> dict:
    [pod] = sim.pods(name)
    return pod


def test_pod_lifecycle_pending_creating_running_ready() -> None:
    sim = Sim({GOOD: SLOW})
    sim.deploy("api", GOOD, replicas=1)
    sim.cp.tick()
    pod = only_pod(sim)
    assert pod["status"]["phase"] == "Pending" and not pod["spec"].get("nodeName")
    assert pod["status"]["qosClass"] == "BestEffort"
    validate(pod)

    sim.run(1.5, 0.5)
    pod = only_pod(sim)
    assert pod["spec"]["nodeName"].startswith("drill-node-")
    assert pod["status"]["phase"] == "Pending"
    assert container_status(pod)["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert container_status(pod)["imageID"] == ""
    conditions = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
    assert conditions["PodScheduled"] == "True" and conditions["Ready"] == "False"
    assert pod["status"]["hostIP"].startswith("10.0.0.")
    validate(pod)

    sim.run(2)
    pod = only_pod(sim)
    status = container_status(pod)
    assert pod["status"]["phase"] == "Running"
    assert "startedAt" in status["state"]["running"]
    assert status["started"] is True and status["ready"] is False
    assert re.match(r"^10\.244\.\d+\.\d+$", pod["status"]["podIP"])
    assert pod["status"]["podIPs"] == [{"ip": pod["status"]["podIP"]}]
    assert status["imageID"].startswith("docker-pullable://registry.local/shop/api@sha256:")
    assert status["containerID"].startswith("docker://")
    validate(pod)

    sim.run(3)
    pod = only_pod(sim)
    assert ready(pod)
    conditions = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
    assert conditions["ContainersReady"] == "True"
    assert container_status(pod)["ready"] is True
    validate(pod)

    events = {e["reason"]: e for e in sim.events_for(pod["metadata"]["name"])}
    assert set(events) >= {"Scheduled", "Pulling", "Pulled", "Created", "Started"}
    assert events["Scheduled"]["source"]["component"] == "default-scheduler"
    assert events["Scheduled"]["message"] == \
        f"Successfully assigned shop/{pod['metadata']['name']} to {pod['spec']['nodeName']}"
    assert events["Started"]["source"] == {"component": "kubelet",
                                           "host": pod["spec"]["nodeName"]}
    assert events["Started"]["involvedObject"]["fieldPath"] == "spec.containers{api}"
    assert events["Pulling"]["message"] == f'Pulling image "{GOOD}"'
    for event in events.values():
        validate(event)


def test_crash_loop_back_off_doubles_and_restart_count_climbs() -> None:
    sim = Sim({CRASHY: PodProfile(schedule_delay=0, start_delay=1, ready_delay=1,
                                  crash_after=5)})
    sim.deploy("api", CRASHY, replicas=1)
    sim.run(6.5, 0.5)  # started at t=1, crashed at t=6
    status = container_status(only_pod(sim))
    assert status["state"]["terminated"]["reason"] == "Error"
    assert status["state"]["terminated"]["exitCode"] == 1
    assert status["ready"] is False and status["restartCount"] == 0

    sim.run(1)
    pod = only_pod(sim)
    status = container_status(pod)
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert status["state"]["waiting"]["message"].startswith("back-off 10s restarting failed")
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["reason"] == "Error"
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert pod["status"]["phase"] == "Running"
    validate(pod)

    starts: list[str] = []
    finishes: list[str] = []
    for _ in range(400):
        sim.run(1)
        status = container_status(only_pod(sim))
        running = status["state"].get("running")
        if running and running["startedAt"] not in starts:
            starts.append(running["startedAt"])
        last = status["lastState"].get("terminated")
        if last and last["finishedAt"] not in finishes:
            finishes.append(last["finishedAt"])
    gaps = [(parse_rfc3339(s) - parse_rfc3339(f)).total_seconds()
            for f, s in zip(finishes, starts, strict=False)]
    assert gaps[:5] == [10, 20, 40, 80, 160]
    restarts = container_status(only_pod(sim))["restartCount"]
    assert restarts == len(finishes) >= 6
    back_off = [e for e in sim.events_for(only_pod(sim)["metadata"]["name"])
                if e["reason"] == "BackOff"]
    assert len(back_off) == 1 and back_off[0]["count"] == restarts
    assert back_off[0]["type"] == "Warning"
    assert back_off[0]["message"].startswith("Back-off restarting failed container api in pod ")


def test_back_off_caps_at_five_minutes_and_resets_after_ten_minutes_running() -> None:
    assert [go_duration(s) for s in (10, 80, 160, 300)] == ["10s", "1m20s", "2m40s", "5m0s"]
    sim = Sim({CRASHY: PodProfile(schedule_delay=0, start_delay=1, crash_after=5),
               LEAKY: PodProfile(schedule_delay=0, start_delay=1, crash_after=700,
                                 crash_reason="OOMKilled")})
    sim.deploy("api", CRASHY, replicas=1)
    sim.deploy("leak", LEAKY, replicas=1)
    messages: set[str] = set()
    for _ in range(300):
        sim.run(10, 10)
        for name in ("api", "leak"):
            waiting = container_status(only_pod(sim, name))["state"].get("waiting")
            if waiting and waiting["reason"] == "CrashLoopBackOff":
                messages.add(f"{name}:{waiting['message'].split(' ')[1]}")
    assert "api:5m0s" in messages
    assert not any(m.startswith("api:") and m not in {
        "api:10s", "api:20s", "api:40s", "api:1m20s", "api:2m40s", "api:5m0s"} for m in messages)
    # The leaking container runs > 10 minutes each time, so its back-off never grows.
    assert {m for m in messages if m.startswith("leak:")} == {"leak:10s"}
    assert container_status(only_pod(sim, "leak"))["restartCount"] >= 3


def test_oom_killed_container_and_its_logs() -> None:
    sim = Sim({LEAKY: PodProfile(schedule_delay=0, start_delay=1, ready_delay=2,
                                 crash_after=1800, crash_reason="OOMKilled")})
    sim.deploy("api", LEAKY, replicas=1)
    sim.run(1000, 10)
    pod = only_pod(sim)
    running_logs = sim.cp.logs(pod, None, False, None)
    assert "heap usage" in running_logs
    with pytest.raises(ApiError) as excinfo:
        sim.cp.logs(pod, "api", True, None)
    assert excinfo.value.code == 400
    assert excinfo.value.message == \
        f'previous terminated container "api" in pod "{pod["metadata"]["name"]}" not found'

    sim.run(802, 1)  # crashed at 1801, back-off
    pod = only_pod(sim)
    status = container_status(pod)
    terminated = status["lastState"]["terminated"]
    assert terminated["reason"] == "OOMKilled" and terminated["exitCode"] == 137
    assert terminated["containerID"].startswith("docker://")
    assert status["restartCount"] == 1
    validate(pod)
    reasons = {e["reason"]: e for e in sim.events_for(pod["metadata"]["name"])}
    assert reasons["OOMKilling"]["type"] == "Warning"
    assert "Memory cgroup out of memory" in reasons["OOMKilling"]["message"]

    previous = sim.cp.logs(pod, "api", True, None)
    lines = previous.splitlines()
    assert "out of memory" in lines[-1] or "cannot allocate memory" in lines[-1]
    assert any("heap usage 99%" in line for line in lines)
    assert sim.cp.logs(pod, "api", True, None) == previous  # deterministic
    assert sim.cp.logs(pod, "api", True, 3).splitlines() == lines[-3:]


def test_readiness_failure_keeps_the_pod_running_but_unready() -> None:
    sim = Sim({GOOD: PodProfile(schedule_delay=0, start_delay=1, ready_delay=2,
                                readiness_fails=True)})
    sim.deploy("api", GOOD, replicas=1)
    sim.run(103, 1)
    pod = only_pod(sim)
    assert pod["status"]["phase"] == "Running" and not ready(pod)
    [unhealthy] = [e for e in sim.events_for(pod["metadata"]["name"])
                   if e["reason"] == "Unhealthy"]
    assert unhealthy["message"] == "Readiness probe failed: HTTP probe failed with statuscode: 503"
    assert unhealthy["count"] == 11  # every 10 s from t=3 to t=103
    # A single large jump aggregates the same number of probes.
    jump = Sim({GOOD: PodProfile(schedule_delay=0, start_delay=1, ready_delay=2,
                                 readiness_fails=True)})
    jump.deploy("api", GOOD, replicas=1)
    jump.run(3, 1)
    jump.run(100, 100)
    [again] = [e for e in jump.store.list("events", "shop") if e["reason"] == "Unhealthy"]
    assert again["count"] == 11


def test_one_big_jump_matches_small_steps() -> None:
    profile = PodProfile(schedule_delay=1, start_delay=2, ready_delay=3, crash_after=45)

    def final(step: float) -> dict:
        sim = Sim({CRASHY: profile})
        sim.deploy("api", CRASHY, replicas=2)
        sim.run(1, 1)
        sim.run(1800, step)
        return {p["metadata"]["name"]: container_status(p) for p in sim.pods("api")}

    assert final(1800) == final(1)


def test_graceful_delete_and_logs_errors() -> None:
    sim = Sim({GOOD: SLOW})
    sim.deploy("api", GOOD, replicas=1)
    sim.run(1, 1)
    pod = only_pod(sim)
    with pytest.raises(ApiError, match="is waiting to start: ContainerCreating"):
        sim.cp.logs(pod, None, False, None)
    sim.run(10)
    pod = only_pod(sim)
    text = sim.cp.logs(pod, None, False, None)
    assert "starting api 1.0.0" in text
    assert text == sim.cp.logs(pod, "api", False, None)
    assert len(sim.cp.logs(pod, None, False, 2).splitlines()) == 2
    stamped = sim.cp.logs(pod, None, False, 1, timestamps=True)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ", stamped)
    with pytest.raises(ApiError, match="container nope is not valid"):
        sim.cp.logs(pod, "nope", False, None)

    name = pod["metadata"]["name"]
    answer = sim.cp.delete_pod("shop", name, 30)
    assert answer["metadata"]["deletionGracePeriodSeconds"] == 30
    assert sim.store.get("pods", "shop", name)["metadata"]["deletionTimestamp"]
    sim.run(1)
    assert sim.store.try_get("pods", "shop", name) is not None
    sim.run(1)
    assert sim.store.try_get("pods", "shop", name) is None
    with pytest.raises(ApiError) as excinfo:
        sim.cp.delete_pod("shop", name, 30)
    assert excinfo.value.code == 404


def test_multi_container_pods_need_a_container_name_for_logs() -> None:
    sim = Sim()
    sim.deploy("api", GOOD, replicas=1)

    def sidecar(obj: dict) -> None:
        obj["spec"]["template"]["spec"]["containers"].append(
            {"name": "proxy", "image": "registry.local/proxy:1"})

    sim.change("api", sidecar)
    sim.until(lambda: sim.rolled_out("api"), limit=60)
    sim.run(3)
    pod = only_pod(sim)
    assert [c["name"] for c in pod["status"]["containerStatuses"]] == ["api", "proxy"]
    validate(pod)
    with pytest.raises(ApiError, match=r"choose one of: \[api proxy\]"):
        sim.cp.logs(pod, None, False, None)
    assert "starting proxy 1" in sim.cp.logs(pod, "proxy", False, None)


def test_pods_keep_their_profile_unless_reprofiled() -> None:
    profiles = {GOOD: PodProfile(schedule_delay=0, start_delay=1, ready_delay=1)}
    sim = Sim(profiles)
    sim.deploy("api", GOOD, replicas=1)
    sim.run(5)
    profiles[GOOD] = PodProfile(crash_after=10, crash_reason="OOMKilled")
    sim.run(30)
    assert container_status(only_pod(sim))["restartCount"] == 0
    sim.cp.reprofile()
    sim.run(30)
    assert container_status(only_pod(sim))["restartCount"] >= 1
