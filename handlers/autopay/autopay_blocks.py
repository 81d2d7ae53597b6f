"""Autopay screens: the status with its toggle, the confirmations, and the row on Home and in methods."""

from __future__ import annotations

from billing_core.autopay.switch import WHAT_HAPPENS, AutopayStatus, card_label
from handlers.autopay.payloads import AutopaySet
from handlers.kit.autopay_row import autopay_line, toggle_button
from handlers.kit.blocks import Block, Screen, actions, button, context, escape_line, fmt_date, section
from handlers.kit.ids import ADD_CARD_ACTION, AUTOPAY_SET_ACTION
from handlers.kit.payloads import AccountRef


def autopay_screen(status: AutopayStatus) -> Screen:
    """``/billing autopay``: whether it is on, the card, who changed it last, and the toggle."""
    blocks: list[Block] = [section(f"*Autopay for {escape_line(status.account_name)}*"), section(autopay_line(status))]
    if status.changed_by and status.changed_at is not None:
        state = "on" if status.enabled else "off"
        blocks.append(context(f"Turned {state} by {escape_line(status.changed_by)} on {fmt_date(status.changed_at)}."))
    if status.collected_by_stripe:
        blocks.append(
            context(
                f"Stripe collects {status.collected_by_stripe} open invoice(s) of this account automatically with the "
                "card on file there: autopay here leaves those to Stripe and never charges them."
            )
        )
    if status.enabled or status.card is not None:
        blocks.append(actions(toggle_button(status), block_id="autopay_toggle"))
    else:
        blocks.append(section("Autopay charges the account's default card. Add a card first."))
        blocks.append(actions(_add_card(status), block_id="autopay_add_card"))
    text = f"Autopay for {status.account_name}: {'on' if status.enabled else 'off'}"
    return Screen(text, blocks, title="Autopay")


def confirm_screen(status: AutopayStatus, on: bool) -> Screen:
    """The confirmation: it names the card, the account and what will happen."""
    account = escape_line(status.account_name)
    if not on:
        blocks = [
            section(
                f"*Turn off autopay for {account}?*\nInvoices will no longer be charged automatically; "
                "reminders will ask you to pay them. The other contacts of the account will be told."
            ),
            actions(
                button(
                    "Turn off autopay",
                    AUTOPAY_SET_ACTION,
                    AutopaySet(account=status.account_external_id, on=False).encode(),
                    style="danger",
                ),
                block_id="autopay_confirm_off",
            ),
        ]
        return Screen(f"Turn off autopay for {status.account_name}?", blocks, title="Autopay")
    if status.card is None:
        return autopay_screen(status).with_notice("Autopay needs a default card. Add one first.")
    card = escape_line(card_label(status.card))
    blocks = [
        section(
            f"*Turn on autopay for {account} with {card}?*\n{WHAT_HAPPENS} to {card} "
            f"(the account's default card). A declined charge is tried again 3 and 7 days later. "
            "The other contacts of the account will be told."
        ),
        actions(
            button(
                "Turn on autopay",
                AUTOPAY_SET_ACTION,
                AutopaySet(account=status.account_external_id, on=True, card=status.card.id).encode(),
                style="primary",
            ),
            block_id="autopay_confirm_on",
        ),
    ]
    return Screen(
        f"Turn on autopay for {status.account_name} with {card_label(status.card)}? {WHAT_HAPPENS}.",
        blocks,
        title="Autopay",
    )


def _add_card(status: AutopayStatus) -> Block:
    return button("Add a card", ADD_CARD_ACTION, AccountRef(account=status.account_external_id).encode())
