"""The push API's bodies (``/api/v1``): the import file's own models, plus the few the file has no
place for. Its OpenAPI document is generated from these (``bot/api/openapi.py``)."""

from __future__ import annotations

from datetime import date

from pydantic import Field, StrictInt, StrictStr, field_validator

from billing_core.sources.import_format import (
    AccountIn,
    ContactIn,
    InvoiceIn,
    _currency,
    _parse_date,
    _Strict,
)

MAX_ITEMS = 1000  # per request; a larger upload goes through ``billing-bot import``


class AccountsIn(_Strict):
    """One or many accounts, exactly as in the import file. An account's ``contacts``, when given,
    are its complete list (a contact left out loses access); left out, the contacts stay as they are.
    Invoices are added or updated; those not listed are left alone."""

    accounts: list[AccountIn] = Field(min_length=1, max_length=MAX_ITEMS)


class InvoicesIn(_Strict):
    """Invoices of one account, added or updated by number (the import file's invoice shape)."""

    invoices: list[InvoiceIn] = Field(min_length=1, max_length=MAX_ITEMS)


class ContactsIn(_Strict):
    """Billing contacts of one account, added or renamed (no one is removed)."""

    contacts: list[ContactIn] = Field(min_length=1, max_length=MAX_ITEMS)


class PaidElsewhereIn(_Strict):
    """The invoice was paid outside Slack (wire, cheque, the vendor's own portal)."""

    amount: StrictInt = Field(ge=0, le=10**15, description="in minor units (125000 = $1,250.00)")
    currency: StrictStr = Field(description="lowercase ISO 4217, the invoice's currency")
    method: StrictStr = Field(min_length=1, max_length=64, description="wire, cheque, card, portal, ...")
    reference: StrictStr = Field("", max_length=255, description="the payment's reference in the vendor's books")
    paid_on: date = Field(description="YYYY-MM-DD")

    _date = field_validator("paid_on", mode="before")(_parse_date)
    _known_currency = field_validator("currency")(_currency)


class ChangeOut(_Strict):
    """What a request changed (``changed`` false: it had been applied before)."""

    changed: bool
    counts: dict[str, int] = Field(default_factory=dict)


class ProblemOut(_Strict):
    path: str
    message: str


class ErrorOut(_Strict):
    """Every 4xx answer: ``error`` says what went wrong, ``problems`` name each field path."""

    error: str
    problems: list[ProblemOut] = Field(default_factory=list)


__all__ = ["AccountsIn", "ChangeOut", "ContactsIn", "ErrorOut", "InvoicesIn", "PaidElsewhereIn", "ProblemOut"]
