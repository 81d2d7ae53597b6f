"""Import files for the core tests."""

from __future__ import annotations

import copy
from typing import Any

SAMPLE: dict[str, Any] = {
    "accounts": [
        {
            "id": "acme",
            "name": "Acme Corp",
            "currency": "usd",
            "stripe_customer_id": "cus_acme",
            "contacts": [
                {"email": "ann@acme.test", "name": "Ann Lee"},
                {"email": "bob@acme.test", "name": "Bob Ray"},
            ],
            "invoices": [
                {"number": "INV-1001", "issued_on": "2026-10-01", "due_on": "2026-11-01",
                 "amount_due": 125000, "currency": "usd", "status": "open", "description": "October usage"},
                {"number": "INV-1002", "issued_on": "2026-11-01", "due_on": "2026-12-01",
                 "amount_due": 50050, "currency": "usd", "status": "open", "description": "November usage"},
                {"number": "INV-0999", "issued_on": "2026-09-01", "due_on": "2026-10-01",
                 "amount_due": 90000, "currency": "usd", "status": "paid", "description": "September usage"},
            ],
        },
        {
            "id": "globex",
            "name": "Globex GmbH",
            "currency": "eur",
            "contacts": [{"email": "ANN@acme.test", "name": "Ann Lee"}],
            "invoices": [
                {"number": "G-1", "issued_on": "2026-11-10", "due_on": "2026-12-10",
                 "amount_due": 9900, "currency": "eur", "status": "open"},
                {"number": "G-0", "issued_on": "2026-08-10", "due_on": "2026-09-10",
                 "amount_due": 1000, "currency": "eur", "status": "void"},
            ],
        },
        {
            "id": "initech",
            "name": "Initech KK",
            "currency": "jpy",
            "contacts": [{"email": "peter@initech.test", "name": "Peter Gibbons"}],
            "invoices": [
                {"number": "INV-1001", "issued_on": "2026-11-01", "due_on": "2026-11-20",
                 "amount_due": 125000, "currency": "jpy", "status": "open"},
            ],
        },
    ]
}


def sample() -> dict[str, Any]:
    return copy.deepcopy(SAMPLE)
