"""The import file's schema (docs/import-format.md) and every check made before anything is written."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, field_validator

from billing_core.identity.emails import is_valid_email
from billing_core.money import is_known_currency

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_date(value: object) -> object:
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    if not isinstance(value, str | date):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


def _currency(value: str) -> str:
    if not is_known_currency(value):
        raise ValueError(f"unknown currency {value!r}: use a lowercase ISO 4217 code such as 'usd'")
    return value


MAX_DOCUMENT_URL = 2000  # well inside Block Kit's 3,000 characters for a button's url


def web_url_problem(value: str) -> str | None:
    """Why ``value`` is no safe link for a button, or None: an absolute http(s) URL with a host, in
    printable ASCII only (no space, control, no-break, zero-width or bidi character, so what a person
    sees is what opens), and no user info (``https://bank.test@evil.test/`` opens evil.test)."""
    if len(value) > MAX_DOCUMENT_URL:
        return f"must be at most {MAX_DOCUMENT_URL} characters"
    if any(ord(char) < 33 or ord(char) == 127 for char in value):
        return "must not contain spaces or control characters"
    if not value.isascii():
        return "must not contain characters outside ASCII (no-break, zero-width or direction marks; encode them)"
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "must be an absolute http:// or https:// URL"
    if "@" in parts.netloc or "\\" in parts.netloc:
        return "must not contain a user name or password before the host"
    return None


def _web_url(value: str | None) -> str | None:
    """An absolute http(s) URL with a host, nothing else (``javascript:``, ``file:``, relative)."""
    if value is None or value == "":
        return None
    problem = web_url_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactIn(_Strict):
    email: StrictStr
    name: StrictStr = ""

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not is_valid_email(value):
            raise ValueError(f"{value!r} is not a valid e-mail address")
        return value


class InvoiceIn(_Strict):
    number: StrictStr = Field(min_length=1, max_length=128)
    issued_on: date
    due_on: date
    amount_due: StrictInt = Field(ge=0, le=10**15)
    currency: StrictStr
    status: Literal["open", "paid", "void"]
    description: StrictStr = ""
    document_url: StrictStr | None = None

    _dates = field_validator("issued_on", "due_on", mode="before")(_parse_date)
    _known_currency = field_validator("currency")(_currency)
    _document_url = field_validator("document_url")(_web_url)


class AccountIn(_Strict):
    id: StrictStr = Field(min_length=1, max_length=128)
    name: StrictStr = Field(min_length=1, max_length=255)
    currency: StrictStr
    stripe_customer_id: StrictStr | None = None
    contacts: list[ContactIn] = Field(default_factory=list)
    invoices: list[InvoiceIn] = Field(default_factory=list)

    _known_currency = field_validator("currency")(_currency)


class ImportFile(_Strict):
    accounts: list[AccountIn]
    # With ``import --full``: how an open invoice the file no longer lists is closed.
    closed_as: Literal["paid_elsewhere", "void"] | None = None


def json_path(location: tuple[int | str, ...]) -> str:
    """``('accounts', 0, 'invoices', 1, 'amount_due')`` -> ``accounts[0].invoices[1].amount_due``."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(file)"


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return "must be a whole number of minor units (for example 125000 for $1,250.00)"
    if kind == "greater_than_equal":
        return "must not be negative"
    if kind == "string_type":
        return "must be a string"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return "must be an object"
    if kind == "list_type":
        return "must be a list"
    if kind in {"date_from_datetime_parsing", "date_parsing", "date_type"}:
        return "must be a date written YYYY-MM-DD"
    if kind == "literal_error":
        expected = str(error.get("ctx", {}).get("expected", "'open', 'paid' or 'void'"))
        return f"must be one of {expected}"
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def validate_import(data: object) -> tuple[ImportFile | None, list[tuple[str, str]]]:
    """Check the whole file and return every problem as ``(path, message)``, in file order."""
    parsed, problems = validate_model(ImportFile, data)
    problems.extend(_cross_checks(data))
    problems.sort(key=lambda p: _sort_key(p[0]))
    return (parsed if not problems else None), problems


M = TypeVar("M", bound=BaseModel)


def validate_model(model: type[M], data: object) -> tuple[M | None, list[tuple[str, str]]]:
    """``data`` as ``model``, or every problem as ``(path, message)`` in the import's wording."""
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        problems: list[tuple[str, str]] = []
        for item in error.errors():
            location = tuple(part for part in item["loc"] if not isinstance(part, str) or part != "function-after")
            problems.append((json_path(location), _message(dict(item))))
        return None, problems


def check_invoices(data: object, account_currency: str) -> list[tuple[str, str]]:
    """The import's checks across a body's ``invoices`` (duplicates, dates, currency), for an
    account whose currency is ``account_currency``; paths as in the body (``invoices[0].due_on``)."""
    if not isinstance(data, dict):
        return []
    wrapped = {"accounts": [{"currency": account_currency, "invoices": data.get("invoices")}]}
    return [(path.removeprefix("accounts[0]."), message) for path, message in _cross_checks(wrapped)]


def _sort_key(path: str) -> list[object]:
    return [int(p) if p.isdigit() else p for p in re.split(r"[\[\].]+", path) if p]


def _cross_checks(data: object) -> list[tuple[str, str]]:
    """Checks that span fields or items: duplicates, dates in order, currencies that agree."""
    problems: list[tuple[str, str]] = []
    if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
        return problems
    seen_accounts: dict[str, int] = {}
    for a_index, account in enumerate(data["accounts"]):
        if not isinstance(account, dict):
            continue
        base = f"accounts[{a_index}]"
        account_id = account.get("id")
        if isinstance(account_id, str):
            key = account_id.strip()
            if key in seen_accounts:
                problems.append((f"{base}.id", f"duplicate account id {key!r} (also accounts[{seen_accounts[key]}])"))
            else:
                seen_accounts[key] = a_index
        currency = account.get("currency")
        contacts = account.get("contacts")
        if isinstance(contacts, list):
            seen_emails: set[str] = set()
            for c_index, contact in enumerate(contacts):
                email = contact.get("email") if isinstance(contact, dict) else None
                if isinstance(email, str):
                    key = email.strip().lower()
                    if key in seen_emails:
                        problems.append((f"{base}.contacts[{c_index}].email", f"duplicate contact {key!r}"))
                    seen_emails.add(key)
        invoices = account.get("invoices")
        if not isinstance(invoices, list):
            continue
        seen_numbers: dict[str, int] = {}
        for i_index, invoice in enumerate(invoices):
            if not isinstance(invoice, dict):
                continue
            path = f"{base}.invoices[{i_index}]"
            number = invoice.get("number")
            if isinstance(number, str):
                key = number.strip()
                if key in seen_numbers:
                    problems.append(
                        (f"{path}.number", f"duplicate invoice number {key!r} (also invoices[{seen_numbers[key]}])")
                    )
                else:
                    seen_numbers[key] = i_index
            issued, due = invoice.get("issued_on"), invoice.get("due_on")
            if isinstance(issued, str) and isinstance(due, str) and _ISO_DATE.match(issued) and _ISO_DATE.match(due):
                try:
                    if date.fromisoformat(due) < date.fromisoformat(issued):
                        problems.append((f"{path}.due_on", f"due date {due} is before the issue date {issued}"))
                except ValueError:
                    pass  # reported by the field validation
            inv_currency = invoice.get("currency")
            if (
                isinstance(currency, str)
                and isinstance(inv_currency, str)
                and is_known_currency(currency)
                and is_known_currency(inv_currency)
                and inv_currency != currency
            ):
                problems.append(
                    (f"{path}.currency", f"invoice currency {inv_currency!r} differs from the account's {currency!r}")
                )
    return problems
