"""A whole bot for the security tests: the HTTP app (as ``serve`` runs it) with every secret set,
driven by signed requests, on localstripe, the Slack Web API stand-in and an SMTP server with AUTH.

The ``full_run`` fixture (tests/security/conftest.py) builds one per test.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import stripe
from starlette.testclient import TestClient

from billing_core.container import Services
from billing_core.db.base import Base
from billing_core.db.database import Database
from bot.compose import SlackRuntime
from bot.settings import Settings
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import select_input_value, stripe_signed_headers, text_input_value
from handlers.escalations.payloads import MESSAGE_BLOCK, MESSAGE_INPUT, TOPIC_BLOCK, TOPIC_INPUT
from tests.support.bot_harness import SlackDriver
from tests.support.sample_accounts import ANN, ANN_ID, wait_until
from tests.support.smtp_sink import SmtpSink
from tests.support.stripe_helper import VISA

__all__ = ["ANN", "ANN_ID", "CARD_TYPED", "SECRETS", "SMTP_PASSWORD", "VISA", "FullRun", "wait_until"]

BOT_TOKEN = "xoxb-1111-2222-SecretBotToken"
SIGNING_SECRET = "signing-secret-4d1f6c2b9e"
STRIPE_KEY = "sk_test_SecretStripeKey51Hx"
WEBHOOK_SECRET = "whsec_SecretWebhook7Qz"
SMTP_USER = "mailer"
SMTP_PASSWORD = "smtp-Pa55word-9f3c"
SECRETS = (BOT_TOKEN, SIGNING_SECRET, STRIPE_KEY, WEBHOOK_SECRET, SMTP_PASSWORD)

CARD_TYPED = "4242 4242 4242 4242"


class FullRun(SlackDriver):
    """The bot's HTTP app in-process (Starlette's ``TestClient``), with its runtime and what it talks to."""

    def __init__(
        self,
        http: TestClient,
        runtime: SlackRuntime,
        settings: Settings,
        slack: SlackAPI,
        smtp: SmtpSink,
        stripe_client: stripe.StripeClient,
        db: Database,
        acme_card: str,
        initech_card: str,
    ) -> None:
        super().__init__(http, slack, SIGNING_SECRET)
        self.runtime = runtime
        self.services: Services = runtime.services
        self.settings = settings
        self.smtp = smtp
        self.stripe = stripe_client
        self.db = db
        self.acme_card = acme_card
        self.initech_card = initech_card

    def last_view_of(self, callback_id: str) -> dict[str, Any]:
        """The latest modal content with ``callback_id``, its id filled in."""
        return self.last_view(where=lambda view: view.get("callback_id") == callback_id, timeout=15.0)

    def pay_invoice(self, number: str) -> None:
        """Pay button -> modal -> submit with the default card, then wait until it is settled."""
        before = self.count("payment.succeeded")
        response, _ = self.press("pay_open", {"account": "acme", "invoice": number})
        assert response.status_code == 200
        view = self.last_view_of("pay_modal")
        values = {
            "pay_method": {
                "pay_method_select": {
                    "type": "static_select",
                    "selected_option": {"text": {"type": "plain_text", "text": "Visa"}, "value": self.acme_card},
                }
            }
        }
        response = self.submit_values("pay_modal", values, str(view.get("private_metadata", "")), str(view["id"]))
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
        assert self.submit_values("support_modal", values, json.dumps({"account": "acme"})).status_code == 200
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
