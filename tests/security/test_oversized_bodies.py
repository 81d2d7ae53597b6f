"""Issue 19, item 6: a 60 MB body to a webhook is refused (413) without the server holding it.

Refused on ``Content-Length`` before a byte of the body is read, and a body without one
(chunked) is read with a cap; the server's peak memory stays where it was."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import pytest

from tests.support.serve_process import Serve, serve, status_of

pytestmark = pytest.mark.process  # starts billing-bot (or the console) as a separate process

SIXTY_MB = 60 * 1024 * 1024
CHUNK = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    with serve(tmp_path_factory.mktemp("oversized")) as running:
        yield running


def _head(path: str, extra: str) -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: bot.test\r\nContent-Type: application/json\r\n{extra}\r\n".encode()


def _send_quietly(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
    except OSError:  # the server refused and closed: it stopped reading
        return False
    return True


@pytest.mark.parametrize("path", ["/slack/events", "/stripe/webhook"])
def test_a_declared_60_mb_body_is_413_before_it_is_sent(server: Serve, path: str) -> None:
    before = server.peak_rss_mb()
    with server.connect(timeout=10) as sock:
        sock.sendall(_head(path, f"Content-Length: {SIXTY_MB}\r\n"))
        assert status_of(sock) == 413
    assert server.peak_rss_mb() - before < 20


@pytest.mark.parametrize("path", ["/slack/events", "/stripe/webhook"])
def test_a_chunked_60_mb_body_is_413_and_memory_stays_flat(server: Serve, path: str) -> None:
    before = server.peak_rss_mb()
    chunk = f"{CHUNK:x}\r\n".encode() + b"[" * CHUNK + b"\r\n"
    with server.connect(timeout=10) as sock:
        sock.sendall(_head(path, "Transfer-Encoding: chunked\r\n"))
        sent = 0
        while sent < SIXTY_MB and _send_quietly(sock, chunk):
            sent += CHUNK
        if sent >= SIXTY_MB:
            _send_quietly(sock, b"0\r\n\r\n")
        with contextlib.suppress(OSError):
            sock.settimeout(10)
            # None: the reset that follows the answer (the rest of the body was never read) came first.
            assert status_of(sock) in (413, None)
    assert server.peak_rss_mb() - before < 20
