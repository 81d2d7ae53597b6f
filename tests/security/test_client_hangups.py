"""Issue 19, item 14: a client that hangs up half way through its body costs one INFO line, no
ERROR and no traceback in the server's log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.bot_harness import wait_until
from tests.support.serve_process import Serve, serve

pytestmark = pytest.mark.process  # starts billing-bot (or the console) as a separate process

HUNG_UP = "hung up before sending the whole body"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    with serve(tmp_path_factory.mktemp("hangups")) as running:
        yield running


@pytest.mark.parametrize("path", ["/slack/events", "/stripe/webhook"])
def test_a_client_hanging_up_mid_body_is_one_info_line_and_no_traceback(server: Serve, path: str) -> None:
    already = server.log_text().count(HUNG_UP)
    with server.connect() as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: bot.test\r\nContent-Length: 1000\r\n\r\n".encode() + b"{" * 100)
    wait_until(lambda: server.log_text().count(HUNG_UP) > already, 10, "the hang-up's log line")

    log = server.log_text()
    assert log.count(HUNG_UP) == already + 1
    assert "Traceback" not in log and "ERROR" not in log
    [line] = [line for line in log.splitlines() if HUNG_UP in line and path in line]
    assert "INFO" in line
