"""Connections to Slack: kept alive and shared by Web API calls and ``response_url`` posts, and a
connection Slack closed while it sat idle is replaced without sending anything twice."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

import pytest

from devtools.loopback.server import QuietThreadingHTTPServer
from devtools.loopback.slack_api import RESPONSE_URL_METHOD, SlackAPI
from handlers.runtime.response_url import post_response
from handlers.runtime.slack_http import retry_handlers
from handlers.runtime.web_api import SlackWebClient
from tests.support.fault_proxy import FaultProxy


@pytest.fixture
def slack_api() -> Iterator[SlackAPI]:
    with SlackAPI() as api:
        yield api


def test_web_api_calls_and_response_url_posts_share_one_kept_alive_connection(slack_api: SlackAPI) -> None:
    with FaultProxy.for_url(slack_api.base_url, http=False) as tcp:  # sees each new connection
        client = SlackWebClient(token="xoxb-1", base_url=tcp.url(path="/api/"), retry_handlers=retry_handlers())
        for _ in range(3):
            assert client.chat_postMessage(channel="D1", text="hi")["ok"] is True
            assert post_response(tcp.url(path="/response_url/abc"), {"text": "done"}) == 200

        assert len(slack_api.calls("chat.postMessage")) == 3
        assert len(slack_api.calls(RESPONSE_URL_METHOD)) == 3
        assert len(tcp.seen()) == 1


class _OneRequestPerConnection(BaseHTTPRequestHandler):
    """Answers keep-alive style (no ``Connection: close``), then closes: as a server dropping idle ones."""

    protocol_version = "HTTP/1.1"
    posts: ClassVar[list[bytes]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.posts.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        payload = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True


def test_a_connection_slack_closed_while_idle_is_replaced_and_nothing_is_sent_twice() -> None:
    _OneRequestPerConnection.posts = []
    server = QuietThreadingHTTPServer(("127.0.0.1", 0), _OneRequestPerConnection)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/api/"
        client = SlackWebClient(token="xoxb-1", base_url=base, retry_handlers=retry_handlers())
        for text in ("one", "two", "three"):
            assert client.chat_postMessage(channel="D1", text=text)["ok"] is True
    finally:
        server.shutdown()
        server.server_close()
    assert [json.loads(post)["text"] for post in _OneRequestPerConnection.posts] == ["one", "two", "three"]


def test_a_message_is_not_posted_again_after_a_5xx_but_a_read_is_retried(slack_api: SlackAPI) -> None:
    from slack_sdk.errors import SlackApiError

    slack_api.add_user("U1", "ann@acme.test", "Ann Lee")
    client = SlackWebClient(token="xoxb-1", base_url=slack_api.base_url, retry_handlers=retry_handlers())
    slack_api.fail_next("chat.postMessage", status=500)
    slack_api.fail_next("users.info", status=500)

    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="D1", text="once")  # Slack may have posted it: no second POST
    assert client.users_info(user="U1")["ok"] is True  # a read is simply asked again

    assert len(slack_api.calls("chat.postMessage")) == 1
    assert len(slack_api.calls("users.info")) == 2
