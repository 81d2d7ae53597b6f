"""THE one place that turns billing_core errors into what a person reads in Slack.

Other capabilities add their errors to ``_MESSAGES`` (or ``_STALE``). Text never says whether
something exists for someone else: a forged id and a stale one read the same.
"""

from __future__ import annotations

from billing_core import errors as e
from billing_core.card_guard import contains_card_number
from billing_core.escalations.views import MAX_MESSAGE_LENGTH

OUT_OF_DATE = "This is out of date. Here is the current view."
WINDOW_NOT_OPENED = "I couldn't open the window in time. Please try again."
GENERIC_FAILURE = "Something went wrong on our side and nothing was changed. Please try again in a moment."
CARD_NUMBER_GUIDANCE = (
    "Please don't type card numbers in Slack. Add cards only through the secure Stripe page "
    "(/billing methods → Add card)."
)

PAYMENTS_UNAVAILABLE = "Payments aren't available right now. Please try again later."
START_AGAIN = "This is out of date. Please start again with `/billing`."


class MalformedPayload(e.BillingError):
    """A value in a Slack payload that this app did not write: forged, garbled or oversized.

    Refused like a stale value (the out-of-date screen) and audited as a suspected forgery.
    """

    def __init__(self, raw: object) -> None:
        super().__init__("a payload value this app did not write")
        text = raw if isinstance(raw, str) else repr(raw)
        self.raw = "[card number removed]" if contains_card_number(text) else text[:255]


# Payments are not configured (no ``STRIPE_API_KEY``): ``Services.require_payments`` raises it.
PaymentsUnavailable = e.PaymentsUnavailable


# Errors that mean "what you clicked no longer matches reality" (or was never yours).
_STALE: tuple[type[e.BillingError], ...] = (
    e.AccountNotFound,
    e.InvoiceNotFound,
    e.PaymentMethodNotFound,
    e.PaymentNotFound,
    e.InvoiceNotPayable,
    e.NothingToPay,
    e.BalanceChanged,
    e.EscalationNotFound,
    MalformedPayload,
)

# Errors that suggest a forged value when they come from a Slack payload: recorded for audit.
FORGERY_SUSPECTS: tuple[type[e.BillingError], ...] = (
    e.AccountNotFound,
    e.InvoiceNotFound,
    e.PaymentMethodNotFound,
    e.PaymentNotFound,
    MalformedPayload,
)

_MESSAGES: dict[type[e.BillingError], str] = {
    MalformedPayload: START_AGAIN,
    e.AccountNotFound: "This is out of date: that account isn't available to you.",
    e.InvoiceNotFound: "This is out of date: that invoice isn't available to you.",
    e.ReminderNotFound: "This is out of date: I can't find the reminder this button belongs to.",
    e.PaymentMethodNotFound: "This is out of date: that card is no longer on the account.",
    e.PaymentNotFound: "This is out of date: that payment isn't available to you.",
    e.InvoiceAlreadyPaid: "This is out of date: that invoice has already been paid.",
    e.InvoiceNotPayable: "This is out of date: that invoice is no longer open for payment.",
    e.InvoiceClosedAtSource: "That invoice was closed by billing, so nothing was charged.",
    e.InvalidPromiseDate: "Please pick a day after today and within the next 60 days.",
    e.InvalidHoldDate: "Please pick an end date after today and within the next year.",
    e.NotBillingStaff: (
        "Sorry, this is only for billing staff (members of the billing support channel). "
        "If you need something from billing, use `/billing support`."
    ),
    e.NothingToPay: "There's nothing to pay: the account has no open balance.",
    e.BalanceChanged: (
        "This is out of date: the open balance changed since you looked, so nothing was charged. "
        "Please check the new amount."
    ),
    e.PaymentInProgress: (
        "A payment for this is already in progress. I'll let you know how it ends; nothing more was charged."
    ),
    e.PartialPaymentRefused: (
        "I can only pay a whole invoice or the full open balance. "
        "For a partial payment or a payment plan, billing support can help."
    ),
    e.NoPaymentMethod: "There's no saved card on this account yet. Add one first (Payment methods → Add card).",
    e.PaymentDeclined: "The payment was declined.",
    e.PaymentProviderUnavailable: (
        "The payment provider didn't answer in time. If anything was charged, it will show up in your "
        "history shortly; nothing will be charged twice."
    ),
    e.PaymentProviderError: "The payment provider refused the request. Nothing was charged. Please try again later.",
    e.LastPaymentMethodInUse: (
        "That's the only card on the account and there are open invoices, so I can't remove it. Add another card first."
    ),
    e.NotABillingContact: "I can't find any billing account for you.",
    e.InvalidEscalation: "That request to billing support couldn't be sent. Please check it and try again.",
    e.EscalationMessageEmpty: "Please write a message for billing support: it can't be empty.",
    e.EscalationMessageTooLong: (
        f"That message is too long: requests to billing support are limited to {MAX_MESSAGE_LENGTH:,} "
        "characters. Please shorten it."
    ),
    e.UnknownEscalationTopic: "Please choose one of the topics offered.",
    e.EscalationAlreadyResolved: "That request has already been marked resolved.",
    e.EscalationRateLimited: (
        "Billing support already has several requests from you (or for this account) from the last little "
        "while, and they will answer by e-mail. Please wait an hour before sending another."
    ),
    e.EscalationNotFound: "This is out of date: that support request isn't available.",
    e.NotYourRequest: "That isn't one of your requests to billing support, so nothing was changed.",
    e.CurrencyMismatch: "Those amounts are in different currencies, so nothing was changed.",
    e.ConfigurationError: GENERIC_FAILURE,
    e.CardNumberInText: CARD_NUMBER_GUIDANCE,
    e.VerificationRateLimited: (
        "Too many codes were requested for you or this address recently. Please try again later "
        "(in 15 minutes, or tomorrow after many codes)."
    ),
    e.IdentityVerificationError: "That code didn't work. Run /billing again to get a new one.",
    e.VerificationCodeExpired: "That code has expired. Run /billing again to get a new one.",
    e.VerificationAttemptsExhausted: (
        "Too many wrong codes: this one no longer works. Run /billing again to get a new one."
    ),
    e.AutopayNeedsDefaultCard: (
        "Autopay charges the account's default card, and there is none yet. Add a card (Payment methods → "
        "Add card), then turn autopay on."
    ),
    e.AutopayCardChanged: (
        "This is out of date: the account's default card changed since you looked, so autopay was not turned "
        "on. Please check the card and confirm again."
    ),
    e.VerificationMailFailed: (
        "I couldn't e-mail you a verification code just now. Please try again in a few minutes."
    ),
}


def user_message(error: BaseException) -> str:
    """What to tell the person about ``error`` (most specific mapping wins)."""
    for cls in type(error).__mro__:
        message = _MESSAGES.get(cls)
        if message is not None:
            if isinstance(error, e.PaymentDeclined) and error.reason:
                return f"The payment was declined: {error.reason}"
            if isinstance(error, e.InvoiceClosedAtSource):
                return f"{error.sentence()}, so nothing was charged."
            if isinstance(error, e.VerificationCodeWrong):
                left = error.attempts_left
                return f"That code isn't right. {left} attempt{'s' if left != 1 else ''} left."
            return message
    return GENERIC_FAILURE


def is_stale(error: BaseException) -> bool:
    """True when the right answer is "this is out of date" plus a refreshed view."""
    return isinstance(error, _STALE)


def is_forgery_suspect(error: BaseException) -> bool:
    return isinstance(error, FORGERY_SUSPECTS)


def not_a_contact_message(support_email: str) -> str:
    """The refusal for someone who is not a billing contact: names support, reveals nothing."""
    return (
        "Sorry, I can't help you with billing here: I couldn't match your Slack account to a billing "
        f"contact. If you think you should have access, please contact billing support at {support_email}."
    )
