"""Stripe Billing as the source of invoices (issue 27, item 2), over HTTP into the running bot:
signed ``invoice.*`` webhooks, ``invoices sync``, paying the Stripe invoice itself from Slack, and
autopay leaving to Stripe what Stripe collects. Stripe Billing is :class:`StripeBilling` (Stripe's
documented invoice rules) in front of localstripe, which makes the charges."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe

from devtools.loopback.slack_signing import stripe_signed_headers
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN_ACTOR, WEBHOOK_SECRET
from tests.support.localstripe_server import LocalStripe
from tests.support.stripe_billing import StripeBilling

NOV_1 = int(datetime(2026, 11, 1, 9, 0, tzinfo=UTC).timestamp())  # due 1 Dec with 30 days to pay
DUE_DAY = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
TODAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def stripe_proxy(localstripe_server: LocalStripe) -> Iterator[StripeBilling]:
    with StripeBilling(localstripe_server.base_url) as billing:
        yield billing


@pytest.fixture(scope="module")
def bot_overrides() -> dict[str, str]:
    return {"INVOICE_SOURCE": "stripe"}


def billing(world: World) -> StripeBilling:
    assert isinstance(world.proxy, StripeBilling)
    return world.proxy


def vendor(world: World) -> stripe.StripeClient:
    """The vendor's own Stripe calls (the dashboard), through Stripe Billing."""
    return stripe.StripeClient("sk_test_x", base_addresses={"api": billing(world).base_url}, max_network_retries=0)


def deliver(world: World, event_type: str, invoice_id: str) -> dict[str, Any]:
    payload = json.dumps(billing(world).invoice_event(event_type, invoice_id)).encode()
    answer = world.bot.http.post(
        "/stripe/webhook", content=payload, headers=stripe_signed_headers(WEBHOOK_SECRET, payload)
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def finalized(world: World, *, amount: int = 42000, collection: str = "send_invoice", notify: bool = True) -> str:
    """A Stripe invoice for Acme, finalized (and the bot told, unless ``notify`` is False)."""
    invoice_id = billing(world).create_invoice(
        world.acme_customer,
        [("Support plan, November", amount - 2000), ("Setup", 2000)],
        collection_method=collection,
        created=NOV_1,
    )
    billing(world).finalize(invoice_id)
    if notify:
        assert deliver(world, "invoice.finalized", invoice_id)["outcome"] == "applied"
    return invoice_id


def said(world: World, text: str) -> str:
    _, url = world.bot.command(text)
    return world.bot.reply_text(url)


def number_of(world: World, invoice_id: str) -> str:
    return str(billing(world).invoices[invoice_id]["number"])


def test_a_finalized_stripe_invoice_appears_in_slack_without_an_import(world: World) -> None:
    invoice_id = finalized(world)
    text = said(world, "invoices")
    assert number_of(world, invoice_id) in text and "$420.00" in text and "1 Dec 2026" in text
    assert "Support plan, November; Setup" in text
    assert f"https://invoice.stripe.test/i/{invoice_id}" in text  # the document link


def test_the_stripe_customers_email_becomes_a_billing_contact_of_the_account(world: World) -> None:
    world.stripe.client.v1.customers.update(world.acme_customer, params={"email": "Payables@Acme.test"})
    assert not world.bot.services.accounts.is_contact("payables@acme.test")
    finalized(world)
    assert world.bot.services.accounts.is_contact("payables@acme.test")
    assert world.bot.services.accounts.is_contact("ann@acme.test")  # the imported contact stays


def test_a_draft_or_another_companys_invoice_is_acknowledged_and_changes_nothing(world: World) -> None:
    draft = billing(world).create_invoice(world.acme_customer, [("Draft", 100)], created=NOV_1)
    assert deliver(world, "invoice.updated", draft)["outcome"] == "ignored"
    stranger = world.stripe.customer("someone@else.test")
    other = billing(world).create_invoice(stranger, [("Not ours", 100)], created=NOV_1)
    billing(world).finalize(other)
    assert deliver(world, "invoice.finalized", other)["outcome"] == "ignored"
    assert "STRIPE-" not in said(world, "invoices")


def test_paying_it_in_slack_pays_the_stripe_invoice_itself_with_exactly_one_charge(world: World) -> None:
    invoice_id = finalized(world)
    payments = world.bot.services.require_payments().service
    assert payments is not None
    paid = payments.pay(ANN_ACTOR, "acme", world.acme_card, invoice_number=number_of(world, invoice_id))
    assert paid.status == "succeeded"
    assert billing(world).invoices[invoice_id]["status"] == "paid"
    [charge] = world.stripe.succeeded_charges()
    assert charge["amount"] == 42000 and charge["payment_method"] == world.acme_card
    assert billing(world).invoices[invoice_id]["payment_intent"] == charge["id"]
    # Stripe's invoice.paid for the bot's own payment changes nothing more: not "paid outside Slack".
    deliver(world, "invoice.paid", invoice_id)
    assert "paid outside Slack" not in said(world, "history")


def test_paying_it_from_the_slack_pay_modal_leaves_one_charge_and_the_stripe_invoice_paid(world: World) -> None:
    invoice_id = finalized(world)
    number = number_of(world, invoice_id)
    world.bot.press("pay_open", {"account": "acme", "invoice": number})
    view = world.bot.last_view(where=lambda v: v.get("callback_id") == "pay_modal")
    assert "$420.00" in json.dumps(view, ensure_ascii=False)
    assert world.bot.submit(view, method=world.acme_card).status_code == 200
    receipt = json.dumps(
        world.bot.last_view(where=lambda v: v.get("title", {}).get("text") == "Payment received"), ensure_ascii=False
    )
    assert "$420.00" in receipt and number in receipt
    assert billing(world).invoices[invoice_id]["status"] == "paid"
    assert billing(world).invoices[invoice_id]["_pay_params"]["off_session"] == "false"  # the payer is there
    assert [c["amount"] for c in world.stripe.succeeded_charges()] == [42000]
    assert number not in said(world, "invoices")


def test_paying_it_in_stripe_closes_it_in_the_bot_within_one_webhook(world: World) -> None:
    invoice_id = finalized(world)
    number = number_of(world, invoice_id)
    vendor(world).v1.invoices.pay(invoice_id, params={"paid_out_of_band": True})
    assert deliver(world, "invoice.paid", invoice_id)["outcome"] == "applied"
    assert number not in said(world, "invoices")
    assert f"{number} was paid on " in (answer := said(world, f"pay {number}")) and "outside Slack" in answer


@pytest.mark.parametrize(
    ("action", "event"), [("void", "invoice.voided"), ("mark_uncollectible", "invoice.marked_uncollectible")]
)
def test_a_void_or_uncollectible_one_disappears(world: World, action: str, event: str) -> None:
    invoice_id = finalized(world)
    getattr(vendor(world).v1.invoices, f"{action}_invoice" if action == "void" else action)(invoice_id)
    deliver(world, event, invoice_id)
    assert number_of(world, invoice_id) not in said(world, "invoices")


def test_invoices_sync_repairs_a_database_that_missed_events(world: World) -> None:
    kept_open = finalized(world, notify=False)
    voided = finalized(world, amount=9900)
    vendor(world).v1.invoices.void_invoice(voided)  # its invoice.voided was missed
    source = world.bot.services.require_payments().stripe_billing
    assert source is not None
    summary = source.sync()
    assert summary.line() == (
        "customers 2: invoices 1 created, 0 updated, 1 closed, 0 unchanged, 0 ignored, 0 deferred"
    )
    text = said(world, "invoices")
    assert number_of(world, kept_open) in text and number_of(world, voided) not in text
    assert source.sync().line().endswith("0 created, 0 updated, 0 closed, 2 unchanged, 0 ignored, 0 deferred")


def test_autopay_leaves_invoices_stripe_collects_to_stripe_and_says_so(world: World) -> None:
    finalized(world, collection="charge_automatically")
    autopay, autopay_pass = world.bot.services.autopay, world.bot.services.require_payments().autopay_pass
    assert autopay is not None and autopay_pass is not None
    autopay.turn_on(ANN_ACTOR, "acme")
    assert "autopay here leaves those to Stripe" in said(world, "autopay")
    world.bot.clock.set(DUE_DAY)
    try:
        summary = autopay_pass.run().summary()
    finally:
        world.bot.clock.set(TODAY)
    assert summary.startswith("charged 1,")  # the imported INV-2 (due 1 Dec); never the Stripe one
    assert [c["amount"] for c in world.stripe.succeeded_charges()] == [50050]


def test_right_before_a_charge_the_stripe_invoice_is_read_again_so_one_paid_there_is_not_charged(
    world: World,
) -> None:
    invoice_id = finalized(world)
    vendor(world).v1.invoices.pay(invoice_id, params={"paid_out_of_band": True})  # no webhook yet
    payments = world.bot.services.require_payments().service
    assert payments is not None
    started = payments.start_invoice_payment(ANN_ACTOR, "acme", number_of(world, invoice_id), world.acme_card)
    after = payments.execute(started.id)
    assert after.status == "failed" and after.failure_reason is not None
    assert "was paid on" in after.failure_reason and "outside Slack; nothing was charged" in after.failure_reason
    assert world.stripe.succeeded_charges() == []


def test_paying_the_balance_is_one_charge_and_every_stripe_invoice_in_it_is_marked_paid_there(world: World) -> None:
    first, second = finalized(world), finalized(world, amount=9900)
    payments = world.bot.services.require_payments().service
    assert payments is not None
    balance = world.bot.services.accounts.balance(ANN_ACTOR, "acme")
    paid = payments.pay(ANN_ACTOR, "acme", world.acme_card, expected_amount_minor=balance.amount_minor)
    assert paid.status == "succeeded"
    assert [c["amount"] for c in world.stripe.succeeded_charges()] == [balance.amount_minor]
    assert [billing(world).invoices[i]["status"] for i in (first, second)] == ["paid", "paid"]
    assert all(billing(world).invoices[i]["paid_out_of_band"] for i in (first, second))


def test_autopay_pays_a_stripe_invoice_sent_to_the_customer_off_session_on_its_due_date(world: World) -> None:
    invoice_id = finalized(world)
    autopay, autopay_pass = world.bot.services.autopay, world.bot.services.require_payments().autopay_pass
    assert autopay is not None and autopay_pass is not None
    autopay.turn_on(ANN_ACTOR, "acme")
    world.bot.clock.set(DUE_DAY)
    try:
        assert autopay_pass.run().summary() == "charged 2, declined 0, skipped 0"  # INV-2 and the Stripe one
    finally:
        world.bot.clock.set(TODAY)
    assert billing(world).invoices[invoice_id]["status"] == "paid"
    assert billing(world).invoices[invoice_id]["_pay_params"]["off_session"] == "true"  # nobody is there
    assert sorted(c["amount"] for c in world.stripe.succeeded_charges()) == [42000, 50050]


def test_autopay_does_not_charge_a_stripe_invoice_paid_in_stripe_whose_webhook_never_came(world: World) -> None:
    invoice_id = finalized(world)
    vendor(world).v1.invoices.pay(invoice_id, params={"paid_out_of_band": True})  # the event is lost
    autopay, autopay_pass = world.bot.services.autopay, world.bot.services.require_payments().autopay_pass
    assert autopay is not None and autopay_pass is not None
    autopay.turn_on(ANN_ACTOR, "acme")
    world.bot.clock.set(DUE_DAY)
    try:
        assert autopay_pass.run().summary() == "charged 1, declined 0, skipped 1"  # INV-2 only
    finally:
        world.bot.clock.set(TODAY)
    assert [c["amount"] for c in world.stripe.succeeded_charges()] == [50050]
    assert number_of(world, invoice_id) not in said(world, "invoices")


def test_a_stripe_invoice_paid_there_while_the_payer_clicked_is_refused_by_stripe_and_the_payer_reads_why(
    world: World,
) -> None:
    """The re-read just before the charge saw it open; Stripe then refuses to pay it twice."""
    invoice_id = finalized(world)
    payments, source = (
        world.bot.services.require_payments().service,
        world.bot.services.require_payments().stripe_billing,
    )
    assert payments is not None and source is not None
    started = payments.start_invoice_payment(ANN_ACTOR, "acme", number_of(world, invoice_id), world.acme_card)
    confirm = source.confirm
    source.confirm = lambda payment_id: (  # type: ignore[method-assign]
        confirm(payment_id),
        vendor(world).v1.invoices.pay(invoice_id, params={"paid_out_of_band": True}),
    )[0]
    try:
        after = payments.execute(started.id)
    finally:
        source.confirm = confirm  # type: ignore[method-assign]
    assert after.status == "failed" and after.failure_reason is not None
    assert after.failure_reason.startswith(f"{number_of(world, invoice_id)} was paid on ")
    assert after.failure_reason.endswith("outside Slack; nothing was charged.")
    assert world.stripe.succeeded_charges() == []
    assert number_of(world, invoice_id) not in said(world, "invoices")
