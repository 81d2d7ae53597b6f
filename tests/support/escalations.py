"""Escalation fixtures: sample accounts, a real SMTP server, and services wired to it; a Bolt app with
the support listeners. Registered for every test by ``pytest_plugins`` in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, PaymentRecord
from billing_core.views import Actor
from devtools.loopback.slack_api import SlackAPI
from handlers.escalations import listeners as support
from handlers.kit.identity import IdentityResolver
from handlers.registry import listener_deps
from handlers.runtime.follow_up import put_later
from tests.support.bolt_requests import signed_request
from tests.support.sample_accounts import account, invoice
from tests.support.services import MakeServices
from tests.support.smtp_sink import SmtpSink

ANN = Actor(email="ann@acme.test", principal="slack:T111:W111", display_name="Ann Lee")
PETER = Actor(email="peter@initech.test", principal="slack:T111:W222", display_name="Peter Gibbons")

SAMPLE: dict[str, Any] = {
    "accounts": [
        account(
            "acme",
            "Acme Corp",
            "usd",
            [("ann@acme.test", "Ann Lee")],
            [
                invoice("INV-1001", "2026-10-01", "2026-10-20", 125000, description="October"),
                invoice("INV-1002", "2026-11-01", "2026-12-01", 50050, description="November"),
            ],
        ),
        account(
            "initech",
            "Initech KK",
            "jpy",
            [("peter@initech.test", "Peter Gibbons")],
            [
                invoice("J-1", "2026-11-01", "2026-11-20", 125000, "jpy"),
            ],
        ),
    ]
}


@pytest.fixture
def mail_services(make_services: MakeServices, smtp_sink: SmtpSink) -> Services:
    """Services on the sample accounts, e-mailing support through the SMTP sink."""
    return make_services(
        accounts=SAMPLE,
        SMTP_URL=smtp_sink.url,
        SUPPORT_EMAIL="support@vendor.test",
        SMTP_FROM="billing-bot@vendor.test",
    )


def add_payment(db: Database, clock: FixedClock, *, status: str, amount: int, reason: str | None = None) -> None:
    """A payment attempt by Ann on Acme, as the payments capability would store it."""
    with db.transaction() as session:
        account = session.query(AccountRecord).filter_by(external_id="acme").one()
        count = session.query(PaymentRecord).count()
        session.add(
            PaymentRecord(
                account_id=account.id,
                amount_minor=amount,
                currency="usd",
                status=status,
                idempotency_key=f"payatt_test_{count}",
                card_brand="visa",
                card_last4="4242",
                started_by_email=ANN.email,
                started_by_principal=ANN.principal,
                failure_reason=reason,
                created_at=clock.now() - timedelta(hours=count + 1),
                updated_at=clock.now(),
            )
        )


def plain_body(message: EmailMessage) -> str:
    """The text part, with the wire's CRLF line ends back to newlines."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


SUPPORT_SECRET = "test-signing-secret"
STAFF_CHANNEL = "CSTAFF"


@pytest.fixture
def support_app(
    make_services: MakeServices, smtp_sink: SmtpSink, slack_api: SlackAPI
) -> Iterator[tuple[App, Services]]:
    """A Bolt app with the support listeners on the sample accounts (SMTP sink, staff channel)."""
    client = WebClient(token="xoxb-test", base_url=slack_api.base_url)
    services = make_services(
        accounts=SAMPLE,
        staff_client=client,
        SMTP_URL=smtp_sink.url,
        SUPPORT_EMAIL="support@vendor.test",
        SUPPORT_SLACK_CHANNEL=STAFF_CHANNEL,
    )
    slack_api.add_user("W111", "ann@acme.test", "Ann Lee")
    slack_api.add_user("W222", "stranger@else.test", "Stranger")
    slack_api.add_user("WSTAFF", "staff@vendor.test", "Sam Staff")
    app = App(client=client, signing_secret=SUPPORT_SECRET, token_verification_enabled=False)
    deps = listener_deps(services, IdentityResolver(), "support@vendor.test", client_for_principal=lambda _p: client)

    def put_deps(context: BoltContext, next: Any) -> None:
        context["deps"] = deps
        put_later(context, deps.later)
        next()

    app.use(put_deps)
    support.register(app)
    yield app, services


def dispatch(app: App, body: bytes) -> Any:
    return app.dispatch(signed_request(SUPPORT_SECRET, body))
