"""In-memory implementations of the domain's ports, for fast tests of the rules.

They are fakes, not mocks: each keeps state and behaves as the port promises (an idempotency key
replays the first answer, a card belongs to one customer, a refused message is a
``MailDeliveryError``), and each can be told to fail the way the real thing fails. The tests of
the real adapters (localstripe, the SMTP sink, the HTTP receiver) stay: these are in addition.

- ``FakePaymentGateway``: ``billing_core.payments.ports.PaymentGateway``
- ``FakeMailer``: ``billing_core.mail.Mailer``
- ``FakeChannel``: ``billing_core.outbound.delivery.Channel`` (the webhook poster's port)
- ``FakeStaffChannel``: ``billing_core.escalations.outbox.StaffChannel``
- ``InlineBackground``: ``billing_core.background.Background`` (jobs run inline, loops by hand)
- ``FakeMessenger``: ``billing_core.messaging`` (contacts by e-mail, tell, edit, tell a principal)
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from billing_core.accounts.provider_invoices import BillingInvoice
from billing_core.errors import InvalidWebhook, PaymentMethodNotFound, PaymentProviderError, PaymentProviderUnavailable
from billing_core.escalations.views import EscalationView
from billing_core.mail import MailDeliveryError
from billing_core.messaging import ChatContact, PostedMessage
from billing_core.outbound.delivery import Attempt
from billing_core.payments.intents import Card, CardDeclined, CheckoutSession, Intent

if TYPE_CHECKING:
    from billing_core.background import Background
    from billing_core.escalations.outbox import StaffChannel
    from billing_core.mail import Mailer
    from billing_core.messaging import EditingMessenger, PrincipalMessenger
    from billing_core.outbound.delivery import Channel
    from billing_core.payments.ports import PaymentGateway

# ``FakePaymentGateway.lose_next_charge``: the provider never got the call, or charged and the
# answer was lost on the way back (a timeout either way: the outcome is unknown to the caller).
Loss = Literal["before_charging", "after_charging"]


@dataclass(frozen=True, slots=True)
class Charge:
    """One call that reached the provider and created a payment (replays are not charges)."""

    intent_id: str
    amount_minor: int
    currency: str
    customer_id: str
    payment_method_id: str
    idempotency_key: str
    off_session: bool
    metadata: Mapping[str, str]


@dataclass
class FakePaymentGateway:
    """The payment provider in memory: customers, their cards, intents, invoices and signed events.

    Knobs: ``declines`` (payment method ids refused at charge time), ``needs_authentication``
    (ids whose charge answers ``requires_action`` when the payer is present),
    ``lose_next_charge(...)`` (the next charge times out), ``unavailable`` (every call is a
    ``PaymentProviderUnavailable``)."""

    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    cards: dict[str, Card] = field(default_factory=dict)
    intents: dict[str, Intent] = field(default_factory=dict)
    invoices: dict[str, BillingInvoice] = field(default_factory=dict)
    charges: list[Charge] = field(default_factory=list)
    setups: dict[str, str] = field(default_factory=dict)  # setup intent id -> payment method id
    declines: set[str] = field(default_factory=set)
    needs_authentication: set[str] = field(default_factory=set)
    unavailable: bool = False
    paid_out_of_band: list[str] = field(default_factory=list)
    # Events the provider made (listed by ``list_events``, as when a webhook missed them).
    events: list[dict[str, Any]] = field(default_factory=list)
    _replays: dict[str, Intent] = field(default_factory=dict)
    _customer_keys: dict[str, str] = field(default_factory=dict)
    _loss: Loss | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- arranging ----------------------------------------------------------------------------

    def add_customer(self, email: str = "ann@acme.test") -> str:
        customer_id = self._new("cus")
        self.customers[customer_id] = {"email": email, "default": None}
        return customer_id

    def add_card(
        self, customer_id: str, *, brand: str = "visa", last4: str = "4242", default: bool = True, year: int = 2030
    ) -> str:
        card = Card(self._new("pm"), customer_id, brand, last4, 12, year)
        self.cards[card.id] = card
        if default:
            self.customers[customer_id]["default"] = card.id
        return card.id

    def lose_next_charge(self, how: Loss = "after_charging") -> None:
        self._loss = how

    # -- customers and cards ----------------------------------------------------------------

    def create_customer(self, *, email: str, account_external_id: str, idempotency_key: str) -> str:
        self._check_up()
        if idempotency_key in self._customer_keys:
            return self._customer_keys[idempotency_key]
        customer_id = self.add_customer(email)
        self.customers[customer_id]["account"] = account_external_id
        self._customer_keys[idempotency_key] = customer_id
        return customer_id

    def default_payment_method(self, customer_id: str) -> str | None:
        self._check_up()
        default: str | None = self._customer(customer_id).get("default")
        return default

    def list_cards(self, customer_id: str) -> list[Card]:
        self._check_up()
        return [card for card in self.cards.values() if card.customer_id == customer_id]

    def retrieve_card(self, payment_method_id: str) -> Card:
        self._check_up()
        if payment_method_id not in self.cards:
            raise PaymentMethodNotFound(payment_method_id)
        return self.cards[payment_method_id]

    def set_default_payment_method(self, customer_id: str, payment_method_id: str | None) -> None:
        self._check_up()
        self._customer(customer_id)["default"] = payment_method_id or None

    def detach(self, payment_method_id: str) -> None:
        self._check_up()
        card = self.retrieve_card(payment_method_id)
        self.cards[payment_method_id] = replace(card, customer_id=None)
        for customer in self.customers.values():
            if customer.get("default") == payment_method_id:
                customer["default"] = None

    def setup_intent_payment_method(self, setup_intent_id: str) -> str | None:
        self._check_up()
        return self.setups.get(setup_intent_id)

    def create_setup_checkout(
        self, *, customer_id: str, success_url: str, cancel_url: str, metadata: Mapping[str, str]
    ) -> CheckoutSession:
        self._check_up()
        self._customer(customer_id)
        session_id = self._new("cs")
        return CheckoutSession(session_id, f"https://checkout.test/{session_id}")

    # -- payments ----------------------------------------------------------------------------

    def charge(
        self,
        *,
        amount_minor: int,
        currency: str,
        customer_id: str,
        payment_method_id: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
        off_session: bool,
        description: str | None = None,
        statement_descriptor_suffix: str | None = None,
    ) -> Intent:
        if not isinstance(amount_minor, int) or isinstance(amount_minor, bool):
            raise TypeError("amount must be an int of minor units")
        self._check_up()
        loss, self._loss = self._loss, None
        if loss == "before_charging":
            raise PaymentProviderUnavailable("APIConnectionError: timed out before the provider answered")
        if idempotency_key in self._replays:  # the same key replays the first answer, never charges again
            return self._replays[idempotency_key]
        card = self.cards.get(payment_method_id)
        if card is None or card.customer_id != customer_id:
            raise PaymentProviderError("InvalidRequestError: no such payment method", retryable=False)
        status = "succeeded"
        if payment_method_id in self.needs_authentication:
            status = "requires_payment_method" if off_session else "requires_action"
        intent = Intent(
            id=self._new("pi"),
            status=status,
            amount_minor=amount_minor,
            currency=currency,
            customer_id=customer_id,
            payment_method_id=payment_method_id,
            client_secret="secret" if status == "requires_action" else None,
            metadata=dict(metadata),
        )
        if payment_method_id in self.declines:
            intent = replace(intent, status="requires_payment_method", failure_code="card_declined")
            self.intents[intent.id] = intent
            raise CardDeclined(code="card_declined", message="Your card was declined.", intent=intent)
        self.intents[intent.id] = intent
        self._replays[idempotency_key] = intent
        self.charges.append(
            Charge(
                intent.id,
                amount_minor,
                currency,
                customer_id,
                payment_method_id,
                idempotency_key,
                off_session,
                dict(metadata),
            )
        )
        if loss == "after_charging":
            raise PaymentProviderUnavailable("APIConnectionError: the answer was lost")
        return intent

    def retrieve_intent(self, intent_id: str) -> Intent:
        self._check_up()
        if intent_id not in self.intents:
            raise PaymentProviderError(f"InvalidRequestError: no such payment intent {intent_id}", retryable=False)
        return self.intents[intent_id]

    def cancel_intent(self, intent_id: str) -> Intent:
        intent = replace(self.retrieve_intent(intent_id), status="canceled")
        self.intents[intent_id] = intent
        return intent

    def find_intent(self, payment_key: str, *, customer_id: str | None) -> Intent | None:
        self._check_up()
        if not customer_id:
            return None
        for intent in reversed(list(self.intents.values())):
            if intent.customer_id == customer_id and intent.metadata.get("billing_payment_key") == payment_key:
                return intent
        return None

    def settle(self, intent_id: str, status: str = "succeeded") -> Intent:
        """The provider finished an intent on its own (3-D Secure done, a processing charge cleared)."""
        intent = replace(self.intents[intent_id], status=status)
        self.intents[intent_id] = intent
        return intent

    # -- invoices kept by the provider --------------------------------------------------------

    def list_invoices(self, customer_id: str, *, created_since: int | None = None) -> list[BillingInvoice]:
        self._check_up()
        return [invoice for invoice in self.invoices.values() if invoice.customer_id == customer_id]

    def retrieve_invoice(self, invoice_id: str) -> BillingInvoice:
        self._check_up()
        if invoice_id not in self.invoices:
            raise PaymentProviderError(f"InvalidRequestError: no such invoice {invoice_id}", retryable=False)
        return self.invoices[invoice_id]

    def pay_invoice(
        self, invoice_id: str, *, payment_method_id: str, off_session: bool, idempotency_key: str
    ) -> Intent:
        invoice = self.retrieve_invoice(invoice_id)
        intent = self.charge(
            amount_minor=invoice.amount_due_minor - invoice.amount_paid_minor,
            currency=invoice.currency,
            customer_id=invoice.customer_id,
            payment_method_id=payment_method_id,
            metadata={},
            idempotency_key=idempotency_key,
            off_session=off_session,
        )
        self.invoices[invoice_id] = replace(
            invoice, status="paid", amount_paid_minor=invoice.amount_due_minor, payment_intent_id=intent.id
        )
        return intent

    def mark_invoice_paid(self, invoice_id: str) -> None:
        self._check_up()
        self.paid_out_of_band.append(invoice_id)

    # -- webhooks ----------------------------------------------------------------------------

    def list_events(self, types: Sequence[str], *, created_since: int, limit: int) -> list[dict[str, Any]]:
        """The events a test put in ``events`` (newest first), as Stripe's list filters them."""
        self._check_up()
        wanted = [e for e in self.events if e.get("type") in types and int(e.get("created") or 0) >= created_since]
        return sorted(wanted, key=lambda e: int(e.get("created") or 0), reverse=True)[:limit]

    def verify_event(
        self, payload: bytes, signature_header: str | None, secret: str, tolerance: int = 300
    ) -> dict[str, Any]:
        """Signed means ``signature_header == FakePaymentGateway.sign(secret)``."""
        if not signature_header or not secret:
            raise InvalidWebhook("missing signature")
        if signature_header != self.sign(secret):
            raise InvalidWebhook("bad signature")
        try:
            event = json.loads(payload)
        except ValueError as error:
            raise InvalidWebhook("body is not JSON") from error
        if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event.get("type"):
            raise InvalidWebhook("not an event")
        return event

    @staticmethod
    def sign(secret: str) -> str:
        return f"fake-signature:{secret}"

    # -- inside ------------------------------------------------------------------------------

    def _new(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids)}"

    def _customer(self, customer_id: str) -> dict[str, Any]:
        if customer_id not in self.customers:
            raise PaymentProviderError(f"InvalidRequestError: no such customer {customer_id}", retryable=False)
        return self.customers[customer_id]

    def _check_up(self) -> None:
        if self.unavailable:
            raise PaymentProviderUnavailable("APIConnectionError: the provider cannot be reached")


@dataclass
class FakeMailer:
    """Keeps what it was given. ``refuse`` makes every ``send`` fail that way until cleared."""

    sent: list[EmailMessage] = field(default_factory=list)
    refuse: MailDeliveryError | None = None

    def send(self, message: EmailMessage) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.sent.append(message)


@dataclass
class FakeChannel:
    """An outbound channel (the webhook endpoint's port): records each attempt and answers with
    ``answer(event_id, attempt_number)``, 200 by default; it never raises."""

    channel: str = "webhook"
    concurrency: int = 1
    attempts: list[tuple[str, str, str, int]] = field(default_factory=list)
    answer: Callable[[str, int], Attempt] = lambda event_id, n: Attempt(ok=True, status=200)

    def send(self, event_id: str, event_type: str, body: str, now: int) -> Attempt:
        self.attempts.append((event_id, event_type, body, now))
        return self.answer(event_id, sum(1 for a in self.attempts if a[0] == event_id))


@dataclass
class FakeStaffChannel:
    """The staff channel: what was posted where; ``broken`` makes ``post`` raise."""

    posts: list[tuple[str, EscalationView]] = field(default_factory=list)
    broken: bool = False

    def post(self, channel: str, escalation: EscalationView) -> str:
        if self.broken:
            raise ConnectionError("the staff channel cannot be reached")
        self.posts.append((channel, escalation))
        return f"{len(self.posts)}.000100"


T = TypeVar("T")


@dataclass
class InlineLoop:
    """A loop that runs only when told: ``run_once`` is one tick; ``wakes`` counts ``wake`` calls."""

    name: str
    job: Callable[[], object]
    every: float
    started: bool = False
    stopped: bool = False
    wakes: int = 0

    def start(self) -> None:
        self.started = True

    def wake(self) -> None:
        self.wakes += 1

    def stop(self, timeout: float = 5.0) -> None:
        self.stopped = True

    def run_once(self) -> None:
        self.job()


@dataclass
class InlineLanes:
    """Lanes that run their jobs one after another on the caller's thread."""

    bounds: Mapping[str, int]
    closed: bool = False

    def run(self, jobs: Sequence[tuple[str, Callable[[], T]]]) -> list[T]:
        assert not self.closed, "run after close"
        unknown = {lane for lane, _ in jobs} - set(self.bounds)
        if unknown:
            raise KeyError(sorted(unknown)[0])
        return [job() for _, job in jobs]

    def close(self) -> None:
        self.closed = True


@dataclass
class InlineBackground:
    """Background work on the caller's thread: ``submit`` runs the job at once (its name is kept in
    ``submitted``), loops run only through ``InlineLoop.run_once``, lanes run their jobs in turn."""

    submitted: list[str] = field(default_factory=list)
    loops: list[InlineLoop] = field(default_factory=list)

    def submit(self, name: str, job: Callable[[], object]) -> None:
        self.submitted.append(name)
        job()

    def wait(self, timeout: float = 10.0) -> None:
        return None  # every submitted job has finished already

    def loop(self, name: str, job: Callable[[], object], every: float) -> InlineLoop:
        loop = InlineLoop(name, job, every)
        self.loops.append(loop)
        return loop

    def lanes(self, name: str, bounds: Mapping[str, int]) -> InlineLanes:
        return InlineLanes(dict(bounds))


@dataclass
class FakeMessenger:
    """The chat workspace in memory, for every use of the messaging port (its messages are kept as
    given, whatever their type). ``contacts``: e-mail -> contact (lower case; missing: not in the
    workspace). ``refuse``: raised by ``tell`` and ``update`` (``ChatRateLimited`` or
    ``ChatDeliveryFailed``)."""

    contacts: dict[str, ChatContact] = field(default_factory=dict)
    told: list[tuple[ChatContact, Any]] = field(default_factory=list)
    updated: list[tuple[PostedMessage, Any]] = field(default_factory=list)
    principals: list[tuple[str, Any]] = field(default_factory=list)
    refuse: Exception | None = None

    def add(self, email: str, user_id: str, timezone: str | None = "UTC", *, needs_proof: bool = False) -> None:
        self.contacts[email.lower()] = ChatContact(user_id, timezone, needs_proof=needs_proof)

    def find_contact(self, email: str) -> ChatContact | None:
        return self.contacts.get(email.lower())

    def tell(self, contact: ChatContact, message: Any) -> PostedMessage:
        if self.refuse is not None:
            raise self.refuse
        self.told.append((contact, message))
        return PostedMessage(f"D{contact.user_id}", f"{len(self.told)}.000100", contact.workspace)

    def update(self, posted: PostedMessage, message: Any) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.updated.append((posted, message))

    def tell_principal(self, principal: str, message: Any) -> None:
        self.principals.append((principal, message))


if TYPE_CHECKING:  # each fake stands for its port (mypy checks it where the tests are type-checked)
    _gateway: PaymentGateway = FakePaymentGateway()
    _mailer: Mailer = FakeMailer()
    _channel: Channel = FakeChannel()
    _staff: StaffChannel = FakeStaffChannel()
    _background: Background = InlineBackground()
    _messenger: EditingMessenger[object] = FakeMessenger()
    _by_principal: PrincipalMessenger[object] = FakeMessenger()
