"""An escalation reaches billing support by e-mail, through a real SMTP server."""

from __future__ import annotations

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from tests.support.escalations import ANN, PETER, SAMPLE, add_payment, plain_body
from tests.support.services import MakeServices
from tests.support.smtp_sink import SmtpSink


def test_the_email_goes_to_support_with_the_contract_headers(mail_services: Services, smtp_sink: SmtpSink) -> None:
    view = mail_services.escalations.create(ANN, "acme", "dispute", "The October charge is wrong.", "INV-1001")

    counts = mail_services.escalations.outbox.deliver_due()

    assert counts.sent == 1
    [mail] = smtp_sink.received
    message = mail.message
    assert view.reference == f"ESC-{view.id:06d}"
    assert message["Subject"] == f"[{view.reference}] Dispute a charge: Acme Corp"
    assert message["To"] == "support@vendor.test"
    assert message["From"] == "billing-bot@vendor.test"
    assert message["Reply-To"].addresses[0].addr_spec == "ann@acme.test"
    assert mail.rcpt_tos == ["support@vendor.test"]
    assert mail.mail_from == "billing-bot@vendor.test"


def test_the_email_body_gives_account_invoices_requester_payments_and_message(
    mail_services: Services, smtp_sink: SmtpSink, db: Database, clock: FixedClock
) -> None:
    add_payment(db, clock, status="failed", amount=125000, reason="Your card was declined.")
    mail_services.escalations.create(ANN, "acme", "payment_plan", "Can we pay in three parts?", "INV-1001")
    mail_services.escalations.outbox.deliver_due()

    body = plain_body(smtp_sink.messages[0])

    assert "Acme Corp (id acme)" in body
    assert "INV-1001: $1,250.00 outstanding of $1,250.00, due 2026-10-20 (open, OVERDUE)" in body
    assert "INV-1002: $500.50 outstanding" in body
    assert "Name:   Ann Lee" in body
    assert "E-mail: ann@acme.test" in body
    assert "Chat:   Slack user W111 in workspace T111" in body
    assert "$1,250.00 with visa ending 4242 for -: failed (Your card was declined.)" in body
    assert "> Can we pay in three parts?" in body


def test_an_escalation_without_an_invoice_still_lists_the_open_invoices(
    mail_services: Services, smtp_sink: SmtpSink
) -> None:
    mail_services.escalations.create(PETER, "initech", "billing_contacts", "Please add mia@initech.test.")
    mail_services.escalations.outbox.deliver_due()

    message = smtp_sink.messages[0]
    body = plain_body(message)
    assert message["Subject"].endswith("Update billing contacts: Initech KK")
    assert "Related invoice" not in body
    assert "J-1: ¥125,000 outstanding" in body
    assert "Recent payment attempts\n  none" in body


def test_creating_tells_the_requester_it_is_queued_before_anything_is_sent(
    mail_services: Services, smtp_sink: SmtpSink
) -> None:
    view = mail_services.escalations.create(ANN, "acme", "other", "Hello")

    assert view.delivery_status == "queued"
    assert smtp_sink.received == []
    assert [e.reference for e in mail_services.escalations.list_open(ANN)] == [view.reference]


def test_immediate_delivery_off_the_request_thread_sends_it_once(mail_services: Services, smtp_sink: SmtpSink) -> None:
    view = mail_services.escalations.create(ANN, "acme", "other", "Hello")

    mail_services.escalations.outbox.deliver_soon(view.id)
    mail_services.escalations.outbox.wait_for_deliveries(timeout=10)
    mail_services.escalations.outbox.deliver_due()

    assert len(smtp_sink.received) == 1
    assert mail_services.escalations.get(view.reference).delivery_status == "sent"


def test_smtp_login_is_used_when_the_url_has_credentials(make_services: MakeServices) -> None:
    with SmtpSink(username="bot", password="s3cr:et") as sink:
        url = f"smtp://bot:s3cr%3Aet@{sink.host}:{sink.port}"
        services = make_services(accounts=SAMPLE, SMTP_URL=url)
        services.escalations.create(ANN, "acme", "other", "Hello")
        services.escalations.outbox.deliver_due()

        assert [mail.login for mail in sink.received] == ["bot"]
