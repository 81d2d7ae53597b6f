"""The push API's OpenAPI document, generated from the very pydantic models that check its bodies
(and the import file), so the document and the checks cannot disagree."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from billing_core.sources.push_format import AccountsIn, ChangeOut, ContactsIn, ErrorOut, InvoicesIn, PaidElsewhereIn

PREFIX = "/api/v1"
_REF = "#/components/schemas/{model}"


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": _ref(model)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    what = {
        400: "the body is not JSON (or not UTF-8)",
        401: "no or wrong bearer token",
        404: "no such account or invoice",
        409: "the invoice is closed otherwise, or a payment through the bot is being charged (retry later)",
        413: "the body is over the size cap",
        422: "the body does not fit: each problem names its field path",
    }
    return {str(status): {"description": what[status]} | _json(ErrorOut) for status in statuses}


def _post(summary: str, body: type[BaseModel] | None, *errors: int) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {"200": {"description": "applied (changed false: it had been applied before)"} | _json(ChangeOut)}
        | _errors(400, 401, 413, *errors),
    }
    if body is not None:
        operation["requestBody"] = {"required": True} | _json(body)
    return {"post": operation}


_ACCOUNT = {"name": "account_id", "in": "path", "required": True, "schema": {"type": "string"}}
_NUMBER = {"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.1 for ``/api/v1``."""
    models: list[type[BaseModel]] = [AccountsIn, InvoicesIn, ContactsIn, PaidElsewhereIn, ChangeOut, ErrorOut]
    _, schemas = models_json_schema([(model, "validation") for model in models], ref_template=_REF)
    account = [_ACCOUNT]
    invoice = [_ACCOUNT, _NUMBER]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "billing-bot push API",
            "version": "1",
            "description": "Upsert accounts, contacts and invoices in the import file's shapes; void an invoice; "
            "report one paid outside Slack. Every call is idempotent.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "BILLING_API_TOKEN"}},
        },
        "paths": {
            f"{PREFIX}/accounts": _post("Add or update accounts (the import file's shape)", AccountsIn, 422),
            f"{PREFIX}/accounts/{{account_id}}/invoices": _post(
                "Add or update invoices of an account", InvoicesIn, 404, 422
            )
            | {"parameters": account},
            f"{PREFIX}/accounts/{{account_id}}/contacts": _post("Add or rename billing contacts", ContactsIn, 404, 422)
            | {"parameters": account},
            f"{PREFIX}/accounts/{{account_id}}/invoices/{{number}}/void": _post("Void an open invoice", None, 404, 409)
            | {"parameters": invoice},
            f"{PREFIX}/accounts/{{account_id}}/invoices/{{number}}/paid-elsewhere": _post(
                "Report an invoice paid outside Slack: closes it, stops reminders and autopay, "
                "sends invoice.paid_elsewhere",
                PaidElsewhereIn,
                404,
                409,
                422,
            )
            | {"parameters": invoice},
        },
    }
