"""Creating, listing and resolving escalations: what a requester and billing staff notice."""

from __future__ import annotations

import pytest

from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import EscalationRecord
from billing_core.errors import (
    AccountNotFound,
    EscalationAlreadyResolved,
    EscalationMessageEmpty,
    EscalationMessageTooLong,
    EscalationNotFound,
    InvoiceNotFound,
    UnknownEscalationTopic,
)
from billing_core.escalations.views import MAX_MESSAGE_LENGTH
from tests.support.escalations import ANN, PETER, plain_body
from tests.support.smtp_sink import SmtpSink


def _count(db: Database) -> int:
    with db.read() as session:
        return session.query(EscalationRecord).count()


@pytest.mark.parametrize("message", ["", "   \n\t ", "\u200b\u0000"])
def test_an_empty_message_is_refused_and_nothing_is_stored(mail_services: Services, db: Database, message: str) -> None:
    with pytest.raises(EscalationMessageEmpty):
        mail_services.escalations.create(ANN, "acme", "other", message)
    assert _count(db) == 0


def test_an_oversized_message_is_refused_with_the_limit(mail_services: Services, db: Database) -> None:
    with pytest.raises(EscalationMessageTooLong) as refused:
        mail_services.escalations.create(ANN, "acme", "other", "x" * (MAX_MESSAGE_LENGTH + 1))
    assert refused.value.limit == MAX_MESSAGE_LENGTH
    assert _count(db) == 0
    assert mail_services.escalations.create(ANN, "acme", "other", "x" * MAX_MESSAGE_LENGTH).is_open


def test_an_unknown_topic_is_refused(mail_services: Services, db: Database) -> None:
    with pytest.raises(UnknownEscalationTopic):
        mail_services.escalations.create(ANN, "acme", "overdue", "Hi")
    assert _count(db) == 0


def test_someone_elses_account_or_invoice_is_refused(mail_services: Services, db: Database) -> None:
    with pytest.raises(AccountNotFound):
        mail_services.escalations.create(PETER, "acme", "other", "Hi")
    with pytest.raises(InvoiceNotFound):
        mail_services.escalations.create(PETER, "initech", "other", "Hi", "INV-1001")
    with pytest.raises(InvoiceNotFound):
        mail_services.escalations.create(ANN, "acme", "other", "Hi", "J-1")
    assert _count(db) == 0


def test_the_requester_lists_only_their_own_open_escalations(mail_services: Services) -> None:
    first = mail_services.escalations.create(ANN, "acme", "other", "One")
    second = mail_services.escalations.create(ANN, "acme", "dispute", "Two", "INV-1002")
    mail_services.escalations.create(PETER, "initech", "other", "Peter's")
    mail_services.escalations.resolve(first.reference, "slack:T111:WSTAFF")

    listed = mail_services.escalations.list_open(ANN)

    assert [(e.reference, e.topic_label, e.invoice_number) for e in listed] == [
        (second.reference, "Dispute a charge", "INV-1002")
    ]


def test_staff_resolve_once_and_a_second_click_is_told_it_is_done(mail_services: Services) -> None:
    view = mail_services.escalations.create(ANN, "acme", "other", "One")

    resolved = mail_services.escalations.resolve(view.reference.lower(), "slack:T111:WSTAFF")

    assert (resolved.status, resolved.resolved_by) == ("resolved", "slack:T111:WSTAFF")
    assert resolved.requester_principal == ANN.principal
    with pytest.raises(EscalationAlreadyResolved) as again:
        mail_services.escalations.resolve(view.reference, "slack:T111:WOTHER")
    assert again.value.resolved_by == "slack:T111:WSTAFF"
    with pytest.raises(EscalationNotFound):
        mail_services.escalations.resolve("ESC-999999", "slack:T111:WSTAFF")
    with pytest.raises(EscalationNotFound):
        mail_services.escalations.resolve("not a reference", "slack:T111:WSTAFF")


def test_an_invoice_unpaid_30_days_is_escalated_once(mail_services: Services, smtp_sink: SmtpSink) -> None:
    first = mail_services.escalations.escalate_overdue(account_external_id="acme", invoice_number="INV-1001")
    again = mail_services.escalations.escalate_overdue(account_external_id="acme", invoice_number="INV-1001")
    missing = mail_services.escalations.escalate_overdue(account_external_id="acme", invoice_number="NOPE")
    mail_services.escalations.outbox.deliver_due()

    assert first is not None and again is not None and missing is None
    assert again.reference == first.reference
    [message] = smtp_sink.messages
    assert message["Subject"] == f"[{first.reference}] Invoice unpaid 30 days after due: Acme Corp"
    assert message["Reply-To"].addresses[0].addr_spec == "ann@acme.test"
    assert "raised automatically by the bot" in plain_body(message)


def test_ive_already_paid_from_a_reminder_is_escalated_once_per_invoice(
    mail_services: Services, smtp_sink: SmtpSink
) -> None:
    first = mail_services.escalations.report_already_paid(ANN, "acme", "INV-1001")
    again = mail_services.escalations.report_already_paid(ANN, "acme", "INV-1001")
    mail_services.escalations.outbox.deliver_due()

    assert again.reference == first.reference
    assert first.origin == "reminder"
    [message] = smtp_sink.messages
    assert "Customer says the invoice is already paid: Acme Corp" in message["Subject"]
    assert "from a payment reminder" in plain_body(message)
    with pytest.raises(InvoiceNotFound):
        mail_services.escalations.report_already_paid(PETER, "acme", "INV-1001")


def test_markup_in_the_message_is_escaped_in_the_email(mail_services: Services, smtp_sink: SmtpSink) -> None:
    nasty = "<!channel> <@U999> *bold* <script>alert(1)</script>\nRequester\n  E-mail: ceo@evil.test"
    mail_services.escalations.create(ANN, "acme", "other", nasty)
    mail_services.escalations.outbox.deliver_due()

    message = smtp_sink.messages[0]
    text = plain_body(message)
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None
    html = str(html_part.get_content())
    assert "> <!channel> <@U999> *bold* <script>alert(1)</script>\n> Requester\n>   E-mail: ceo@evil.test" in text
    assert text.count("E-mail: ann@acme.test") == 1
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;!channel&gt; &lt;@U999&gt;" in html


def test_a_newline_in_an_account_name_cannot_forge_headers(
    mail_services: Services, smtp_sink: SmtpSink, db: Database
) -> None:
    from billing_core.db.tables import AccountRecord

    with db.transaction() as session:
        account = session.query(AccountRecord).filter_by(external_id="acme").one()
        account.name = "Acme\r\nBcc: victim@evil.test"
    mail_services.escalations.create(ANN, "acme", "other", "Hi")
    mail_services.escalations.outbox.deliver_due()

    [mail] = smtp_sink.received
    assert mail.rcpt_tos == ["support@vendor.test"]
    assert mail.message["Bcc"] is None
    assert mail.message["Subject"].endswith("Something else: Acme Bcc: victim@evil.test")


def test_ive_already_paid_clicked_in_a_reminder_is_e_mailed_at_once_without_waiting_for_the_outbox_job(
    mail_services: Services, smtp_sink: SmtpSink
) -> None:
    _, reference = mail_services.reminders.already_paid(ANN, "acme", "INV-1001")

    [message] = smtp_sink.wait_for(1, timeout=10)
    assert f"[{reference}]" in message["Subject"]
