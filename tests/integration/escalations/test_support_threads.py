"""Support threads in the domain (issue 31): which request a message belongs to, who may write and
change the state, each message stored once and audited, and e-mailed once to billing support."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import AuditEventRecord, ContactRecord, EscalationMessageRecord, EscalationRecord
from billing_core.errors import NotYourRequest
from billing_core.escalations.threads import Link, SupportThreads
from billing_core.escalations.views import EscalationView
from tests.support.escalations import ANN, PETER
from tests.support.smtp_sink import SmtpSink

STAFF = "slack:T111:W777"


def posted(services: Services, db: Database, view: EscalationView) -> EscalationView:
    """The request as the outbox leaves it once posted to the staff channel, with a DM thread."""
    with db.transaction() as session:
        session.execute(
            update(EscalationRecord).where(EscalationRecord.id == view.id).values(slack_channel="G1", slack_ts="100.1")
        )
    return services.escalations.threads.attach_requester_dm(view.reference, "DW111", "200.1")


def audit_actions(db: Database) -> list[tuple[str, str]]:
    with db.read() as session:
        rows = session.execute(select(AuditEventRecord.action, AuditEventRecord.outcome).order_by(AuditEventRecord.id))
        return [
            (str(a), str(o))
            for a, o in rows
            if (str(a).startswith("escalation.") and a != "escalation.create") or a == "forgery.refused"
        ]


def test_a_message_slack_delivers_twice_is_stored_and_relayed_once(mail_services: Services, db: Database) -> None:
    view = posted(mail_services, db, mail_services.escalations.create(ANN, "acme", "other", "Hello"))
    threads = mail_services.escalations.threads

    first = threads.staff_message(
        channel="G1", thread_ts="100.1", ts="100.2", staff_principal=STAFF, staff_name="Sam", text="Hi", links=[]
    )
    again = threads.staff_message(
        channel="G1", thread_ts="100.1", ts="100.2", staff_principal=STAFF, staff_name="Sam", text="Hi", links=[]
    )

    assert first is not None and first.new and first.escalation.reference == view.reference
    assert again is not None and not again.new and again.message.id == first.message.id
    assert [m.text for m in threads.messages(view.reference)] == ["Hi"]
    assert audit_actions(db) == [("escalation.message", "stored")]


def test_a_thread_that_is_no_requests_post_takes_no_message(mail_services: Services, db: Database) -> None:
    posted(mail_services, db, mail_services.escalations.create(ANN, "acme", "other", "Hello"))
    threads = mail_services.escalations.threads
    for channel, thread_ts in (("G2", "100.1"), ("G1", "999.9"), ("", "")):
        assert (
            threads.staff_message(
                channel=channel, thread_ts=thread_ts, ts="1.1", staff_principal=STAFF, staff_name="", text="x", links=[]
            )
            is None
        )
    with db.read() as session:
        assert session.scalars(select(EscalationMessageRecord)).all() == []


def test_a_requester_who_is_no_longer_a_contact_or_someone_else_reaches_nobody(
    mail_services: Services, db: Database
) -> None:
    view = posted(mail_services, db, mail_services.escalations.create(ANN, "acme", "other", "Hello"))
    threads = mail_services.escalations.threads

    assert (
        threads.requester_message(actor=PETER, channel="DW111", thread_ts="200.1", ts="2.1", text="x", links=[]) is None
    )
    with db.transaction() as session:
        session.execute(delete(ContactRecord).where(ContactRecord.email == "ann@acme.test"))
    assert (
        threads.requester_message(actor=ANN, channel="DW111", thread_ts="200.1", ts="2.2", text="x", links=[]) is None
    )

    assert threads.messages(view.reference) == []
    assert audit_actions(db) == [("forgery.refused", "refused"), ("forgery.refused", "refused")]


def test_the_requester_changes_the_state_only_from_their_threads_first_message(
    mail_services: Services, db: Database
) -> None:
    view = posted(mail_services, db, mail_services.escalations.create(ANN, "acme", "other", "Hello"))
    threads = mail_services.escalations.threads

    for actor, channel, ts in ((PETER, "DW111", "200.1"), (ANN, "DW111", "200.2"), (ANN, "DW222", "200.1")):
        with pytest.raises(NotYourRequest):
            threads.set_state_as_requester(view.reference, "resolved", actor=actor, channel=channel, ts=ts)
    assert mail_services.escalations.get(view.reference).state == "open"

    resolved = threads.set_state_as_requester(view.reference, "resolved", actor=ANN, channel="DW111", ts="200.1")
    assert resolved.state == "resolved" and resolved.resolved_by == ANN.principal
    assert audit_actions(db)[-1] == ("escalation.state", "ok")
    assert [a for a in audit_actions(db) if a[0] == "forgery.refused"] == [("forgery.refused", "refused")] * 3


def test_waiting_on_the_customer_still_counts_as_an_open_request(mail_services: Services, db: Database) -> None:
    view = posted(mail_services, db, mail_services.escalations.create(ANN, "acme", "other", "Hello"))
    waiting = mail_services.escalations.threads.set_state(view.reference, "waiting", principal=STAFF)
    assert waiting.state == "waiting" and waiting.state_label == "Waiting on customer"
    assert [e.reference for e in mail_services.escalations.list_open(ANN)] == [view.reference]
    assert mail_services.escalations.resolve(view.reference, STAFF).state == "resolved"


def test_the_staff_name_is_the_vendors_text_unless_it_says_person(db: Database, clock: FixedClock) -> None:
    assert SupportThreads(db=db, clock=clock, staff_name="Acme billing").signature("Sam Staff") == "Acme billing"
    assert SupportThreads(db=db, clock=clock, staff_name="person").signature("Sam Staff") == "Sam Staff"
    assert SupportThreads(db=db, clock=clock, staff_name="person").signature("") == "Billing team"


def test_a_thread_message_is_emailed_once_after_the_mail_server_was_down(
    mail_services: Services, db: Database, clock: FixedClock, smtp_sink: SmtpSink
) -> None:
    view = posted(mail_services, db, mail_services.escalations.create(ANN, "acme", "other", "Hello"))
    outbox = mail_services.escalations.outbox
    outbox.deliver_due()
    smtp_sink.clear()
    smtp_sink.stop()
    relay = mail_services.escalations.threads.requester_message(
        actor=ANN,
        channel="DW111",
        thread_ts="200.1",
        ts="2.1",
        text="Here is the PO",
        links=[Link("https://acme.slack.com/files/po.pdf", "po.pdf")],
    )
    assert relay is not None
    assert outbox.thread_mail.deliver(relay.message.id) == 0  # refused by the mail server: kept

    smtp_sink.start()
    later = clock.now() + timedelta(hours=2)
    outbox.deliver_due(later)
    outbox.deliver_due(later + timedelta(hours=1))

    [mail] = smtp_sink.messages
    assert mail["X-Billing-Escalation"] == view.reference
    assert mail["Subject"] == f"Re: [{view.reference}] Something else: Acme Corp"
    assert (
        mail["In-Reply-To"]
        == mail["References"]
        == f"<{view.reference.lower()}.{view.created_at:%Y%m%d%H%M%S}@vendor.test>"
    )
    body = mail.get_body(("plain",))
    assert body is not None
    text = str(body.get_content())
    assert "> Here is the PO" in text and "po.pdf: https://acme.slack.com/files/po.pdf" in text
    assert "the requester, Ann Lee <ann@acme.test>" in text
