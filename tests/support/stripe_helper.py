"""Test-side access to localstripe: customers, cards, what was charged; the sample accounts' cards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe

from billing_core.container import Services
from billing_core.db.database import Database
from tests.support.localstripe_server import DEFAULT_API_KEY, LocalStripe
from tests.support.sample_accounts import ANN, PETER, give_customer

VISA = "4242424242424242"
DECLINES_AT_CHARGE = "4000000000000341"
NEEDS_AUTHENTICATION = "4000002500003155"
# Stripe's "always authenticate" test card: 3-D Secure on every payment, on or off session.
ALWAYS_AUTHENTICATE = "4000002760003184"


class StripeHelper:
    """Makes customers and cards on ``server`` and reads back what the bot did there."""

    def __init__(self, server: LocalStripe, api_key: str = DEFAULT_API_KEY, *, api_base: str | None = None) -> None:
        self.server = server
        # Where the bot's gateway talks to Stripe: the strict stand-in in front of ``server`` when
        # there is one (this helper itself reads and writes localstripe directly).
        self.api_base = api_base or server.base_url
        self.client = stripe.StripeClient(api_key, base_addresses={"api": server.base_url}, max_network_retries=0)

    def customer(self, email: str = "x@test") -> str:
        return str(self.client.v1.customers.create(params={"email": email}).id)

    def card(self, customer_id: str, number: str = VISA, *, exp_month: int = 12, exp_year: int = 2031) -> str:
        pm = self.client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": "123"},
            }
        )
        self.client.v1.payment_methods.attach(pm.id, params={"customer": customer_id})
        return str(pm.id)

    def intents(self, payment_key: str | None = None) -> list[dict[str, Any]]:
        """PaymentIntents, newest first; only those of one bot payment with ``payment_key``."""
        found = [pi.to_dict() for pi in self.client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()]
        if payment_key is not None:
            found = [pi for pi in found if (pi.get("metadata") or {}).get("billing_payment_key") == payment_key]
        return found

    def succeeded_charges(self) -> list[dict[str, Any]]:
        return [pi for pi in self.intents() if pi.get("status") == "succeeded"]

    def default_card(self, customer_id: str) -> str | None:
        customer = self.client.v1.customers.retrieve(customer_id).to_dict()
        default = (customer.get("invoice_settings") or {}).get("default_payment_method")
        return str(default) if default else None

    def card_ids(self, customer_id: str) -> set[str]:
        page = self.client.v1.payment_methods.list(params={"customer": customer_id, "type": "card"})
        return {str(pm.id) for pm in page.auto_paging_iter()}


@dataclass
class SampleCards:
    """The Stripe customers and cards :func:`give_sample_cards` made."""

    acme_customer: str
    acme_card: str
    initech_customer: str
    initech_card: str


def give_sample_cards(
    services: Services, db: Database, stripe: StripeHelper, *, initech_default: bool = True
) -> SampleCards:
    """Acme and Initech each get a Stripe customer with one Visa, Acme's (and Initech's) the default."""
    acme, initech = stripe.customer("ann@acme.test"), stripe.customer("peter@initech.test")
    give_customer(db, "acme", acme)
    give_customer(db, "initech", initech)
    cards = SampleCards(acme, stripe.card(acme), initech, stripe.card(initech))
    services.require_payments().methods.make_default(ANN, "acme", cards.acme_card)
    if initech_default:
        services.require_payments().methods.make_default(PETER, "initech", cards.initech_card)
    return cards
