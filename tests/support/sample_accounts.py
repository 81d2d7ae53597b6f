"""The sample customers the bot-level tests share: Ann of Acme (and Globex), Peter of Initech.

``SAMPLE`` is an import file (``services.importer.run(SAMPLE)``), written with :func:`account` and
:func:`invoice` like the other suites' samples; :func:`give_customer` links an
account to its Stripe customer; :func:`wait_until` polls for what a test expects to happen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select

from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord
from billing_core.views import Actor

T = TypeVar("T")

ANN_ID, PETER_ID, STRANGER_ID, HIDDEN_ID = "W111", "W222", "W999", "W998"
ANN = Actor(email="ann@acme.test", principal=f"slack:T111:{ANN_ID}", display_name="Ann Lee")
PETER = Actor(email="peter@initech.test", principal=f"slack:T111:{PETER_ID}", display_name="Peter Gibbons")


def invoice(
    number: str, issued_on: str, due_on: str, amount_due: int, currency: str = "usd", status: str = "open", **extra: str
) -> dict[str, Any]:
    """One invoice of an import file."""
    return {
        "number": number,
        "issued_on": issued_on,
        "due_on": due_on,
        "amount_due": amount_due,
        "currency": currency,
        "status": status,
        **extra,
    }


def account(
    external_id: str,
    name: str,
    currency: str,
    contacts: list[tuple[str, str]],
    invoices: list[dict[str, Any]],
    **extra: str,
) -> dict[str, Any]:
    """One account of an import file; ``contacts`` as ``(email, name)``."""
    return {
        "id": external_id,
        "name": name,
        "currency": currency,
        **extra,
        "contacts": [{"email": email, "name": person} for email, person in contacts],
        "invoices": invoices,
    }


SAMPLE: dict[str, Any] = {
    "accounts": [
        account(
            "acme",
            "Acme Corp",
            "usd",
            [("ann@acme.test", "Ann Lee")],
            [
                invoice("INV-1", "2026-10-01", "2026-10-31", 125000, description="October usage"),
                invoice("INV-2", "2026-11-01", "2026-12-01", 50050, description="November usage"),
                invoice("INV-0", "2026-09-01", "2026-09-30", 9900, status="paid"),
            ],
        ),
        account(
            "globex",
            "Globex",
            "eur",
            [("ANN@acme.test", "Ann Lee")],
            [
                invoice("G-7", "2026-06-01", "2026-07-01", 3000, "eur"),
            ],
        ),
        account(
            "initech",
            "Initech",
            "usd",
            [("peter@initech.test", "Peter Gibbons")],
            [
                invoice("I-1", "2026-11-01", "2026-11-20", 7000),
            ],
        ),
    ]
}


def give_customer(db: Database, account: str, customer_id: str) -> None:
    """Link ``account`` to the Stripe customer ``customer_id``."""
    with db.transaction() as session:
        record = session.scalars(select(AccountRecord).where(AccountRecord.external_id == account)).one()
        record.stripe_customer_id = customer_id


def wait_until(check: Callable[[], T], what: str, timeout: float = 15.0) -> T:
    """``check()`` once it is truthy; ``AssertionError`` naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return found
