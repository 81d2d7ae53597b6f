"""The demo's stand-in for Stripe Checkout (setup mode), which localstripe does not have.

It plays Stripe's part, so it lives with the demo and never in the production path: a page on
127.0.0.1 lists Stripe's test cards; picking one (in the browser, or in the console's terminal)
saves it on the customer through a SetupIntent on localstripe, then tells the bot as Stripe would,
with a signed ``checkout.session.completed`` event. No card number is typed anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import stripe

from billing_core.adapters.stripe_gateway import StripeGateway
from billing_core.payments.intents import CheckoutSession
from devtools.console.repl import StopConsole
from devtools.loopback.server import Reply, Request, StandInServer


@dataclass(frozen=True)
class TestCard:
    """One of Stripe's test cards, by the test payment method that stands for it."""

    key: str
    label: str
    payment_method: str


#: What the page offers, in order; the numbers people pick are 1-based positions in this list.
TEST_CARDS = (
    TestCard("visa", "Visa •••• 4242, works", "pm_card_visa"),
    TestCard("visa-debit", "Visa debit •••• 5556, works", "pm_card_visa_debit"),
    TestCard("charge-declined", "Visa •••• 0341, saves but is declined when charged", "pm_card_chargeCustomerFail"),
    TestCard("declined", "Visa •••• 0002, declined when saved", "pm_card_visa_chargeDeclined"),
)

#: Test cards localstripe does not know by id, made from Stripe's published test numbers.
_BY_NUMBER = {"pm_card_visa_debit": "4000056655665556"}

#: Sends one signed event to the bot, as Stripe's webhook delivery would (payload, signature header).
Deliver = Callable[[bytes, str], object]


@dataclass
class _Session:
    id: str
    customer_id: str
    metadata: dict[str, str]
    status: str = "open"  # open / complete


class CheckoutStandIn(StandInServer):
    """Checkout Sessions (setup mode) on loopback, completed against localstripe.

    ``deliver`` (set once the bot exists) receives the signed ``checkout.session.completed`` event.
    """

    thread_name = "demo-checkout"

    def __init__(self, *, stripe_api_base: str, api_key: str, webhook_secret: str) -> None:
        super().__init__()
        self.webhook_secret = webhook_secret
        self.deliver: Deliver | None = None
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()
        self._stripe = stripe.StripeClient(api_key, base_addresses={"api": stripe_api_base}, max_network_retries=0)

    # -- what the bot's gateway calls ------------------------------------------------------------

    def create_session(self, customer_id: str, metadata: Mapping[str, str]) -> CheckoutSession:
        """A new open session for ``customer_id`` and the URL of its page."""
        session = _Session(f"cs_demo_{secrets.token_hex(8)}", customer_id, dict(metadata))
        with self._lock:
            self._sessions[session.id] = session
        return CheckoutSession(id=session.id, url=self.url(f"/c/{session.id}"))

    def session_of(self, url: str) -> str | None:
        """The session id when ``url`` is one of this stand-in's pages, else None."""
        prefix = self.url("/c/")
        if not url.startswith(prefix):
            return None
        session_id = url[len(prefix) :]
        with self._lock:
            return session_id if session_id in self._sessions else None

    def completed(self, session_id: str) -> bool:
        """True once a card was saved through the session's page."""
        with self._lock:
            session = self._sessions.get(session_id)
            return session is not None and session.status == "complete"

    # -- what the person does on the page ----------------------------------------------------------

    def complete(self, session_id: str, card: TestCard) -> str:
        """Save ``card`` for the session's customer and tell the bot; returns what the page says."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.status != "open":
                return "This page has expired. Ask for a new one with Add card."
            session.status = "complete"
        try:
            payment_method = self._payment_method(card)
            params: Any = {"customer": session.customer_id, "payment_method_types": ["card"]}
            intent = self._stripe.v1.setup_intents.create(params=params)
            self._stripe.v1.setup_intents.confirm(intent.id, params={"payment_method": payment_method})
            self._stripe.v1.payment_methods.attach(payment_method, params={"customer": session.customer_id})
        except stripe.CardError:
            with self._lock:
                session.status = "open"
            return f"Your card was declined ({card.label}). Pick another card."
        self._send_event(session, intent.id)
        return f"Saved {card.label.split(',')[0]}. You can close this page and go back to Slack."

    def _payment_method(self, card: TestCard) -> str:
        number = _BY_NUMBER.get(card.payment_method)
        if number is None:
            return str(self._stripe.v1.payment_methods.retrieve(card.payment_method).id)
        created = self._stripe.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": time.gmtime().tm_year + 3, "cvc": "123"},
            }
        )
        return str(created.id)

    def _send_event(self, session: _Session, setup_intent_id: str) -> None:
        if self.deliver is None:
            return
        event = {
            "id": f"evt_demo_{secrets.token_hex(8)}",
            "object": "event",
            "type": "checkout.session.completed",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": session.id,
                    "object": "checkout.session",
                    "mode": "setup",
                    "status": "complete",
                    "customer": session.customer_id,
                    "setup_intent": setup_intent_id,
                    "metadata": session.metadata,
                }
            },
        }
        payload = json.dumps(event).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(self.webhook_secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
        self.deliver(payload, f"t={stamp},v1={signature}")

    # -- the page in a browser ----------------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        path = urllib.parse.urlsplit(request.path).path
        if not path.startswith("/c/"):
            return Reply.text("Not found", 404)
        session_id = path[len("/c/") :]
        with self._lock:
            known = session_id in self._sessions
        if not known:
            return Reply.text("Not found", 404)
        if request.method == "POST":
            form = urllib.parse.parse_qs(request.body.decode(errors="replace"))
            card = next((c for c in TEST_CARDS if c.key == (form.get("card") or [""])[0]), None)
            said = self.complete(session_id, card) if card else "Pick a card."
            return _page(said, session_id, offer=said.startswith(("Your card", "Pick")))
        return _page("Save a card (demo: Stripe's test cards)", session_id, offer=True)


def _page(heading: str, session_id: str, *, offer: bool) -> Reply:
    buttons = "".join(f'<p><button name="card" value="{c.key}">{html.escape(c.label)}</button></p>' for c in TEST_CARDS)
    form = f'<form method="post" action="/c/{html.escape(session_id)}">{buttons}</form>' if offer else ""
    body = f"<!doctype html><title>Demo checkout</title><h1>{html.escape(heading)}</h1>{form}"
    return Reply(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


class DemoCheckoutGateway(StripeGateway):
    """The Stripe gateway, except that setup Checkout pages come from the demo's stand-in."""

    def __init__(self, api_key: str, *, api_base: str, checkout: CheckoutStandIn, **options: Any) -> None:
        super().__init__(api_key, api_base=api_base, **options)
        self._checkout = checkout

    def create_setup_checkout(
        self, *, customer_id: str, success_url: str, cancel_url: str, metadata: Mapping[str, str]
    ) -> CheckoutSession:
        """A page of the stand-in instead of Stripe's (localstripe has no Checkout)."""
        return self._checkout.create_session(customer_id, metadata)


def pick_in_terminal(
    checkout: CheckoutStandIn, url: str, *, read: Callable[[str], str | None], say: Callable[[str], None]
) -> bool:
    """Complete the stand-in's page at ``url`` from the terminal; False when ``url`` is not one.

    The person picks one of Stripe's test cards by number (or opens ``url`` in a browser instead
    and presses Enter); Ctrl-C or an empty line leaves the page without saving anything.
    """
    session_id = checkout.session_of(url)
    if session_id is None:
        return False
    say(
        "Demo checkout (plays Stripe's page; localstripe has none). Pick a test card, or open the URL above"
        " in a browser:"
    )
    for number, card in enumerate(TEST_CARDS, 1):
        say(f"  [{number}] {card.label}")
    while True:
        try:
            typed = read("Card (Enter to leave the page): ")
        except KeyboardInterrupt as interrupt:  # Ctrl-C leaves the page, SIGTERM the console
            if isinstance(interrupt, StopConsole):
                raise
            typed = ""
        choice = (typed or "").strip()
        if not choice:
            done = checkout.completed(session_id)
            say(
                "(the card was saved on the page in the browser)"
                if done
                else "(left the checkout page; no card was saved)"
            )
            return True
        if not (choice.isascii() and choice.isdecimal() and 1 <= int(choice) <= len(TEST_CARDS)):
            say(f"  Type a number from 1 to {len(TEST_CARDS)}.")
            continue
        said = checkout.complete(session_id, TEST_CARDS[int(choice) - 1])
        say(f"Checkout: {said}")
        if not said.startswith("Your card was declined"):
            return True
