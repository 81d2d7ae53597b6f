"""What the domain tells people about things that finished later, and to whom.

They are told through the messaging port (``billing_core.messaging``) by principal, as
:data:`Notifier`: the Slack layer DMs them; the domain only says what happened and to whom.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from billing_core.messaging import PrincipalMessenger
from billing_core.views import PaymentMethodView, PaymentView


@dataclass(frozen=True, slots=True)
class CardAdded:
    """A card added through the hosted page is now on the account."""

    account_name: str
    card: PaymentMethodView


@dataclass(frozen=True, slots=True)
class PaymentSettled:
    """A payment finished later (webhook or reconcile): succeeded (its receipt) or failed."""

    account_name: str
    payment: PaymentView


@dataclass(frozen=True, slots=True)
class PaymentFollowUp:
    """What Stripe said about a payment after it succeeded (a refund, a dispute): told to the
    payer in the thread of that payment's receipt DM, when it is known."""

    account_name: str
    payment: PaymentView


PrincipalNotice: TypeAlias = CardAdded | PaymentSettled | PaymentFollowUp

# The messaging port as payments need it: tell the person behind a principal.
Notifier: TypeAlias = PrincipalMessenger[PrincipalNotice]


class NullNotifier:
    """Tells no one; for the CLI and tests that do not care."""

    def tell_principal(self, principal: str, message: PrincipalNotice) -> None:
        return None
