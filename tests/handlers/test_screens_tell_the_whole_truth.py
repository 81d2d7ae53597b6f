"""Screens never cut a list or offer a payment without saying so (issue 16, screen bugs)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from billing_core.escalations.views import EscalationView
from billing_core.money import Money
from billing_core.reminders.messages import ReminderLine, ReminderMessage
from billing_core.views import AccountView, Actor, CallerContext, InvoiceView, Page, PaymentMethodView, PaymentView
from handlers.accounts.blocks import accounts_screen, help_screen
from handlers.escalations.blocks import open_escalations_screen, support_modal
from handlers.home.blocks import home_view
from handlers.kit.blocks import clip_mrkdwn
from handlers.kit.ids import PAY_OPEN_ACTION
from handlers.kit.invoice_blocks import invoices_screen
from handlers.payments.blocks import history_screen, methods_screen, partial_payment_screen
from handlers.payments.payloads import MethodsPage, MethodTarget
from handlers.reminders.blocks import reminder_blocks

Json = dict[str, Any]


def an_account(external_id: str = "acme", name: str = "Acme", balance: int = 1000, open_count: int = 1) -> AccountView:
    return AccountView(external_id, name, "usd", Money(balance, "usd"), open_count, date(2026, 12, 1))


def an_invoice(number: str, amount: int, account: str = "acme") -> InvoiceView:
    return InvoiceView(
        number, account, date(2026, 11, 1), date(2026, 12, 1), Money(amount, "usd"), Money(0, "usd"), "open", "", False
    )


def elements(blocks: list[Json]) -> list[Json]:
    found: list[Json] = []
    for block in blocks:
        found += block.get("elements", []) if block["type"] == "actions" else []
        found += [block["accessory"]] if "accessory" in block else []
    return found


def buttons(blocks: list[Json], text: str) -> list[Json]:
    return [e for e in elements(blocks) if e.get("type") == "button" and e["text"]["text"].startswith(text)]


def said(blocks: list[Json]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


# -- history paging ---------------------------------------------------------------------------


def test_previous_and_next_on_a_middle_history_page_are_two_different_actions() -> None:
    payments = tuple(
        PaymentView(n, "acme", Money(100, "usd"), "succeeded", datetime(2026, 11, 1, tzinfo=UTC), ("INV-1",))
        for n in range(20)
    )
    screen = history_screen(an_account(), Page(payments, 1, 20, 60))
    [previous] = buttons(screen.blocks, "Previous")
    [following] = buttons(screen.blocks, "Next")
    assert previous["action_id"] != following["action_id"]
    assert json.loads(previous["value"])["page"] == 0 and json.loads(following["value"])["page"] == 2


# -- $0.00 --------------------------------------------------------------------------------------


def test_an_invoice_of_zero_has_no_pay_button() -> None:
    screen = invoices_screen(an_account(balance=500, open_count=2), [an_invoice("INV-0", 0), an_invoice("INV-5", 500)])
    pays = [e for e in elements(screen.blocks) if e.get("action_id") == PAY_OPEN_ACTION]
    assert [json.loads(p["value"]).get("invoice") for p in pays] == ["INV-5", None]
    assert "INV-0" in said(screen.blocks)


def test_a_balance_of_zero_offers_no_pay_full_balance() -> None:
    screen = invoices_screen(an_account(balance=0), [an_invoice("INV-0", 0)])
    assert buttons(screen.blocks, "Pay") == []
    ctx = CallerContext(Actor("ann@acme.test", "slack:T:U"), (an_account(balance=0),), an_account(balance=0))
    home = home_view(ctx, [an_invoice("INV-0", 0)])
    assert buttons(home["blocks"], "Pay full balance") == [] and buttons(home["blocks"], "Pay") != []
    assert [e for e in elements(home["blocks"]) if e.get("action_id") == PAY_OPEN_ACTION] == []


# -- lists that are cut say so, with a way to the rest -----------------------------------------


def test_the_31st_card_can_be_reached_from_the_methods_screen() -> None:
    cards = [PaymentMethodView(f"pm_{n}", "visa", f"{n:04d}", 12, 2031, n == 0) for n in range(31)]
    first = methods_screen(an_account(), cards)
    shown = {MethodTarget.model_validate_json(b["value"]).method for b in buttons(first.blocks, "Remove")}
    [more] = buttons(first.blocks, "More cards")
    assert "11 more" in said(first.blocks) and len(shown) == 20
    page = MethodsPage.model_validate_json(more["value"])
    second = methods_screen(an_account(), cards, page=page.page)
    shown |= {MethodTarget.model_validate_json(b["value"]).method for b in buttons(second.blocks, "Remove")}
    assert shown == {card.id for card in cards}
    assert buttons(second.blocks, "More cards") == [] and buttons(second.blocks, "First cards") != []


def test_the_accounts_screen_says_how_many_more_accounts_there_are_and_how_to_reach_them() -> None:
    accounts = tuple(an_account(f"acct-{n}", f"Account {n}") for n in range(120))
    screen = accounts_screen(CallerContext(Actor("ann@acme.test", "slack:T:U"), accounts, accounts[0]))
    text = said(screen.blocks)
    assert "Account 39" in text and "Account 40*" not in text
    assert "and 80 more" in text and "/billing switch" in text


def test_the_home_tab_says_how_many_more_invoices_there_are() -> None:
    account = an_account(balance=6000, open_count=60)
    ctx = CallerContext(Actor("ann@acme.test", "slack:T:U"), (account,), account)
    home = home_view(ctx, [an_invoice(f"INV-{n}", 100) for n in range(30)])
    text = said(home["blocks"])
    assert "and 30 more" in text and "/billing pay" in text


def test_the_invoices_screen_says_how_to_pay_the_invoices_it_does_not_list() -> None:
    screen = invoices_screen(an_account(balance=6000, open_count=60), [an_invoice(f"INV-{n}", 100) for n in range(60)])
    assert "and 20 more" in said(screen.blocks) and "/billing pay" in said(screen.blocks)


def test_open_requests_beyond_the_40th_are_counted() -> None:
    requests = [
        EscalationView(
            n,
            f"ESC-{n}",
            "acme",
            "Acme",
            None,
            "other",
            "Other",
            "hi",
            "user",
            "open",
            "sent",
            "ann@acme.test",
            "Ann",
            "slack:T:U",
            datetime(2026, 11, 1, tzinfo=UTC),
        )
        for n in range(45)
    ]
    screen = open_escalations_screen(an_account(), requests)
    assert "ESC-39" in said(screen.blocks) and "ESC-40" not in said(screen.blocks)
    assert "and 5 more" in said(screen.blocks)


# -- reminders ----------------------------------------------------------------------------------


def test_remind_me_later_carries_a_short_reference_not_the_invoices() -> None:
    long_id = "a" * 128
    lines = tuple(
        ReminderLine(long_id, "Acme", f"INV-{n}-" + "9" * 118, Money(100, "usd"), date(2026, 12, 1)) for n in range(20)
    )
    [later] = buttons(reminder_blocks(ReminderMessage(step=3, recipient_name="Ann", lines=lines)), "Remind me later")
    assert len(later["value"]) <= 300 and "INV-1-" not in later["value"]


# -- escaping -----------------------------------------------------------------------------------


def test_help_shows_the_invoice_number_placeholder() -> None:
    text = said(help_screen("billing@acme.test").blocks)
    assert "/billing pay &lt;invoice number&gt;" in text and "<invoice number>" not in text


def test_confirm_dialogs_escape_account_names_and_invoice_numbers() -> None:
    cards = [PaymentMethodView("pm_1", "visa", "4242", 12, 2031, False)]
    dialogs = [
        e["confirm"] for e in elements(methods_screen(an_account(name="<!here> & Co"), cards).blocks) if "confirm" in e
    ]
    lines = (ReminderLine("acme", "Acme", "<!channel>&1", Money(100, "usd"), date(2026, 12, 1)),)
    dialogs += [e["confirm"] for e in elements(reminder_blocks(ReminderMessage(3, "Ann", lines))) if "confirm" in e]
    texts = [dialog["text"]["text"] for dialog in dialogs]
    assert any("&lt;!here&gt; &amp; Co" in t for t in texts) and any("&lt;!channel&gt;&amp;1" in t for t in texts)
    assert all("<!" not in t for t in texts)


def test_clipping_never_cuts_an_entity_or_an_emoji_sequence_in_half() -> None:
    for pad in range(12):
        clipped = clip_mrkdwn("x" * pad + "&amp;&lt;&gt;" * 5, 10)
        assert len(clipped) <= 10 and clipped.endswith("…")
        body = clipped[:-1]
        assert body.count("&") == body.count(";")
    family = "👩\u200d👩\u200d👧\u200d👦"
    for pad in range(10):
        clipped = clip_mrkdwn("x" * pad + family * 3, 12)
        body = clipped[:-1]
        assert not body.endswith("\u200d") and body.count("👩") % 2 == 0 and len(clipped) <= 12


def test_a_reminder_line_of_zero_has_no_pay_button() -> None:
    lines = (
        ReminderLine("acme", "Acme", "INV-0", Money(0, "usd"), date(2026, 12, 1)),
        ReminderLine("acme", "Acme", "INV-5", Money(500, "usd"), date(2026, 12, 1)),
    )
    pays = [e for e in elements(reminder_blocks(ReminderMessage(3, "Ann", lines))) if e["action_id"] == PAY_OPEN_ACTION]
    assert [json.loads(p["value"])["invoice"] for p in pays] == ["INV-5"]


def test_the_partial_payment_answer_counts_the_open_invoices_it_does_not_name() -> None:
    screen = partial_payment_screen(an_account(open_count=25), "5", [an_invoice(f"INV-{n}", 100) for n in range(25)])
    text = said(screen.blocks)
    assert "INV-19" in text and "INV-20" not in text and "and 5 more" in text


def test_the_support_modal_says_which_invoices_its_list_leaves_out() -> None:
    view = support_modal(an_account(open_count=150), [an_invoice(f"INV-{n}", 100) for n in range(150)])
    [related] = [b for b in view["blocks"] if b.get("block_id") == "support_invoice"]
    assert len(related["element"]["options"]) == 100 and "51 more" in related["hint"]["text"]


def test_the_home_tab_says_how_to_reach_accounts_its_select_cannot_hold() -> None:
    accounts = tuple(an_account(f"acct-{n}", f"Account {n}") for n in range(120))
    home = home_view(CallerContext(Actor("ann@acme.test", "slack:T:U"), accounts, accounts[0]), [])
    assert "20 more accounts" in said(home["blocks"]) and "/billing switch" in said(home["blocks"])
