"""Host health snapshots, taken for real from this machine and this process."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from adapters.host import HostHealth, sample_host


@pytest.fixture
def loopback_server() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        yield server
    finally:
        server.close()


def _connect(server: socket.socket, count: int) -> list[socket.socket]:
    sockets: list[socket.socket] = []
    for _ in range(count):
        sockets.append(socket.create_connection(server.getsockname()))
        sockets.append(server.accept()[0])
    return sockets


def test_snapshot_values_are_sane(tmp_path: Path) -> None:
    health = sample_host(str(tmp_path))
    assert isinstance(health, HostHealth)
    assert 0.0 <= health.cpu_percent <= 100.0
    assert len(health.load_avg) == 3 and all(value >= 0 for value in health.load_avg)
    assert 0.0 < health.mem_percent <= 100.0
    assert 0 < health.mem_available_bytes <= psutil.virtual_memory().total
    assert health.disk_free_bytes is not None and health.disk_free_bytes > 0
    assert health.disk_percent is not None and 0.0 <= health.disk_percent <= 100.0
    assert health.proc_rss_bytes is not None and health.proc_rss_bytes > 1_000_000
    assert health.proc_cpu_percent is not None and health.proc_cpu_percent >= 0.0


def test_missing_workdir_reports_the_filesystem_it_would_live_on(tmp_path: Path) -> None:
    health = sample_host(str(tmp_path / "incident" / "not-created-yet"))
    assert health.disk_free_bytes is not None and health.disk_free_bytes > 0


def test_counts_connections_to_the_api_server(loopback_server: socket.socket) -> None:
    host, port = loopback_server.getsockname()
    sockets = _connect(loopback_server, 2)
    try:
        assert sample_host(".", host, port).api_connections == 2
        assert sample_host(".", "localhost", port).api_connections == 2
        assert sample_host(".", None, port).api_connections == 2
        # Accepted server-side sockets have an ephemeral remote port, so count for "any remote".
        any_remote = sample_host(".").api_connections
        assert any_remote is not None and any_remote >= 4
    finally:
        for sock in sockets:
            sock.close()


def test_no_connections_to_an_idle_server(loopback_server: socket.socket) -> None:
    host, port = loopback_server.getsockname()
    assert sample_host(".", host, port).api_connections == 0
    assert sample_host(".", "no-such-host.invalid", port).api_connections == 0


def test_denied_connection_listing_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Fault injection in psutil (the OS boundary), not in the code under test.
    def denied(self: psutil.Process, kind: str = "inet") -> list[object]:
        raise psutil.AccessDenied(self.pid)

    monkeypatch.setattr(psutil.Process, "net_connections", denied)
    health = sample_host(".", "127.0.0.1", 6443)
    assert health.api_connections is None
    assert health.mem_available_bytes > 0


def test_a_sample_without_connections_does_not_list_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The console's five-second sample leaves the connection count out: listing sockets is
    the costly part of a sample, and the header does not show it."""
    def listed(self: psutil.Process, kind: str = "inet") -> list[object]:
        raise AssertionError("connections were listed")

    monkeypatch.setattr(psutil.Process, "net_connections", listed)
    health = sample_host(".", connections=False)
    assert health.api_connections is None and health.disk_free_bytes is not None
