"""A receipt for an account whose name holds a line break of any kind is sent, and a receipt that
cannot be built fails for good where operators look (issue 25, item 3).

Before: the Subject was flattened for ``\\n`` only, ``EmailMessage`` raised on CR, U+2028, NEL…
before the delivery's try block, and the event stayed ``sending`` for ever (re-claimed every 30 s
with a traceback) while ``/healthz`` said ok. Real parts: the database, the outbox, an SMTP server
(aiosmtpd), and ``billing-bot webhooks retry --failed`` run as a process.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from billing_core.adapters.metrics import OutboundCollector
from billing_core.adapters.smtp import SmtpMailer
from billing_core.adapters.threads import ThreadBackground
from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.db.tables import OutboundEventRecord
from billing_core.outbound.delivery import OutboundDelivery
from billing_core.outbound.email import EmailChannel
from billing_core.outbound.events import EMAIL, OutboundSink, enable, record_event
from billing_core.payments.receipts import RECEIPT, build_receipt_email
from tests.support import cli
from tests.support.smtp_sink import SmtpSink

BREAKS = {
    "CR": "\r",
    "LF": "\n",
    "CR LF": "\r\n",
    "vertical tab": "\x0b",
    "form feed": "\x0c",
    "NEL": "\x85",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "file separator": "\x1c",
    "record separator": "\x1e",
    "NUL": "\x00",
    "escape": "\x1b",
}


def receipt_data(account_name: str, amount: object = 125000) -> dict[str, object]:
    return {
        "to": "ann@acme.test",
        "payment_id": 7,
        "reference": "payment #7",
        "account_name": account_name,
        "amount": amount,
        "currency": "usd",
        "invoices": [f"INV-1{account_name[-3:]}"],
        "card_brand": "visa",
        "card_last4": "4242",
        "stripe_payment_intent_id": "pi_1",
        "paid_at": "2026-11-25T10:00:00+00:00",
        "receipt_url": "",
    }


@pytest.fixture
def outbox(db: Database, clock: FixedClock, smtp_sink: SmtpSink) -> OutboundDelivery:
    enable(db, OutboundSink(frozenset({EMAIL})))
    channel = EmailChannel(
        SmtpMailer.from_url(smtp_sink.url),
        {RECEIPT: lambda event_id, data: build_receipt_email(event_id, data, sender="billing@vendor.test")},
    )
    return OutboundDelivery(db=db, clock=clock, background=ThreadBackground(), channels=[channel])


def queue_receipt(db: Database, now: datetime, data: dict[str, object]) -> str:
    with db.transaction() as session:
        event_id = record_event(session, channel=EMAIL, type=RECEIPT, subject="payment:7", data=data, now=now)
    assert event_id is not None
    return event_id


def status_of(db: Database, event_id: str) -> str:
    with db.read() as session:
        return str(session.scalar(select(OutboundEventRecord.status).where(OutboundEventRecord.id == event_id)))


@pytest.mark.parametrize("line_break", BREAKS.values(), ids=BREAKS.keys())
def test_a_receipt_for_an_account_whose_name_holds_any_line_break_is_sent_with_a_one_line_subject(
    db: Database, clock: FixedClock, outbox: OutboundDelivery, smtp_sink: SmtpSink, line_break: str
) -> None:
    event_id = queue_receipt(db, clock.now(), receipt_data(f"Acme{line_break}Bcc: mallory@evil.test{line_break}Corp"))
    assert outbox.deliver_due().delivered == 1
    [message] = smtp_sink.wait_for(1)
    assert message["Subject"] == "Receipt: $1,250.00 paid to Acme Bcc: mallory@evil.test Corp"
    assert message["Bcc"] is None and message["To"] == "ann@acme.test"
    assert status_of(db, event_id) == "delivered" and outbox.health()["ok"] is True


def test_a_receipt_that_cannot_be_built_fails_for_good_at_once_and_operators_see_it(
    db: Database, clock: FixedClock, outbox: OutboundDelivery, smtp_sink: SmtpSink
) -> None:
    event_id = queue_receipt(db, clock.now(), receipt_data("Acme", amount="not a number"))
    assert outbox.deliver_due().failed == 1
    assert status_of(db, event_id) == "failed" and smtp_sink.messages == []
    health = outbox.health()
    assert health["ok"] is False and health["failed_events"] == [event_id] and health["queued"] == 0
    registry = CollectorRegistry()
    registry.register(OutboundCollector(outbox))
    assert registry.get_sample_value("billing_outbound_events_failed") == 1
    with db.read() as session:
        error = session.scalar(select(OutboundEventRecord.last_error).where(OutboundEventRecord.id == event_id))
    assert error is not None and error.startswith("the e-mail could not be built: ValueError")


def test_webhooks_retry_failed_finds_the_receipt_that_could_not_be_built(
    db: Database, clock: FixedClock, outbox: OutboundDelivery, smtp_sink: SmtpSink, database_url: str
) -> None:
    queue_receipt(db, clock.now(), receipt_data("Acme", amount="not a number"))
    assert outbox.deliver_due().failed == 1
    env = cli.cli_env(
        ("SLACK_", "STRIPE_", "BILLING_", "SMTP_"),
        DATABASE_URL=database_url,
        SMTP_URL=smtp_sink.url,
        SMTP_FROM="billing@vendor.test",
    )
    result = cli.run_cli("webhooks", "retry", "--failed", env=env)  # the command, in this process
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "re-queued 1; delivered 0, retrying 0, failed 1"
