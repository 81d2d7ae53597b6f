"""Saved cards: brand, last four, expiry, default; Make default, Remove (confirmed), Add card."""

from __future__ import annotations

from billing_core.autopay.switch import AutopayStatus
from billing_core.views import AccountView, PaymentMethodView
from handlers.kit.autopay_row import autopay_row
from handlers.kit.blocks import (
    Block,
    Screen,
    actions,
    button,
    confirm_dialog,
    context,
    escape_line,
    link_button,
    section,
)
from handlers.kit.ids import (
    ADD_CARD_ACTION,
    METHOD_MAKE_DEFAULT_ACTION,
    METHOD_REMOVE_ACTION,
    SHOW_METHODS_ACTION,
    SHOW_METHODS_PAGE_ACTION,
)
from handlers.kit.payloads import AccountRef
from handlers.payments.payloads import MethodsPage, MethodTarget

CARDS_PER_PAGE = 20  # a card is two blocks; a message holds 50


def method_rows(account: AccountView, methods: list[PaymentMethodView], *, autopay_on: bool = False) -> list[Block]:
    blocks: list[Block] = []
    # Removing the last card of an autopay account turns autopay off: the dialog says so first.
    last_card = autopay_on and len(methods) == 1
    last_card_warning = " Autopay is on: with no card left it will be turned off." if last_card else ""
    for method in methods[:CARDS_PER_PAGE]:
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
                    f"{escape_line(account.name)}.{last_card_warning}",
                    "Remove",
                    danger=True,
                ),
            )
        )
        blocks.append(actions(*elements, block_id=f"method_{method.id}"[:255]))
    return blocks


def methods_screen(
    account: AccountView,
    methods: list[PaymentMethodView],
    autopay: AutopayStatus | None = None,
    *,
    page: int = 0,
) -> Screen:
    """The saved cards, 20 a page (past the first page "More cards" and "First cards" reach the rest);
    with ``autopay`` its line and toggle under them."""
    pages = max(1, -(-len(methods) // CARDS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = methods[page * CARDS_PER_PAGE : (page + 1) * CARDS_PER_PAGE]
    blocks: list[Block] = [section(f"*Payment methods for {escape_line(account.name)}*")]
    if methods:
        autopay_on = autopay is not None and autopay.enabled
        blocks.extend(method_rows(account, shown, autopay_on=autopay_on and len(methods) == 1))
    else:
        blocks.append(section("No saved cards yet."))
    add_card = button("Add card", ADD_CARD_ACTION, AccountRef(account=account.external_id).encode())
    elements = [add_card]
    if pages > 1:
        after = len(methods) - (page + 1) * CARDS_PER_PAGE
        first = page * CARDS_PER_PAGE + 1
        more = f" · and {after} more" if after > 0 else ""
        blocks.append(context(f"Cards {first}–{first + len(shown) - 1} of {len(methods)}{more}"))
        if page > 0:
            # The screen's own button (page 0): two equal action ids in one block are refused by Slack.
            first_page = AccountRef(account=account.external_id).encode()
            elements.append(button("First cards", SHOW_METHODS_ACTION, first_page))
        if after > 0:
            elements.append(button("More cards", SHOW_METHODS_PAGE_ACTION, _page(account, page + 1)))
    blocks.append(actions(*elements, block_id="add_card"))
    if autopay is not None:
        blocks.extend(autopay_row(autopay))
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


def _page(account: AccountView, page: int) -> str:
    return MethodsPage(account=account.external_id, page=page).encode()
