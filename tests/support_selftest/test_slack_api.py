"""The Slack Web API stand-in answers slack_sdk like Slack does and records everything."""

from __future__ import annotations

import threading
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from devtools.loopback.slack_api import SlackAPI


def _client(api: SlackAPI) -> WebClient:
    return WebClient(token="xoxb-test", base_url=api.base_url)


def test_a_web_client_call_is_recorded_with_its_token_and_blocks(slack_api: SlackAPI) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    resp = _client(slack_api).chat_postMessage(channel="C1", text="hi", blocks=blocks)
    assert resp["ok"] and resp["channel"] == "C1"
    call = slack_api.last("chat.postMessage")
    assert call.token == "xoxb-test"
    assert call.json_args["blocks"] == blocks
    assert call.headers["authorization"] == "Bearer xoxb-test"


def test_message_timestamps_increase(slack_api: SlackAPI) -> None:
    client = _client(slack_api)
    first = client.chat_postMessage(channel="C1", text="a")["ts"]
    second = client.chat_postMessage(channel="C1", text="b")["ts"]
    assert float(second) > float(first)


def test_auth_test_identifies_the_bot(slack_api: SlackAPI) -> None:
    resp = _client(slack_api).auth_test()
    assert (resp["user_id"], resp["team_id"], resp["bot_id"]) == ("UBOT", "T111", "B111")


def test_users_can_be_looked_up_by_id_and_email(slack_api: SlackAPI) -> None:
    slack_api.add_user("W111", "Ann@Acme.test", "Ann Lee", tz="Europe/Paris")
    client = _client(slack_api)
    user = client.users_info(user="W111")["user"]
    assert user["profile"]["email"] == "Ann@Acme.test"
    assert user["tz"] == "Europe/Paris" and user["tz_offset"] in (3600, 7200)
    assert client.users_lookupByEmail(email="ann@acme.test")["user"]["id"] == "W111"
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="W999")
    assert err.value.response["error"] == "user_not_found"
    with pytest.raises(SlackApiError) as err:
        client.users_lookupByEmail(email="nobody@acme.test")
    assert err.value.response["error"] == "users_not_found"


def test_a_user_without_visible_email_has_no_profile_email(slack_api: SlackAPI) -> None:
    slack_api.add_user("W222", None, "Bob")
    assert "email" not in _client(slack_api).users_info(user="W222")["user"]["profile"]


def test_a_dm_is_opened_and_views_get_ids(slack_api: SlackAPI) -> None:
    client = _client(slack_api)
    assert client.conversations_open(users="W111")["channel"]["id"] == "DW111"
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Pay"}, "blocks": []}
    opened = client.views_open(trigger_id="1.2.x", view=view)["view"]
    assert opened["id"].startswith("V") and opened["hash"]
    updated = client.views_update(view_id=opened["id"], view=view)["view"]
    assert updated["id"] == opened["id"]
    assert client.views_publish(user_id="W111", view={"type": "home", "blocks": []})["view"]["type"] == "home"
    assert client.api_call("reactions.add")["ok"] is True


def test_a_429_is_retried_by_the_rate_limit_retry_handler(slack_api: SlackAPI) -> None:
    client = _client(slack_api)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    slack_api.fail_next("chat.postMessage", status=429, retry_after=0)
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    statuses = [c.status for c in slack_api.calls("chat.postMessage")]
    assert statuses == [429, 200]


def test_a_429_without_retry_handler_exposes_retry_after(slack_api: SlackAPI) -> None:
    slack_api.fail_next("users.info", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as err:
        _client(slack_api).users_info(user="W1")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.response["error"] == "ratelimited"


def test_server_errors_and_slack_errors_can_be_injected(slack_api: SlackAPI) -> None:
    client = _client(slack_api)
    slack_api.fail_next("chat.postMessage", status=500)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="x")
    assert err.value.response.status_code == 500
    slack_api.fail_next("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]


def test_per_channel_rate_limits_can_be_enforced(slack_api: SlackAPI) -> None:
    slack_api.enforce_rate_limits(per_channel_interval=1.0)
    client = _client(slack_api)
    assert client.chat_postMessage(channel="C1", text="1")["ok"]
    assert client.chat_postMessage(channel="C2", text="1")["ok"]
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="2")
    assert err.value.response.status_code == 429


def test_response_url_posts_are_recorded(slack_api: SlackAPI) -> None:
    url = slack_api.response_url
    resp = WebhookClient(url).send(text="done", response_type="ephemeral")
    assert resp.status_code == 200 and resp.body == "ok"
    (post,) = slack_api.response_url_posts(url)
    assert post.json_args == {"text": "done", "response_type": "ephemeral"}
    assert slack_api.response_url_posts(slack_api.response_url) == []


def test_wait_for_returns_when_a_call_arrives_from_another_thread(slack_api: SlackAPI) -> None:
    client = _client(slack_api)
    slack_api.set_delay(0.1)
    threading.Timer(0.05, lambda: client.chat_postEphemeral(channel="C1", user="W1", text="x")).start()
    start = time.monotonic()
    calls = slack_api.wait_for("chat.postEphemeral", timeout=3)
    assert len(calls) == 1 and time.monotonic() - start >= 0.1
    with pytest.raises(TimeoutError):
        slack_api.wait_for("chat.update", timeout=0.1)


def test_a_call_without_token_is_not_authed(slack_api: SlackAPI) -> None:
    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=slack_api.base_url).chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "not_authed"


def test_a_client_hanging_up_abruptly_prints_nothing(slack_api: SlackAPI, capfd: pytest.CaptureFixture[str]) -> None:
    # The bot keeps its connections to Slack open; one reset mid-request must not write a traceback
    # into whatever captures stderr at that moment (a CliRunner, say).
    import socket
    import struct

    with socket.create_connection(("127.0.0.1", slack_api.port)) as sock:
        sock.sendall(b"POST /api/chat.postMessage HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
    time.sleep(0.3)
    assert _client(slack_api).auth_test()["ok"]
    out, err = capfd.readouterr()
    assert "Exception occurred" not in out + err and "-" * 40 not in out + err
