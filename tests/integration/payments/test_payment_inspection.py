"""What an operator sees of one payment (``billing-bot payments show``), Stripe's status included."""

from __future__ import annotations

from billing_core.adapters.stripe_gateway import StripeGateway
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.payments.inspection import PaymentInspection
from tests.support.payments import ANN, Setup, Stripe


def test_an_operator_sees_stripes_own_status_of_a_payment(
    pay: Services, cards: Setup, stripe_api: Stripe, db: Database
) -> None:
    assert pay.payments is not None
    done = pay.require_payments().service.execute(
        pay.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", cards.acme_card).id
    )
    dossier = PaymentInspection(db, StripeGateway("sk_test_x", api_base=stripe_api.api_base)).show(done.id)
    assert dossier.stripe_status == "succeeded" and dossier.row.status == "succeeded"
    assert dossier.card.endswith("4242")
