"""Signed events to the vendor's systems (``OUTBOUND_WEBHOOK_URL``), against a real HTTP receiver."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from billing_core.adapters.threads import ThreadBackground
from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import OutboundEventRecord
from billing_core.errors import ConfigurationError
from billing_core.outbound.delivery import OutboundDelivery
from billing_core.outbound.signing import signature
from billing_core.payments.settlement import lock_payment, mark_failed, mark_succeeded
from bot.compose import build_outbound, build_services
from bot.settings import Settings
from tests.support.event_receiver import EventReceiver
from tests.support.payment_rows import START, add_payment
from tests.support.sample_accounts import ANN, SAMPLE
from tests.support.services import MakeServices

SECRET = "whsec_outbound_tests"
README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.fixture
def receiver() -> Iterator[EventReceiver]:
    with EventReceiver(SECRET) as server:
        yield server


@pytest.fixture
def services(make_services: MakeServices, receiver: EventReceiver) -> Iterator[Services]:
    built = make_services(
        OUTBOUND_WEBHOOK_URL=receiver.url("/billing-events"), OUTBOUND_WEBHOOK_SECRET=SECRET, accounts=SAMPLE
    )
    yield built
    assert built.outbound is not None
    built.outbound.stop()


def outbound(services: Services) -> OutboundDelivery:
    assert services.outbound is not None
    return services.outbound


def rows(db: Database) -> list[OutboundEventRecord]:
    with db.read() as session:
        found = list(session.scalars(select(OutboundEventRecord).order_by(OutboundEventRecord.created_at)))
        session.expunge_all()
        return found


def escalate(services: Services) -> str:
    view = services.escalations.create(ANN, "acme", "other", "Please send a copy", invoice_number="INV-1")
    return view.reference


def test_an_escalation_reaches_the_receiver_signed_with_the_contracts_fields(
    services: Services, receiver: EventReceiver, db: Database
) -> None:
    reference = escalate(services)
    assert outbound(services).deliver_due().delivered == 1
    [got] = receiver.received
    assert got.signature_ok
    assert got.event["type"] == "escalation.created" and got.event["id"].startswith("evt_")
    assert got.event["data"] == {
        "reference": reference,
        "topic": "other",
        "account_id": "acme",
        "invoice": "INV-1",
        "requester_email": "ann@acme.test",
        "message": "Please send a copy",
    }
    assert isinstance(got.event["created"], int)
    assert [r.status for r in rows(db)] == ["delivered"]


def test_a_wrong_secret_or_a_stale_timestamp_does_not_verify(services: Services, receiver: EventReceiver) -> None:
    from billing_core.outbound.signing import verify

    body = b'{"id":"evt_1"}'
    now = 1_800_000_000
    assert verify(SECRET, signature(SECRET, now, body), body, now=now)
    assert not verify("whsec_other", signature(SECRET, now, body), body, now=now)
    assert not verify(SECRET, signature(SECRET, now - 301, body), body, now=now)
    assert not verify(SECRET, signature(SECRET, now, body), body + b" ", now=now)


def test_the_readme_snippet_verifies_a_real_delivery_and_rejects_an_old_one(
    services: Services, receiver: EventReceiver
) -> None:
    text = README.read_text()
    section = text[text.index("## Outbound events") :]
    snippet = re.search(r"```python\n(.*?)```", section, re.S)
    assert snippet is not None
    namespace: dict[str, object] = {}
    exec(snippet.group(1), namespace)  # the README's code, as a receiver would paste it
    check = namespace["verify_billing_bot_signature"]
    assert callable(check)
    body = b'{"id":"evt_x","type":"payment.succeeded"}'
    import time

    now = int(time.time())
    assert check(body, signature(SECRET, now, body), SECRET) is True
    assert check(body, signature(SECRET, now - 600, body), SECRET) is False
    assert check(body, signature("whsec_wrong", now, body), SECRET) is False


def test_a_500_is_retried_later_under_the_same_id_and_acknowledged_once(
    services: Services, receiver: EventReceiver, clock: FixedClock, db: Database
) -> None:
    receiver.script(500, 503)
    escalate(services)
    delivery = outbound(services)
    assert delivery.deliver_due().retried == 1
    assert delivery.deliver_due().delivered == 0  # not due again yet: backoff
    [row] = rows(db)
    assert row.next_attempt_at is not None
    first_wait = row.next_attempt_at - clock.now()
    assert timedelta(seconds=5) <= first_wait <= timedelta(seconds=10)
    clock.set(clock.now() + timedelta(seconds=11))
    assert delivery.deliver_due().retried == 1
    [row] = rows(db)
    assert row.next_attempt_at is not None
    second_wait = row.next_attempt_at - clock.now()
    assert timedelta(seconds=10) <= second_wait <= timedelta(seconds=20)  # it doubles (with jitter)
    clock.set(clock.now() + timedelta(seconds=21))
    assert delivery.deliver_due().delivered == 1
    clock.set(clock.now() + timedelta(hours=1))
    assert delivery.deliver_due().delivered == 0
    ids = [r.event["id"] for r in receiver.received]
    assert len(ids) == 3 and len(set(ids)) == 1
    assert len(receiver.acknowledged()) == 1
    assert all(r.signature_ok for r in receiver.received)


def test_a_dropped_connection_is_retried_and_delivered_once(
    services: Services, receiver: EventReceiver, clock: FixedClock, db: Database
) -> None:
    receiver.script("drop")
    escalate(services)
    delivery = outbound(services)
    assert delivery.deliver_due().retried == 1
    [row] = rows(db)
    assert row.last_error and row.last_status is None
    clock.set(clock.now() + timedelta(minutes=1))
    assert delivery.deliver_due().delivered == 1
    assert len({r.event["id"] for r in receiver.received}) == 1
    assert len(receiver.acknowledged()) == 1


def test_after_72_hours_of_failures_the_event_fails_for_good_and_shows_in_health_and_metrics(
    services: Services, receiver: EventReceiver, clock: FixedClock
) -> None:
    from prometheus_client import generate_latest
    from prometheus_client.core import CollectorRegistry

    from billing_core.adapters.metrics import OutboundCollector

    escalate(services)
    delivery = outbound(services)
    receiver.script(*([500] * 200))
    started = clock.now()
    attempts = 0
    while delivery.health()["failed"] == 0:
        delivery.deliver_due()
        attempts += 1
        clock.set(clock.now() + timedelta(hours=1, seconds=1))
        assert attempts < 100
    assert clock.now() - started >= timedelta(hours=72)
    health = delivery.health()
    assert health["ok"] is False and len(health["failed_events"]) == 1
    registry = CollectorRegistry()
    registry.register(OutboundCollector(delivery))
    assert "billing_outbound_events_failed 1.0" in generate_latest(registry).decode()
    # An operator sends it again once the receiver is fixed.
    receiver.clear_script()
    assert delivery.retry(failed=True) == 1
    assert delivery.deliver_due().delivered == 1


def test_a_settled_payment_emits_its_export_fields_and_a_rolled_back_one_emits_nothing(
    services: Services, receiver: EventReceiver, db: Database, clock: FixedClock
) -> None:
    with db.read() as session:
        from billing_core.db.tables import AccountRecord

        acme = session.scalars(select(AccountRecord.id).where(AccountRecord.external_id == "acme")).one()
    rolled_back = add_payment(db, acme, created_at=START, status="pending", invoices=("X-1",))
    with pytest.raises(RuntimeError), db.transaction() as session:
        mark_succeeded(session, lock_payment(session, rolled_back), now=clock.now())
        raise RuntimeError("the settling transaction failed")
    assert rows(db) == []
    assert outbound(services).deliver_due().delivered == 0

    settled = add_payment(db, acme, created_at=START, status="pending", invoices=("X-2",), intent="pi_x")
    failed = add_payment(db, acme, created_at=START, status="pending", amount_minor=5)
    with db.transaction() as session:
        mark_succeeded(session, lock_payment(session, settled), now=clock.now())
        mark_failed(session, lock_payment(session, failed), code="card_declined", now=clock.now())
    assert outbound(services).deliver_due().delivered == 2
    events = {e["type"]: e["data"] for e in receiver.acknowledged()}
    assert set(events) == {"payment.succeeded", "payment.failed"}
    assert events["payment.succeeded"] == {
        "payment_id": settled,
        "created_at": "2026-11-01T12:00:00Z",
        "settled_at": "2026-11-25T10:00:00Z",
        "status": "succeeded",
        "account_id": "acme",
        "account_name": "Acme Corp",
        "invoices": "X-2",
        "amount": 1000,
        "currency": "usd",
        "stripe_payment_intent_id": "pi_x",
        "paid_by": "ann@acme.test",
        "source": "slack",
    }
    assert events["payment.failed"]["payment_id"] == failed


def test_the_delivery_thread_sends_a_committed_event_within_seconds_without_a_scheduler(
    database_url: str, db: Database, clock: FixedClock, receiver: EventReceiver
) -> None:
    settings = Settings(
        _env_file=None,
        DATABASE_URL=database_url,
        OUTBOUND_WEBHOOK_URL=receiver.url("/billing-events"),
        OUTBOUND_WEBHOOK_SECRET=SECRET,
    )
    # Polling once a minute: only the wake-up after commit can make it in time.
    delivery = build_outbound(settings, db=db, clock=clock, background=ThreadBackground(), poll_seconds=60.0)
    assert delivery is not None
    built = build_services(settings, clock=clock, db=db, outbound=delivery)
    built.importer.run(SAMPLE)
    delivery.start()
    try:
        escalate(built)
        [event] = receiver.wait_acknowledged(1, timeout=10)
        assert event["type"] == "escalation.created"
    finally:
        delivery.stop()


def test_without_an_outbound_url_nothing_is_recorded(database_url: str, db: Database, clock: FixedClock) -> None:
    settings = Settings(_env_file=None, DATABASE_URL=database_url)
    plain = build_services(settings, clock=clock, db=db)
    plain.importer.run(SAMPLE)
    assert plain.outbound is None
    plain.escalations.create(ANN, "acme", "other", "No webhooks here")
    assert rows(db) == []


def test_an_outbound_url_without_its_secret_is_a_configuration_error(database_url: str) -> None:
    settings = Settings(_env_file=None, DATABASE_URL=database_url, OUTBOUND_WEBHOOK_URL="https://erp.example/hook")
    with pytest.raises(ConfigurationError, match="OUTBOUND_WEBHOOK_SECRET"):
        build_services(settings)


def test_the_stored_body_is_exactly_what_is_signed_and_sent(
    services: Services, receiver: EventReceiver, db: Database
) -> None:
    escalate(services)
    [row] = rows(db)
    outbound(services).deliver_due()
    assert receiver.received[0].event == json.loads(row.body)


def test_a_permanently_failed_event_shows_in_healthz_details_and_metrics_of_the_running_app(
    database_url: str,
    db: Database,
    clock: FixedClock,
    receiver: EventReceiver,
) -> None:
    from starlette.testclient import TestClient

    from bot.compose import build_runtime
    from bot.web.http import create_http_app
    from devtools.loopback.slack_api import SlackAPI

    with SlackAPI() as api:
        settings = Settings(
            _env_file=None,
            DATABASE_URL=database_url,
            SLACK_BOT_TOKEN="xoxb-t",
            SLACK_SIGNING_SECRET="s",
            SLACK_API_URL=api.base_url,
            OUTBOUND_WEBHOOK_URL=receiver.url("/hooks"),
            OUTBOUND_WEBHOOK_SECRET=SECRET,
        )
        runtime = build_runtime(settings, clock=clock, db=db)
        delivery = outbound(runtime.services)
        try:
            runtime.services.importer.run(SAMPLE)
            receiver.script(*([500] * 200))
            escalate(runtime.services)
            clock.set(clock.now() + timedelta(hours=73))
            delivery.deliver_due()
            http = TestClient(create_http_app(runtime.services, settings, runtime.app))
            health = http.get("/healthz").json()
            assert health["outbound"]["failed"] == 1 and health["outbound"]["ok"] is False
            assert health["outbound"]["failed_events"] == [receiver.received[-1].event["id"]]
            metrics = http.get("/metrics").text
            assert "billing_outbound_events_failed 1.0" in metrics
            assert 'billing_outbound_deliveries_total{channel="webhook",outcome="failed"}' in metrics
        finally:
            delivery.stop()


class SlowReceiver(EventReceiver):
    """Takes a while to answer, and remembers how many requests it held at once."""

    def __init__(self) -> None:
        super().__init__(SECRET)
        self.in_flight = 0
        self.most = 0
        self._count = threading.Lock()

    def answer(self, request: Any) -> Any:
        import time

        with self._count:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        time.sleep(0.3)
        with self._count:
            self.in_flight -= 1
        return super().answer(request)


def test_at_most_four_requests_are_in_flight_to_the_endpoint_at_once(
    db: Database, clock: FixedClock, make_services: MakeServices
) -> None:
    with SlowReceiver() as slow:
        built = make_services(OUTBOUND_WEBHOOK_URL=slow.url("/hooks"), OUTBOUND_WEBHOOK_SECRET=SECRET, accounts=SAMPLE)
        from billing_core.outbound.events import WEBHOOK, record_event

        with db.transaction() as session:
            for n in range(10):
                record_event(
                    session,
                    channel=WEBHOOK,
                    type="escalation.created",
                    subject=f"escalation:{n}",
                    data={"n": n},
                    now=clock.now(),
                )
        assert outbound(built).deliver_due().delivered == 10
        outbound(built).stop()
    assert slow.most == 4
    assert len({r.event["id"] for r in slow.received}) == 10
