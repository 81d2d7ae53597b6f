"""Autopay screens: the status with its toggle, the confirmations, and the row on Home and in methods.

The DMs autopay sends to an account's contacts (drawn here; sent by ``bot``)."""

from __future__ import annotations

from billing_core.autopay.notices import AutopayNotice
from billing_core.autopay.switch import WHAT_HAPPENS, AutopayStatus, card_label
from handlers.autopay.ids import AUTOPAY_SET_ACTION
from handlers.autopay.payloads import AutopaySet
from handlers.kit.autopay_row import autopay_line, toggle_button
from handlers.kit.blocks import Block, Screen, actions, button, context, escape_line, fmt_date, link_button, section
from handlers.kit.ids import ADD_CARD_ACTION, PAY_OPEN_ACTION
from handlers.kit.payloads import AccountRef, PayTarget
from handlers.kit.payment_outcome import outcome_screen


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


def autopay_notice_screen(notice: AutopayNotice) -> Screen:
    """One notice as a DM; a successful charge is the same receipt a click gives."""
    if notice.kind == "charged" and notice.payment is not None:
        receipt = outcome_screen(notice.payment, notice.account_name)
        return Screen(
            f"Autopay: {receipt.plain_text}",
            [section(":repeat: *Charged by autopay*"), *receipt.blocks],
            title=receipt.title,
        )
    if notice.kind == "refunded" and notice.payment is not None:
        refund = outcome_screen(notice.payment, notice.account_name)
        return Screen(
            notice.plain_text(),
            [section(":repeat: *An autopay charge was refunded*"), *refund.blocks],
            title=refund.title,
        )
    return Screen(notice.plain_text(), _blocks(notice), title="Autopay")


def _blocks(notice: AutopayNotice) -> list[Block]:
    account = escape_line(notice.account_name)
    card = escape_line(notice.card_label)
    invoice = escape_line(notice.invoice_number)
    if notice.kind == "turned_on":
        by = f" by {escape_line(notice.changed_by)}" if notice.changed_by else ""
        return [
            section(
                f":repeat: *Autopay was turned on for {account}*{by}.\n"
                f"Open invoices will be charged in full on their due date to {card}."
            )
        ]
    if notice.kind == "turned_off":
        by = f" by {escape_line(notice.changed_by)}" if notice.changed_by else ""
        return [
            section(f"*Autopay was turned off for {account}*{by}.\nInvoices will no longer be charged automatically.")
        ]
    if notice.kind == "card_removed":
        return [
            section(
                f"*Autopay is off for {account}*: its last card was removed.\n"
                "Add a card and turn autopay on again to keep paying automatically."
            ),
            actions(_notice_add_card(notice)),
        ]
    if notice.kind == "declined":
        again = (
            f"We'll try again on {fmt_date(notice.retry_on)}."
            if notice.retry_on
            else "We won't try again automatically."
        )
        return [
            section(
                f":x: *Autopay could not charge {invoice}* ({account}) to {card}.\n"
                f"Reason: {escape_line(notice.reason)}\n{again}"
            ),
            actions(
                button(
                    "Pay with another card",
                    PAY_OPEN_ACTION,
                    PayTarget.of(notice.account_external_id, notice.invoice_number).encode(),
                    style="primary",
                ),
                _notice_add_card(notice),
                block_id="autopay_declined",
            ),
        ]
    if notice.kind == "needs_authentication":
        blocks = [
            section(
                f":lock: *Your bank asks you to confirm the autopay charge of {invoice}* ({account}).\n"
                "Open the secure page to finish; nothing is charged until you do."
            )
        ]
        if notice.action_url:
            blocks.append(
                actions(link_button("Complete authentication", notice.action_url, "autopay_auth", style="primary"))
            )
        return blocks
    return [
        section(
            f":warning: *The default card of {account} expires soon.*\n"
            f"{card} expires {escape_line(notice.card_expires)} (in {notice.days_left} days). "
            "Add a new card so payments keep working."
        ),
        actions(_notice_add_card(notice), block_id="card_expiring"),
    ]


def _notice_add_card(notice: AutopayNotice) -> Block:
    return button("Add a card", ADD_CARD_ACTION, AccountRef(account=notice.account_external_id).encode())
