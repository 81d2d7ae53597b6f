"""A Stripe API stand-in for the in-process benchmarks (``bench.queries``, ``bench.profile``).

The data set gives each bench account ``a`` the Stripe customer ``cus_bench<a>`` and one saved Visa,
``pm_bench<a>``, its default (``bench.generate``). A card copy over a minute old is read again from
Stripe (``billing_core.payments.methods``); this answers those reads in Stripe's own shapes, so
``/billing methods`` takes the path ``serve`` takes against Stripe. Anything else is a Stripe 404
(a ``StripeError``, handled like Stripe's own).
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from devtools.loopback.server import Reply, Request, StandInServer

_CUSTOMER = re.compile(r"^cus_bench(\d+)$")


class StripeStandIn(StandInServer):
    """Answers the reads of bench customers' cards; ``base_url`` is its ``STRIPE_API_BASE``."""

    thread_name = "bench-stripe"

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    @property
    def base_url(self) -> str:
        return self.root_url

    def answer(self, request: Request) -> Reply:
        self.calls += 1
        status, body = stripe_answer(request.method, request.path)
        return Reply.json(body, status=status)


def stripe_answer(method: str, target: str) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of Stripe's answer to ``method target`` for the bench customers:
    their cards (a list object of PaymentMethods) and the customer (``invoice_settings``); else
    Stripe's 404. Shared by this server and the load tests' ``bench.standin``."""
    parsed = urllib.parse.urlsplit(target)
    path = parsed.path.rstrip("/")
    query = dict(urllib.parse.parse_qsl(parsed.query))
    if method == "GET" and path == "/v1/payment_methods":
        customer = query.get("customer", "")
        cards = [_card(customer)] if _CUSTOMER.match(customer) else []
        return 200, {"object": "list", "data": cards, "has_more": False, "url": "/v1/payment_methods"}
    if method == "GET" and path.startswith("/v1/customers/"):
        customer = path.rsplit("/", 1)[1]
        if _CUSTOMER.match(customer):
            settings = {"default_payment_method": _card(customer)["id"]}
            return 200, {"id": customer, "object": "customer", "invoice_settings": settings}
    return 404, {"error": {"type": "invalid_request_error", "message": f"No such resource: {path}"}}


def _card(customer: str) -> dict[str, Any]:
    """The bench card of ``customer`` as ``bench.generate.card_rows`` stores its copy."""
    match = _CUSTOMER.match(customer)
    a = int(match.group(1)) if match else 0
    return {
        "id": f"pm_bench{a:06d}",
        "object": "payment_method",
        "type": "card",
        "customer": customer,
        "card": {"brand": "visa", "last4": f"{4242 + a % 5000:04d}"[-4:], "exp_month": 12, "exp_year": 2030},
    }
