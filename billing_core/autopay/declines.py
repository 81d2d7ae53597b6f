"""Which declines autopay may try again, by the bank's decline code and advice code.

Stripe's decline codes (https://docs.stripe.com/declines/codes) say for some that the payment
"should not be retried" or needs the customer to act (a lost or stolen card, fraud, a closed
account, an expired card); and an issuer's ``advice_code`` ``do_not_try_again`` says so outright.
Retrying those only collects more declines (and card networks fine merchants for retrying
them); autopay stops at once and asks the contacts for another card instead.
"""

from __future__ import annotations

from dataclasses import dataclass

HARD_DECLINES = frozenset(
    {
        "do_not_try_again",
        "expired_card",
        "fraudulent",
        "incorrect_number",
        "invalid_account",
        "lost_card",
        "merchant_blacklist",
        "pickup_card",
        "restricted_card",
        "revocation_of_all_authorizations",
        "revocation_of_authorization",
        "security_violation",
        "stolen_card",
        "stop_payment_order",
        "card_not_supported",
        "transaction_not_allowed",
    }
)


@dataclass(frozen=True, slots=True)
class Decline:
    """What the bank said about a declined charge, as far as Stripe told us."""

    code: str | None = None
    advice_code: str | None = None

    @property
    def worth_retrying(self) -> bool:
        """False when the bank or the decline code says another try with this card is pointless."""
        return self.advice_code != "do_not_try_again" and (self.code or "") not in HARD_DECLINES
