"""Small local proxies for tests: SOCKS5 (no auth, CONNECT) and HTTP CONNECT, on 127.0.0.1.

Each records the targets it tunnelled to (``targets``) so a test can assert the traffic went
through it; ``stop`` closes it. Stdlib only: a threading ``socketserver`` and a relay loop.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import socketserver
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def _relay(a: socket.socket, b: socket.socket) -> None:
    with selectors.DefaultSelector() as sel:
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        while True:
            for key, _ in sel.select(timeout=60):
                src: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data = src.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                try:
                    key.data.sendall(data)
                except OSError:
                    return


def _read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: type[socketserver.BaseRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.targets: list[str] = []
        self.lock = threading.Lock()
        self.down = False  # cut(): every tunnel closed, new clients hung up on
        self.active: set[socket.socket] = set()

    def saw(self, target: str) -> None:
        with self.lock:
            self.targets.append(target)

    def tunnel(self, client: socket.socket, upstream: socket.socket) -> None:
        with self.lock:
            if self.down:
                return
            self.active.update((client, upstream))
        try:
            _relay(client, upstream)
        finally:
            with self.lock:
                self.active.difference_update((client, upstream))

    def verify_request(self, request: object, client_address: object) -> bool:
        return not self.down


class _Socks5(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock = self.request
        try:
            version, count = _read_exact(sock, 2)
            if version != 5:
                return
            _read_exact(sock, count)
            sock.sendall(b"\x05\x00")  # no authentication
            _, cmd, _, atyp = _read_exact(sock, 4)
            if atyp == 1:
                host = socket.inet_ntoa(_read_exact(sock, 4))
            elif atyp == 3:
                host = _read_exact(sock, _read_exact(sock, 1)[0]).decode()
            else:
                host = socket.inet_ntop(socket.AF_INET6, _read_exact(sock, 16))
            (port,) = struct.unpack("!H", _read_exact(sock, 2))
            if cmd != 1:
                sock.sendall(b"\x05\x07\x00\x01" + b"\x00" * 6)
                return
            try:
                upstream = socket.create_connection((host, port), timeout=10)
            except OSError:
                sock.sendall(b"\x05\x05\x00\x01" + b"\x00" * 6)  # connection refused
                return
            self.server.saw(f"{host}:{port}")
            sock.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + b"\x00\x00")
            with upstream:
                self.server.tunnel(sock, upstream)
        except (ConnectionError, OSError, ValueError):
            return


class _HttpConnect(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock = self.request
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            if method != "CONNECT":
                sock.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            host, _, port = target.rpartition(":")
            try:
                upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
            except OSError:
                sock.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            self.server.saw(target)
            sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            with upstream:
                self.server.tunnel(sock, upstream)
        except (ConnectionError, OSError, ValueError):
            return


class Proxy:
    """A running proxy: ``url`` for a kubeconfig's proxy-url, ``targets`` it tunnelled to."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._server = _Server(_Socks5 if kind == "socks5" else _HttpConnect)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name=f"{kind}-proxy")
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{self.kind}://127.0.0.1:{self.port}"

    @property
    def targets(self) -> list[str]:
        with self._server.lock:
            return list(self._server.targets)

    def cut(self) -> None:
        """The proxy goes down (an SSH tunnel dies): open tunnels close, new ones are refused
        until ``restore``."""
        with self._server.lock:
            self._server.down = True
            active, self._server.active = list(self._server.active), set()
        for sock in active:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        self._server.down = False

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def running_proxy(kind: str) -> Iterator[Proxy]:
    """``kind``: "socks5" or "http"."""
    proxy = Proxy(kind)
    try:
        yield proxy
    finally:
        proxy.stop()


def closed_port() -> int:
    """A loopback port nothing listens on (a proxy that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
