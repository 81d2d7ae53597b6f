"""An invoice's document (``document_url``) as a "View invoice" link button wherever it is shown."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

from billing_core.money import Money
from billing_core.reminders.messages import ReminderLine, ReminderMessage
from billing_core.views import AccountView, Actor, CallerContext, InvoiceView, PaymentMethodView
from handlers.home.blocks import home_view
from handlers.kit.documents import view_invoice_button
from handlers.kit.invoice_blocks import invoices_screen
from handlers.payments.blocks import pay_modal
from handlers.reminders.blocks import reminder_blocks

ACME = AccountView("acme", "Acme Corp", "usd", Money(175050, "usd"), 2, date(2026, 10, 31), 1)
PDF = "https://billing.vendor.test/invoices/INV-1.pdf?sig=abc"


def invoice(number: str, document_url: str | None = PDF) -> InvoiceView:
    return InvoiceView(
        number,
        "acme",
        date(2026, 10, 1),
        date(2026, 12, 1),
        Money(100, "usd"),
        Money(0, "usd"),
        "open",
        "",
        False,
        document_url=document_url,
    )


def link_buttons(blocks: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "button" and "url" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return found


def test_the_invoice_list_offers_view_invoice_for_an_invoice_with_a_document() -> None:
    screen = invoices_screen(ACME, [invoice("INV-1"), invoice("INV-2", None)])
    [button] = link_buttons(screen.blocks)
    assert button["text"]["text"] == "View invoice" and button["url"] == PDF
    assert button["action_id"] == "link_view_invoice"  # acked by the no-op listener for link_ actions


def test_many_invoices_with_documents_stay_under_the_message_block_limit() -> None:
    invoices = [invoice(f"INV-{n}") for n in range(500)]
    assert len(invoices_screen(ACME, invoices).blocks) <= 50
    ctx = CallerContext(Actor("a@b.c", "slack:T:U"), (ACME,), ACME)
    home = home_view(ctx, invoices)
    assert len(home["blocks"]) <= 100 and link_buttons(home)


def test_the_app_home_and_the_pay_modal_link_the_document() -> None:
    ctx = CallerContext(Actor("a@b.c", "slack:T:U"), (ACME,), ACME)
    assert [b["url"] for b in link_buttons(home_view(ctx, [invoice("INV-1")]))] == [PDF]
    card = PaymentMethodView("pm_1", "visa", "4242", 12, 2031, True)
    modal = pay_modal(ACME, [invoice("INV-1")], Money(100, "usd"), [card], invoice="INV-1")
    assert [b["url"] for b in link_buttons(modal)] == [PDF]
    balance = pay_modal(ACME, [invoice("INV-1"), invoice("INV-2")], Money(200, "usd"), [card], invoice=None)
    assert link_buttons(balance) == []  # the whole balance: no single document to open


def test_a_reminder_offers_the_document_beside_pay() -> None:
    line = ReminderLine("acme", "Acme Corp", "INV-1", Money(100, "usd"), date(2026, 12, 1), document_url=PDF)
    message = ReminderMessage(
        step=0, recipient_name="Ann", lines=(line, replace(line, invoice_number="INV-2", document_url=None))
    )
    blocks = reminder_blocks(message)
    assert [b["url"] for b in link_buttons(blocks)] == [PDF]
    assert "View invoice" in json.dumps(blocks)


def test_only_http_and_https_urls_within_block_kits_limit_become_buttons() -> None:
    assert view_invoice_button("javascript:alert(1)") is None
    assert view_invoice_button("file:///etc/passwd") is None
    assert view_invoice_button("https://x.test/" + "a" * 3000) is None
    assert view_invoice_button(None) is None
    assert view_invoice_button("http://x.test/a.pdf") is not None


def test_a_kept_invoice_row_is_redrawn_when_anything_it_shows_changes() -> None:
    ctx = CallerContext(Actor("a@b.c", "slack:T:U"), (ACME,), ACME)
    first = invoice("INV-7")
    assert home_view(ctx, [first]) == home_view(ctx, [invoice("INV-7")])  # drawn once, shown the same
    [row] = [b for b in home_view(ctx, [first])["blocks"] if "*INV-7*" in json.dumps(b)]
    assert row["accessory"]["action_id"] == "pay_open"
    [row] = [
        b for b in home_view(ctx, [replace(first, payment_in_progress=True)])["blocks"] if "*INV-7*" in json.dumps(b)
    ]
    assert "payment in progress" in row["text"]["text"] and "accessory" not in row  # no Pay while one is under way
    assert "overdue" in json.dumps(home_view(ctx, [replace(first, overdue=True)]))
    assert "$0.50" in json.dumps(home_view(ctx, [replace(first, amount_paid=Money(50, "usd"))]))
    assert link_buttons(home_view(ctx, [replace(first, document_url=None)])) == []
