"""Container logs of simulated pods: plausible, deterministic lines for one container run.

A run is read from the pod status (state.running, state.terminated or lastState.terminated),
so the same pod at the same drill time always logs the same text. Lines: start-up, a request
line every few seconds, the profile's scenario lines, rising heap usage for a leaking
(OOMKilled) container, and a fatal line for one that exits with an error. Like a rotated
kubelet log, at most `MAX_LINES` of the newest lines are kept.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from .clock import parse_rfc3339
from .errors import ApiError
from .profiles import PodProfile

Obj = dict[str, Any]

MAX_LINES = 5000
REQUEST_PERIOD = 15.0  # seconds between request lines
HEAP_PERIOD = 300.0  # seconds between heap-usage lines of a leaking container
_PATHS = ("/api/items", "/api/cart", "/api/checkout", "/api/orders", "/api/session", "/healthz")
_METHODS = ("GET", "GET", "GET", "POST", "GET", "PUT")


class _Run:
    def __init__(self, started: datetime, ended: datetime, reason: str | None, key: str) -> None:
        self.started = started
        self.ended = ended
        self.reason = reason  # "OOMKilled", "Error", ... when the run terminated
        self.key = key


def _select_container(pod: Obj, container: str | None) -> Obj:
    name = pod["metadata"]["name"]
    containers = pod.get("spec", {}).get("containers") or []
    names = [c.get("name", "") for c in containers]
    if container is None:
        if len(names) == 1:
            return containers[0]
        raise ApiError(400, f"a container name must be specified for pod {name}, "
                            f"choose one of: [{' '.join(names)}]")
    for spec in containers:
        if spec.get("name") == container:
            return spec
    raise ApiError(400, f"container {container} is not valid for pod {name}")


def _find_run(pod: Obj, container: str, previous: bool, now: datetime) -> _Run:
    name = pod["metadata"]["name"]
    uid = pod["metadata"].get("uid", "")
    status: Obj = {}
    for entry in pod.get("status", {}).get("containerStatuses") or []:
        if entry.get("name") == container:
            status = entry
    state = status.get("state") or {}
    last = (status.get("lastState") or {}).get("terminated")

    def terminated_run(info: Obj) -> _Run:
        key = info.get("containerID") or f"{uid}/{container}/{info.get('startedAt')}"
        return _Run(parse_rfc3339(info["startedAt"]), parse_rfc3339(info["finishedAt"]),
                    info.get("reason"), key)

    if previous:
        if not last:
            raise ApiError(400, f'previous terminated container "{container}" in pod "{name}" '
                                "not found")
        return terminated_run(last)
    if "running" in state:
        started = state["running"]["startedAt"]
        key = status.get("containerID") or f"{uid}/{container}/{started}"
        return _Run(parse_rfc3339(started), now, None, key)
    if "terminated" in state:
        return terminated_run(state["terminated"])
    if last:
        return terminated_run(last)
    reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
    raise ApiError(400, f'container "{container}" in pod "{name}" is waiting to start: {reason}')


def _pick(key: str, index: int) -> bytes:
    return hashlib.blake2b(f"{key}:{index}".encode(), digest_size=8).digest()


def _version(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1].split("@")[0] if ":" in last else "latest"


def _env(spec: Obj, name: str, default: str) -> str:
    for item in spec.get("env") or []:
        if item.get("name") == name and isinstance(item.get("value"), str):
            return item["value"]
    return default


def _lines(spec: Obj, profile: PodProfile, run: _Run, limit: int) -> list[tuple[float, str]]:
    """(offset seconds into the run, text) for the newest `limit` lines, oldest first."""
    app = spec.get("name", "app")
    port = next((p.get("containerPort") for p in spec.get("ports") or []), 8080)
    level = _env(spec, "LOG_LEVEL", "info")
    duration = max(0.0, (run.ended - run.started).total_seconds())
    lines: list[tuple[float, str]] = [
        (0.0, f"INFO  starting {app} {_version(spec.get('image', ''))} (pid 1, "
              f"log level {level})"),
        (0.2, f"INFO  loaded configuration from environment ({len(spec.get('env') or [])} "
              "variables)"),
        (0.6, f"INFO  listening on 0.0.0.0:{port}"),
        (min(profile.ready_delay, duration), "INFO  health check passed, ready for traffic"),
    ]
    lines = [line for line in lines if line[0] <= duration]
    leaking = profile.crash_reason == "OOMKilled" and profile.crash_after
    # A run that ended logs its last words after the final request.
    serving = duration - 2.0 if run.reason else duration
    count = int(max(0.0, serving) // REQUEST_PERIOD)
    first = max(1, count - limit + 1)
    extra = profile.log_lines
    for k in range(first, count + 1):
        offset = k * REQUEST_PERIOD
        raw = _pick(run.key, k)
        if extra and k % 4 == 0:
            lines.append((offset, extra[(k // 4) % len(extra)]))
            continue
        method = _METHODS[raw[0] % len(_METHODS)]
        path = _PATHS[raw[1] % len(_PATHS)]
        millis = 3 + raw[2] % 40 + (raw[3] % 200 if raw[4] % 25 == 0 else 0)
        code = 200 if method == "GET" else 201
        if raw[5] % 97 == 0:
            code = 503
        lines.append((offset, f"INFO  {method} {path} {code} {millis}ms"))
    if leaking:
        total = float(profile.crash_after or 1)
        h = 1
        while h * HEAP_PERIOD < serving:
            share = min(99, 35 + int(64 * h * HEAP_PERIOD / total))
            lines.append((h * HEAP_PERIOD,
                          f"WARN  heap usage {share}% of {profile.memory_limit_mib}Mi "
                          f"({profile.memory_limit_mib * share // 100}Mi), GC pause "
                          f"{20 + share * 3}ms"))
            h += 1
    if run.reason == "OOMKilled":
        for back, share in ((40.0, 91), (20.0, 96), (5.0, 99)):
            if duration - back > 0:
                lines.append((duration - back,
                              f"WARN  heap usage {share}% of {profile.memory_limit_mib}Mi, "
                              "allocation rate rising"))
        lines.append((max(0.0, duration - 1.0),
                      "ERROR failed to allocate buffer: cannot allocate memory"))
    elif run.reason:
        lines.append((max(0.0, duration - 0.5), "ERROR unhandled exception in request worker: "
                                                "connection reset by peer"))
        lines.append((duration, "FATAL shutting down: exit status 1"))
    lines.sort(key=lambda line: line[0])
    return lines[-limit:]


def render_logs(pod: Obj, profile: PodProfile, container: str | None, previous: bool,
                tail: int | None, now: datetime, *, timestamps: bool = False,
                since_seconds: float | None = None) -> str:
    """The text `kubectl logs` shows for one container of a simulated pod."""
    spec = _select_container(pod, container)
    run = _find_run(pod, spec.get("name", ""), previous, now)
    limit = MAX_LINES if tail is None or tail < 0 else min(tail, MAX_LINES)
    if limit == 0:
        return ""
    out: list[str] = []
    for offset, text in _lines(spec, profile, run, limit):
        moment = run.started + timedelta(seconds=offset)
        if since_seconds is not None and moment < now - timedelta(seconds=since_seconds):
            continue
        app_stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        line = f"{app_stamp} {text}"
        if timestamps:
            line = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z " + line
        out.append(line)
    return "".join(line + "\n" for line in out)
