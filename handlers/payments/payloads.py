"""The payments screens' own values: a card button, the pay modal's metadata and its submission."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import Field, ValidationError, model_validator

from billing_core.errors import PaymentMethodNotFound
from billing_core.views import CallerContext
from handlers.kit.errors import MalformedPayload
from handlers.kit.payloads import (
    METADATA_LIMIT,
    AccountId,
    HistoryPage,
    MethodId,
    Payload,
    PayTarget,
    SubmittedView,
)
from handlers.payments.ids import PAY_METHOD_BLOCK, PAY_METHOD_SELECT


class MethodTarget(Payload):
    """Make default / Remove on one card: ``{"account", "method"}``."""

    account: AccountId
    method: MethodId


class PayModalMetadata(PayTarget):
    """The pay modal's ``private_metadata``: the Pay button's target, and for the balance the
    exact amount shown (``expected``, minor units), so a changed balance is never charged."""

    expected: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _confirmed_amount(self) -> Self:
        if (self.balance is None) != (self.expected is None):
            raise ValueError("the balance is paid for the amount shown, an invoice for its own")
        return self


class PaySubmission(Payload):
    """The pay modal submitted: what it pays (our metadata) and the card chosen in it."""

    target: PayModalMetadata
    method: MethodId

    @classmethod
    def read(cls, body: dict[str, Any]) -> Self:
        view = SubmittedView.of(body)
        target = PayModalMetadata.decode(view.private_metadata, METADATA_LIMIT)
        method = chosen_method(view)
        try:
            return cls(target=target, method=method or "")
        except ValidationError:
            raise MalformedPayload(method) from None

    def account_named(self, caller: CallerContext) -> str:
        return self.target.account

    def suspect(self, error: BaseException) -> str:
        return self.method if isinstance(error, PaymentMethodNotFound) else self.target.suspect(error)


def chosen_method(view: SubmittedView) -> str | None:
    """The card chosen in the pay modal, or ``None``."""
    return view.state.chosen(PAY_METHOD_BLOCK, PAY_METHOD_SELECT)


class MethodsPage(HistoryPage):
    """ "More cards" / "First cards" on the payment methods screen: ``{"account", "page"}``."""
