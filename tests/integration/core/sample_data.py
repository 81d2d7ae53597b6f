"""Import files for the core tests."""

from __future__ import annotations

import copy
from typing import Any

from tests.support.sample_accounts import account, invoice

SAMPLE: dict[str, Any] = {
    "accounts": [
        account(
            "acme",
            "Acme Corp",
            "usd",
            [("ann@acme.test", "Ann Lee"), ("bob@acme.test", "Bob Ray")],
            [
                invoice("INV-1001", "2026-10-01", "2026-11-01", 125000, description="October usage"),
                invoice("INV-1002", "2026-11-01", "2026-12-01", 50050, description="November usage"),
                invoice("INV-0999", "2026-09-01", "2026-10-01", 90000, status="paid", description="September usage"),
            ],
            stripe_customer_id="cus_acme",
        ),
        account(
            "globex",
            "Globex GmbH",
            "eur",
            [("ANN@acme.test", "Ann Lee")],
            [
                invoice("G-1", "2026-11-10", "2026-12-10", 9900, "eur"),
                invoice("G-0", "2026-08-10", "2026-09-10", 1000, "eur", status="void"),
            ],
        ),
        account(
            "initech",
            "Initech KK",
            "jpy",
            [("peter@initech.test", "Peter Gibbons")],
            [
                invoice("INV-1001", "2026-11-01", "2026-11-20", 125000, "jpy"),
            ],
        ),
    ]
}


def sample() -> dict[str, Any]:
    return copy.deepcopy(SAMPLE)
