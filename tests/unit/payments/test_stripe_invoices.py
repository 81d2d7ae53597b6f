"""Reading a Stripe Billing invoice (unit: no Stripe, no database) and saying why one is not charged."""

from __future__ import annotations

from datetime import UTC, date, datetime

from billing_core.accounts.provider_invoices import billing_invoice_from
from billing_core.errors import InvoiceClosedAtSource

DOCUMENTED = {  # fields as https://docs.stripe.com/api/invoices/object shows them
    "id": "in_1",
    "object": "invoice",
    "customer": "cus_1",
    "number": "ACME-0007",
    "status": "open",
    "amount_due": 125000,
    "amount_paid": 25000,
    "amount_remaining": 100000,
    "currency": "USD",
    "created": int(datetime(2026, 11, 1, tzinfo=UTC).timestamp()),
    "due_date": int(datetime(2026, 12, 1, tzinfo=UTC).timestamp()),
    "collection_method": "send_invoice",
    "description": None,
    "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1/live_1",
    "invoice_pdf": "https://pay.stripe.com/x.pdf",
    "lines": {"data": [{"description": "Hosting"}, {"description": "  Support\nplan "}]},
    "payment_intent": {"id": "pi_1", "object": "payment_intent"},
    "status_transitions": {"paid_at": None},
}


def test_a_documented_invoice_reads_as_its_number_amounts_due_date_lines_and_hosted_page() -> None:
    invoice = billing_invoice_from(DOCUMENTED)
    assert (invoice.number, invoice.amount_due_minor, invoice.amount_paid_minor) == ("ACME-0007", 125000, 25000)
    assert (invoice.currency, invoice.due_on, invoice.collection_method) == ("usd", date(2026, 12, 1), "send_invoice")
    assert invoice.description == "Hosting; Support plan"
    assert invoice.document_url == "https://invoice.stripe.com/i/acct_1/live_1"
    assert invoice.payment_intent_id == "pi_1" and invoice.customer_id == "cus_1"


def test_what_localstripe_leaves_out_falls_back_to_the_id_no_due_date_and_the_pdf_or_no_link() -> None:
    bare = {
        "id": "in_2",
        "customer": "cus_1",
        "status": "open",
        "amount_due": 500,
        "currency": "eur",
        "date": 1780000000,
        "hosted_invoice_url": "javascript:alert(1)",
        "invoice_pdf": None,
    }
    invoice = billing_invoice_from(bare)
    assert (invoice.number, invoice.due_on, invoice.document_url) == ("in_2", None, None)
    assert invoice.collection_method == "charge_automatically" and invoice.amount_paid_minor == 0


def test_amounts_that_are_not_whole_minor_units_count_as_nothing_owed_elsewhere() -> None:
    odd = DOCUMENTED | {"amount_due": 12.5, "amount_paid": True, "amount_remaining": None}
    invoice = billing_invoice_from(odd)
    assert (invoice.amount_due_minor, invoice.amount_paid_minor) == (0, 0)


def test_the_answer_for_an_invoice_closed_at_its_source_names_it_how_and_the_day() -> None:
    assert InvoiceClosedAtSource("INV-1001", "paid_elsewhere", date(2026, 12, 3)).sentence() == (
        "INV-1001 was paid on 3 Dec outside Slack"
    )
    assert InvoiceClosedAtSource("INV-9", "void", None).sentence() == "INV-9 was voided by billing"
    assert InvoiceClosedAtSource("INV-9", "uncollectible", date(2026, 1, 31)).sentence() == (
        "INV-9 was written off on 31 Jan by billing"
    )
