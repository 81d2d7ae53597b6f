"""A whole bot for the security tests: the HTTP app (as ``serve`` runs it) with every secret set,
driven by signed requests, on localstripe, the Slack Web API stand-in and an SMTP server with AUTH.

Import the fixtures into a test module::

    from tests.security.full_run import full_run, localstripe_server  # noqa: F401
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import stripe
from sqlalchemy import select, text
from starlette.testclient import TestClient

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.base import Base
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord
from billing_core.views import Actor
from bot.http import create_http_app
from bot.server import SlackRuntime, build_runtime
from bot.settings import Settings
from handlers.escalations.payloads import MESSAGE_BLOCK, MESSAGE_INPUT, TOPIC_BLOCK, TOPIC_INPUT
from handlers.identity.resolver import IdentityResolver
from tests.support.fixtures import localstripe_server  # noqa: F401
from tests.support.localstripe_server import LocalStripe
from tests.support.slack_api import SlackAPI
from tests.support.slack_signing import (
    block_actions_payload,
    button_action,
    interaction_body,
    select_input_value,
    signed_headers,
    slash_command_body,
    stripe_signed_headers,
    text_input_value,
    view_submission_payload,
)
from tests.support.smtp_sink import SmtpSink

BOT_TOKEN = "xoxb-1111-2222-SecretBotToken"
SIGNING_SECRET = "signing-secret-4d1f6c2b9e"
STRIPE_KEY = "sk_test_SecretStripeKey51Hx"
WEBHOOK_SECRET = "whsec_SecretWebhook7Qz"
SMTP_USER = "mailer"
SMTP_PASSWORD = "smtp-Pa55word-9f3c"
SECRETS = (BOT_TOKEN, SIGNING_SECRET, STRIPE_KEY, WEBHOOK_SECRET, SMTP_PASSWORD)

VISA = "4242424242424242"
CARD_TYPED = "4242 4242 4242 4242"
ANN_ID = "W111"
ANN = Actor(email="ann@acme.test", principal=f"slack:T111:{ANN_ID}", display_name="Ann Lee")
SAMPLE: dict[str, Any] = {
    "accounts": [
        {
            "id": "acme", "name": "Acme Corp", "currency": "usd",
            "contacts": [{"email": "ann@acme.test", "name": "Ann Lee"}],
            "invoices": [
                {"number": "INV-1", "issued_on": "2026-10-01", "due_on": "2026-10-31",
                 "amount_due": 125000, "currency": "usd", "status": "open"},
                {"number": "INV-2", "issued_on": "2026-11-01", "due_on": "2026-12-01",
                 "amount_due": 50050, "currency": "usd", "status": "open"},
            ],
        },
        {
            "id": "globex", "name": "Globex", "currency": "usd",
            "contacts": [{"email": "ann@acme.test", "name": "Ann Lee"}],
            "invoices": [{"number": "G-1", "issued_on": "2026-06-01", "due_on": "2026-07-01",
                          "amount_due": 3000, "currency": "usd", "status": "open"}],
        },
        {
            "id": "initech", "name": "Initech", "currency": "usd",
            "contacts": [{"email": "peter@initech.test", "name": "Peter Gibbons"}],
            "invoices": [{"number": "I-1", "issued_on": "2026-11-01", "due_on": "2026-11-20",
                          "amount_due": 7000, "currency": "usd", "status": "open"}],
        },
    ]
}


def _ack_reply(response: httpx.Response) -> bool:
    """Whether a slash command's ack body is itself the reply (a message with text or blocks)."""
    try:
        message = response.json() if response.status_code == 200 and response.content else None
    except ValueError:
        return False
    return isinstance(message, dict) and bool(message.get("text") or message.get("blocks"))


def wait_until(check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return found


@dataclass
class FullRun:
    http: TestClient
    runtime: SlackRuntime
    services: Services
    slack: SlackAPI
    smtp: SmtpSink
    stripe: stripe.StripeClient
    db: Database
    settings: Settings
    acme_card: str
    initech_card: str
    ack_replies: dict[str, str] = field(default_factory=dict)  # response_url -> the reply in the ack

    def post(self, body: bytes) -> httpx.Response:
        return self.http.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))

    def command(self, text: str, user: str = ANN_ID) -> tuple[httpx.Response, str]:
        url = self.slack.response_url
        response = self.post(slash_command_body(text, user_id=user, response_url=url))
        if _ack_reply(response):
            self.ack_replies[url] = response.text
        return response, url

    def press(self, action_id: str, value: dict[str, Any], user: str = ANN_ID) -> tuple[httpx.Response, str]:
        url = self.slack.response_url
        payload = block_actions_payload(button_action(action_id, json.dumps(value)), user_id=user, response_url=url)
        return self.post(interaction_body(payload)), url

    def submit(self, callback_id: str, values: dict[str, Any], metadata: str = "", view_id: str = "V_SEC",
               user: str = ANN_ID) -> httpx.Response:
        payload = view_submission_payload(callback_id, values, metadata, user_id=user, view_id=view_id)
        return self.post(interaction_body(payload))

    def replies(self, url: str) -> str:
        """What the person was shown: the command's ack body when it was the reply, else the
        posts to its response_url."""
        if url in self.ack_replies:
            return self.ack_replies[url]
        posts = wait_until(lambda: self.slack.response_url_posts(url), f"a reply to {url}")
        return " ".join(p.body.decode() for p in posts)

    def last_view(self, callback_id: str) -> dict[str, Any]:
        def found() -> list[dict[str, Any]]:
            views = []
            for call in self.slack.calls("views.update") + self.slack.calls("views.open"):
                view = dict(call.json_args.get("view") or {})
                if view.get("callback_id") == callback_id:
                    view["id"] = (call.response or {}).get("view", {}).get("id") or call.json_args.get("view_id")
                    views.append(view)
            return views

        views: list[dict[str, Any]] = wait_until(found, f"a {callback_id} view")
        return views[-1]

    def pay_invoice(self, number: str) -> None:
        """Pay button -> modal -> submit with the default card, then wait until it is settled."""
        before = self.count("payment.succeeded")
        response, _ = self.press("pay_open", {"account": "acme", "invoice": number})
        assert response.status_code == 200
        view = self.last_view("pay_modal")
        values = {"pay_method": {"pay_method_select": {
            "type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": "Visa"},
                                                         "value": self.acme_card}}}}
        response = self.submit("pay_modal", values, str(view.get("private_metadata", "")), str(view["id"]))
        assert response.status_code == 200
        wait_until(lambda: self.count("payment.succeeded") > before, "the payment to settle")

    def count(self, action: str) -> int:
        return sum(1 for entry in self.services.audit.entries() if entry.action == action)

    def escalate(self, message: str) -> None:
        """The support modal, submitted; waits for the e-mail to reach the SMTP server."""
        values = {
            TOPIC_BLOCK: {TOPIC_INPUT: select_input_value("other", "Something else")},
            MESSAGE_BLOCK: {MESSAGE_INPUT: text_input_value(message)},
        }
        before = len(self.smtp.messages)
        assert self.submit("support_modal", values, json.dumps({"account": "acme"})).status_code == 200
        wait_until(lambda: len(self.smtp.messages) > before, "the escalation e-mail")

    def stripe_webhook(self, event: dict[str, Any]) -> httpx.Response:
        payload = json.dumps(event).encode()
        headers = stripe_signed_headers(WEBHOOK_SECRET, payload)
        return self.http.post("/stripe/webhook", content=payload, headers=headers)

    def everything_stored(self) -> str:
        """Every value in every table, as text."""
        chunks = []
        with self.db.engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                for row in connection.execute(table.select()):
                    chunks.append(" ".join(str(value) for value in row))
        return "\n".join(chunks)

    def everything_sent(self) -> str:
        """Every Slack Web API call, response_url post and e-mail the bot made."""
        calls = [f"{c.method} {json.dumps(c.json_args)} {c.body.decode(errors='replace')}" for c in self.slack.calls()]
        mails = [m.as_string() for m in self.smtp.messages]
        return "\n".join(calls + mails)


def _customer_with_card(client: stripe.StripeClient, email: str) -> tuple[str, str]:
    customer = client.v1.customers.create(params={"email": email})
    card = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": VISA, "exp_month": 12, "exp_year": 2031, "cvc": "123"}}
    )
    client.v1.payment_methods.attach(card.id, params={"customer": customer.id})
    return str(customer.id), str(card.id)


@pytest.fixture
def full_run(
    database_url: str, db: Database, clock: FixedClock, localstripe_server: LocalStripe  # noqa: F811
) -> Iterator[FullRun]:
    localstripe_server.reset()
    with SlackAPI() as slack, SmtpSink(username=SMTP_USER, password=SMTP_PASSWORD) as smtp:
        slack.add_user(ANN_ID, "ann@acme.test", "Ann Lee")
        slack.add_user("W222", "peter@initech.test", "Peter Gibbons")
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, DATABASE_URL=database_url,
            SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.base_url,
            STRIPE_API_KEY=STRIPE_KEY, STRIPE_API_BASE=localstripe_server.base_url,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            SMTP_URL=f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{smtp.port}", SMTP_FROM="billing-bot@vendor.test",
            SUPPORT_EMAIL="support@vendor.test", PUBLIC_URL="http://bot.test",
        )
        runtime = build_runtime(settings, clock=clock, db=db, identity=IdentityResolver())
        services = runtime.services
        services.importer.run(SAMPLE)
        client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": localstripe_server.base_url},
                                     max_network_retries=0)
        acme_customer, acme_card = _customer_with_card(client, "ann@acme.test")
        initech_customer, initech_card = _customer_with_card(client, "peter@initech.test")
        with db.transaction() as session:
            for external_id, customer in (("acme", acme_customer), ("initech", initech_customer)):
                record = session.scalars(select(AccountRecord).where(AccountRecord.external_id == external_id)).one()
                record.stripe_customer_id = customer
            session.execute(text("SELECT 1"))
        services.payment_methods.make_default(ANN, "acme", acme_card)
        app = create_http_app(services, settings, runtime.app)
        with TestClient(app) as http:
            yield FullRun(http, runtime, services, slack, smtp, client, db, settings, acme_card, initech_card)
        runtime.notifier.shutdown()
