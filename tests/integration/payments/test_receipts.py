"""The payer's receipt e-mail after a successful payment, through ``SMTP_URL``, sent once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from billing_core.clock import FixedClock
from billing_core.container import Services
from bot.settings import Settings
from tests.support.payments import ANN, DECLINES_AT_CHARGE, RecordingNotifier, Setup, Stripe, add_card
from tests.support.services import MakeServices
from tests.support.smtp_sink import SmtpSink, part_text


@pytest.fixture
def mail(
    pay: Services,
    pay_settings: Settings,
    make_services: MakeServices,
    notifier: RecordingNotifier,
    smtp_sink: SmtpSink,
) -> Services:
    """Services on the same database with SMTP_URL set: receipts are recorded and can be sent."""
    settings = pay_settings.model_copy(
        update={"smtp_url": SecretStr(smtp_sink.url), "smtp_from": "billing@vendor.test"}
    )
    services = make_services(settings=settings, notifier=notifier)
    assert services.outbound is not None and services.payments is not None
    return services


def test_a_successful_payment_e_mails_one_receipt_to_the_payer(
    mail: Services,
    cards: Setup,
    clock: FixedClock,
    smtp_sink: SmtpSink,
) -> None:
    assert mail.outbound is not None and mail.payments is not None
    payments = mail.require_payments().service
    done = payments.execute(payments.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card).id)
    assert done.status == "succeeded"

    assert mail.outbound.deliver_due().delivered == 1
    clock.set(clock.now() + timedelta(hours=1))
    assert mail.outbound.deliver_due().delivered == 0  # sent once
    [message] = smtp_sink.wait_for(1)
    assert message["To"] == "ann@acme.test" and message["From"] == "billing@vendor.test"
    assert "$1,250.00" in message["Subject"]
    text = part_text(message, "plain")
    page = part_text(message, "html")
    for part in (text, page):
        assert "$1,250.00" in part and "INV-1" in part and "4242" in part and f"payment #{done.id}" in part
        assert "Visa" in part
    assert len(smtp_sink.messages) == 1


def test_a_declined_payment_sends_no_receipt(
    pay: Services,
    mail: Services,
    cards: Setup,
    stripe_api: Stripe,
    smtp_sink: SmtpSink,
) -> None:
    assert mail.outbound is not None and mail.payments is not None
    declining = add_card(pay, stripe_api, cards, DECLINES_AT_CHARGE)
    payments = mail.require_payments().service
    done = payments.execute(payments.start_invoice_payment(ANN, "acme", "INV-1", declining).id)
    assert done.status == "failed"
    assert mail.outbound.deliver_due().delivered == 0
    assert smtp_sink.messages == []


def test_a_mail_server_that_says_try_later_gets_the_receipt_on_the_retry_once(
    mail: Services,
    cards: Setup,
    clock: FixedClock,
    smtp_sink: SmtpSink,
) -> None:
    assert mail.outbound is not None and mail.payments is not None
    smtp_sink.reject_next()
    payments = mail.require_payments().service
    payments.execute(payments.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card).id)
    assert mail.outbound.deliver_due().retried == 1
    clock.set(clock.now() + timedelta(minutes=1))
    assert mail.outbound.deliver_due().delivered == 1
    assert len(smtp_sink.messages) == 1


def test_an_autopay_charge_e_mails_the_receipt_to_the_accounts_contacts_like_a_click(
    mail: Services,
    cards: Setup,
    clock: FixedClock,
    smtp_sink: SmtpSink,
) -> None:
    assert mail.outbound is not None and mail.autopay is not None and mail.payments is not None
    mail.autopay.turn_on(ANN, "acme")
    clock.set(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    assert mail.require_payments().autopay_pass.run().summary() == "charged 1, declined 0, skipped 0"

    assert mail.outbound.deliver_due().delivered == 1
    [message] = smtp_sink.wait_for(1)
    assert message["To"] == "ann@acme.test" and "$500.50" in message["Subject"]
    assert "INV-2" in part_text(message, "plain")
