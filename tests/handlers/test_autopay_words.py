"""``/billing autopay [on|off]`` words, and what autopay's DMs show."""

from __future__ import annotations

import json
from datetime import date

from billing_core.autopay.notices import AutopayNotice
from handlers.autopay.blocks import autopay_notice_screen
from handlers.kit.grammar import Command, parse


def test_autopay_with_nothing_on_or_off_is_understood_and_anything_else_gets_help() -> None:
    assert parse("autopay") == Command("autopay", "")
    assert parse("AUTOPAY On") == Command("autopay", "on")
    assert parse("autopay off") == Command("autopay", "off")
    assert parse("autopay sometimes") == Command("help", understood=False)


def test_a_declined_autopay_dm_gives_the_reason_the_next_try_and_a_pay_with_another_card_button() -> None:
    notice = AutopayNotice(
        kind="declined",
        account_external_id="acme",
        account_name="Acme Corp",
        invoice_number="INV-2",
        card_label="Visa •••• 0341",
        reason="The card was declined by the bank.",
        retry_on=date(2026, 12, 4),
    )
    shown = json.dumps(autopay_notice_screen(notice).blocks, ensure_ascii=False)
    assert "The card was declined by the bank." in shown and "4 Dec 2026" in shown
    assert "Pay with another card" in shown and '\\"invoice\\":\\"INV-2\\"' in shown


def test_a_card_expiry_dm_has_an_add_a_card_button() -> None:
    notice = AutopayNotice(
        kind="card_expiring",
        account_external_id="acme",
        account_name="Acme Corp",
        card_label="Visa •••• 4242",
        card_expires="12/26",
        days_left=7,
    )
    shown = json.dumps(autopay_notice_screen(notice).blocks, ensure_ascii=False)
    assert "expires 12/26 (in 7 days)" in shown and "Add a card" in shown
