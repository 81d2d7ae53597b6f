"""``document_url`` on an imported invoice: only absolute http(s) URLs; anything else is an error
with its path, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import InvoiceRecord
from billing_core.errors import InvalidImport
from billing_core.views import Actor
from tests.integration.core.sample_data import sample

PDF = "https://billing.vendor.test/invoices/INV-1002.pdf"


def with_document(url: Any, index: int = 1) -> dict[str, Any]:
    data = sample()
    data["accounts"][0]["invoices"][index]["document_url"] = url
    return data


def documents(db: Database) -> dict[str, str | None]:
    with db.read() as session:
        return {
            n: u
            for n, u in session.execute(select(InvoiceRecord.number, InvoiceRecord.document_url))
            if n.startswith("INV-100")
        }


def test_an_https_document_is_stored_and_shown_with_the_invoice(services: Services, db: Database) -> None:
    services.importer.run(with_document(PDF))
    assert documents(db)["INV-1002"] == PDF and documents(db)["INV-1001"] is None
    ann = Actor(email="ann@acme.test", principal="slack:T1:U1")  # a contact of Acme in the core sample
    shown = {i.number: i.document_url for i in services.accounts.open_invoices(ann, "acme")}
    assert shown["INV-1002"] == PDF


def test_a_changed_document_updates_in_place_and_the_same_file_changes_nothing(
    services: Services, db: Database
) -> None:
    services.importer.run(with_document(PDF))
    services.importer.run(with_document("http://erp.vendor.test/doc/2"))
    assert documents(db)["INV-1002"] == "http://erp.vendor.test/doc/2"


@pytest.mark.parametrize(
    "url, message",
    [
        ("javascript:alert(document.cookie)", "must be an absolute http:// or https:// URL"),
        ("file:///etc/passwd", "must be an absolute http:// or https:// URL"),
        ("/invoices/INV-1002.pdf", "must be an absolute http:// or https:// URL"),
        ("https://", "must be an absolute http:// or https:// URL"),
        ("https://vendor.test/" + "a" * 2000, "must be at most 2000 characters"),
        ("https://vendor.test/a b.pdf", "must not contain spaces or control characters"),
        (42, "must be a string"),
    ],
)
def test_anything_but_an_http_url_is_an_import_error_with_its_path(
    services: Services, db: Database, url: Any, message: str
) -> None:
    with pytest.raises(InvalidImport) as caught:
        services.importer.run(with_document(url))
    assert caught.value.problems == [("accounts[0].invoices[1].document_url", message)]
    assert documents(db) == {}
