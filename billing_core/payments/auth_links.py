"""Links to our authentication page for a payment that needs the cardholder (3-D Secure).

Chosen mechanism: the person gets ``<PUBLIC_URL>/stripe/authenticate/<token>``. The token names
the payment and when the link expires, and carries an HMAC over both, so it cannot be guessed,
moved to another payment or extended, and nothing is stored for it. A link lives as long as the
payment can wait for the cardholder (``LINK_LIFETIME``, a day); after that the payment is settled
by the webhook or reconcile, and the person starts again in Slack. The page loads the
PaymentIntent's client secret from Stripe at view time and completes the authentication with
Stripe.js (``handleNextAction``); then it settles the payment by asking Stripe. The webhook and
reconcile settle it too if the person never comes back. We do not use a Stripe redirect URL
because an off-session confirmation has none, and a page of our own lets us say which invoices
are being paid.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from billing_core.clock import Clock, SystemClock

# Off-session 3-D Secure waits for the cardholder about this long before banks give up on it.
LINK_LIFETIME = timedelta(hours=24)


class AuthLinks:
    """Makes and checks the tokenised, expiring authentication links."""

    def __init__(self, *, secret: str, base_url: str, clock: Clock | None = None) -> None:
        if not secret:
            raise ValueError("an authentication link secret is required")
        self._key = hashlib.sha256(b"billing-bot auth link\0" + secret.encode()).digest()
        self._base = base_url.rstrip("/")
        self._clock = clock or SystemClock()

    def _mac(self, payment_id: int, expires: int) -> str:
        return hmac.new(self._key, f"{payment_id}.{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def token_for(self, payment_id: int) -> str:
        expires = int((self._clock.now() + LINK_LIFETIME).timestamp())
        return f"{payment_id}.{expires}.{self._mac(payment_id, expires)}"

    def url_for(self, payment_id: int) -> str:
        return f"{self._base}/stripe/authenticate/{self.token_for(payment_id)}"

    def payment_id(self, token: str) -> int | None:
        """The payment the token names, or None for anything forged, malformed or expired."""
        parts = token.split(".")
        if len(parts) != 3 or not all(_number(part) for part in parts[:2]) or not parts[2].isascii():
            return None
        payment_id, expires = int(parts[0]), int(parts[1])
        if not hmac.compare_digest(parts[2], self._mac(payment_id, expires)):
            return None
        return payment_id if self._clock.now().timestamp() < expires else None


def _number(text: str) -> bool:
    # isascii and isdecimal: "1²".isdigit() is true, and int() of it fails.
    return text.isascii() and text.isdecimal() and len(text) <= 12
