"""Stripe as its documentation says it answers, where localstripe is kinder.

:class:`StrictStripe` sits in :class:`tests.support.stripe_proxy.StripeProxy`, between the bot and
localstripe. Each rule below names the Stripe document it follows; everything else is passed
through unchanged.

1. **Off-session authentication** (https://docs.stripe.com/payments/save-and-reuse, "Charge the
   saved payment method later", and the ``off_session`` parameter of
   https://docs.stripe.com/api/payment_intents/create): a PaymentIntent confirmed with
   ``off_session=true`` on a card whose bank asks for 3-D Secure fails with HTTP 402, error code
   ``authentication_required``, and the PaymentIntent is left in ``requires_payment_method`` with
   that ``last_payment_error``: the customer must be brought back on session. localstripe answers
   ``requires_action`` instead. The intent stays "held" until the customer confirms it on session
   (Stripe.js ``confirmCardPayment`` with the client secret), which then asks for authentication
   (``requires_action``) as an on-session payment does.
2. **``latest_charge`` is an id unless expanded** (https://docs.stripe.com/upgrades, API version
   2022-11-15: "the charges property on PaymentIntent has been removed; use latest_charge", and
   https://docs.stripe.com/api/expanding_objects): without ``expand[]=latest_charge`` (or
   ``data.latest_charge`` on a list) the field is the charge id and there is no ``charges`` list.
   An expanded charge carries ``receipt_url`` (https://docs.stripe.com/api/charges/object
   #charge_object-receipt_url), which localstripe never sets.
3. **Idempotent requests** (https://docs.stripe.com/api/idempotent_requests): a POST repeated with
   the same ``Idempotency-Key`` gets the first request's saved status and body; the same key with
   other parameters is refused with 400 ``idempotency_error``, and while the first request is still
   being answered with 409 ``idempotency_key_in_use``. localstripe ignores the key.
4. **``description`` and ``statement_descriptor_suffix``** are PaymentIntent parameters Stripe
   documents (https://docs.stripe.com/api/payment_intents/create); localstripe refuses them, so the
   stand-in keeps them itself and shows them on the intent.
5. **Events** (https://docs.stripe.com/api/events/object): ``data.object`` is the object as the API
   would return it unexpanded, so a ``payment_intent.*`` event's ``latest_charge`` is an id.
6. **Listing PaymentIntents by customer** (https://docs.stripe.com/api/payment_intents/list,
   parameter ``customer``): "Only return PaymentIntents for the customer that this customer ID
   specifies." localstripe refuses the parameter; the stand-in filters the page itself (a page,
   not the whole history, as Stripe's ``limit`` does).
7. **Issuer declines** (https://docs.stripe.com/api/errors, ``decline_code`` and ``advice_code``;
   https://docs.stripe.com/declines/codes): a declined confirmation answers 402 ``card_declined``
   with the bank's ``decline_code`` and, when the bank gives one, ``advice_code``
   (``do_not_try_again``, ...), and the error names the PaymentIntent, left in
   ``requires_payment_method`` with the same ``last_payment_error``. localstripe never gives a
   decline code, so a test says what the bank answers (:meth:`StrictStripe.issuer_declines`).
8. **Checkout Session expiry** (https://docs.stripe.com/api/checkout/sessions/create, ``expires_at``):
   "It can be anywhere from 30 minutes to 24 hours after Checkout Session creation. By default,
   this value is 24 hours from creation"; outside that range the create is refused. localstripe has
   no Checkout at all: the proxy answers it.
9. **Refund events** (https://docs.stripe.com/api/events/types#event_types-charge.refunded, and the
   charge object's ``amount_refunded``, https://docs.stripe.com/api/charges/object): after a refund
   Stripe sends ``charge.refunded`` with the charge, whose ``amount_refunded`` is the total so far.
   localstripe keeps refunds but sends no event; the proxy builds it from localstripe's refunds.
10. **Disputes** (https://docs.stripe.com/api/disputes/object and the ``charge.dispute.created`` /
   ``.updated`` / ``.closed`` events): a dispute names its ``charge`` and ``payment_intent`` and has
   a ``status`` (``needs_response`` ... ``won`` / ``lost``) and a ``reason``. localstripe has no
   disputes; the proxy makes the events a test asks for.
11. **Listing events** (https://docs.stripe.com/api/events/list: "List events, going back up to 30
   days", newest first; ``types``, "an array of up to 20 strings containing specific event names",
   not together with ``type``; ``created`` with ``gt``/``gte``/``lt``/``lte``; ``limit`` 1 to 100,
   default 10; ``starting_after``), which is how events a webhook endpoint missed are found
   (https://docs.stripe.com/webhooks/process-undelivered-events). Every event Stripe made is listed,
   delivered or not: the stand-in lists the events it made (rules 9 and 10) with localstripe's own.
   localstripe knows no ``types`` and never lists the stand-in's events.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devtools.loopback.server import Reply, Request

API_VERSION = "2026-10-28.endive"
_KEPT_LOCALLY = ("description", "statement_descriptor_suffix")
_AUTH_MESSAGE = "Your card was declined. This transaction requires authentication."


def params_of(request: Request) -> dict[str, list[str]]:
    """The request's parameters (form body for POST, query string otherwise), as parse_qs gives them."""
    query = urllib.parse.urlsplit(request.path).query
    body = request.body.decode("utf-8", "replace") if request.method == "POST" else ""
    return urllib.parse.parse_qs("&".join(part for part in (query, body) if part), keep_blank_values=True)


def _expanded(params: dict[str, list[str]]) -> set[str]:
    return {value for key, values in params.items() if key.startswith("expand") for value in values}


def _true(params: dict[str, list[str]], name: str) -> bool:
    return params.get(name, [""])[-1].lower() == "true"


@dataclass
class _Saved:
    body: bytes
    reply: Reply | None  # None while the first request is still being answered


class StrictStripe:
    """The rules of the module docstring, with the state they need (reset between tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[str] = set()
        self._idempotent: dict[str, _Saved] = {}
        self._kept: dict[str, dict[str, str]] = {}
        self._created: dict[str, dict[str, list[str]]] = {}
        self._issuer_says: dict[str, dict[str, str]] = {}  # payment method -> the decline
        self._declined: dict[str, dict[str, str]] = {}  # intent -> its last_payment_error
        self.checkout_sessions: dict[str, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []  # the events made here (rules 9 and 10), listed by rule 11

    def reset(self) -> None:
        with self._lock:
            self._events.clear()
            self._held.clear()
            self._idempotent.clear()
            self._kept.clear()
            self._created.clear()
            self._issuer_says.clear()
            self._declined.clear()
            self.checkout_sessions.clear()

    def issuer_declines(self, payment_method_id: str, decline_code: str, advice_code: str | None = None) -> None:
        """From now on the card's bank declines charges with ``decline_code`` (and ``advice_code``),
        answered as rule 7 says (localstripe has no decline codes at all)."""
        with self._lock:
            self._issuer_says[payment_method_id] = {
                "decline_code": decline_code,
                **({"advice_code": advice_code} if advice_code else {}),
            }

    def created_with(self, intent_id: str) -> dict[str, list[str]]:
        """The parameters the PaymentIntent was created with (what the bot sent Stripe)."""
        with self._lock:
            return dict(self._created.get(intent_id, {}))

    def held(self, intent_id: str) -> bool:
        """Whether the intent waits for the customer to confirm it on session (rule 1)."""
        with self._lock:
            return intent_id in self._held

    # -- the request path ---------------------------------------------------------------------

    def handle(self, request: Request, forward: Callable[[Request], Reply]) -> Reply:
        key = request.headers.get("idempotency-key")
        if request.method != "POST" or not key:
            return self._answer(request, forward)
        with self._lock:
            saved = self._idempotent.get(key)
            if saved is None:
                self._idempotent[key] = _Saved(request.body, None)
        if saved is not None:  # rule 3
            if saved.body != request.body:
                message = "Keys for idempotent requests can only be used with the same parameters they were first used."
                return _error(400, None, message, "idempotency_error")
            if saved.reply is None:
                message = "There is currently another in-progress request using this Idempotent Key."
                return _error(409, "idempotency_key_in_use", message, "invalid_request_error")
            return saved.reply
        reply = self._answer(request, forward)
        with self._lock:
            self._idempotent[key] = _Saved(request.body, reply)
        return reply

    def _answer(self, request: Request, forward: Callable[[Request], Reply]) -> Reply:
        path = urllib.parse.urlsplit(request.path).path
        params = params_of(request)
        parts = path.strip("/").split("/")
        if request.method == "POST" and path == "/v1/payment_intents":
            return self._create_intent(request, params, forward)
        if request.method == "GET" and path == "/v1/events":
            return self._list_events(params, forward)
        if request.method == "GET" and path == "/v1/payment_intents" and "customer" in params:
            return self._list_of_customer(request, params, forward)
        if request.method == "POST" and len(parts) == 4 and parts[:2] == ["v1", "payment_intents"]:
            if parts[3] == "confirm" and self.held(parts[2]):
                return self._confirm_held(parts[2], params, forward)
            if parts[3] == "cancel":
                with self._lock:
                    self._held.discard(parts[2])
        return self._rewritten(forward(request), params)

    def _create_intent(
        self, request: Request, params: dict[str, list[str]], forward: Callable[[Request], Reply]
    ) -> Reply:
        sent = dict(params)
        kept = {name: params.pop(name)[-1] for name in _KEPT_LOCALLY if name in params}  # rule 4
        if kept:
            body = _encoded(params)
            request = Request(request.method, request.path, request.headers, body)
        with self._lock:
            issuer = self._issuer_says.get(params.get("payment_method", [""])[-1])
        if issuer is not None and _true(params, "confirm"):  # rule 7: created, then declined
            unconfirmed = _encoded(params, without=("confirm", "off_session"))
            request = Request(request.method, request.path, request.headers, unconfirmed)
        reply = forward(request)
        data = _json(reply)
        if reply.status == 200 and data is not None and issuer is not None:
            error = {"type": "card_error", "code": "card_declined", "message": "Your card was declined.", **issuer}
            with self._lock:
                self._created[str(data.get("id"))] = sent
                self._declined[str(data["id"])] = error
            return _error(
                402,
                "card_declined",
                "Your card was declined.",
                "card_error",
                **issuer,
                payment_intent=self.shown(data, set()),
            )
        if reply.status == 200 and data is not None:
            with self._lock:
                self._kept[str(data.get("id"))] = kept
                self._created[str(data.get("id"))] = sent
            if _true(params, "off_session") and data.get("status") == "requires_action":  # rule 1
                with self._lock:
                    self._held.add(str(data["id"]))
                return self._authentication_required(data)
        return self._rewritten(reply, params)

    def _list_of_customer(
        self, request: Request, params: dict[str, list[str]], forward: Callable[[Request], Reply]
    ) -> Reply:
        customer = params.pop("customer")[-1]  # rule 6
        query = urllib.parse.urlencode([(k, v) for k, values in params.items() for v in values])
        reply = forward(Request("GET", f"/v1/payment_intents?{query}", request.headers, b""))
        data = _json(reply)
        if reply.status != 200 or data is None:
            return reply
        data["data"] = [item for item in data.get("data", []) if item.get("customer") == customer]
        return self._rewritten(Reply(200, json.dumps(data).encode(), reply.headers), params)

    def _confirm_held(self, intent_id: str, params: dict[str, list[str]], forward: Callable[[Request], Reply]) -> Reply:
        current = forward(Request("GET", f"/v1/payment_intents/{intent_id}", {}, b""))
        data = _json(current)
        if data is None:
            return current
        if _true(params, "off_session"):
            return self._authentication_required(data)
        with self._lock:
            self._held.discard(intent_id)
        return self._rewritten(current, params)

    def _authentication_required(self, data: dict[str, Any]) -> Reply:
        intent = self.shown(data, set())
        return _error(
            402,
            "authentication_required",
            _AUTH_MESSAGE,
            "card_error",
            decline_code="authentication_required",
            payment_intent=intent,
            doc_url="https://docs.stripe.com/error-codes/authentication-required",
        )

    # -- the answer path ----------------------------------------------------------------------

    def _rewritten(self, reply: Reply, params: dict[str, list[str]]) -> Reply:
        data = _json(reply)
        if data is None:
            return reply
        expand = _expanded(params)
        if data.get("object") == "list" and isinstance(data.get("data"), list):
            inner = {e.removeprefix("data.") for e in expand if e.startswith("data.")}
            data["data"] = [self.shown(item, inner) if _is_intent(item) else item for item in data["data"]]
        elif _is_intent(data):
            data = self.shown(data, expand)
        elif isinstance(data.get("error"), dict) and _is_intent(data["error"].get("payment_intent")):
            data["error"]["payment_intent"] = self.shown(data["error"]["payment_intent"], set())
        else:
            return reply
        return Reply(reply.status, json.dumps(data).encode(), {**reply.headers, "Content-Type": "application/json"})

    def shown(self, intent: dict[str, Any], expand: set[str]) -> dict[str, Any]:
        """A PaymentIntent as Stripe would show it (rules 1, 2 and 4)."""
        shown = dict(intent)
        shown.pop("charges", None)
        charge = shown.get("latest_charge")
        if isinstance(charge, dict):
            if "latest_charge" in expand:
                shown["latest_charge"] = {
                    "receipt_url": f"https://pay.stripe.com/receipts/payment/{charge['id']}",
                    **charge,
                }
            else:
                shown["latest_charge"] = charge["id"]
        with self._lock:
            held = str(shown.get("id")) in self._held
            kept = self._kept.get(str(shown.get("id")), {})
        shown.update({name: kept.get(name) for name in _KEPT_LOCALLY})
        with self._lock:
            declined = self._declined.get(str(shown.get("id")))
        if declined is not None:
            shown.update(status="requires_payment_method", next_action=None, last_payment_error=declined)
        if held:
            shown.update(
                status="requires_payment_method",
                next_action=None,
                last_payment_error={
                    "type": "card_error",
                    "code": "authentication_required",
                    "decline_code": "authentication_required",
                    "message": _AUTH_MESSAGE,
                },
            )
        return shown

    def _list_events(self, params: dict[str, list[str]], forward: Callable[[Request], Reply]) -> Reply:
        """``GET /v1/events`` (rule 11): the stand-in's events and localstripe's, filtered and paged."""
        types = [v for key, values in params.items() if key == "types" or key.startswith("types[") for v in values]
        one_type = params.get("type", [None])[-1]
        limit_text = params.get("limit", ["10"])[-1]
        if types and one_type is not None:
            return _error(
                400, "parameter_invalid", "You may pass either type or types, but not both.", "invalid_request_error"
            )
        if len(types) > 20 or not limit_text.isdigit() or not 1 <= int(limit_text) <= 100:
            return _error(400, "parameter_invalid", "Invalid types or limit.", "invalid_request_error")
        bounds = {
            op: int(params[f"created[{op}]"][-1]) for op in ("gt", "gte", "lt", "lte") if f"created[{op}]" in params
        }
        oldest = int(time.time()) - 30 * 24 * 3600
        tests = {
            "gt": lambda c, b: c > b,
            "gte": lambda c, b: c >= b,
            "lt": lambda c, b: c < b,
            "lte": lambda c, b: c <= b,
        }

        def wanted(event: dict[str, Any]) -> bool:
            kind, created = str(event.get("type")), int(event.get("created") or 0)
            if types and kind not in types:
                return False
            if one_type is not None and not (
                kind == one_type or (one_type.endswith("*") and kind.startswith(one_type[:-1]))
            ):
                return False
            return created >= oldest and all(tests[op](created, bound) for op, bound in bounds.items())

        with self._lock:
            made = list(self._events)
        # Newest first; within one second, the one made last first (the sort is stable).
        every = sorted(
            (e for e in reversed(self._localstripe_events(forward) + made) if wanted(e)),
            key=lambda e: int(e.get("created") or 0),
            reverse=True,
        )
        after = params.get("starting_after", [None])[-1]
        if after is not None:
            ids = [str(e.get("id")) for e in every]
            every = every[ids.index(after) + 1 :] if after in ids else []
        page = every[: int(limit_text)]
        return Reply.json({"object": "list", "url": "/v1/events", "has_more": len(every) > len(page), "data": page})

    @staticmethod
    def _localstripe_events(forward: Callable[[Request], Reply]) -> list[dict[str, Any]]:
        """Every event localstripe made (it pages by ``starting_after`` too)."""
        found: list[dict[str, Any]] = []
        after = ""
        for _ in range(100):
            reply = forward(Request("GET", f"/v1/events?limit=100{after}", {}, b""))
            data = _json(reply)
            if reply.status != 200 or data is None:
                return found
            found.extend(e for e in data.get("data", []) if isinstance(e, dict))
            if not data.get("has_more") or not found:
                return found
            after = f"&starting_after={found[-1]['id']}"
        return found

    def checkout_session(self, request: Request, session: dict[str, Any]) -> Reply:
        """A Checkout Session (rule 8); ``session`` is the id and url the proxy chose."""
        params = params_of(request)
        now = int(time.time())
        expires_at = int(params.get("expires_at", [str(now + 24 * 3600)])[-1])
        if not now + 30 * 60 - 5 <= expires_at <= now + 24 * 3600 + 5:
            return _error(
                400,
                "parameter_invalid_integer",
                "expires_at must be 30 minutes to 24 hours from now.",
                "invalid_request_error",
                param="expires_at",
            )
        shown = {
            **session,
            "expires_at": expires_at,
            "customer": params.get("customer", [None])[-1],
            "metadata": {k[9:-1]: v[-1] for k, v in params.items() if k.startswith("metadata[")},
        }
        with self._lock:
            self.checkout_sessions[str(session["id"])] = shown
        return Reply.json(shown)

    def event(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """A Stripe event of ``event_type`` about ``obj`` (rule 5)."""
        data = self.shown(obj, set()) if _is_intent(obj) else obj
        event = {
            "id": f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": data},
        }
        with self._lock:
            self._events.append(event)  # made by Stripe, whether or not a webhook delivers it (rule 11)
        return event


def _encoded(params: dict[str, list[str]], *, without: tuple[str, ...] = ()) -> bytes:
    return urllib.parse.urlencode([(k, v) for k, values in params.items() for v in values if k not in without]).encode()


def _is_intent(value: object) -> bool:
    return isinstance(value, dict) and value.get("object") == "payment_intent"


def _json(reply: Reply) -> dict[str, Any] | None:
    try:
        data = json.loads(reply.body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _error(status: int, code: str | None, message: str, kind: str, **more: Any) -> Reply:
    coded = {"code": code} if code else {}
    return Reply.json({"error": {"type": kind, **coded, "message": message, **more}}, status)
