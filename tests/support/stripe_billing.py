"""Stripe Billing's invoices in front of localstripe, as Stripe documents them.

localstripe's invoices barely work (no finalize, no ``number`` or ``due_date``, ``pay`` only with
the default card, one-off invoices need a subscription): this stand-in keeps the invoices itself
and forwards everything else (customers, cards, PaymentIntents) to localstripe through
:class:`StripeProxy`, so the charge an invoice payment makes is a real localstripe PaymentIntent.
Each rule cites the Stripe documentation it follows; anything else is refused (400), as Stripe does.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

from devtools.loopback.server import Reply, Request
from tests.support.stripe_proxy import StripeProxy

Invoice = dict[str, Any]


def _error(status: int, message: str, kind: str = "invalid_request_error", **extra: Any) -> Reply:
    return Reply.json({"error": {"type": kind, "message": message, **extra}}, status)


class StripeBilling(StripeProxy):
    """``/v1/invoices`` answered here; the rest forwarded to localstripe."""

    thread_name = "stripe-billing"

    def __init__(self, upstream: str, api_key: str = "sk_test_x") -> None:
        super().__init__(upstream)
        self.api_key = api_key
        self.invoices: dict[str, Invoice] = {}
        self._numbers = itertools.count(1)
        self._invoice_lock = threading.Lock()
        # https://docs.stripe.com/api/idempotent_requests: "subsequent requests with the same key
        # return the same result, including 500 errors" (localstripe ignores the header).
        self._idempotent: dict[str, Reply] = {}

    # -- what a vendor does in the Stripe dashboard ----------------------------------------------

    def create_invoice(
        self,
        customer: str,
        lines: list[tuple[str, int]],
        *,
        currency: str = "usd",
        collection_method: str = "send_invoice",
        days_until_due: int = 30,
        created: int | None = None,
    ) -> str:
        """A draft invoice. https://docs.stripe.com/api/invoices/create: ``collection_method``
        ``send_invoice`` needs ``days_until_due`` (or ``due_date``); ``charge_automatically`` has no
        due date; a draft has no ``number`` until it is finalized."""
        invoice_id = f"in_{uuid.uuid4().hex[:24]}"
        at = created or int(time.time())
        amount = sum(amount for _, amount in lines)
        self.invoices[invoice_id] = {
            "id": invoice_id,
            "object": "invoice",
            "customer": customer,
            "status": "draft",
            "number": None,
            "currency": currency,
            "amount_due": amount,
            "amount_paid": 0,
            "amount_remaining": amount,
            "collection_method": collection_method,
            "created": at,
            "description": None,
            "due_date": None,
            "_days_until_due": days_until_due if collection_method == "send_invoice" else None,
            "hosted_invoice_url": None,
            "invoice_pdf": None,
            "payment_intent": None,
            "lines": {
                "object": "list",
                "data": [
                    {
                        "id": f"il_{uuid.uuid4().hex[:16]}",
                        "object": "line_item",
                        "amount": line_amount,
                        "currency": currency,
                        "description": text,
                    }
                    for text, line_amount in lines
                ],
            },
            "status_transitions": {
                "finalized_at": None,
                "paid_at": None,
                "voided_at": None,
                "marked_uncollectible_at": None,
            },
        }
        return invoice_id

    def finalize(self, invoice_id: str) -> Invoice:
        """https://docs.stripe.com/invoicing/integration/workflow-transitions: finalizing moves a
        draft to ``open``, assigns its ``number``, sets ``due_date`` (created + days_until_due for
        send_invoice), and gives it a ``hosted_invoice_url`` and an ``invoice_pdf``."""
        invoice = self.invoices[invoice_id]
        if invoice["status"] != "draft":
            raise ValueError(f"{invoice_id} is {invoice['status']}")
        now = int(time.time())
        invoice["status"] = "open"
        invoice["number"] = f"STRIPE-{next(self._numbers):04d}"
        # "customer_email ... Until the invoice is finalized, this field will equal customer.email.
        # Once the invoice is finalized, this field will no longer be updated." (the Invoice object)
        customer = self._upstream("GET", f"/v1/customers/{invoice['customer']}")[1]
        invoice["customer_email"] = customer.get("email")
        invoice["customer_name"] = customer.get("name")
        if invoice["_days_until_due"] is not None:
            invoice["due_date"] = invoice["created"] + invoice["_days_until_due"] * 86400
        invoice["hosted_invoice_url"] = f"https://invoice.stripe.test/i/{invoice_id}"
        invoice["invoice_pdf"] = f"https://pay.stripe.test/invoice/{invoice_id}/pdf"
        invoice["status_transitions"]["finalized_at"] = now
        return self.public(invoice)

    def invoice_event(self, event_type: str, invoice_id: str) -> dict[str, Any]:
        """The event Stripe sends (https://docs.stripe.com/api/events/types): ``data.object`` is
        the invoice as it is now."""
        return {
            "id": f"evt_{uuid.uuid4().hex[:16]}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": self.public(self.invoices[invoice_id])},
        }

    @staticmethod
    def public(invoice: Invoice) -> Invoice:
        return {key: value for key, value in invoice.items() if not key.startswith("_")}

    # -- the API ---------------------------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        path, _, query = request.path.partition("?")
        if not path.startswith("/v1/invoices"):
            return super().answer(request)
        call = self._started(request.method, path)
        try:
            key = request.headers.get("idempotency-key")
            if request.method == "POST" and key and key in self._idempotent:
                return self._idempotent[key]
            with self._invoice_lock:
                reply = self._invoices(request.method, path, query, request.body)
            if request.method == "POST" and key:
                self._idempotent[key] = reply
            return reply
        finally:
            self._finished(call)

    def _invoices(self, method: str, path: str, query: str, body: bytes) -> Reply:
        parts = path.strip("/").split("/")  # v1, invoices, [id], [action]
        params = dict(urllib.parse.parse_qsl(query if method == "GET" else body.decode(), keep_blank_values=True))
        if method == "GET" and len(parts) == 2:
            return self._list(params)
        if len(parts) < 3 or parts[2] not in self.invoices:
            return _error(404, f"No such invoice: '{parts[2] if len(parts) > 2 else ''}'", code="resource_missing")
        invoice = self.invoices[parts[2]]
        if method == "GET" and len(parts) == 3:
            return Reply.json(self._expanded(invoice, params))
        action = parts[3] if len(parts) == 4 else ""
        if method == "POST" and action == "pay":
            return self._pay(invoice, params)
        if method == "POST" and action == "void":
            return self._close(invoice, "void", "voided_at")
        if method == "POST" and action == "mark_uncollectible":
            return self._close(invoice, "uncollectible", "marked_uncollectible_at")
        if method == "POST" and action == "finalize":
            if invoice["status"] != "draft":
                return _error(400, "This invoice is already finalized.")
            return Reply.json(self.finalize(invoice["id"]))
        return _error(400, f"Unrecognized request URL ({method}: {path})")

    def _list(self, params: dict[str, str]) -> Reply:
        """https://docs.stripe.com/api/invoices/list: filter by ``customer`` and ``created[gte]``,
        newest first; drafts are listed too."""
        unknown = set(params) - {"customer", "limit", "starting_after", "created[gte]", "status"}
        if unknown:
            return _error(400, f"Received unknown parameter: {sorted(unknown)[0]}")
        found = [
            i
            for i in self.invoices.values()
            if ("customer" not in params or i["customer"] == params["customer"])
            and ("created[gte]" not in params or i["created"] >= int(params["created[gte]"]))
            and ("status" not in params or i["status"] == params["status"])
        ]
        found.sort(key=lambda i: (i["created"], i["id"]), reverse=True)
        if "starting_after" in params:
            ids = [i["id"] for i in found]
            found = found[ids.index(params["starting_after"]) + 1 :] if params["starting_after"] in ids else []
        limit = int(params.get("limit", "10"))
        page = found[:limit]
        return Reply.json(
            {
                "object": "list",
                "url": "/v1/invoices",
                "has_more": len(found) > limit,
                "data": [self.public(i) for i in page],
            }
        )

    def _pay(self, invoice: Invoice, params: dict[str, str]) -> Reply:
        """https://docs.stripe.com/api/invoices/pay: only an ``open`` invoice can be paid ("Invoice
        is already paid" otherwise); ``payment_method`` chooses the card, ``off_session`` (default
        true) says whether the customer is present; ``paid_out_of_band`` marks it paid without a
        charge. A decline is a 402 card error and leaves the invoice open."""
        unknown = set(params) - {"payment_method", "off_session", "paid_out_of_band", "expand[0]"}
        if unknown:
            return _error(400, f"Received unknown parameter: {sorted(unknown)[0]}")
        invoice["_pay_params"] = dict(params)  # what the bot asked for, for the tests
        if invoice["status"] == "paid":
            return _error(400, "Invoice is already paid")
        if invoice["status"] != "open":
            return _error(400, f"You can only pay an open invoice; this one is {invoice['status']}.")
        if params.get("paid_out_of_band") == "true":
            self._paid(invoice, None)
            return Reply.json(self._expanded(invoice, params))
        method = params.get("payment_method")
        if not method:
            return _error(400, "This invoice has no payment method to charge: pass payment_method.")
        form = {
            "amount": str(invoice["amount_remaining"]),
            "currency": invoice["currency"],
            "customer": invoice["customer"],
            "payment_method": method,
            "confirm": "true",
            "metadata[invoice]": invoice["id"],
        }
        if params.get("off_session", "true") == "true":
            form["off_session"] = "true"
        # Through the strict layer (StripeProxy), so Stripe's documented answers hold for this
        # charge too (e.g. an off-session charge a bank wants authenticated: 402 authentication_required).
        created = StripeProxy.answer(
            self,
            Request(
                "POST",
                "/v1/payment_intents",
                {"authorization": f"Bearer {self.api_key}", "content-type": "application/x-www-form-urlencoded"},
                urllib.parse.urlencode(form).encode(),
            ),
        )
        status, answer = created.status, json.loads(created.body or b"{}")
        if status == 402:
            return Reply.json(answer, 402)
        if status != 200:
            return Reply.json(answer, status)
        invoice["payment_intent"] = answer["id"]
        if answer.get("status") == "succeeded":
            self._paid(invoice, answer["id"])
        return Reply.json(self._expanded(invoice, params))

    def _paid(self, invoice: Invoice, intent: str | None) -> None:
        invoice["status"] = "paid"
        invoice["amount_paid"] = invoice["amount_due"]
        invoice["amount_remaining"] = 0
        invoice["status_transitions"]["paid_at"] = int(time.time())
        invoice["paid_out_of_band"] = intent is None

    def _close(self, invoice: Invoice, status: str, stamp: str) -> Reply:
        """https://docs.stripe.com/invoicing/overview#invoice-statuses: only an open invoice can be
        voided or marked uncollectible; a void invoice is final."""
        if invoice["status"] != "open" and not (status == "void" and invoice["status"] == "uncollectible"):
            return _error(400, f"You can only {status} an open invoice; this one is {invoice['status']}.")
        invoice["status"] = status
        invoice["status_transitions"][stamp] = int(time.time())
        return Reply.json(self.public(invoice))

    def _expanded(self, invoice: Invoice, params: dict[str, str]) -> Invoice:
        shown = self.public(invoice)
        if params.get("expand[0]") == "payment_intent" and invoice["payment_intent"]:
            shown["payment_intent"] = self._upstream("GET", f"/v1/payment_intents/{invoice['payment_intent']}")[1]
        return shown

    def _upstream(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, Any]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(
            self.upstream + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")
