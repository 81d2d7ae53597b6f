"""The DMs autopay sends to an account's contacts (drawn here; sent by ``bot``)."""

from __future__ import annotations

from billing_core.autopay.notices import AutopayNotice
from handlers.kit.blocks import Block, Screen, actions, button, escape_line, fmt_date, link_button, section
from handlers.kit.ids import ADD_CARD_ACTION, PAY_OPEN_ACTION
from handlers.kit.payloads import AccountRef, PayTarget
from handlers.kit.payment_outcome import outcome_screen


def autopay_notice_screen(notice: AutopayNotice) -> Screen:
    """One notice as a DM; a successful charge is the same receipt a click gives."""
    if notice.kind == "charged" and notice.payment is not None:
        receipt = outcome_screen(notice.payment, notice.account_name)
        return Screen(
            f"Autopay: {receipt.plain_text}",
            [section(":repeat: *Charged by autopay*"), *receipt.blocks],
            title=receipt.title,
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
            actions(_add_card(notice)),
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
                _add_card(notice),
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
        actions(_add_card(notice), block_id="card_expiring"),
    ]


def _add_card(notice: AutopayNotice) -> Block:
    return button("Add a card", ADD_CARD_ACTION, AccountRef(account=notice.account_external_id).encode())
