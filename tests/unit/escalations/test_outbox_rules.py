"""The escalation outbox's rules on the in-memory mailer (``tests/support/fakes.py``): a refused
e-mail is retried with backoff and sent once, a permanent refusal fails at once where operators
look, and without a mailer nothing is lost. The same against a real SMTP server:
``tests/integration/escalations/test_outbox_durability.py``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.db.tables import EscalationRecord
from billing_core.escalations.outbox import EscalationOutbox
from billing_core.escalations.service import EscalationService
from billing_core.mail import MailDeliveryError
from billing_core.sources.importer import Importer
from tests.support.fakes import FakeMailer, InlineBackground
from tests.support.sample_accounts import ANN, SAMPLE


@dataclass
class Desk:
    db: Database
    clock: FixedClock
    mailer: FakeMailer
    escalations: EscalationService

    @property
    def outbox(self) -> EscalationOutbox:
        return self.escalations.outbox

    def raise_one(self, text: str = "Please call me.") -> int:
        view = self.escalations.create(ANN, "acme", "other", text)
        self.outbox.deliver_soon(view.id)  # the attempt made right after it was stored (inline here)
        return view.id

    def state(self, escalation_id: int) -> tuple[str, int]:
        with self.db.read() as session:
            record = session.get(EscalationRecord, escalation_id)
            assert record is not None
            return record.delivery_status, record.attempts


def desk_with(db: Database, clock: FixedClock, mailer: FakeMailer | None) -> Desk:
    Importer(db=db, clock=clock).run(SAMPLE)
    outbox = EscalationOutbox(
        db=db,
        clock=clock,
        background=InlineBackground(),
        mailer=mailer,
        sender="billing-bot@vendor.test",
        recipient="support@vendor.test",
        today=lambda: clock.now().date(),
    )
    escalations = EscalationService(db=db, clock=clock, outbox=outbox, today=lambda: clock.now().date())
    return Desk(db, clock, mailer or FakeMailer(), escalations)


@pytest.fixture
def desk(db: Database, clock: FixedClock) -> Desk:
    return desk_with(db, clock, FakeMailer())


def test_an_escalation_is_mailed_to_support_once(desk: Desk) -> None:
    escalation = desk.raise_one()

    assert desk.outbox.deliver_due().sent == 0  # already sent right after it was stored
    assert desk.state(escalation) == ("sent", 1)
    assert [(m["To"], m["From"]) for m in desk.mailer.sent] == [("support@vendor.test", "billing-bot@vendor.test")]


def test_a_temporary_refusal_is_retried_after_the_backoff_and_sent_once(desk: Desk) -> None:
    desk.mailer.refuse = MailDeliveryError("451 4.3.0 Try again later")
    escalation = desk.raise_one()
    assert desk.state(escalation) == ("queued", 1)

    desk.mailer.refuse = None
    desk.clock.set(desk.clock.now() + timedelta(seconds=29))
    assert desk.outbox.deliver_due().sent == 0  # the first retry waits 30 s
    desk.clock.set(desk.clock.now() + timedelta(seconds=1))
    assert desk.outbox.deliver_due().sent == 1
    assert desk.outbox.deliver_due().sent == 0

    assert desk.state(escalation) == ("sent", 2)
    assert len(desk.mailer.sent) == 1


def test_a_permanent_refusal_fails_at_once_and_health_says_so(desk: Desk) -> None:
    desk.mailer.refuse = MailDeliveryError("550 5.1.1 No such mailbox", permanent=True)
    escalation = desk.raise_one()

    assert desk.state(escalation) == ("failed", 1)
    health = desk.outbox.health()
    assert (health["ok"], health["failed"], health["queued"]) == (False, 1, 0)


def test_without_a_mailer_escalations_wait_in_the_queue(db: Database, clock: FixedClock) -> None:
    desk = desk_with(db, clock, None)
    escalation = desk.raise_one()

    assert desk.outbox.deliver_due().sent == 0
    assert desk.state(escalation) == ("queued", 0)
    assert desk.outbox.health()["mail_configured"] is False
