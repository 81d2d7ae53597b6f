"""Domain errors. Each is mapped to user-facing text in exactly one place (``handlers/kit/errors.py``).

Messages here are for logs and operators; they never carry card data or secrets.
"""

from __future__ import annotations

from datetime import date


class BillingError(Exception):
    """Base of every error the domain raises on purpose."""


class CurrencyMismatch(BillingError):
    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"cannot combine {left} and {right}")
        self.left = left
        self.right = right


class NotABillingContact(BillingError):
    """The person is not a billing contact of any account (or of the one asked for)."""


class AccountNotFound(BillingError):
    """No such account for this person. Same answer whether it exists for someone else or not."""


class InvoiceNotFound(BillingError):
    """No such invoice for this person. Same answer whether it exists for someone else or not."""


class ReminderNotFound(BillingError):
    """No reminder the bot sent is where a reminder's button was clicked."""


class PaymentMethodNotFound(BillingError):
    """No such card on this account's Stripe customer."""


class PaymentNotFound(BillingError):
    """No such payment for this person."""


class InvoiceNotPayable(BillingError):
    """The invoice is already paid or void."""


class InvoiceAlreadyPaid(InvoiceNotPayable):
    pass


class InvoiceClosedAtSource(InvoiceNotPayable):
    """The invoice was closed where it lives (paid outside Slack, voided, written off): its last
    state received from the vendor (file, API or Stripe Billing) says so; nothing is charged."""

    def __init__(self, number: str, closed_as: str, on: date | None) -> None:
        super().__init__(f"{number} is {closed_as}")
        self.number = number
        self.closed_as = closed_as
        self.on = on

    def sentence(self) -> str:
        """``INV-1001 was paid on 3 Dec outside Slack``."""
        months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
        when = f" on {self.on.day} {months[self.on.month - 1]}" if self.on is not None else ""
        if self.closed_as == "paid_elsewhere":
            return f"{self.number} was paid{when} outside Slack"
        if self.closed_as == "uncollectible":
            return f"{self.number} was written off{when} by billing"
        return f"{self.number} was voided{when} by billing"


class ChargeUnderWay(BillingError):
    """An invoice cannot be closed from outside: a payment through the bot was already sent to the
    card processor. Once it settles, the invoice is either paid (here) or open again."""

    def __init__(self, number: str) -> None:
        super().__init__(f"a payment of {number} through billing-bot is being charged")
        self.number = number


class NothingToPay(BillingError):
    """The account has no open balance."""


class PaymentInProgress(BillingError):
    """Another payment for the same invoice(s) has been started and is not settled yet."""


class PartialPaymentRefused(BillingError):
    """Only full amounts are paid by the bot; anything else goes to billing support."""


class NoPaymentMethod(BillingError):
    """The account has no saved card to pay with."""


class PaymentDeclined(BillingError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PaymentProviderError(BillingError):
    """The payment provider failed or could not be reached; outcome may be unknown."""

    def __init__(self, message: str, *, request_id: str | None = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.retryable = retryable


class PaymentProviderUnavailable(PaymentProviderError):
    """Timeout, connection error or 5xx: the outcome of the call is unknown."""


class LastPaymentMethodInUse(BillingError):
    """Refusing to remove the only card while invoices are open."""


class InvalidImport(BillingError):
    """An import file was rejected; ``problems`` lists ``(path, message)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(f"import failed: {len(problems)} problem(s)")
        self.problems = problems


class EscalationNotFound(BillingError):
    pass


class InvalidEscalation(BillingError):
    """An escalation request was refused (empty or too long message, unknown topic)."""


class EscalationMessageEmpty(InvalidEscalation):
    """The message to billing support is empty (or only blanks)."""


class EscalationMessageTooLong(InvalidEscalation):
    def __init__(self, limit: int, length: int) -> None:
        super().__init__(f"message has {length} characters, the limit is {limit}")
        self.limit = limit
        self.length = length


class UnknownEscalationTopic(InvalidEscalation):
    """The topic is not one of those offered."""


class NotYourRequest(BillingError):
    """A requester-side action on a support request that is not the caller's, or not from its thread."""


class EscalationRateLimited(BillingError):
    """Too many requests to billing support from this person or for this account recently."""


class EscalationAlreadyResolved(BillingError):
    def __init__(self, reference: str, resolved_by: str | None) -> None:
        super().__init__(f"{reference} is already resolved")
        self.reference = reference
        self.resolved_by = resolved_by


class ConfigurationError(BillingError):
    """A setting needed for the chosen mode is missing or invalid."""


class BalanceChanged(BillingError):
    """The open balance is no longer the amount the person confirmed; nothing was charged."""


class InvalidWebhook(BillingError):
    """A webhook whose signature or body is not acceptable; nothing was done."""


class ChatRateLimited(BillingError):
    """The chat workspace asked us to slow down; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after:g}s")
        self.retry_after = retry_after


class ChatHandledElsewhere(ChatRateLimited):
    """Another process is sending in this chat workspace now (it holds the workspace's lease, so
    the workspace's limits are counted in one place); it delivers what is due there. Anyone who
    must send here anyway waits ``retry_after`` seconds, like after a rate limit."""


class ChatDeliveryFailed(BillingError):
    """The chat workspace refused or failed a call; a reminder is retried on a later sweep."""


class ChatDeliveryUnconfirmed(ChatDeliveryFailed):
    """A post failed in a way that leaves it unknown whether it reached the chat workspace (a
    timeout, a dropped connection, a server error): before it is tried again, the person's DM is
    read for it."""


class CardNumberInText(BillingError):
    """Free text that looks like a card number: refused, never stored, e-mailed or logged."""


class IdentityVerificationError(BillingError):
    """Proof of e-mail ownership (an e-mailed one-time code) did not succeed."""


class VerificationRateLimited(IdentityVerificationError):
    """Too many codes requested for this person or address recently."""


class VerificationCodeWrong(IdentityVerificationError):
    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"wrong code, {attempts_left} attempt(s) left")
        self.attempts_left = attempts_left


class VerificationCodeExpired(IdentityVerificationError):
    """The code is older than its lifetime, or none is pending."""


class VerificationAttemptsExhausted(IdentityVerificationError):
    """Too many wrong codes: this code no longer works; a new one must be requested."""


class VerificationMailFailed(IdentityVerificationError):
    """The code could not be e-mailed (no mail server configured, or it refused)."""


class AutopayNeedsDefaultCard(BillingError):
    """Autopay charges the account's default card: there must be one to turn it on."""


class AutopayCardChanged(BillingError):
    """The default card is no longer the one the person confirmed autopay with; ask again."""


class InvalidPromiseDate(BillingError):
    """A promise to pay must name a day after today and at most ``PROMISE_MAX_DAYS`` ahead."""


class NotBillingStaff(BillingError):
    """The Slack user is not a member of the private support channel (billing staff)."""


class InvalidHoldDate(BillingError):
    """A staff pause of reminders must end after today and at most a year ahead."""


class PaymentsUnavailable(Exception):
    """Payments are not configured (no ``STRIPE_API_KEY``): said as such, nothing is attempted."""
