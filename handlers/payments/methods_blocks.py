"""Saved cards: brand, last four, expiry, default; Make default, Remove (confirmed), Add card."""

from __future__ import annotations

from billing_core.views import AccountView, PaymentMethodView
from handlers.kit.blocks import (
    Block,
    Screen,
    actions,
    button,
    confirm_dialog,
    escape_line,
    link_button,
    section,
)
from handlers.kit.ids import ADD_CARD_ACTION, METHOD_MAKE_DEFAULT_ACTION, METHOD_REMOVE_ACTION
from handlers.kit.payloads import AccountRef
from handlers.payments.payloads import MethodTarget


def method_rows(account: AccountView, methods: list[PaymentMethodView]) -> list[Block]:
    blocks: list[Block] = []
    for method in methods[:20]:
        label = escape_line(method.label) + (" · *default*" if method.is_default else "")
        blocks.append(section(label))
        target = MethodTarget(account=account.external_id, method=method.id).encode()
        elements: list[Block] = []
        if not method.is_default:
            elements.append(button("Make default", METHOD_MAKE_DEFAULT_ACTION, target))
        elements.append(
            button(
                "Remove",
                METHOD_REMOVE_ACTION,
                target,
                style="danger",
                confirm=confirm_dialog(
                    "Remove this card?",
                    f"{escape_line(method.brand.title())} ending in {escape_line(method.last4)} will be removed from "
                    f"{escape_line(account.name)}.",
                    "Remove",
                    danger=True,
                ),
            )
        )
        blocks.append(actions(*elements, block_id=f"method_{method.id}"[:255]))
    return blocks


def methods_screen(account: AccountView, methods: list[PaymentMethodView]) -> Screen:
    blocks: list[Block] = [section(f"*Payment methods for {escape_line(account.name)}*")]
    if methods:
        blocks.extend(method_rows(account, methods))
    else:
        blocks.append(section("No saved cards yet."))
    add_card = button("Add card", ADD_CARD_ACTION, AccountRef(account=account.external_id).encode())
    blocks.append(actions(add_card, block_id="add_card"))
    text = f"{account.name}: {len(methods)} saved card(s)"
    return Screen(text, blocks, title="Payment methods")


def add_card_screen(account: AccountView, url: str) -> Screen:
    blocks: list[Block] = [
        section(
            f"Add a card to *{escape_line(account.name)}* on Stripe's secure page. Card details never pass "
            "through Slack or our servers. I'll send you a DM once the card is ready to use."
        ),
        actions(link_button("Add a card securely", url, "add_card", style="primary")),
    ]
    return Screen(f"Add a card to {account.name}: {url}", blocks, title="Add a card")


def card_added_screen(account_name: str, card: PaymentMethodView) -> Screen:
    text = f"Your card {card.label} was added to {account_name}."
    return Screen(text, [section(f":credit_card: {escape_line(text)} You can pay with it now.")], title="Card added")
