"""The autopay line and its toggle: on the Home tab, the methods screen and autopay's own screen."""

from __future__ import annotations

from billing_core.autopay.switch import AutopayStatus, card_label
from handlers.kit.blocks import Block, button, section
from handlers.kit.ids import AUTOPAY_CONFIRM_ACTION
from handlers.kit.payloads import AutopayChoice


def autopay_line(status: AutopayStatus) -> str:
    """One line: on (with which card) or off."""
    if status.enabled and status.card is not None:
        return f":repeat: *Autopay is on*: open invoices are charged on their due date to {card_label(status.card)}."
    if status.enabled:
        return ":warning: *Autopay is on* but the account has no default card: nothing can be charged."
    return "*Autopay is off*: invoices are paid when someone clicks Pay."


def toggle_button(status: AutopayStatus) -> Block:
    """ "Turn on autopay…" or "Turn off autopay…": both lead to a confirmation."""
    text = "Turn off autopay…" if status.enabled else "Turn on autopay…"
    value = AutopayChoice(account=status.account_external_id, on=not status.enabled).encode()
    return button(text, AUTOPAY_CONFIRM_ACTION, value)


def autopay_row(status: AutopayStatus) -> list[Block]:
    """The autopay line and its toggle, for the Home tab and the methods screen."""
    return [section(autopay_line(status), accessory=toggle_button(status))]
