"""Refunds and disputes made in Stripe reach the bot as signed events (built by the strict stand-in
as Stripe sends them): history, export and outbound events say so; a dispute pauses autopay and
tells the contacts and billing staff."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from billing_core.db.tables import EscalationRecord, OutboundEventRecord, PaymentRecord
from billing_core.payments.export import PaymentExport
from devtools.loopback.slack_signing import stripe_signed_headers
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, ANN_ACTOR, WEBHOOK_SECRET
from tests.support.http_receiver import HttpReceiver
from tests.support.slack_calls import landed_in


@pytest.fixture(scope="module")
def outbound_hook() -> Iterator[HttpReceiver]:
    with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def bot_overrides(outbound_hook: HttpReceiver) -> dict[str, str]:
    """The e2e bot with outbound events on (recorded in the outbox; delivery is not what is tested)."""
    return {"OUTBOUND_WEBHOOK_URL": outbound_hook.url("/hook"), "OUTBOUND_WEBHOOK_SECRET": "whsec_outbound_e2e"}


def deliver(world: World, event: dict[str, Any]) -> str:
    payload = json.dumps(event).encode()
    headers = stripe_signed_headers(WEBHOOK_SECRET, payload)
    answer = world.bot.http.post("/stripe/webhook", content=payload, headers=headers)
    assert answer.status_code == 200
    return str(answer.json()["outcome"])


def paid_invoice(world: World, number: str = "INV-1") -> str:
    assert world.bot.services.payments is not None
    done = world.bot.services.require_payments().service.pay(ANN_ACTOR, "acme", world.acme_card, invoice_number=number)
    assert done.status == "succeeded" and done.stripe_payment_intent_id is not None
    return done.stripe_payment_intent_id


def outbound_types(world: World) -> list[str]:
    with world.bot.db.read() as session:
        return list(session.scalars(select(OutboundEventRecord.type).order_by(OutboundEventRecord.created_at)))


def export_status(world: World) -> list[str]:
    return [row.status for row in PaymentExport(world.bot.db).rows()]


def history_states(world: World) -> list[str]:
    return [p.state for p in world.bot.services.history.page(ANN_ACTOR, "acme").items]


def test_a_full_refund_shows_in_history_and_export_reopens_the_invoice_and_is_sent_as_an_event(world: World) -> None:
    intent = paid_invoice(world)
    world.stripe.client.v1.refunds.create(params={"payment_intent": intent})
    assert deliver(world, world.proxy.charge_refunded_event(intent)) == "applied"
    assert history_states(world) == ["refunded"]
    assert export_status(world) == ["refunded"]
    assert "payment.refunded" in outbound_types(world)
    assert world.bot.services.accounts.invoice(ANN_ACTOR, "acme", "INV-1").status == "open"
    _, url = world.bot.command("history")
    assert "refunded" in world.bot.reply_text(url)
    [dm] = world.bot.wait_calls("chat.postMessage", where=lambda c: "Refunded" in json.dumps(c.json_args))
    assert "$1,250.00" in json.dumps(dm.json_args, ensure_ascii=False) and dm.json_args["channel"] == f"D{ANN}"
    assert deliver(world, world.proxy.charge_refunded_event(intent)) == "ignored"  # told twice: once


def test_a_partial_refund_is_shown_with_its_amount_and_the_invoice_stays_paid(world: World) -> None:
    intent = paid_invoice(world)
    world.stripe.client.v1.refunds.create(params={"payment_intent": intent, "amount": 25000})
    deliver(world, world.proxy.charge_refunded_event(intent))
    assert history_states(world) == ["partially_refunded"] and export_status(world) == ["partially_refunded"]
    _, url = world.bot.command("history")
    assert "Refunded: $250.00" in world.bot.reply_text(url)
    assert world.bot.services.accounts.invoice(ANN_ACTOR, "acme", "INV-1").status == "paid"


def test_a_dispute_pauses_autopay_tells_the_contacts_and_staff_and_a_won_dispute_restores_the_payment(
    world: World,
) -> None:
    world.bot.press("autopay_set", {"account": "acme", "on": True, "card": world.acme_card})
    world.bot.wait_calls("views.publish")
    intent = paid_invoice(world)
    world.slack.clear()
    assert deliver(world, world.proxy.dispute_event("charge.dispute.created", intent, "needs_response")) == "applied"
    assert history_states(world) == ["disputed"] and export_status(world) == ["disputed"]
    assert world.bot.services.autopay is not None
    assert not world.bot.services.autopay.status(ANN_ACTOR, "acme").enabled
    [dm] = world.bot.wait_calls("chat.postMessage", where=lambda c: "Autopay was turned off" in json.dumps(c.json_args))
    assert landed_in(dm) == f"D{ANN}" and "disputed" in json.dumps(dm.json_args, ensure_ascii=False)
    [told] = world.bot.wait_calls("chat.postMessage", where=lambda c: "is disputed" in json.dumps(c.json_args))
    assert told.json_args["channel"] == f"D{ANN}"  # the payer hears of the dispute itself too
    with world.bot.db.read() as session:
        [alert] = session.scalars(select(EscalationRecord.message).where(EscalationRecord.topic == "payment_alert"))
    assert "was disputed at Stripe" in alert and "Autopay is paused" in alert
    assert deliver(world, world.proxy.dispute_event("charge.dispute.closed", intent, "won")) == "applied"
    assert history_states(world) == ["succeeded"]
    assert [t for t in outbound_types(world) if t.startswith("dispute.")] == ["dispute.created", "dispute.closed"]


def test_a_refund_of_an_autopay_charge_is_told_to_the_accounts_contacts_who_got_its_receipt(world: World) -> None:
    world.bot.press("autopay_set", {"account": "acme", "on": True, "card": world.acme_card})
    world.bot.wait_calls("views.publish")
    world.bot.clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    try:
        assert world.bot.services.require_payments().autopay_pass.run().summary() == "charged 1, declined 0, skipped 0"
    finally:
        world.bot.clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    with world.bot.db.read() as session:
        intent = session.scalars(
            select(PaymentRecord.stripe_payment_intent_id).where(PaymentRecord.started_by_principal == "system:autopay")
        ).one()
    assert intent is not None
    world.slack.clear()

    world.stripe.client.v1.refunds.create(params={"payment_intent": intent})
    assert deliver(world, world.proxy.charge_refunded_event(intent)) == "applied"

    [dm] = world.bot.wait_calls(
        "chat.postMessage", where=lambda c: "An autopay charge was refunded" in json.dumps(c.json_args)
    )
    shown = json.dumps(dm.json_args, ensure_ascii=False)
    assert landed_in(dm) == f"D{ANN}" and "$500.50" in shown and "INV-2" in shown
    assert history_states(world) == ["refunded"] and "payment.refunded" in outbound_types(world)
