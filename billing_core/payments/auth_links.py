"""Links to our authentication page for a payment that needs the cardholder (3-D Secure).

Chosen mechanism: the person gets ``<PUBLIC_URL>/stripe/authenticate/<token>``. The token names
the payment and carries an HMAC, so it cannot be guessed or moved to another payment, and nothing
is stored for it. The page loads the PaymentIntent's client secret from Stripe at view time and
completes the authentication with Stripe.js (``handleNextAction``); then it settles the payment
by asking Stripe. The webhook and reconcile settle it too if the person never comes back.
We do not use a Stripe redirect URL because an off-session confirmation has none, and a page of
our own lets us say which invoices are being paid.
"""

from __future__ import annotations

import hashlib
import hmac


class AuthLinks:
    """Makes and checks the tokenised authentication links."""

    def __init__(self, *, secret: str, base_url: str) -> None:
        if not secret:
            raise ValueError("an authentication link secret is required")
        self._key = hashlib.sha256(b"billing-bot auth link\0" + secret.encode()).digest()
        self._base = base_url.rstrip("/")

    def _mac(self, payment_id: int) -> str:
        return hmac.new(self._key, str(payment_id).encode(), hashlib.sha256).hexdigest()[:32]

    def token_for(self, payment_id: int) -> str:
        return f"{payment_id}.{self._mac(payment_id)}"

    def url_for(self, payment_id: int) -> str:
        return f"{self._base}/stripe/authenticate/{self.token_for(payment_id)}"

    def payment_id(self, token: str) -> int | None:
        """The payment the token names, or None for anything forged or malformed."""
        head, _, mac = token.partition(".")
        # isascii and isdecimal: "1²".isdigit() is true, and int() of it fails.
        if not (head.isascii() and head.isdecimal()) or len(head) > 12 or not mac:
            return None
        payment_id = int(head)
        return payment_id if hmac.compare_digest(mac, self._mac(payment_id)) else None
