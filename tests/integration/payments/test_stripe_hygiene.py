"""What Stripe is told about each charge: card only, the invoices in the description and on the
card statement, on or off session (seen at the strict stand-in, as Stripe would receive it)."""

from __future__ import annotations

from billing_core.adapters.stripe_gateway import StripeGateway
from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.payments.execution import statement_suffix
from bot.settings import Settings
from tests.support.payments import ANN, RecordingNotifier, Setup, Stripe, services_with
from tests.support.stripe_proxy import StripeProxy


def test_a_charge_names_its_invoices_in_the_description_and_on_the_card_statement_and_is_card_only(
    pay_settings: Settings,
    cards: Setup,
    stripe_api: Stripe,
    db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
    strict_stripe: StripeProxy,
) -> None:
    like_stripe = StripeGateway("sk_test_x", api_base=stripe_api.api_base, describe_payments=True)
    services = services_with(pay_settings, db, clock, notifier, like_stripe)
    assert services.payments is not None
    done = services.require_payments().service.pay(ANN, "acme", cards.acme_card, expected_amount_minor=175050)
    assert done.status == "succeeded"
    sent = strict_stripe.strict.created_with(str(done.stripe_payment_intent_id))
    assert sent["description"] == ["acme: INV-1, INV-2"]
    assert sent["statement_descriptor_suffix"] == ["INV-1 +1"]
    assert sent["payment_method_types[0]"] == ["card"] and "off_session" not in sent
    intent = strict_stripe.intent(str(done.stripe_payment_intent_id))
    assert intent["description"] == "acme: INV-1, INV-2"


def test_without_stripe_itself_the_gateway_leaves_out_what_localstripe_refuses(
    pay: Services,
    cards: Setup,
    strict_stripe: StripeProxy,
) -> None:
    done = pay.require_payments().service.pay(ANN, "acme", cards.acme_card, invoice_number="INV-1")
    sent = strict_stripe.strict.created_with(str(done.stripe_payment_intent_id))
    assert "description" not in sent and "statement_descriptor_suffix" not in sent
    assert StripeGateway("sk_test_x").describe_payments  # api.stripe.com gets them


def test_the_statement_suffix_fits_stripes_rules_whatever_the_invoice_numbers() -> None:
    assert statement_suffix(("INV-1001",)) == "INV-1001"
    assert statement_suffix(("INV-1001", "INV-1002", "INV-1003")) == "INV-100 +2"
    assert statement_suffix(("12345",)) == "INV 12345"
    for numbers in [("<'\"*>\\" * 5,), ("Ä" * 40,), ("x" * 300,), tuple(f"N{i}" for i in range(50)), ()]:
        suffix = statement_suffix(numbers)
        assert len(suffix) <= 10 and any(c.isalpha() for c in suffix)
        assert not set(suffix) & set("<>\\'\"*") and suffix.isascii()
