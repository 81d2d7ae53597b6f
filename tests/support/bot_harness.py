"""The running bot for bot-level tests: its HTTP app driven by signed Slack requests.

:class:`SlackDriver` talks to the app like Slack does (over any ``httpx.Client``: a real server's
or Starlette's ``TestClient``); :class:`BotServer` is ``billing-bot serve``'s app on uvicorn in a
thread. Slack's Web API is the stand-in (``devtools/loopback/slack_api.py``); Stripe is localstripe
(behind a delaying proxy in the e2e fixtures); the database is SQLite (or PostgreSQL with
``TEST_DATABASE_URL``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from sqlalchemy import delete, text

from billing_core.clock import FixedClock
from billing_core.db.base import Base
from billing_core.db.database import Database
from bot.compose import SlackRuntime, build_runtime
from bot.settings import Settings
from bot.web.http import create_http_app
from devtools.loopback.server import Serving
from devtools.loopback.slack_api import RecordedCall, SlackAPI
from devtools.loopback.slack_signing import (
    block_actions_payload,
    button_action,
    event_body,
    interaction_body,
    signed_headers,
    slash_command_body,
    view_submission_payload,
)
from handlers.kit.identity import IdentityResolver
from tests.support.localstripe_server import free_port
from tests.support.sample_accounts import ANN as ANN_ACTOR
from tests.support.sample_accounts import ANN_ID as ANN
from tests.support.sample_accounts import HIDDEN_ID as HIDDEN
from tests.support.sample_accounts import PETER as PETER_ACTOR
from tests.support.sample_accounts import PETER_ID as PETER
from tests.support.sample_accounts import SAMPLE, give_customer
from tests.support.sample_accounts import STRANGER_ID as STRANGER
from tests.support.sample_accounts import wait_until as _wait_until
from tests.support.settings import settings_from
from tests.support.stripe_helper import DECLINES_AT_CHARGE, NEEDS_AUTHENTICATION, VISA, StripeHelper

__all__ = [
    "ANN",
    "ANN_ACTOR",
    "DECLINES_AT_CHARGE",
    "HIDDEN",
    "LOADING",
    "NEEDS_AUTHENTICATION",
    "PETER",
    "PETER_ACTOR",
    "SAMPLE",
    "SECRET",
    "STRANGER",
    "SUPPORT_EMAIL",
    "VISA",
    "WEBHOOK_SECRET",
    "BotServer",
    "SlackDriver",
    "StripeHelper",
    "ack_reply",
    "bot_settings",
    "everything_said",
    "wait_for_listeners",
    "wait_until",
]

SECRET = "e2e-signing-secret"
SUPPORT_EMAIL = "billing-help@vendor.test"
WEBHOOK_SECRET = "whsec_e2e"
LOADING = "One moment"  # what handlers.kit.surfaces.loading_view shows
WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def bot_settings(slack: SlackAPI, stripe_base: str, database_url: str, **overrides: str) -> Settings:
    """The settings of a bot on ``slack`` and the Stripe at ``stripe_base``; ``overrides`` win."""
    values = {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-e2e",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.base_url,
        "STRIPE_API_KEY": "sk_test_x",
        "STRIPE_API_BASE": stripe_base,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SUPPORT_EMAIL": SUPPORT_EMAIL,
        "PUBLIC_URL": "http://bot.test",
    }
    return settings_from(**(values | overrides))


class SlackDriver:
    """Sends the bot's HTTP app what Slack would, signed, and reads what the bot told Slack."""

    def __init__(self, http: httpx.Client, slack: SlackAPI, signing_secret: str) -> None:
        self.http = http
        self.slack = slack
        self.signing_secret = signing_secret
        self._ack_replies: dict[str, dict[str, Any]] = {}  # response_url -> the reply in its command's ack

    # -- talking like Slack ----------------------------------------------------------------

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(
            "/slack/events", content=body, headers=headers or signed_headers(self.signing_secret, body)
        )

    def command(self, text: str, user: str = ANN) -> tuple[httpx.Response, str]:
        """``/billing <text>`` from ``user``; returns the HTTP answer and the command's response_url."""
        url = self.slack.response_url
        body = slash_command_body(text, user_id=user, response_url=url)
        response = self.post(body)
        reply = ack_reply(response)
        if reply is not None:
            self._ack_replies[url] = reply
        return response, url

    def click(self, action: dict[str, Any], user: str = ANN, **kwargs: Any) -> tuple[httpx.Response, str]:
        url = self.slack.response_url
        payload = block_actions_payload(action, user_id=user, response_url=url, **kwargs)
        return self.post(interaction_body(payload)), url

    def press(
        self, action_id: str, value: dict[str, Any] | str, user: str = ANN, **kwargs: Any
    ) -> tuple[httpx.Response, str]:
        raw = value if isinstance(value, str) else json.dumps(value)
        return self.click(button_action(action_id, raw), user=user, **kwargs)

    def submit_values(
        self, callback_id: str, values: dict[str, Any], metadata: str = "", view_id: str = "V_E2E", user: str = ANN
    ) -> httpx.Response:
        """Submit the modal ``callback_id`` with ``values`` (its ``state.values``)."""
        payload = view_submission_payload(callback_id, values, metadata, user_id=user, view_id=view_id)
        return self.post(interaction_body(payload))

    def submit(
        self, view: dict[str, Any], user: str = ANN, *, method: str | None = None, metadata: str | None = None
    ) -> httpx.Response:
        """Submit a modal the bot opened (``view`` as sent to views.open/update) with a card chosen."""
        values: dict[str, dict[str, dict[str, Any]]] = {}
        if method is not None:
            values = {
                "pay_method": {
                    "pay_method_select": {
                        "type": "static_select",
                        "selected_option": {"text": {"type": "plain_text", "text": method}, "value": method},
                    }
                }
            }
        return self.submit_values(
            str(view.get("callback_id", "")),
            values,
            metadata if metadata is not None else str(view.get("private_metadata", "")),
            user=user,
            view_id=str(view.get("id") or "V_E2E"),
        )

    def event(self, event: dict[str, Any]) -> httpx.Response:
        return self.post(event_body(event))

    # -- what Slack was told -----------------------------------------------------------------

    def replies(self, url: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """What the person was shown for the command of ``url``: the ack body when it was the
        reply, then the JSON posted to ``url`` (its response_url); waits for ``count`` of them."""

        def shown() -> list[dict[str, Any]]:
            in_ack = [self._ack_replies[url]] if url in self._ack_replies else []
            return in_ack + [json.loads(c.body) for c in self.slack.response_url_posts(url)]

        wait_until(lambda: len(shown()) >= count, timeout, f"{count} reply(ies) to {url}")
        return shown()

    def answered_in_ack(self, url: str) -> bool:
        """Whether the command of ``url`` was answered in its ack body."""
        return url in self._ack_replies

    def reply_text(self, url: str, count: int = 1) -> str:
        return everything_said(self.replies(url, count)[count - 1])

    def wait_calls(
        self, method: str, count: int = 1, where: Callable[[RecordedCall], bool] | None = None, timeout: float = 10.0
    ) -> list[RecordedCall]:
        def found() -> list[RecordedCall]:
            return [c for c in self.slack.calls(method) if where is None or where(c)]

        wait_until(lambda: len(found()) >= count, timeout, f"{count} {method} call(s)")
        return found()

    def last_view(
        self, method: str | None = None, where: Callable[[dict[str, Any]], bool] | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        """The latest view sent with ``method`` (matching ``where``), with its id filled in.

        Without ``method``: the latest modal content, however it got there (a modal opens with its
        content, or with a loading view that ``views.update`` fills; loading views are skipped).
        """
        methods = (method,) if method is not None else ("views.open", "views.push", "views.update")

        def views() -> list[dict[str, Any]]:
            out = []
            for call in self.slack.calls():
                if call.method not in methods:
                    continue
                view = dict(call.json_args.get("view") or {})
                if method is None and LOADING in json.dumps(view):
                    continue
                view["id"] = (call.response or {}).get("view", {}).get("id") or call.json_args.get("view_id")
                if where is None or where(view):
                    out.append(view)
            return out

        wait_until(lambda: bool(views()), timeout, f"a {method or 'modal'} view")
        return views()[-1]


class BotServer(SlackDriver, Serving):
    """``billing-bot serve``'s ASGI app on uvicorn in a thread, plus helpers to talk to it like Slack."""

    def __init__(self, slack: SlackAPI, stripe_base: str, database_url: str, **overrides: str) -> None:
        self.clock = FixedClock(WEDNESDAY)
        self.db = Database(database_url)
        self.identity = IdentityResolver()
        self.settings = bot_settings(slack, stripe_base, database_url, **overrides)
        self.runtime: SlackRuntime = build_runtime(self.settings, clock=self.clock, db=self.db, identity=self.identity)
        self.services = self.runtime.services
        self.port = free_port()
        config = uvicorn.Config(
            create_http_app(self.services, self.settings, self.runtime.app),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="bot-uvicorn")
        http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        super().__init__(http, slack, overrides.get("SLACK_SIGNING_SECRET", SECRET))
        self.listeners = ListenerTracker(self.runtime)

    def start(self) -> BotServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.http.close()
        self.runtime.notifier.shutdown()
        self.db.dispose()

    # -- state -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Empty database and caches, then the sample accounts (no Stripe customers yet)."""
        with self.db.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(delete(table))
            if self.db.dialect == "postgresql":
                connection.execute(text("SELECT 1"))
        self.identity.clear()
        self.slack.clear()
        self.services.importer.run(SAMPLE)

    def give_customer(self, account: str, customer_id: str) -> None:
        give_customer(self.db, account, customer_id)


class ListenerTracker:
    """Remembers every task handed to the Bolt app's listener pool (lazy listeners run there)."""

    def __init__(self, runtime: SlackRuntime) -> None:
        self.futures: list[Future[Any]] = []
        executor = runtime.app.listener_runner.listener_executor
        submit = executor.submit

        def tracked(fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            future = submit(fn, *args, **kwargs)
            self.futures.append(future)
            return future

        executor.submit = tracked  # type: ignore[method-assign]

    def idle(self) -> bool:
        return all(f.done() for f in list(self.futures))


def wait_for_listeners(bot: BotServer, timeout: float = 15.0) -> None:
    """Until every lazy listener started so far has finished."""
    wait_until(bot.listeners.idle, timeout, "the lazy listeners to finish")


def ack_reply(response: httpx.Response) -> dict[str, Any] | None:
    """A slash command's ack body when it is a reply Slack shows (a message with text or blocks)."""
    if response.status_code != 200 or not response.content:
        return None
    try:
        message = response.json()
    except ValueError:
        return None
    return message if isinstance(message, dict) and (message.get("text") or message.get("blocks")) else None


def everything_said(message: dict[str, Any]) -> str:
    """All the text of a message or view: fallback text, blocks, buttons, titles."""
    return json.dumps(message, ensure_ascii=False)


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Until ``condition()`` is truthy; ``AssertionError`` naming ``what`` after ``timeout`` seconds."""
    _wait_until(condition, what, timeout)
