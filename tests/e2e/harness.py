"""The running bot for end-to-end tests: uvicorn on a free port, driven by signed Slack requests.

Slack's Web API is the stand-in (``tests/support/slack_api.py``); Stripe is localstripe behind
a delaying proxy; the database is SQLite (or PostgreSQL with ``TEST_DATABASE_URL``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import stripe
import uvicorn
from sqlalchemy import delete, select, text

from billing_core.clock import FixedClock
from billing_core.db.base import Base
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord
from billing_core.views import Actor
from bot.http import create_http_app
from bot.server import SlackRuntime, build_runtime
from bot.settings import Settings
from handlers.identity.resolver import IdentityResolver
from tests.support.localstripe_server import LocalStripe, free_port
from tests.support.slack_api import RecordedCall, SlackAPI
from tests.support.slack_signing import (
    block_actions_payload,
    button_action,
    event_body,
    interaction_body,
    signed_headers,
    slash_command_body,
    view_submission_payload,
)

SECRET = "e2e-signing-secret"
SUPPORT_EMAIL = "billing-help@vendor.test"
WEBHOOK_SECRET = "whsec_e2e"
VISA = "4242424242424242"
DECLINES_AT_CHARGE = "4000000000000341"
NEEDS_AUTHENTICATION = "4000002500003155"

LOADING = "One moment"  # what handlers.kit.surfaces.loading_view shows
ANN, PETER, STRANGER, HIDDEN = "W111", "W222", "W999", "W998"
ANN_ACTOR = Actor(email="ann@acme.test", principal=f"slack:T111:{ANN}", display_name="Ann Lee")
PETER_ACTOR = Actor(email="peter@initech.test", principal=f"slack:T111:{PETER}", display_name="Peter Gibbons")

SAMPLE: dict[str, Any] = {
    "accounts": [
        {
            "id": "acme", "name": "Acme Corp", "currency": "usd",
            "contacts": [{"email": "ann@acme.test", "name": "Ann Lee"}],
            "invoices": [
                {"number": "INV-1", "issued_on": "2026-10-01", "due_on": "2026-10-31",
                 "amount_due": 125000, "currency": "usd", "status": "open", "description": "October usage"},
                {"number": "INV-2", "issued_on": "2026-11-01", "due_on": "2026-12-01",
                 "amount_due": 50050, "currency": "usd", "status": "open", "description": "November usage"},
                {"number": "INV-0", "issued_on": "2026-09-01", "due_on": "2026-09-30",
                 "amount_due": 9900, "currency": "usd", "status": "paid"},
            ],
        },
        {
            "id": "globex", "name": "Globex", "currency": "eur",
            "contacts": [{"email": "ANN@acme.test", "name": "Ann Lee"}],
            "invoices": [
                {"number": "G-7", "issued_on": "2026-06-01", "due_on": "2026-07-01",
                 "amount_due": 3000, "currency": "eur", "status": "open"},
            ],
        },
        {
            "id": "initech", "name": "Initech", "currency": "usd",
            "contacts": [{"email": "peter@initech.test", "name": "Peter Gibbons"}],
            "invoices": [
                {"number": "I-1", "issued_on": "2026-11-01", "due_on": "2026-11-20",
                 "amount_due": 7000, "currency": "usd", "status": "open"},
            ],
        },
    ]
}


class BotServer:
    """``billing-bot serve``'s ASGI app on uvicorn in a thread, plus helpers to talk to it like Slack."""

    def __init__(self, slack: SlackAPI, stripe_base: str, database_url: str, **overrides: str) -> None:
        self.slack = slack
        self.clock = FixedClock(_wednesday())
        self.db = Database(database_url)
        self.identity = IdentityResolver()
        self.settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            DATABASE_URL=database_url,
            SLACK_BOT_TOKEN="xoxb-e2e",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack.base_url,
            STRIPE_API_KEY="sk_test_x",
            STRIPE_API_BASE=stripe_base,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            SUPPORT_EMAIL=SUPPORT_EMAIL,
            PUBLIC_URL="http://bot.test",
            **overrides,
        )
        self.runtime: SlackRuntime = build_runtime(self.settings, clock=self.clock, db=self.db, identity=self.identity)
        self.services = self.runtime.services
        self.port = free_port()
        config = uvicorn.Config(
            create_http_app(self.services, self.settings, self.runtime.app),
            host="127.0.0.1", port=self.port, log_level="warning", access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="bot-uvicorn")
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        self._ack_replies: dict[str, dict[str, Any]] = {}  # response_url -> the reply in its command's ack

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
        with self.db.transaction() as session:
            record = session.scalars(select(AccountRecord).where(AccountRecord.external_id == account)).one()
            record.stripe_customer_id = customer_id

    # -- talking like Slack ----------------------------------------------------------------

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post("/slack/events", content=body, headers=headers or signed_headers(SECRET, body))

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

    def submit(self, view: dict[str, Any], user: str = ANN, *, method: str | None = None,
               metadata: str | None = None) -> httpx.Response:
        """Submit a modal the bot opened (``view`` as sent to views.open/update) with a card chosen."""
        values: dict[str, dict[str, dict[str, Any]]] = {}
        if method is not None:
            values = {"pay_method": {"pay_method_select": {
                "type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": method},
                                                             "value": method}}}}
        payload = view_submission_payload(
            str(view.get("callback_id", "")), values,
            metadata if metadata is not None else str(view.get("private_metadata", "")),
            user_id=user, view_id=str(view.get("id") or "V_E2E"),
        )
        return self.post(interaction_body(payload))

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

    def wait_calls(self, method: str, count: int = 1, where: Callable[[RecordedCall], bool] | None = None,
                   timeout: float = 10.0) -> list[RecordedCall]:
        def found() -> list[RecordedCall]:
            return [c for c in self.slack.calls(method) if where is None or where(c)]

        wait_until(lambda: len(found()) >= count, timeout, f"{count} {method} call(s)")
        return found()

    def last_view(self, method: str | None = None, where: Callable[[dict[str, Any]], bool] | None = None,
                  timeout: float = 10.0) -> dict[str, Any]:
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


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _wednesday():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


class StripeHelper:
    """Test-side access to localstripe: customers, cards, what was charged."""

    def __init__(self, server: LocalStripe) -> None:
        self.server = server
        self.client = stripe.StripeClient("sk_test_x", base_addresses={"api": server.base_url}, max_network_retries=0)

    def customer(self, email: str) -> str:
        return str(self.client.v1.customers.create(params={"email": email}).id)

    def card(self, customer_id: str, number: str = VISA) -> str:
        pm = self.client.v1.payment_methods.create(
            params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}}
        )
        self.client.v1.payment_methods.attach(pm.id, params={"customer": customer_id})
        return str(pm.id)

    def intents(self) -> list[dict[str, Any]]:
        return [pi.to_dict() for pi in self.client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()]

    def succeeded_charges(self) -> list[dict[str, Any]]:
        return [pi for pi in self.intents() if pi.get("status") == "succeeded"]

    def default_card(self, customer_id: str) -> str | None:
        customer = self.client.v1.customers.retrieve(customer_id).to_dict()
        default = (customer.get("invoice_settings") or {}).get("default_payment_method")
        return str(default) if default else None

    def card_ids(self, customer_id: str) -> set[str]:
        page = self.client.v1.payment_methods.list(params={"customer": customer_id, "type": "card"})
        return {str(pm.id) for pm in page.auto_paging_iter()}
