"""HTTP probes against a real local server: status, body, JSON, latency, retries, concurrency."""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from aiohttp import web

from adapters.errors import Invalid
from adapters.probes import Check, Prober, json_path_get, parse_json_path

TOKEN = "s3cr3t-bearer-token"


async def _ok(_: web.Request) -> web.Response:
    return web.Response(text="status: ok")


async def _unavailable(_: web.Request) -> web.Response:
    return web.Response(status=503, text="unavailable")


async def _no_content(_: web.Request) -> web.Response:
    return web.Response(status=204)


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(int(request.query["ms"]) / 1000)
    return web.Response(text="slow ok")


async def _json(_: web.Request) -> web.Response:
    return web.json_response(
        {"data": {"items": [{"status": "Running", "ready": True}, {"status": "Pending"}]}}
    )


async def _private(request: web.Request) -> web.Response:
    if request.headers.get("Authorization") != f"Bearer {TOKEN}":
        return web.Response(status=401)
    return web.Response(text=f"hello, your token is {TOKEN}")


def _app() -> web.Application:
    calls: Counter[str] = Counter()

    async def flaky(request: web.Request) -> web.Response:
        # The first `fail` calls for a key answer 503, later ones 200.
        key = request.match_info["key"]
        calls[key] += 1
        if calls[key] <= int(request.query.get("fail", "1")):
            return web.Response(status=503)
        return web.Response(text="recovered")

    app = web.Application()
    app.router.add_get("/ok", _ok)
    app.router.add_get("/unavailable", _unavailable)
    app.router.add_get("/no-content", _no_content)
    app.router.add_get("/slow", _slow)
    app.router.add_get("/json", _json)
    app.router.add_get("/private", _private)
    app.router.add_get("/flaky/{key}", flaky)
    return app


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    # Slow handlers still sleeping at teardown are cancelled rather than awaited.
    runner = web.AppRunner(_app(), shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
def refused_url() -> Iterator[str]:
    # A bound socket that never listens: connections are refused and the port stays ours.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


async def test_healthy_endpoint(base_url: str) -> None:
    result = await Prober().run(Check("ok", f"{base_url}/ok", body_contains="ok"))
    assert result.ok
    assert result.name == "ok"
    assert result.status == 200
    assert result.attempts == 1
    assert result.latency_ms > 0
    assert result.message.startswith("status 200 in ")


async def test_wrong_status(base_url: str) -> None:
    result = await Prober().run(Check("down", f"{base_url}/unavailable"))
    assert not result.ok
    assert result.status == 503
    assert result.message == "expected status 200, got 503"


@pytest.mark.parametrize(
    ("path", "expect", "ok", "message"),
    [
        ("/unavailable", [200, 503], True, None),
        ("/no-content", range(200, 300), True, None),
        ("/unavailable", range(200, 300), False, "expected status 200-299, got 503"),
        ("/ok", [201, 204], False, "expected status one of 201, 204, got 200"),
    ],
)
async def test_status_sets(
    base_url: str, path: str, expect: list[int] | range, ok: bool, message: str | None
) -> None:
    result = await Prober().run(Check("s", base_url + path, expect_status=expect))
    assert result.ok is ok
    if message is not None:
        assert result.message == message


async def test_body_contains(base_url: str) -> None:
    result = await Prober().run(Check("body", f"{base_url}/ok", body_contains="healthy"))
    assert not result.ok
    assert result.status == 200
    assert result.message == "body does not contain 'healthy'"


async def test_json_path_checks(base_url: str) -> None:
    url = f"{base_url}/json"
    prober = Prober()
    checks = [
        Check("equal", url, json_path="data.items[0].status", json_equals="Running"),
        Check("bool", url, json_path="data.items[0].ready", json_equals=True),
        Check("last", url, json_path="data.items[-1].status", json_equals="Pending"),
        Check("exists", url, json_path="data.items[1]"),
        Check("differs", url, json_path="data.items[1].status", json_equals="Running"),
        Check("no index", url, json_path="data.items[5].status", json_equals="Running"),
        Check("no key", url, json_path="data.pods", json_equals=[]),
        Check("not json", f"{base_url}/ok", json_path="status", json_equals="ok"),
    ]
    results = {result.name: result for result in await prober.run_all(checks)}
    assert [results[name].ok for name in ("equal", "bool", "last", "exists")] == [True] * 4
    assert results["differs"].message == 'data.items[1].status is "Pending", expected "Running"'
    assert results["no index"].message == (
        "JSON path data.items[5].status not found: data.items has 2 item(s), no index 5"
    )
    assert results["no key"].message == "JSON path data.pods not found: data has no key 'pods'"
    assert results["not json"].message == "body is not JSON"


async def test_latency_budget(base_url: str) -> None:
    result = await Prober().run(
        Check("slow", f"{base_url}/slow?ms=200", latency_budget_ms=50, timeout_s=5)
    )
    assert not result.ok
    assert result.status == 200
    assert result.latency_ms >= 200
    assert result.message == f"took {result.latency_ms:.0f} ms, budget 50 ms"


async def test_timeout(base_url: str) -> None:
    started = time.perf_counter()
    result = await Prober().run(Check("hang", f"{base_url}/slow?ms=5000", timeout_s=0.3))
    assert time.perf_counter() - started < 2
    assert not result.ok
    assert result.status is None
    assert result.message == "timed out after 0.3 s"


async def test_connection_refused_is_a_result(refused_url: str) -> None:
    result = await Prober().run(Check("refused", f"{refused_url}/healthz"))
    assert not result.ok
    assert result.status is None
    assert result.message == "connection refused"


async def test_unresolvable_host_is_a_result() -> None:
    result = await Prober().run(Check("dns", "http://no-such-host.invalid/healthz"))
    assert not result.ok
    assert result.status is None
    assert result.message == "cannot resolve host no-such-host.invalid"


async def test_invalid_url_is_a_result() -> None:
    result = await Prober().run(Check("bad", "ftp://example.com/x"))
    assert not result.ok
    assert result.message.startswith("invalid URL")


async def test_retries_until_healthy(base_url: str) -> None:
    check = Check("flaky", f"{base_url}/flaky/a?fail=2", retries=3, retry_delay_s=0.01)
    result = await Prober().run(check)
    assert result.ok
    assert result.attempts == 3
    assert result.status == 200


async def test_retries_exhausted_reports_last_failure(base_url: str) -> None:
    check = Check("flaky", f"{base_url}/flaky/b?fail=5", retries=2, retry_delay_s=0.01)
    result = await Prober().run(check)
    assert not result.ok
    assert result.attempts == 3
    assert result.message == "expected status 200, got 503"


async def test_retry_delay_is_honoured(base_url: str) -> None:
    check = Check("flaky", f"{base_url}/flaky/c?fail=1", retries=1, retry_delay_s=0.2)
    started = time.perf_counter()
    result = await Prober().run(check)
    assert result.ok and result.attempts == 2
    assert time.perf_counter() - started >= 0.2


async def test_no_retry_after_success(base_url: str) -> None:
    result = await Prober().run(Check("ok", f"{base_url}/ok", retries=5, retry_delay_s=10))
    assert result.ok
    assert result.attempts == 1


async def test_run_all_is_concurrent_and_ordered(base_url: str) -> None:
    checks = [Check(f"slow-{i}", f"{base_url}/slow?ms=300") for i in range(5)]
    checks.append(Check("down", f"{base_url}/unavailable"))
    started = time.perf_counter()
    results = await Prober().run_all(checks)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"5 x 300 ms checks took {elapsed:.2f} s; not concurrent"
    assert [result.name for result in results] == [check.name for check in checks]
    assert [result.ok for result in results] == [True] * 5 + [False]


async def test_run_all_never_raises(base_url: str, refused_url: str) -> None:
    results = await Prober().run_all(
        [
            Check("ok", f"{base_url}/ok"),
            Check("refused", refused_url),
            Check("timeout", f"{base_url}/slow?ms=3000", timeout_s=0.2),
        ]
    )
    assert [result.ok for result in results] == [True, False, False]


async def test_shared_client(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        prober = Prober(client)
        first = await prober.run(Check("a", f"{base_url}/ok"))
        second = await prober.run_all([Check("b", f"{base_url}/ok")])
        assert first.ok and second[0].ok
        assert not client.is_closed


async def test_headers_are_sent_and_never_shown(base_url: str, refused_url: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    results = await Prober().run_all(
        [
            Check("authorized", f"{base_url}/private", headers=headers),
            Check("mismatch", f"{base_url}/private", headers=headers, body_contains="welcome"),
            Check("refused", refused_url, headers=headers),
            Check("unauthorized", f"{base_url}/private"),
            Check(
                "echo",
                f"{base_url}/private",
                headers=headers,
                body_contains=f"token is {TOKEN}x",
            ),
        ]
    )
    assert [result.ok for result in results] == [True, False, False, False, False]
    assert results[3].message == "expected status 200, got 401"
    for result in results:
        assert TOKEN not in result.message
        assert TOKEN not in repr(result)
    assert TOKEN not in repr(Check("c", base_url, headers=headers))


def test_check_validation() -> None:
    with pytest.raises(Invalid):
        Check("bad", "http://x", retries=-1)
    with pytest.raises(Invalid):
        Check("bad", "http://x", timeout_s=0)
    with pytest.raises(Invalid):
        Check("bad", "http://x", expect_status=[])
    with pytest.raises(Invalid) as caught:
        Check("bad", "http://x", json_path="data..items")
    assert "data..items" in caught.value.message


def test_json_path_helpers() -> None:
    assert parse_json_path("data.items[0].status") == ["data", "items", 0, "status"]
    assert parse_json_path("[1][-1]") == [1, -1]
    document = {"a": [{"b": 1}, {"b": [10, 20]}], "c-d": None}
    assert json_path_get(document, "a[1].b[-1]") == 20
    assert json_path_get(document, "c-d") is None
    with pytest.raises(LookupError, match="a\\[0\\].b is not a list"):
        json_path_get(document, "a[0].b[0]")
    with pytest.raises(LookupError, match="the body is not a list"):
        json_path_get(document, "[0]")
