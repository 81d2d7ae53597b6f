"""Issue 19, item 19: slow clients are closed. A connection that sends nothing, one that sends its
request headers a little at a time, and one kept alive idle after its answer are all closed by the
server (so a few thousand of them cannot hold every socket the process may open)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.support.serve_process import Serve, serve, status_of

pytestmark = pytest.mark.process  # starts billing-bot (or the console) as a separate process


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    with serve(tmp_path_factory.mktemp("slow")) as running:
        yield running


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server closes ``sock`` (reads until then); False if it is still open after 30 s."""
    sock.settimeout(30)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def test_a_silent_connection_and_one_trickling_its_headers_are_closed(server: Serve) -> None:
    with server.connect() as silent, server.connect() as trickling:
        trickling.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot.test\r\n")  # and never the rest
        assert closed_by_server(silent)
        assert closed_by_server(trickling)


def test_a_kept_alive_connection_left_idle_after_its_answer_is_closed(server: Serve) -> None:
    with server.connect() as idle:
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: bot.test\r\n\r\n")
        assert status_of(idle) == 200
        assert closed_by_server(idle)
