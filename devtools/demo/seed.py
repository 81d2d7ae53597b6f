"""The demo vendor's customers: accounts, contacts, invoices (dated around today) and cards.

Stripe customers and cards are created through the Stripe API against localstripe, as a
customer who saved cards on Stripe's hosted page would have them (``pm_card_visa`` is Stripe's
test card 4242; ``pm_card_chargeCustomerFail`` is a card that is declined when charged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import stripe

from billing_core.adapters.stripe_gateway import StripeGateway
from billing_core.sources.importer import Importer


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    note: str


#: The workspace members of the demo, the first being who you are at start.
PEOPLE = (
    DemoPerson("ann@acme.test", "Ann Lee", "billing contact of Acme Corp and Acme Labs"),
    DemoPerson("bob@globex.test", "Bob Stone", "billing contact of Globex Ltd"),
    DemoPerson("eve@example.test", "Eve Moss", "in the workspace, but not a billing contact"),
)

#: Cards per account: Stripe test payment methods, the first one the default.
CARDS = {
    "acme": ("pm_card_visa", "pm_card_chargeCustomerFail"),
    "acme-labs": ("pm_card_visa",),
    "globex": ("pm_card_visa",),
}


#: What the banner says about the cards above.
CARDS_NOTE = (
    "Demo cards: every account pays with its default Visa •••• 4242. Acme Corp also has Visa •••• 0341,\n"
    "  which is declined when charged: pay with it (or make it the default in /billing methods) to see a\n"
    "  decline. Add card (in /billing methods) opens a stand-in of Stripe's page to pick a test card."
)


def _invoice(number: str, issued: date, due: date, amount: int, status: str, description: str) -> dict[str, Any]:
    return {
        "number": number,
        "issued_on": issued.isoformat(),
        "due_on": due.isoformat(),
        "amount_due": amount,
        "currency": "usd",
        "status": status,
        "description": description,
    }


def demo_import(today: date) -> dict[str, Any]:
    """The demo data as an import file: open, paid and overdue invoices around ``today``."""
    day = timedelta(days=1)
    return {
        "accounts": [
            {
                "id": "acme",
                "name": "Acme Corp",
                "currency": "usd",
                "contacts": [{"email": "ann@acme.test", "name": "Ann Lee"}],
                "invoices": [
                    _invoice("INV-1001", today - 20 * day, today + 10 * day, 125000, "open", "November usage"),
                    _invoice("INV-0998", today - 40 * day, today - 5 * day, 48000, "open", "October support plan"),
                    _invoice("INV-0990", today - 70 * day, today - 40 * day, 99000, "paid", "September usage"),
                ],
            },
            {
                "id": "acme-labs",
                "name": "Acme Labs",
                "currency": "usd",
                "contacts": [{"email": "ann@acme.test", "name": "Ann Lee"}],
                "invoices": [
                    _invoice("INV-2001", today - 25 * day, today + 5 * day, 31500, "open", "Lab seats"),
                    _invoice("INV-2000", today - 55 * day, today - 25 * day, 31500, "paid", "Lab seats"),
                ],
            },
            {
                "id": "globex",
                "name": "Globex Ltd",
                "currency": "usd",
                "contacts": [{"email": "bob@globex.test", "name": "Bob Stone"}],
                "invoices": [
                    _invoice("INV-3001", today - 30 * day, today - 15 * day, 72000, "open", "Hardware lease"),
                    _invoice("INV-3000", today - 60 * day, today - 45 * day, 72000, "paid", "Hardware lease"),
                ],
            },
        ]
    }


def create_stripe_customers(gateway: StripeGateway, api_key: str, data: dict[str, Any]) -> dict[str, str]:
    """A Stripe customer with saved cards for each account; returns account id -> customer id."""
    client = stripe.StripeClient(api_key, base_addresses={"api": gateway.api_base}, max_network_retries=0)
    customers: dict[str, str] = {}
    for account in data["accounts"]:
        external_id = account["id"]
        customer = gateway.create_customer(
            email=account["contacts"][0]["email"],
            account_external_id=external_id,
            idempotency_key=f"demo-customer-{external_id}",
        )
        attached = [
            client.v1.payment_methods.attach(pm, params={"customer": customer}).id for pm in CARDS.get(external_id, ())
        ]
        if attached:
            gateway.set_default_payment_method(customer, attached[0])
        customers[external_id] = customer
    return customers


def seed(importer: Importer, gateway: StripeGateway | None, api_key: str, today: date) -> None:
    """Load the demo data, with Stripe customers and cards when a gateway is given."""
    data = demo_import(today)
    if gateway is not None:
        customers = create_stripe_customers(gateway, api_key, data)
        for account in data["accounts"]:
            account["stripe_customer_id"] = customers[account["id"]]
    importer.run(data)
