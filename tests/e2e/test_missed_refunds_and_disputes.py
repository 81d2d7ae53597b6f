"""Refunds and disputes whose webhooks never arrived are found by the reconcile pass (it lists
Stripe's events, as the strict stand-in answers them), applied once, and a webhook arriving after
it changes nothing more; the payer is told in the thread of the payment's receipt DM.

Payments are made over signed Slack requests into the running app (Pay, then the modal's submit),
so the receipt DM is a real ``chat.postMessage`` recorded by the Slack stand-in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from billing_core.db.tables import EscalationRecord, OutboundEventRecord, PaymentRecord
from billing_core.outbound.events import WEBHOOK
from billing_core.payments.export import PaymentExport
from devtools.loopback.slack_api import RecordedCall
from devtools.loopback.slack_signing import stripe_signed_headers
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, ANN_ACTOR, WEBHOOK_SECRET, wait_until
from tests.support.http_receiver import HttpReceiver


@pytest.fixture(scope="module")
def outbound_hook() -> Iterator[HttpReceiver]:
    with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def bot_overrides(outbound_hook: HttpReceiver) -> dict[str, str]:
    """Outbound events on (recorded in the outbox, one row per event)."""
    return {"OUTBOUND_WEBHOOK_URL": outbound_hook.url("/hook"), "OUTBOUND_WEBHOOK_SECRET": "whsec_outbound_e2e"}


def pay_in_slack(world: World, invoice: str = "INV-1") -> tuple[str, RecordedCall]:
    """Ann pays ``invoice`` as in Slack; the PaymentIntent's id and the receipt DM Slack got."""
    world.bot.press("pay_open", {"account": "acme", "invoice": invoice})
    view = world.bot.last_view(where=lambda v: v.get("callback_id") == "pay_modal")
    assert world.bot.submit(view, method=world.acme_card).status_code == 200
    [receipt] = world.bot.wait_calls("chat.postMessage", where=lambda c: "Payment received" in str(c.args.get("text")))
    wait_until(lambda: receipt_dm(world) != (None, None), 10, "the receipt DM remembered")
    [payment] = world.bot.services.history.page(ANN_ACTOR, "acme").items
    assert payment.status == "succeeded" and payment.stripe_payment_intent_id is not None
    return payment.stripe_payment_intent_id, receipt


def receipt_dm(world: World) -> tuple[str | None, str | None]:
    """The receipt DM (channel, ts) recorded on the latest payment."""
    with world.bot.db.read() as session:
        row = session.execute(
            select(PaymentRecord.receipt_dm_channel, PaymentRecord.receipt_dm_ts).order_by(PaymentRecord.id.desc())
        ).first()
    return (row[0], row[1]) if row is not None else (None, None)


def reconcile_pass(world: World) -> int:
    """The scheduler's reconcile job, once; how many refund and dispute events it applied."""
    return world.bot.services.require_payments().reconcile().refunds_and_disputes


def deliver(world: World, event: dict[str, Any]) -> str:
    payload = json.dumps(event).encode()
    answer = world.bot.http.post(
        "/stripe/webhook", content=payload, headers=stripe_signed_headers(WEBHOOK_SECRET, payload)
    )
    assert answer.status_code == 200
    return str(answer.json()["outcome"])


def outbound_events(world: World) -> list[str]:
    """The refund and dispute events sent to the vendor's systems, in order."""
    with world.bot.db.read() as session:
        sent = session.scalars(
            select(OutboundEventRecord.type)
            .where(OutboundEventRecord.channel == WEBHOOK)
            .order_by(OutboundEventRecord.created_at)
        )
        return [kind for kind in sent if kind == "payment.refunded" or kind.startswith("dispute.")]


def export_status(world: World) -> list[str]:
    return [row.status for row in PaymentExport(world.bot.db).rows()]


def history_states(world: World) -> list[str]:
    return [p.state for p in world.bot.services.history.page(ANN_ACTOR, "acme").items]


def dms_saying(world: World, words: str) -> list[RecordedCall]:
    return [c for c in world.slack.calls("chat.postMessage") if c.ok and words in json.dumps(c.json_args)]


def test_the_receipt_dm_of_a_slack_payment_is_remembered_with_its_ts(world: World) -> None:
    _, receipt = pay_in_slack(world)
    assert receipt.json_args["channel"] == f"D{ANN}" and "thread_ts" not in receipt.json_args
    assert receipt.response is not None
    assert receipt_dm(world) == (f"D{ANN}", receipt.response["ts"])


def test_a_refund_whose_webhook_never_came_is_applied_by_reconcile_once_and_its_late_webhook_changes_nothing(
    world: World,
) -> None:
    intent, receipt = pay_in_slack(world)
    world.stripe.client.v1.refunds.create(params={"payment_intent": intent})
    missed = world.proxy.charge_refunded_event(intent)  # Stripe made it; no webhook delivers it

    assert reconcile_pass(world) == 1
    assert history_states(world) == ["refunded"] and export_status(world) == ["refunded"]
    assert outbound_events(world) == ["payment.refunded"]
    assert world.bot.services.accounts.invoice(ANN_ACTOR, "acme", "INV-1").status == "open"
    _, url = world.bot.command("history")
    assert "refunded" in world.bot.reply_text(url).lower()
    [told] = world.bot.wait_calls("chat.postMessage", where=lambda c: "Refunded" in json.dumps(c.json_args))
    assert receipt.response is not None
    assert told.json_args["thread_ts"] == receipt.response["ts"]  # a reply in the receipt's thread
    assert told.json_args["channel"] == receipt.response["channel"] == f"D{ANN}"

    assert reconcile_pass(world) == 0  # the next pass finds it applied
    assert deliver(world, missed) == "duplicate"  # the webhook, late: already applied
    assert deliver(world, world.proxy.charge_refunded_event(intent)) == "ignored"  # Stripe's next word: no news
    assert outbound_events(world) == ["payment.refunded"] and export_status(world) == ["refunded"]
    assert len(dms_saying(world, "Refunded")) == 1


def test_a_dispute_whose_webhooks_never_came_pauses_autopay_once_and_a_won_dispute_found_later_restores_it(
    world: World,
) -> None:
    world.bot.press("autopay_set", {"account": "acme", "on": True, "card": world.acme_card})
    world.bot.wait_calls("views.publish")
    intent, receipt = pay_in_slack(world)
    opened = world.proxy.dispute_event("charge.dispute.created", intent, "needs_response")

    assert reconcile_pass(world) == 1
    assert history_states(world) == ["disputed"] and export_status(world) == ["disputed"]
    assert outbound_events(world) == ["dispute.created"]
    assert world.bot.services.autopay is not None
    assert not world.bot.services.autopay.status(ANN_ACTOR, "acme").enabled
    [told] = world.bot.wait_calls("chat.postMessage", where=lambda c: "is disputed" in json.dumps(c.json_args))
    assert receipt.response is not None and told.json_args["thread_ts"] == receipt.response["ts"]
    with world.bot.db.read() as session:
        alerts = list(session.scalars(select(EscalationRecord.id).where(EscalationRecord.topic == "payment_alert")))
    assert len(alerts) == 1  # billing staff told once

    won = world.proxy.dispute_event("charge.dispute.closed", intent, "won")
    assert deliver(world, opened) == "duplicate"  # the first webhook, late
    assert reconcile_pass(world) == 1  # the close, missed too
    assert history_states(world) == ["succeeded"]
    assert deliver(world, won) == "duplicate"
    assert reconcile_pass(world) == 0
    assert outbound_events(world) == ["dispute.created", "dispute.closed"]
    assert len(dms_saying(world, "is disputed")) == 1
    with world.bot.db.read() as session:
        assert len(list(session.scalars(select(EscalationRecord.id)))) == 1


def test_a_refund_whose_webhook_came_first_is_not_applied_again_by_reconcile(world: World) -> None:
    intent, _ = pay_in_slack(world)
    world.stripe.client.v1.refunds.create(params={"payment_intent": intent, "amount": 25000})
    assert deliver(world, world.proxy.charge_refunded_event(intent)) == "applied"

    assert reconcile_pass(world) == 0
    assert history_states(world) == ["partially_refunded"]
    assert outbound_events(world) == ["payment.refunded"]
    world.bot.wait_calls("chat.postMessage", where=lambda c: "Partly refunded" in json.dumps(c.json_args))
    assert len(dms_saying(world, "Partly refunded")) == 1


def test_a_payment_whose_receipt_dm_is_unknown_gets_its_refund_notice_as_a_new_dm(world: World) -> None:
    # As a payment made before the upgrade: no receipt DM was recorded for it.
    done = world.bot.services.require_payments().service.pay(ANN_ACTOR, "acme", world.acme_card, invoice_number="INV-1")
    assert done.stripe_payment_intent_id is not None
    world.stripe.client.v1.refunds.create(params={"payment_intent": done.stripe_payment_intent_id})
    world.proxy.charge_refunded_event(done.stripe_payment_intent_id)

    assert reconcile_pass(world) == 1
    [told] = world.bot.wait_calls("chat.postMessage", where=lambda c: "Refunded" in json.dumps(c.json_args))
    assert told.json_args["channel"] == f"D{ANN}" and "thread_ts" not in told.json_args
