"""Block Kit builders are pure and stay within Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from billing_core.money import Money
from billing_core.views import AccountView, Actor, CallerContext, InvoiceView, PaymentMethodView, PaymentView
from handlers.home.blocks import home_view
from handlers.kit.blocks import escape
from handlers.kit.invoice_blocks import invoices_screen
from handlers.kit.payment_outcome import outcome_screen
from handlers.payments.blocks import pay_modal

ACME = AccountView("acme", "Acme <Corp> & Co", "usd", Money(175050, "usd"), 2, date(2026, 10, 31), 1)


def invoice(number: str, amount: int, due: date, overdue: bool = False) -> InvoiceView:
    return InvoiceView(
        number, "acme", date(2026, 10, 1), due, Money(amount, "usd"), Money(0, "usd"), "open", "", overdue
    )


def test_user_text_is_escaped_in_mrkdwn() -> None:
    assert escape("<@U1> & <!here>") == "&lt;@U1&gt; &amp; &lt;!here&gt;"
    screen = invoices_screen(ACME, [invoice("INV-<1>", 100, date(2026, 12, 1))])
    text = json.dumps(screen.blocks)
    assert "INV-&lt;1&gt;" in text and "Acme &lt;Corp&gt; &amp; Co" in text


def test_many_invoices_stay_under_the_block_limit() -> None:
    invoices = [invoice(f"INV-{n}", 100, date(2026, 12, 1)) for n in range(500)]
    assert len(invoices_screen(ACME, invoices).blocks) <= 50
    ctx = CallerContext(Actor("a@b.c", "slack:T:U"), (ACME,), ACME)
    assert len(home_view(ctx, invoices)["blocks"]) <= 100


def test_the_pay_modal_confirms_the_exact_amount_within_the_title_limits() -> None:
    card = PaymentMethodView("pm_1", "visa", "4242", 12, 2031, True)
    view = pay_modal(
        ACME, [invoice("INV-1", 99999999, date(2026, 12, 1))], Money(99999999, "usd"), [card], invoice="INV-1"
    )
    assert view["submit"]["text"] == "Pay $999,999.99"
    assert all(len(view[k]["text"]) <= 24 for k in ("title", "submit", "close"))


def test_outcomes_read_as_a_person_expects() -> None:
    base: dict[str, Any] = dict(
        id=7,
        account_external_id="acme",
        amount=Money(125000, "usd"),
        created_at=datetime(2026, 11, 25, tzinfo=UTC),
        invoice_numbers=("INV-1",),
        card_brand="visa",
        card_last4="4242",
    )
    ok = outcome_screen(PaymentView(status="succeeded", **base), "Acme")
    assert "payment #7" in json.dumps(ok.blocks) and ok.title == "Payment received"
    failed = outcome_screen(
        PaymentView(status="failed", failure_reason="Your card was declined.", **base),
        "Acme",
    )
    assert "Try another card" in json.dumps(failed.blocks) and "support_open" in json.dumps(failed.blocks)
    pending = outcome_screen(PaymentView(status="pending", **base), "Acme")
    assert "Nothing will be charged twice" in json.dumps(pending.blocks)
