"""Bounds on an HTTP response body: a wall-clock deadline and a size cap.

httpx's timeouts bound each network operation, not the exchange: a server that sends one byte
every 0.8 s keeps a "1 s timeout" request alive forever, and a huge body is read into memory
whole. Streaming the body through these readers stops at whichever limit comes first.
"""

from __future__ import annotations

import time

import httpx

MAX_BODY_BYTES = 16 * 1024 * 1024
"""Default cap: far above any Prometheus answer or health page a console needs."""


class DeadlinePassed(Exception):
    """The response was still arriving when its deadline passed."""


class BodyTooLarge(Exception):
    """The response body is larger than the cap."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the response is larger than {describe_size(limit)}")
        self.limit = limit


def describe_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MiB"
    if size >= 1024:
        return f"{size / 1024:g} KiB"
    return f"{size} bytes"


def _check_length(response: httpx.Response, limit: int) -> None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)


def read_body(response: httpx.Response, deadline: float, limit: int = MAX_BODY_BYTES) -> bytes:
    """Read a streamed response's body by ``deadline`` (``time.monotonic``) and at most
    ``limit`` bytes; raises ``DeadlinePassed`` or ``BodyTooLarge`` (the caller closes it)."""
    _check_length(response, limit)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise DeadlinePassed
    return b"".join(chunks)


async def aread_body(response: httpx.Response, limit: int = MAX_BODY_BYTES) -> bytes:
    """``read_body`` for an async response; the caller bounds time (``asyncio.timeout``)."""
    _check_length(response, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def buffered(response: httpx.Response, body: bytes) -> httpx.Response:
    """A complete response with ``body`` (already decoded from any content encoding)."""
    headers = [(k, v) for k, v in response.headers.multi_items()
               if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
    return httpx.Response(response.status_code, headers=headers, content=body,
                          request=response.request, extensions=response.extensions)


__all__ = [
    "MAX_BODY_BYTES",
    "BodyTooLarge",
    "DeadlinePassed",
    "aread_body",
    "buffered",
    "describe_size",
    "read_body",
]
