"""The port through which the domain tells people about things that finished later.

The Slack layer implements it (a DM); the domain only says what happened and to whom.
"""

from __future__ import annotations

from typing import Protocol

from billing_core.views import PaymentMethodView, PaymentView


class Notifier(Protocol):
    def card_added(self, *, principal: str, account_name: str, card: PaymentMethodView) -> None:
        """A card added through the hosted page is now on the account."""
        ...

    def payment_settled(self, *, principal: str, account_name: str, payment: PaymentView) -> None:
        """A payment finished later (webhook or reconcile): succeeded or failed."""
        ...


class NullNotifier:
    """Tells no one; for the CLI and tests that do not care."""

    def card_added(self, *, principal: str, account_name: str, card: PaymentMethodView) -> None:
        return None

    def payment_settled(self, *, principal: str, account_name: str, payment: PaymentView) -> None:
        return None
