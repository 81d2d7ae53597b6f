"""A success Stripe reports after the payment was marked failed: settled, audited, staff told, and a
double payment reported when the invoice was paid again in between (over the signed webhook route)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.testclient import TestClient

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import EscalationRecord, InvoiceRecord, PaymentRecord
from billing_core.payments.settlement import mark_failed
from bot.settings import Settings
from tests.integration.payments.test_unknown_outcome import crash_after_charge
from tests.support.payments import ANN, RecordingNotifier, Setup, Stripe, event, signed
from tests.support.stripe_proxy import StripeProxy


def charged_but_failed_here(
    pay_settings: Settings,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
    stripe_api: Stripe,
    cards: Setup,
) -> int:
    """Stripe charged; our side never heard, and the payment was given up as failed (the old reconcile)."""
    payment_id = crash_after_charge(pay_settings, db, clock, notifier, stripe_api, cards)
    with db.transaction() as session:
        payment = session.get(PaymentRecord, payment_id)
        assert payment is not None
        mark_failed(session, payment, code="not_charged", now=clock.now())
    return payment_id


def deliver_success(http: TestClient, strict_stripe: StripeProxy, stripe_api: Stripe, payment_id: int) -> str:
    [intent] = [i for i in stripe_api.intents() if i["metadata"].get("billing_payment_id") == str(payment_id)]
    body, signature = signed(event("payment_intent.succeeded", strict_stripe.intent(intent["id"])))
    answer = http.post("/stripe/webhook", content=body, headers={"Stripe-Signature": signature})
    assert answer.status_code == 200
    return str(answer.json()["outcome"])


def staff_alerts(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(EscalationRecord.message).where(EscalationRecord.topic == "payment_alert")))


def test_a_success_arriving_after_the_payment_was_failed_settles_it_and_tells_billing_staff(
    pay: Services,
    pay_settings: Settings,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
    http: TestClient,
    strict_stripe: StripeProxy,
) -> None:
    payment_id = charged_but_failed_here(pay_settings, db, clock, notifier, stripe_api, cards)
    assert pay.accounts.invoice(ANN, "acme", "INV-1").status == "open"

    assert deliver_success(http, strict_stripe, stripe_api, payment_id) == "applied"

    assert pay.require_payments().service.get(ANN, "acme", payment_id).status == "succeeded"
    assert pay.accounts.invoice(ANN, "acme", "INV-1").status == "paid"
    assert [n.status for _, _, n in notifier.settled] == ["succeeded"]
    actions = [e.action for e in pay.audit.entries(account_external_id="acme")]
    assert "payment.late_success" in actions
    [alert] = staff_alerts(db)
    assert f"Payment #{payment_id}" in alert and "Stripe reports it succeeded" in alert
    assert "DOUBLE PAYMENT" not in alert


def test_a_late_success_for_an_invoice_paid_again_in_between_is_reported_as_a_double_payment(
    pay: Services,
    pay_settings: Settings,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
    http: TestClient,
    strict_stripe: StripeProxy,
) -> None:
    payment_id = charged_but_failed_here(pay_settings, db, clock, notifier, stripe_api, cards)
    again = pay.require_payments().service.pay(ANN, "acme", cards.acme_card, invoice_number="INV-1")
    assert again.status == "succeeded"

    deliver_success(http, strict_stripe, stripe_api, payment_id)

    [alert] = staff_alerts(db)
    assert "INV-1 had been paid again in between: this is a DOUBLE PAYMENT" in alert
    with db.read() as session:
        paid = session.scalar(select(InvoiceRecord.amount_paid_minor).where(InvoiceRecord.number == "INV-1"))
    assert paid == 2 * 125000  # both charges are on the books until staff refund one


def test_a_replayed_event_of_a_late_success_changes_nothing_more(
    pay: Services,
    pay_settings: Settings,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
    http: TestClient,
    strict_stripe: StripeProxy,
) -> None:
    payment_id = charged_but_failed_here(pay_settings, db, clock, notifier, stripe_api, cards)
    deliver_success(http, strict_stripe, stripe_api, payment_id)
    deliver_success(http, strict_stripe, stripe_api, payment_id)  # a new event id, the same news
    assert len(staff_alerts(db)) == 1
    with db.read() as session:
        assert session.scalar(select(PaymentRecord.status)) == "succeeded"
