"""Outbound HTTP has a wall-clock deadline and a size cap, against real local servers: one that
drips its answer a byte at a time, one that sends a huge body."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from adapters.errors import AdapterError, Timeout
from adapters.metrics_config import MetricsConfig
from adapters.probes import Check, Prober
from adapters.prometheus_api import PrometheusAPI

DRIP_EVERY_S = 0.4
DRIP_BYTES = 25  # 10 s in all: what a per-read timeout lets through
HUGE_BYTES = 64 * 1024 * 1024
ANSWER = b'{"status":"success","data":{"resultType":"vector","result":[]}}'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        try:
            if self.path.startswith("/drip"):
                self._drip()
            else:
                self._huge()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def _drip(self) -> None:
        body = (ANSWER + b" " * DRIP_BYTES)[: max(len(ANSWER), DRIP_BYTES)]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for index in range(len(body)):
            self.wfile.write(body[index:index + 1])
            self.wfile.flush()
            time.sleep(DRIP_EVERY_S)

    def _huge(self) -> None:
        # No Content-Length: the size only shows while reading (chunked encoding).
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"[" * 65536
        for _ in range(HUGE_BYTES // len(chunk)):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_prometheus_dripping_an_answer_is_cut_off_at_the_timeout(server: str) -> None:
    api = PrometheusAPI(MetricsConfig(f"{server}/drip", timeout_s=1.0))
    started = time.monotonic()
    with pytest.raises(Timeout) as caught:
        api.instant("up")
    elapsed = time.monotonic() - started
    api.close()
    assert elapsed < 2.5  # the deadline plus at most one read
    assert "still sending" in caught.value.message


def test_prometheus_huge_answer_is_refused_unread(server: str) -> None:
    api = PrometheusAPI(MetricsConfig(f"{server}/huge", timeout_s=20.0))
    with pytest.raises(AdapterError) as caught:
        api.instant("up")
    api.close()
    assert "larger than 16 MiB" in caught.value.message


async def test_probe_dripping_an_answer_is_cut_off_at_the_timeout(server: str) -> None:
    started = time.monotonic()
    result = await Prober().run(Check("drip", f"{server}/drip", timeout_s=1.0))
    assert time.monotonic() - started < 2.0
    assert not result.ok and "timed out" in result.message


async def test_probe_huge_body_fails_the_check_unread(server: str) -> None:
    check = Check("huge", f"{server}/huge", body_contains="ok", timeout_s=20.0,
                  max_body_bytes=1024 * 1024)
    result = await Prober().run(check)
    assert not result.ok
    assert result.message == "the response is larger than 1 MiB; stopped reading"


def test_a_gate_is_not_held_past_its_deadline_by_a_dripping_prometheus(server: str) -> None:
    """The gate's own timeout bounds each query, not only the gaps between them: with the
    client's timeout at 10 s, a gate of 1.5 s against a dripping Prometheus ends in time."""
    from adapters.metrics import MetricsClient
    from console.runbook.gate_steps import query_values, run_gate
    from console.runbook.schema_steps import GateStep

    metrics = MetricsClient(MetricsConfig(f"{server}/drip", timeout_s=10.0))
    step = GateStep.model_validate({"id": "errors-low", "title": "errors low", "type": "gate",
                                    "query": "up", "op": "<", "threshold": 1,
                                    "timeout": "1500ms", "interval": "1s"})
    started = time.monotonic()
    status, message = run_gate(
        step, lambda _message, _fraction: None,
        query=lambda expr, budget: query_values(metrics, expr, budget),
        clock=time.monotonic, sleep=lambda seconds, _on_stop: time.sleep(seconds))
    elapsed = time.monotonic() - started
    assert status == "failed" and "timed out after" in message
    assert elapsed < 4.0, f"the gate took {elapsed:.1f} s"
