"""The guessing budget of e-mailed codes: daily caps per requester and per address, a back-off on
the requester that spares the address's owner, an audit row and a metric per failed proof, and a
staff alert when one address collects many wrong codes (issue 19, item 3).

Real parts: the database, the identity service and the escalation outbox as ``build_services``
wires them, an aiosmtpd server for the codes and the staff alert; the clock is moved by hand.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import AuditEventRecord
from billing_core.errors import VerificationAttemptsExhausted, VerificationCodeWrong, VerificationRateLimited
from billing_core.views import Actor
from bot.web.metrics import Metrics
from tests.security.test_identity_verification import SAMPLE, code_from, make_settings, wrong
from tests.support.services import MakeServices
from tests.support.smtp_sink import SmtpSink, part_text

OWNER = Actor(email="ann@acme.test", principal="slack:T111:W111", display_name="Ann Lee")
ATTACKER = Actor(email="ann@acme.test", principal="slack:T999:U666", display_name="Not Ann")


@pytest.fixture
def services(database_url: str, make_services: MakeServices, smtp_sink: SmtpSink) -> Services:
    return make_services(
        settings=make_settings(database_url, smtp_sink.url, SUPPORT_EMAIL="support@vendor.test"), accounts=SAMPLE
    )


def codes_to(sink: SmtpSink, address: str) -> list[str]:
    return [code_from(m) for m in sink.messages if m["To"] == address and "verification code" in m["Subject"]]


def request_spread(services: Services, clock: FixedClock, actor: Actor, count: int) -> None:
    """``count`` fresh codes for ``actor``, 16 minutes apart (past the 15-minute window)."""
    for _ in range(count):
        services.identity_verification.request_code(actor, fresh=True)
        clock.set(clock.now() + timedelta(minutes=16))


def guess_wrong(services: Services, actor: Actor, code: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises((VerificationCodeWrong, VerificationAttemptsExhausted)):
            services.identity_verification.confirm(actor.principal, wrong(code))


def failed_proofs(reason: str) -> float:
    return REGISTRY.get_sample_value("billing_identity_failed_proofs_total", {"reason": reason}) or 0.0


def test_a_requester_gets_at_most_five_codes_a_day(services: Services, clock: FixedClock) -> None:
    request_spread(services, clock, OWNER, 5)
    with pytest.raises(VerificationRateLimited):
        services.identity_verification.request_code(OWNER, fresh=True)
    clock.set(clock.now() + timedelta(hours=24))
    assert services.identity_verification.request_code(OWNER, fresh=True).new


def test_one_attacker_asking_codes_for_an_address_does_not_lock_its_owner_out(
    services: Services, smtp_sink: SmtpSink, clock: FixedClock
) -> None:
    for _ in range(3):
        services.identity_verification.request_code(ATTACKER, fresh=True)
    with pytest.raises(VerificationRateLimited):
        services.identity_verification.request_code(ATTACKER, fresh=True)

    sent = services.identity_verification.request_code(OWNER)
    assert sent.new
    assert services.identity_verification.confirm(OWNER.principal, codes_to(smtp_sink, "ann@acme.test")[-1])
    assert not services.identity_verification.needs_code(OWNER)


def test_an_address_gets_at_most_ten_codes_a_day_whoever_asks(services: Services, clock: FixedClock) -> None:
    for index in range(5):
        requester = Actor("ann@acme.test", f"slack:T9{index}:U{index}", "Someone")
        request_spread(services, clock, requester, 2)
    with pytest.raises(VerificationRateLimited):
        services.identity_verification.request_code(Actor("ann@acme.test", "slack:T77:U77", "Another"))
    clock.set(clock.now() + timedelta(hours=24))
    assert services.identity_verification.request_code(OWNER).new


def test_a_requester_with_ten_wrong_codes_in_a_day_gets_no_new_code(
    services: Services, smtp_sink: SmtpSink, clock: FixedClock
) -> None:
    for _ in range(2):
        services.identity_verification.request_code(ATTACKER, fresh=True)
        guess_wrong(services, ATTACKER, codes_to(smtp_sink, "ann@acme.test")[-1], 5)
        clock.set(clock.now() + timedelta(minutes=16))
    with pytest.raises(VerificationRateLimited):
        services.identity_verification.request_code(ATTACKER, fresh=True)
    assert services.identity_verification.request_code(OWNER).new  # the owner is not held back


def test_every_wrong_code_is_audited_and_counted_on_metrics(
    services: Services, smtp_sink: SmtpSink, db: Database
) -> None:
    before = failed_proofs("wrong")
    services.identity_verification.request_code(ATTACKER)
    guess_wrong(services, ATTACKER, codes_to(smtp_sink, "ann@acme.test")[-1], 2)

    with db.read() as session:
        rows = session.execute(
            select(AuditEventRecord.principal, AuditEventRecord.target, AuditEventRecord.outcome).where(
                AuditEventRecord.action == "identity.code_wrong"
            )
        ).all()
    assert [tuple(r) for r in rows] == [(ATTACKER.principal, "ann@acme.test", "refused")] * 2
    assert failed_proofs("wrong") == before + 2
    assert 'billing_identity_failed_proofs_total{reason="wrong"}' in Metrics().render().decode()


def test_billing_staff_are_alerted_once_when_an_address_collects_ten_wrong_codes(
    services: Services, smtp_sink: SmtpSink, clock: FixedClock
) -> None:
    for index in range(3):
        requester = Actor("ann@acme.test", f"slack:T9{index}:U{index}", "Someone")
        services.identity_verification.request_code(requester)
        guess_wrong(services, requester, codes_to(smtp_sink, "ann@acme.test")[-1], 5)
    services.escalations.outbox.deliver_due()

    alerts = [m for m in smtp_sink.messages if m["To"] == "support@vendor.test"]
    assert len(alerts) == 1
    assert "Possible verification-code guessing" in alerts[0]["Subject"]
    body = part_text(alerts[0], "plain")
    assert "wrong verification codes were typed for ann@acme.test" in body
    assert "Slack user U0 in workspace T90" in body
