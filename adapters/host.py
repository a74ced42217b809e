"""Health of the machine the console runs on: is the operator's own host part of the problem?

``sample_host`` takes one cheap, blocking snapshot (call it from a thread worker). It works
unprivileged: anything the OS will not reveal is reported as ``None`` rather than raised.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

# CPU percentages are deltas between two readings; the very first call has no earlier reading,
# so it waits this long once to get a meaningful number instead of 0.0.
_FIRST_CPU_WINDOW_S = 0.1
_RESOLVE_TTL_S = 60.0

_lock = threading.Lock()
_process: psutil.Process | None = None
_resolved: dict[str, tuple[float, frozenset[str]]] = {}


@dataclass(frozen=True)
class HostHealth:
    """One snapshot of host and console-process health.

    ``disk_*`` describe the filesystem holding ``workdir``; ``api_connections`` counts this
    process's TCP connections to the API server (or to any remote end when no server was
    named). Values the OS refused to reveal are ``None``.
    """

    cpu_percent: float
    load_avg: tuple[float, float, float]
    mem_percent: float
    mem_available_bytes: int
    disk_free_bytes: int | None
    disk_percent: float | None
    api_connections: int | None
    proc_cpu_percent: float | None
    proc_rss_bytes: int | None


def sample_host(
    workdir: str, api_host: str | None = None, api_port: int | None = None,
    *, connections: bool = True,
) -> HostHealth:
    """Take a snapshot of host health; never raises for permission problems.

    ``connections=False`` leaves ``api_connections`` out (None): listing them walks every
    socket of the process, the most expensive part of a sample."""
    process, first_sample = _own_process()
    if first_sample:
        _prime_cpu_counters(process)
    cpu_percent = psutil.cpu_percent(interval=None)
    one, five, fifteen = psutil.getloadavg()
    memory = psutil.virtual_memory()
    disk_free, disk_percent = _disk(workdir)
    proc_cpu, proc_rss = _process_usage(process)
    return HostHealth(
        cpu_percent=cpu_percent,
        load_avg=(one, five, fifteen),
        mem_percent=memory.percent,
        mem_available_bytes=memory.available,
        disk_free_bytes=disk_free,
        disk_percent=disk_percent,
        api_connections=(_count_connections(process, api_host, api_port) if connections
                         else None),
        proc_cpu_percent=proc_cpu,
        proc_rss_bytes=proc_rss,
    )


def _own_process() -> tuple[psutil.Process, bool]:
    """This process's handle, kept between calls (CPU percent needs the previous reading)."""
    global _process
    with _lock:
        if _process is None or _process.pid != os.getpid():
            _process = psutil.Process()
            return _process, True
        return _process, False


def _prime_cpu_counters(process: psutil.Process) -> None:
    psutil.cpu_percent(interval=None)
    try:
        process.cpu_percent(interval=None)
    except psutil.Error:
        return
    time.sleep(_FIRST_CPU_WINDOW_S)


def _disk(workdir: str) -> tuple[int | None, float | None]:
    # The work directory may not exist yet; the filesystem it will live on is what matters.
    path = Path(workdir).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        usage = psutil.disk_usage(str(path))
    except OSError:
        return None, None
    return usage.free, usage.percent


def _process_usage(process: psutil.Process) -> tuple[float | None, int | None]:
    try:
        with process.oneshot():
            return process.cpu_percent(interval=None), process.memory_info().rss
    except psutil.Error:
        return None, None


def _count_connections(
    process: psutil.Process, api_host: str | None, api_port: int | None
) -> int | None:
    # psutil < 6 calls it `connections`.
    list_connections = getattr(process, "net_connections", None) or process.connections
    try:
        connections = list_connections(kind="tcp")
    except (psutil.Error, OSError):
        return None
    addresses = _addresses(api_host) if api_host is not None else None
    count = 0
    for connection in connections:
        if not connection.raddr:
            continue
        remote_ip, remote_port = connection.raddr[0], connection.raddr[1]
        if api_port is not None and remote_port != api_port:
            continue
        if addresses is not None and _normalise_ip(remote_ip) not in addresses:
            continue
        count += 1
    return count


def _addresses(host: str) -> frozenset[str]:
    """IP addresses for ``host``: literal IPs as given, names resolved (cached for a minute)."""
    host = host.strip("[]")
    try:
        return frozenset({_normalise_ip(host)})
    except ValueError:
        pass
    now = time.monotonic()
    with _lock:
        cached = _resolved.get(host)
    if cached is not None and now - cached[0] < _RESOLVE_TTL_S:
        return cached[1]
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        addresses: frozenset[str] = frozenset()
    else:
        addresses = frozenset(_normalise_ip(str(info[4][0])) for info in infos)
    with _lock:
        _resolved[host] = (now, addresses)
    return addresses


def _normalise_ip(address: str) -> str:
    """Canonical text of an IP; IPv4-mapped IPv6 (``::ffff:1.2.3.4``) becomes plain IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


__all__ = ["HostHealth", "sample_host"]
