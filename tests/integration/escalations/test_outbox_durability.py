"""The outbox never loses an escalation and never e-mails it twice."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

import billing_core.adapters.metrics  # noqa: F401  (serves the domain's tallies from REGISTRY)
from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import EscalationRecord
from billing_core.escalations.outbox import RetryPolicy
from tests.support.escalations import ANN, SAMPLE
from tests.support.services import MakeServices
from tests.support.smtp_sink import SmtpSink


def _metric(outcome: str) -> float:
    return REGISTRY.get_sample_value("billing_escalation_emails_total", {"outcome": outcome}) or 0.0


def test_mail_server_down_then_up_delivers_exactly_once(
    mail_services: Services, smtp_sink: SmtpSink, clock: FixedClock
) -> None:
    outbox = mail_services.escalations.outbox
    view = mail_services.escalations.create(ANN, "acme", "other", "Please call me.")
    smtp_sink.stop()

    first = outbox.deliver_due()
    clock.set(clock.now() + timedelta(seconds=29))
    too_early = outbox.deliver_due()
    clock.set(clock.now() + timedelta(seconds=1))
    second = outbox.deliver_due()
    smtp_sink.start()
    clock.set(clock.now() + timedelta(minutes=1))
    third = outbox.deliver_due()
    clock.set(clock.now() + timedelta(hours=2))
    fourth = outbox.deliver_due()

    assert (first.retried, too_early.retried, second.retried) == (1, 0, 1)
    assert (third.sent, fourth.sent) == (1, 0)
    assert [m["Subject"] for m in smtp_sink.messages] == [f"[{view.reference}] Something else: Acme Corp"]
    assert mail_services.escalations.get(view.reference).delivery_status == "sent"


def test_a_temporary_rejection_is_retried_with_backoff(
    mail_services: Services, smtp_sink: SmtpSink, clock: FixedClock, db: Database
) -> None:
    view = mail_services.escalations.create(ANN, "acme", "other", "Hi")
    smtp_sink.reject_next("451 4.3.0 Try again later")

    mail_services.escalations.outbox.deliver_due()

    with db.read() as session:
        record = session.get(EscalationRecord, view.id)
        assert record is not None
        assert (record.delivery_status, record.attempts) == ("queued", 1)
        assert record.next_attempt_at == clock.now() + timedelta(seconds=30)
        assert "451" in (record.last_error or "")
    clock.set(clock.now() + timedelta(seconds=30))
    assert mail_services.escalations.outbox.deliver_due().sent == 1
    assert len(smtp_sink.received) == 1


def test_workers_racing_for_the_same_escalation_send_it_once(mail_services: Services, smtp_sink: SmtpSink) -> None:
    outbox = mail_services.escalations.outbox
    views = [mail_services.escalations.create(ANN, "acme", "other", f"Message {i}") for i in range(5)]
    start = threading.Barrier(4)

    def work() -> None:
        start.wait()
        outbox.deliver_due()
        for view in views:
            outbox.deliver(view.id)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    subjects = sorted(m["Subject"] for m in smtp_sink.messages)
    assert subjects == sorted(f"[{v.reference}] Something else: Acme Corp" for v in views)


def test_a_worker_that_died_mid_send_is_taken_over_after_its_lease(
    mail_services: Services, smtp_sink: SmtpSink, clock: FixedClock, db: Database
) -> None:
    view = mail_services.escalations.create(ANN, "acme", "other", "Hi")
    with db.transaction() as session:  # what a crashed worker leaves behind
        record = session.get(EscalationRecord, view.id)
        assert record is not None
        record.delivery_status, record.attempts = "sending", 1
        record.next_attempt_at = clock.now() + timedelta(minutes=10)

    assert mail_services.escalations.outbox.deliver_due().sent == 0
    clock.set(clock.now() + timedelta(minutes=10))
    assert mail_services.escalations.outbox.deliver_due().sent == 1
    assert len(smtp_sink.received) == 1


def test_permanent_failure_shows_in_logs_metrics_and_health(
    mail_services: Services, smtp_sink: SmtpSink, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = mail_services.escalations.outbox
    outbox.policy = RetryPolicy(max_attempts=3)
    view = mail_services.escalations.create(ANN, "acme", "other", "Secret body text")
    smtp_sink.stop()
    failed_before = _metric("failed")

    with caplog.at_level(logging.INFO):
        for _ in range(5):
            outbox.deliver_due()
            clock.set(clock.now() + timedelta(hours=1))

    health = mail_services.escalations.health()
    assert health["ok"] is False
    assert health["failed"] == 1
    assert health["failed_references"] == [view.reference]
    assert _metric("failed") == failed_before + 1
    assert REGISTRY.get_sample_value("billing_escalation_emails_failed") == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(view.reference in m and "after 3 attempt(s)" in m for m in errors)
    assert "Secret body text" not in caplog.text
    smtp_sink.start()
    outbox.deliver_due()
    assert smtp_sink.received == []


def test_a_5xx_answer_fails_at_once_without_retrying(mail_services: Services, smtp_sink: SmtpSink) -> None:
    view = mail_services.escalations.create(ANN, "acme", "other", "Hi")
    smtp_sink.reject_next("554 5.7.1 Rejected")

    counts = mail_services.escalations.outbox.deliver_due()

    assert (counts.sent, counts.failed) == (0, 1)
    assert mail_services.escalations.get(view.reference).delivery_status == "failed"


def test_without_smtp_url_escalations_wait_in_the_queue(make_services: MakeServices) -> None:
    services = make_services(accounts=SAMPLE)
    view = services.escalations.create(ANN, "acme", "other", "Hi")

    services.escalations.outbox.deliver_due()

    assert services.escalations.get(view.reference).delivery_status == "queued"
    assert services.escalations.health() | {} == {
        "ok": True,
        "mail_configured": False,
        "queued": 1,
        "failed": 0,
        "failed_references": [],
    }


def test_the_outbox_numbers_show_in_another_registry(mail_services: Services, smtp_sink: SmtpSink) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from billing_core.adapters.metrics import EscalationCollector

    registry = CollectorRegistry()
    registry.register(EscalationCollector(mail_services.escalations.outbox))
    mail_services.escalations.create(ANN, "acme", "other", "Hi")

    text = generate_latest(registry).decode()

    assert "billing_escalation_emails_queued 1.0" in text
    assert "billing_escalation_emails_failed 0.0" in text
    assert 'billing_escalation_emails_total{outcome="failed"}' in text
