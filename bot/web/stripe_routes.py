"""Stripe's HTTP endpoints: the webhook and the page where a payer completes authentication.

``stripe_routes(services, settings)`` returns the routes; ``bot/web/http.py`` mounts them.
Authentication mechanism (see ``billing_core/payments/auth_links.py``): a payment that needs
3-D Secure gets ``/stripe/authenticate/<token>``; the page runs Stripe.js ``handleNextAction``
with the PaymentIntent's client secret (when ``STRIPE_PUBLISHABLE_KEY`` is set) and then posts back
here, which settles the payment by asking Stripe. The webhook settles it as well.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from billing_core.container import Services
from billing_core.errors import InvalidWebhook, PaymentNotFound, PaymentProviderError
from billing_core.views import PaymentView
from bot.settings import Settings
from bot.web.request_body import capped_body

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 1_000_000  # Stripe's events are kilobytes: a megabyte is far beyond any


def stripe_routes(services: Services, settings: Settings) -> list[Route]:
    publishable_key: str | None = settings.stripe_publishable_key
    if publishable_key is not None and hasattr(publishable_key, "get_secret_value"):
        publishable_key = publishable_key.get_secret_value()

    payments = services.payments  # None without a Stripe key: every route says so

    async def webhook(request: Request) -> Response:
        if payments is None:
            return JSONResponse({"error": "stripe is not configured"}, status_code=503)
        payload = await capped_body(request, MAX_WEBHOOK_BYTES)
        if isinstance(payload, Response):
            return payload
        signature = request.headers.get("stripe-signature")
        try:
            outcome = await run_in_threadpool(payments.webhooks.handle, payload, signature)
        except InvalidWebhook:
            return JSONResponse({"error": "invalid signature or payload"}, status_code=400)
        except PaymentProviderError as error:
            # Stripe re-delivers on a non-2xx; the event is not marked processed, so it applies then.
            log.warning("stripe webhook deferred: %s (request %s)", error, error.request_id)
            return JSONResponse({"error": "try again later"}, status_code=503)
        return JSONResponse({"received": True, "outcome": outcome})

    def _payment_id(request: Request) -> int | None:
        if payments is None:
            return None
        return payments.auth_links.payment_id(str(request.path_params.get("token", "")))

    async def authenticate_page(request: Request) -> Response:
        payment_id = _payment_id(request)
        if payment_id is None or payments is None:
            return _page("Link not valid", "<p>This link is not valid. Start the payment again in Slack.</p>", 404)
        try:
            view, secret = await run_in_threadpool(payments.service.for_authentication, payment_id)
        except PaymentNotFound:
            return _page("Link not valid", "<p>This link is not valid. Start the payment again in Slack.</p>", 404)
        except PaymentProviderError:
            return _page("Try again", "<p>We could not reach the card processor. Try again in a minute.</p>", 503)
        nonce = secrets.token_urlsafe(16)
        return _page(
            "Confirm your payment", _auth_body(view, secret, publishable_key, request.url.path, nonce), nonce=nonce
        )

    async def authenticate_done(request: Request) -> Response:
        payment_id = _payment_id(request)
        if payment_id is None or payments is None:
            return _page("Link not valid", "<p>This link is not valid.</p>", 404)
        # On failure the page shows the stored state; the webhook or reconcile settles it later.
        with contextlib.suppress(PaymentNotFound, PaymentProviderError):
            await run_in_threadpool(payments.service.refresh, payment_id)
        return RedirectResponse(request.url.path, status_code=303, headers=_security_headers(None))

    async def card_setup_done(request: Request) -> Response:
        return _page("Card saved", "<p>Your card is saved. You will get a message in Slack shortly.</p>")

    async def card_setup_cancelled(request: Request) -> Response:
        return _page("No card saved", "<p>No card was saved. You can close this page.</p>")

    return [
        Route("/stripe/webhook", webhook, methods=["POST"]),
        Route("/stripe/authenticate/{token}", authenticate_page, methods=["GET"]),
        Route("/stripe/authenticate/{token}", authenticate_done, methods=["POST"]),
        Route("/stripe/card-setup/done", card_setup_done, methods=["GET"]),
        Route("/stripe/card-setup/cancelled", card_setup_cancelled, methods=["GET"]),
    ]


def _auth_body(view: PaymentView, secret: str | None, publishable_key: str | None, path: str, nonce: str) -> str:
    what = html.escape(f"{view.amount.format()} for {', '.join(view.invoice_numbers)}")
    if view.status == "succeeded":
        return f"<p>Payment of {what} is complete. Thank you.</p>"
    if view.status == "failed":
        return f"<p>Payment of {what} did not go through: {html.escape(view.failure_reason or '')}</p>"
    if view.status != "requires_action" or not secret:
        return f"<p>Payment of {what} is being processed. Check back in a minute.</p>"
    action = html.escape(path, quote=True)
    form = f'<form id="done" method="post" action="{action}"><button>I have completed the check</button></form>'
    if not publishable_key:
        return f"<p>Your bank asks you to confirm the payment of {what}.</p>{form}"
    script = (
        _STRIPE_JS.replace("__PK__", _js(publishable_key)).replace("__CS__", _js(secret)).replace("__NONCE__", nonce)
    )
    return f"<p>Your bank asks you to confirm the payment of {what}.</p>{form}{script}"


def _js(value: str) -> str:
    return html.escape(json.dumps(value), quote=False).replace("</", "<\\/")


_STRIPE_JS = """<script src="https://js.stripe.com/v3/"></script>
<script nonce="__NONCE__">
const stripe = Stripe(__PK__);
// On session the bank's check is the next action; an autopay charge Stripe refused off session
// (authentication_required) is confirmed again here, with the same card, now that the payer is present.
stripe.retrievePaymentIntent(__CS__).then(({paymentIntent}) => {
  if (paymentIntent && paymentIntent.status === "requires_payment_method") {
    const error = paymentIntent.last_payment_error;
    const card = error && error.payment_method ? error.payment_method.id : paymentIntent.payment_method;
    return stripe.confirmCardPayment(__CS__, {payment_method: card});
  }
  return stripe.handleNextAction({clientSecret: __CS__});
}).then(() => document.getElementById("done").submit());
</script>"""


def _page(title: str, body: str, status: int = 200, *, nonce: str | None = None) -> HTMLResponse:
    content = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(content, status_code=status, headers=_security_headers(nonce))


def _security_headers(nonce: str | None) -> dict[str, str]:
    """No framing (clickjacking the confirm button), no sniffing, no referrer, no caching, and a CSP
    that lets only Stripe.js and our own nonce-tagged script run."""
    scripts = f"https://js.stripe.com 'nonce-{nonce}'" if nonce else "'none'"
    policy = (
        f"default-src 'none'; script-src {scripts}; frame-src https://js.stripe.com https://hooks.stripe.com; "
        "connect-src https://api.stripe.com; img-src 'self' data:; style-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
    }
