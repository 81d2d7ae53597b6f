"""Paying one invoice or the whole balance with a saved card, against localstripe."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import InvoiceRecord, PaymentMethodRecord, PaymentRecord
from billing_core.errors import (
    BalanceChanged,
    InvoiceAlreadyPaid,
    InvoiceNotFound,
    NoPaymentMethod,
    NothingToPay,
    PaymentInProgress,
    PaymentMethodNotFound,
    PaymentNotFound,
)
from tests.support.payments import (
    ANN,
    DECLINES_AT_CHARGE,
    NEEDS_AUTHENTICATION,
    PETER,
    RecordingNotifier,
    Setup,
    Stripe,
    add_card,
)


def invoice(db: Database, number: str) -> InvoiceRecord:
    with db.read() as session:
        record = session.scalars(select(InvoiceRecord).where(InvoiceRecord.number == number)).one()
        session.expunge(record)
        return record


def test_paying_one_invoice_charges_its_amount_and_marks_it_paid(
    pay: Services, cards: Setup, stripe_api: Stripe, db: Database
) -> None:
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    assert started.status == "pending"
    assert invoice(db, "INV-1").payment_lock_id == started.id

    done = pay.require_payments().service.execute(started.id)

    assert done.status == "succeeded"
    assert done.amount.amount_minor == 125000
    paid = invoice(db, "INV-1")
    assert (paid.status, paid.amount_paid_minor, paid.payment_lock_id) == ("paid", 125000, None)
    history = pay.history.page(ANN, "acme")
    assert [(p.id, p.status, p.invoice_numbers) for p in history.items] == [(started.id, "succeeded", ("INV-1",))]
    intent = stripe_api.client.v1.payment_intents.retrieve(done.stripe_payment_intent_id or "").to_dict()
    assert (intent["amount"], intent["currency"], intent["customer"]) == (125000, "usd", cards.acme_customer)
    assert intent["metadata"]["billing_account"] == "acme"
    assert intent["metadata"]["billing_invoices"] == "INV-1"
    assert intent["metadata"]["billing_payment_id"] == str(started.id)


def test_paying_the_balance_makes_one_charge_for_the_exact_sum_and_settles_every_invoice(
    pay: Services, cards: Setup, stripe_api: Stripe, db: Database
) -> None:
    started = pay.require_payments().service.start_balance_payment(ANN, "acme", cards.acme_card, 125000 + 50050)
    done = pay.require_payments().service.execute(started.id)

    assert done.status == "succeeded"
    assert done.invoice_numbers == ("INV-1", "INV-2")
    assert [pi["amount"] for pi in stripe_api.intents()] == [175050]
    assert invoice(db, "INV-1").status == invoice(db, "INV-2").status == "paid"
    with pytest.raises(NothingToPay):
        pay.require_payments().service.start_balance_payment(ANN, "acme", cards.acme_card, 0)


def test_a_balance_that_changed_since_confirmation_is_refused_and_nothing_is_stored(
    pay: Services, cards: Setup, db: Database
) -> None:
    with pytest.raises(BalanceChanged):
        pay.require_payments().service.start_balance_payment(ANN, "acme", cards.acme_card, 125000)
    with db.read() as session:
        assert session.scalars(select(PaymentRecord)).all() == []
    assert invoice(db, "INV-1").payment_lock_id is None


def test_a_declined_card_records_a_readable_reason_and_leaves_the_invoice_payable(
    pay: Services, cards: Setup, stripe_api: Stripe, db: Database
) -> None:
    declining = add_card(pay, stripe_api, cards, DECLINES_AT_CHARGE)
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-2", declining)

    done = pay.require_payments().service.execute(started.id)

    assert done.status == "failed"
    assert done.failure_reason == "The card was declined by the bank."
    assert (invoice(db, "INV-2").status, invoice(db, "INV-2").payment_lock_id) == ("open", None)
    retry = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-2", cards.acme_card)
    assert pay.require_payments().service.execute(retry.id).status == "succeeded"


def test_authentication_required_gives_a_link_that_completes_the_payment(
    pay: Services, cards: Setup, stripe_api: Stripe, db: Database, http: TestClient, notifier: RecordingNotifier
) -> None:
    card = add_card(pay, stripe_api, cards, NEEDS_AUTHENTICATION)
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", card)

    waiting = pay.require_payments().service.execute(started.id)

    assert waiting.status == "requires_action"
    assert waiting.action_url is not None
    assert waiting.action_url.startswith("http://bot.test/stripe/authenticate/")
    assert invoice(db, "INV-1").payment_lock_id == started.id
    path = waiting.action_url.removeprefix("http://bot.test")
    page = http.get(path)
    assert page.status_code == 200
    assert "confirm the payment of $1,250.00 for INV-1" in page.text
    # What Stripe.js does on that page, localstripe style.
    secret = stripe_api.client.v1.payment_intents.retrieve(waiting.stripe_payment_intent_id or "").client_secret
    stripe_api.server.authenticate_payment_intent(waiting.stripe_payment_intent_id or "", secret or "")
    back = http.post(path, follow_redirects=True)

    assert "is complete" in back.text
    assert pay.require_payments().service.get(ANN, "acme", started.id).status == "succeeded"
    assert invoice(db, "INV-1").status == "paid"
    assert [(p, n.status) for p, _, n in notifier.settled] == [(ANN.principal, "succeeded")]


def test_a_forged_or_altered_authentication_link_shows_nothing(pay: Services, cards: Setup, http: TestClient) -> None:
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    token = pay.require_payments().auth_links.token_for(started.id)
    forged = f"{started.id + 1}.{token.split('.')[1]}"
    for path in (f"/stripe/authenticate/{forged}", "/stripe/authenticate/nonsense", "/stripe/authenticate/1."):
        assert http.get(path).status_code == 404


def test_another_accounts_invoice_is_refused_like_a_missing_one_and_nothing_is_stored(
    pay: Services, cards: Setup, stripe_api: Stripe, db: Database
) -> None:
    with pytest.raises(InvoiceNotFound):
        pay.require_payments().service.start_invoice_payment(ANN, "initech", "I-1", cards.acme_card)
    with pytest.raises(InvoiceNotFound):
        pay.require_payments().service.start_invoice_payment(ANN, "acme", "I-1", cards.acme_card)
    with pytest.raises(InvoiceNotFound):
        pay.require_payments().service.start_invoice_payment(ANN, "acme", "NOPE", cards.acme_card)
    assert stripe_api.intents() == []
    with db.read() as session:
        assert session.scalars(select(PaymentRecord)).all() == []
    refusals = [e for e in pay.audit.entries() if e.action == "payment.start"]
    assert [e.outcome for e in refusals] == ["refused"] * 3


def test_another_accounts_card_is_refused_and_nothing_is_charged(
    pay: Services, cards: Setup, stripe_api: Stripe, db: Database
) -> None:
    with pytest.raises(PaymentMethodNotFound):
        pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.initech_card)
    # Even a cache that wrongly lists Initech's card on Acme (a stale or tampered row) charges nothing:
    # execute asks Stripe whose card it is first.
    with db.transaction() as session:
        row = session.scalars(select(PaymentMethodRecord).where(PaymentMethodRecord.account_id == 1)).first()
        assert row is not None
        row.stripe_payment_method_id = cards.initech_card
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.initech_card)
    done = pay.require_payments().service.execute(started.id)

    assert done.status == "failed"
    assert done.failure_reason == "That card is no longer on this account."
    assert stripe_api.intents() == []
    assert invoice(db, "INV-1").payment_lock_id is None


def test_a_paid_invoice_or_one_being_paid_cannot_be_paid_again(pay: Services, cards: Setup) -> None:
    with pytest.raises(InvoiceAlreadyPaid):
        pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-0", cards.acme_card)
    pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    with pytest.raises(PaymentInProgress):
        pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    with pytest.raises(PaymentInProgress):
        pay.require_payments().service.start_balance_payment(ANN, "acme", cards.acme_card, 175050)


def test_an_account_without_cards_is_told_it_has_none(pay: Services) -> None:
    with pytest.raises(NoPaymentMethod):
        pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", "pm_anything")


def test_a_payment_is_only_visible_to_its_accounts_contacts(pay: Services, cards: Setup) -> None:
    started = pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card)
    assert pay.require_payments().service.get(ANN, "acme", started.id).id == started.id
    with pytest.raises(PaymentNotFound):
        pay.require_payments().service.get(PETER, "acme", started.id)
    with pytest.raises(PaymentNotFound):
        pay.require_payments().service.get(PETER, "initech", started.id)
