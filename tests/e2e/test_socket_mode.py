"""Socket Mode: the same app connects to a stand-in socket server, acks an envelope, replies."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from bot.compose import build_runtime
from bot.settings import Settings
from bot.slack.socket_mode import socket_mode_handler
from devtools.loopback.slack_api import SlackAPI
from tests.support.bot_harness import ANN, SAMPLE, wait_until
from tests.support.localstripe_server import free_port
from tests.support.template_db import migrated_sqlite_url


class SocketServer:
    """A Socket Mode stand-in: says hello, sends one slash command envelope, records the acks."""

    def __init__(self, envelope: dict[str, Any]) -> None:
        self.envelope = envelope
        self.received: list[dict[str, Any]] = []
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = threading.Event()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link"

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "connection_info": {"app_id": "A111"},
                    "debug_info": {"host": "stand-in"},
                }
            )
        )
        await ws.send_str(json.dumps(self.envelope))
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.received.append(json.loads(message.data))
        return ws

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._started.set()
        self._loop.run_forever()

    def start(self) -> SocketServer:
        self._thread.start()
        self._started.wait(5)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@pytest.fixture
def slack() -> Iterator[SlackAPI]:
    with SlackAPI() as api:
        api.add_user(ANN, "ann@acme.test", "Ann Lee")
        yield api


def test_socket_mode_connects_acks_a_command_and_answers_it(slack: SlackAPI, tmp_path: Path) -> None:
    url = migrated_sqlite_url(tmp_path / "socket.db")
    response_url = slack.response_url
    envelope = {
        "envelope_id": "env-1",
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "token": "x",
            "team_id": "T111",
            "team_domain": "acme",
            "channel_id": "C111",
            "channel_name": "general",
            "user_id": ANN,
            "user_name": "ann",
            "command": "/billing",
            "text": "balance",
            "api_app_id": "A111",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        },
    }
    server = SocketServer(envelope).start()
    slack.set_handler("apps.connections.open", lambda args: {"ok": True, "url": server.url})
    settings = Settings(
        _env_file=None,
        DATABASE_URL=url,
        SLACK_BOT_TOKEN="xoxb-socket",
        SLACK_APP_TOKEN="xapp-socket",
        SLACK_API_URL=slack.base_url,
    )
    runtime = build_runtime(settings, socket_mode=True)
    runtime.services.importer.run(SAMPLE)
    handler = socket_mode_handler(runtime.app, settings)
    try:
        handler.connect()  # type: ignore[no-untyped-call]
        wait_until(lambda: any(m.get("envelope_id") == "env-1" for m in server.received), 10, "the ack")
        wait_until(lambda: bool(slack.response_url_posts(response_url)), 10, "the reply")
        reply = json.loads(slack.response_url_posts(response_url)[0].body)
        assert reply["response_type"] == "ephemeral" and "$1,750.50" in json.dumps(reply)
        assert slack.last("apps.connections.open").token == "xapp-socket"
    finally:
        handler.close()  # type: ignore[no-untyped-call]
        server.stop()
        runtime.notifier.shutdown()
        runtime.services.db.dispose()
