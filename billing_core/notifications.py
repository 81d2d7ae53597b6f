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
    """A payment finished later (webhook or reconcile): succeeded or failed."""

    account_name: str
    payment: PaymentView


PrincipalNotice: TypeAlias = CardAdded | PaymentSettled

# The messaging port as payments need it: tell the person behind a principal.
Notifier: TypeAlias = PrincipalMessenger[PrincipalNotice]


class NullNotifier:
    """Tells no one; for the CLI and tests that do not care."""

    def tell_principal(self, principal: str, message: PrincipalNotice) -> None:
        return None
