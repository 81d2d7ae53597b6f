"""A strict, delaying HTTP proxy in front of localstripe.

It answers as Stripe documents where localstripe is kinder (:mod:`tests.support.strict_stripe`),
records when each Stripe call started and ended, and can hold calls to show a slow Stripe.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from devtools.loopback.server import Reply, Request, StandInServer
from tests.support.strict_stripe import StrictStripe


@dataclass
class ProxiedCall:
    method: str
    path: str
    started: float
    finished: float | None = None


_NOT_FORWARDED = ("host", "content-length", "connection")
_NOT_RETURNED = ("content-length", "transfer-encoding", "connection", "date", "server")


class StripeProxy(StandInServer):
    """``base_url`` goes to ``upstream``; ``slow_down(path_prefix)`` holds matching POSTs until released."""

    thread_name = "stripe-proxy"

    def __init__(self, upstream: str) -> None:
        super().__init__()
        self.upstream = upstream.rstrip("/")
        self.calls: list[ProxiedCall] = []
        self._slow: tuple[str, float, str] | None = None
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._sessions = itertools.count(1)
        self.strict = StrictStripe()

    def reset(self) -> None:
        """Forget the strict rules' state (held intents, idempotency keys) and the calls seen."""
        self.release()
        self.strict.reset()
        self.calls.clear()

    def stop(self) -> None:
        self._release.set()
        super().stop()

    @property
    def base_url(self) -> str:
        return self.root_url

    def answer(self, request: Request) -> Reply:
        call = self._started(request.method, request.path)
        if request.method == "POST" and request.path.startswith("/v1/checkout/sessions"):
            # localstripe has no Checkout: answer like Stripe does for a setup-mode session.
            self._finished(call)
            return self.strict.checkout_session(request, self.checkout_session())
        delay = self.delay_for(request.method, request.path)
        if delay:
            self._wait(delay)
        reply = self.strict.handle(request, self._forward)
        self._finished(call)
        return reply

    def _forward(self, request: Request) -> Reply:
        headers = {k: v for k, v in request.headers.items() if k not in _NOT_FORWARDED}
        headers.setdefault("authorization", "Bearer sk_test_strict")
        forwarded = urllib.request.Request(
            self.upstream + request.path, data=request.body or None, headers=headers, method=request.method
        )
        try:
            with urllib.request.urlopen(forwarded, timeout=30) as response:
                status, reply, reply_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, reply, reply_headers = error.code, error.read(), error.headers
        kept = {k: v for k, v in reply_headers.items() if k.lower() not in _NOT_RETURNED}
        return Reply(status, reply, kept)

    # -- what a test does as the customer or as Stripe ----------------------------------------

    def intent(self, intent_id: str, *, expand: bool = False) -> dict[str, Any]:
        """The PaymentIntent as Stripe shows it now."""
        query = "?expand%5B0%5D=latest_charge" if expand else ""
        reply = self.strict.handle(Request("GET", f"/v1/payment_intents/{intent_id}{query}", {}, b""), self._forward)
        data: dict[str, Any] = json.loads(reply.body)
        return data

    def confirm_on_session(self, intent_id: str) -> dict[str, Any]:
        """What Stripe.js ``confirmCardPayment(clientSecret)`` does on our page: the customer is back
        on session, so Stripe asks the bank (``requires_action``) instead of refusing."""
        secret = self.intent(intent_id)["client_secret"]
        body = urllib.parse.urlencode({"client_secret": secret}).encode()
        reply = self.strict.handle(
            Request(
                "POST",
                f"/v1/payment_intents/{intent_id}/confirm",
                {"content-type": "application/x-www-form-urlencoded"},
                body,
            ),
            self._forward,
        )
        data: dict[str, Any] = json.loads(reply.body)
        return data

    def event(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """The event Stripe would send about ``obj``."""
        return self.strict.event(event_type, obj)

    def charge_refunded_event(self, intent_id: str) -> dict[str, Any]:
        """``charge.refunded`` after a refund made in Stripe (rule 9): the charge, with the total
        refunded so far (localstripe sends no such event)."""
        charge = self.intent(intent_id, expand=True)["latest_charge"]
        reply = self._forward(Request("GET", f"/v1/refunds?charge={charge['id']}&limit=100", {}, b""))
        refunded = sum(int(r["amount"]) for r in json.loads(reply.body)["data"] if r.get("status") == "succeeded")
        shown = {
            **charge,
            "amount_refunded": refunded,
            "refunded": refunded >= int(charge["amount"]),
            "payment_intent": intent_id,
        }
        return self.strict.event("charge.refunded", shown)

    def dispute_event(self, event_type: str, intent_id: str, status: str, reason: str = "fraudulent") -> dict[str, Any]:
        """``charge.dispute.*`` about the intent's charge (rule 10; localstripe has no disputes)."""
        intent = self.intent(intent_id)
        dispute = {
            "id": f"dp_{intent_id[3:]}",
            "object": "dispute",
            "amount": intent["amount"],
            "currency": intent["currency"],
            "charge": intent["latest_charge"],
            "payment_intent": intent_id,
            "reason": reason,
            "status": status,
            "livemode": False,
        }
        return self.strict.event(event_type, dispute)

    def slow_down(self, path_prefix: str, seconds: float, method: str = "POST") -> None:
        """Hold ``method`` calls under ``path_prefix`` for ``seconds`` (or until :meth:`release`)."""
        self._release.clear()
        self._slow = (path_prefix, seconds, method)

    def release(self) -> None:
        self._slow = None
        self._release.set()

    def delay_for(self, method: str, path: str) -> float:
        slow = self._slow
        return slow[1] if slow and method == slow[2] and path.startswith(slow[0]) else 0.0

    def _wait(self, seconds: float) -> None:
        self._release.wait(seconds)

    def _started(self, method: str, path: str) -> ProxiedCall:
        call = ProxiedCall(method, path, time.monotonic())
        with self._lock:
            self.calls.append(call)
        return call

    def _finished(self, call: ProxiedCall) -> None:
        call.finished = time.monotonic()

    def checkout_session(self) -> dict[str, Any]:
        n = next(self._sessions)
        return {
            "id": f"cs_e2e_{n}",
            "object": "checkout.session",
            "mode": "setup",
            "url": f"https://checkout.stripe.test/c/setup/cs_e2e_{n}",
            "status": "open",
        }

    def calls_to(self, method: str, prefix: str) -> list[ProxiedCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method and c.path.startswith(prefix)]
