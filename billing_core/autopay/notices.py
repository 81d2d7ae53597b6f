"""What autopay tells an account's contacts. They are reached through the messaging port
(``billing_core.messaging``), as :data:`ContactMessenger`: the bot finds them like reminders do
and draws each :class:`AutopayNotice`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeAlias

from billing_core.errors import ChatDeliveryFailed, ChatRateLimited
from billing_core.messaging import Messenger
from billing_core.views import PaymentView

logger = logging.getLogger(__name__)

NoticeKind = Literal[
    "turned_on",  # someone turned autopay on
    "turned_off",  # someone turned it off
    "card_removed",  # the last card went, so autopay went off
    "charged",  # an invoice was charged: the receipt
    "declined",  # the charge was declined (retry_on: the next try, if any)
    "needs_authentication",  # the bank asks the cardholder to authenticate (action_url)
    "card_expiring",  # the default card expires within ``days_left`` days
    "refunded",  # an autopay charge was refunded in Stripe (``payment`` says how much)
]


@dataclass(frozen=True, slots=True)
class AutopayNotice:
    """One DM about autopay to one contact of one account."""

    kind: NoticeKind
    account_external_id: str
    account_name: str
    card_label: str = ""  # "Visa •••• 4242"
    changed_by: str = ""  # who turned autopay on or off
    invoice_number: str = ""
    reason: str = ""  # why a charge was declined, as a person reads it
    action_url: str = ""  # where to authenticate
    retry_on: date | None = None  # the next automatic try after a decline; None: no more
    card_expires: str = ""  # "03/27"
    days_left: int = 0
    payment: PaymentView | None = None  # the charge ("charged": the receipt)

    def plain_text(self) -> str:
        """One line for notifications and clients that do not render blocks."""
        account = self.account_name
        if self.kind == "turned_on":
            return (
                f"Autopay is on for {account}: open invoices will be charged in full on their due date "
                f"to {self.card_label}."
            )
        if self.kind == "turned_off":
            return f"Autopay is off for {account}: invoices will no longer be charged automatically."
        if self.kind == "card_removed":
            return f"Autopay is off for {account}: its last card was removed."
        if self.kind == "charged":
            amount = self.payment.amount.format() if self.payment else ""
            return f"Autopay charged {amount} for {self.invoice_number} ({account}) to {self.card_label}."
        if self.kind == "declined":
            again = f" We will try again on {self.retry_on.isoformat()}." if self.retry_on else ""
            return f"Autopay could not charge {self.invoice_number} ({account}): {self.reason}{again}"
        if self.kind == "needs_authentication":
            return f"Your bank asks you to confirm the autopay charge of {self.invoice_number} ({account})."
        if self.kind == "refunded" and self.payment is not None:
            refunded = (self.payment.refunded or self.payment.amount).format()
            invoices = ", ".join(self.payment.invoice_numbers)
            charged = self.payment.amount.format()
            return f"Refunded: {refunded} of the autopay charge of {charged} for {invoices} ({account})."
        return f"The default card of {account}, {self.card_label}, expires in {self.days_left} days."


# The messaging port as autopay needs it: find a contact by e-mail, DM them a notice.
ContactMessenger: TypeAlias = Messenger[AutopayNotice]


def tell_contacts(
    messenger: ContactMessenger | None, emails: Iterable[str], notice: AutopayNotice, *, skip: str = ""
) -> int:
    """DM ``notice`` to every contact found in the workspace (but ``skip``); how many were told.

    A contact who cannot be reached is logged and passed over: these notices are not retried.
    """
    if messenger is None:
        return 0
    told = 0
    for email in emails:
        if skip and email.lower() == skip.lower():
            continue
        try:
            contact = messenger.find_contact(email)
            if contact is None or contact.needs_proof:
                continue
            messenger.tell(contact, notice)
            told += 1
        except (ChatDeliveryFailed, ChatRateLimited) as error:
            logger.warning(
                "autopay notice %s to a contact of %s failed: %s", notice.kind, notice.account_external_id, error
            )
    return told
