"""A background check of an account's cards against the payment provider (``PaymentMethodService.recheck``):
it writes only when the provider disagrees with what was shown, and never puts back an older answer
over a copy that a card webhook updated while the check was under way."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.db.tables import PaymentMethodRecord
from billing_core.payments.card_cache import refresh_cards
from billing_core.payments.methods import PaymentMethodService
from billing_core.sources.importer import Importer
from tests.support.fakes import FakePaymentGateway
from tests.support.sample_accounts import ANN, SAMPLE, give_customer


def _world(db: Database, clock: FixedClock) -> tuple[FakePaymentGateway, PaymentMethodService, str]:
    Importer(db=db, clock=clock).run(SAMPLE)
    gateway = FakePaymentGateway()
    customer = gateway.add_customer("ann@acme.test")
    gateway.add_card(customer, last4="4242")
    give_customer(db, "acme", customer)
    methods = PaymentMethodService(db=db, clock=clock, gateway=gateway, public_url="https://bot.test")
    methods.list(ANN, "acme", refresh=True)
    return gateway, methods, customer


def _copied_at(db: Database) -> object:
    with db.read() as session:
        return session.scalar(select(func.max(PaymentMethodRecord.refreshed_at)))


def test_a_check_that_agrees_with_the_copy_shown_writes_nothing(db: Database, clock: FixedClock) -> None:
    _, methods, _ = _world(db, clock)
    copied = _copied_at(db)
    clock.set(clock.now() + timedelta(minutes=5))
    shown = methods.copy(ANN, "acme", max_age=timedelta(0))

    assert methods.recheck(shown) is None
    assert _copied_at(db) == copied


def test_a_card_added_at_the_provider_is_stored_and_returned_for_the_screen(db: Database, clock: FixedClock) -> None:
    gateway, methods, customer = _world(db, clock)
    shown = methods.copy(ANN, "acme", max_age=timedelta(0))
    gateway.add_card(customer, last4="5556", default=False)

    fresh = methods.recheck(shown)

    assert fresh is not None and sorted(card.last4 for card in fresh) == ["4242", "5556"]
    assert sorted(card.last4 for card in methods.copy(ANN, "acme").cards) == ["4242", "5556"]


def test_an_answer_read_before_a_webhook_updated_the_copy_does_not_overwrite_it(
    db: Database, clock: FixedClock
) -> None:
    gateway, methods, customer = _world(db, clock)
    shown = methods.copy(ANN, "acme", max_age=timedelta(0))
    gateway.add_card(customer, last4="9999", default=False)
    answer = dict(gateway.cards)  # what the check reads: 4242 and 9999
    gateway.add_card(customer, last4="5556", default=False)
    # The webhook for a card added after that read lands before the check writes.
    refresh_cards(db, gateway, clock, shown.account_id, customer)
    gateway.cards = answer

    fresh = methods.recheck(shown)

    assert fresh is not None and sorted(card.last4 for card in fresh) == ["4242", "5556", "9999"]
    assert sorted(card.last4 for card in methods.copy(ANN, "acme").cards) == ["4242", "5556", "9999"]
