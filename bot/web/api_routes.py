"""``/api/v1``: the push API for the vendor's systems (README, "The push API").

Bearer tokens from ``BILLING_API_TOKEN`` (comma-separated, so a token can be rotated), each
compared in constant time; bodies capped at ``MAX_API_BYTES``; every error a 4xx JSON
``{"error": ..., "problems": [{"path": ..., "message": ...}]}`` naming the field path as the
import does. Without a token the routes are not mounted at all (404).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from billing_core.errors import AccountNotFound, ChargeUnderWay, InvalidImport, InvoiceNotFound
from billing_core.sources.closing import ClosedOtherwise
from billing_core.sources.push import PushService
from billing_core.views import ImportSummary
from bot.web.openapi import PREFIX, openapi_document
from bot.web.request_body import capped_body

logger = logging.getLogger(__name__)

MAX_API_BYTES = 1_000_000  # about 2,000 invoices; a larger upload goes through `billing-bot import`
RETRY_AFTER_SECONDS = 60

Handler = Callable[[Request, object], Any]


def api_routes(push: PushService | None, tokens: tuple[str, ...]) -> list[BaseRoute]:
    """The push API's routes, or none when it is off (no ``BILLING_API_TOKEN``)."""
    if push is None or not tokens:
        return []
    expected = [f"Bearer {token}".encode() for token in tokens]
    document = openapi_document()

    def authorized(request: Request) -> bool:
        given = request.headers.get("authorization", "").encode("utf-8", "replace")
        matches = [hmac.compare_digest(given, wanted) for wanted in expected]  # every one, always
        return any(matches)

    def endpoint(handle: Handler, *, body: bool = True) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            if not authorized(request):
                return _error(
                    401,
                    "missing or wrong bearer token (Authorization: Bearer <BILLING_API_TOKEN>)",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            data: object = None
            if body:
                raw = await capped_body(request, MAX_API_BYTES)
                if isinstance(raw, Response):
                    return raw
                parsed = _json_body(raw)
                if isinstance(parsed, Response):
                    return parsed
                data = parsed
            try:
                outcome = await run_in_threadpool(handle, request, data)
            except InvalidImport as error:
                return _error(422, f"{len(error.problems)} problem(s)", error.problems)
            except AccountNotFound:
                return _error(404, "no such account", [("account_id", "is not a known account")])
            except InvoiceNotFound:
                return _error(404, "no such invoice", [("number", "is not an invoice of this account")])
            except ClosedOtherwise as error:
                return _error(409, f"{error.number} is already {error.how}; nothing changed")
            except ChargeUnderWay as error:
                return _error(
                    409,
                    f"a payment of {error.number} through billing-bot is being charged; ask again later",
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            return JSONResponse(_change(outcome))

        return run

    def accounts(_: Request, data: object) -> ImportSummary:
        return push.upsert_accounts(data)

    def invoices(request: Request, data: object) -> ImportSummary:
        return push.upsert_invoices(request.path_params["account_id"], data)

    def contacts(request: Request, data: object) -> int:
        return push.upsert_contacts(request.path_params["account_id"], data)

    def void(request: Request, _: object) -> bool:
        return push.void(request.path_params["account_id"], request.path_params["number"])

    def paid_elsewhere(request: Request, data: object) -> bool:
        return push.paid_elsewhere(request.path_params["account_id"], request.path_params["number"], data)

    async def openapi(_: Request) -> Response:
        return JSONResponse(document)

    invoice = f"{PREFIX}/accounts/{{account_id}}/invoices/{{number:path}}"
    return [
        Route(f"{PREFIX}/openapi.json", openapi, methods=["GET"]),
        Route(f"{PREFIX}/accounts", endpoint(accounts), methods=["POST"]),
        Route(f"{PREFIX}/accounts/{{account_id}}/invoices", endpoint(invoices), methods=["POST"]),
        Route(f"{PREFIX}/accounts/{{account_id}}/contacts", endpoint(contacts), methods=["POST"]),
        Route(f"{invoice}/void", endpoint(void, body=False), methods=["POST"]),
        Route(f"{invoice}/paid-elsewhere", endpoint(paid_elsewhere), methods=["POST"]),
    ]


def _json_body(raw: bytes) -> object | Response:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _error(400, "the body is not UTF-8", [("(body)", "is not UTF-8 text")])
    try:
        data: object = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"is not valid JSON: {error.msg} at line {error.lineno}"
        return _error(400, "the body is not JSON", [("(body)", where)])
    except RecursionError:
        return _error(400, "the body is not JSON", [("(body)", "is nested too deeply")])
    return data


def _change(outcome: ImportSummary | bool | int) -> dict[str, Any]:
    if isinstance(outcome, ImportSummary):
        counts = {name: value for name, value in vars_of(outcome).items() if isinstance(value, int) and value} | {
            name: value for name, value in outcome.extra.items() if value
        }
        changed = any(value for name, value in counts.items() if not name.endswith("_unchanged"))
        return {"changed": changed, "counts": counts}
    if isinstance(outcome, bool):
        return {"changed": outcome, "counts": {}}
    return {"changed": outcome > 0, "counts": {"contacts_changed": outcome} if outcome else {}}


def vars_of(summary: ImportSummary) -> dict[str, object]:
    return {name: getattr(summary, name) for name in summary.__dataclass_fields__}


def _error(
    status: int, message: str, problems: list[tuple[str, str]] | None = None, *, headers: dict[str, str] | None = None
) -> Response:
    body = {"error": message, "problems": [{"path": path, "message": text} for path, text in problems or []]}
    return JSONResponse(body, status_code=status, headers=headers)
