"""An invoice's ``document_url`` cannot show one address and open another (issue 25, item 7):
no-break spaces, line separators, zero-width and right-to-left characters, anything outside ASCII and
user info (``https://bank.test@evil.test/`` opens evil.test) are refused at import, and a stored
URL that fails the same check gets no button.

Real parts: the importer on the database (SQLite, or PostgreSQL with TEST_DATABASE_URL).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import InvoiceRecord
from billing_core.errors import InvalidImport
from handlers.kit.documents import view_invoice_button
from tests.integration.core.sample_data import sample

OUTSIDE_ASCII = "must not contain characters outside ASCII (no-break, zero-width or direction marks; encode them)"
USER_INFO = "must not contain a user name or password before the host"
REFUSED = {
    "no-break space": ("https://vendor.test/a\u00a0b.pdf", OUTSIDE_ASCII),
    "line separator": ("https://vendor.test/a\u2028b.pdf", OUTSIDE_ASCII),
    "zero-width space": ("https://vendor.test/\u200binvoice.pdf", OUTSIDE_ASCII),
    "zero-width joiner": ("https://vendor\u200d.test/invoice.pdf", OUTSIDE_ASCII),
    "right-to-left override": ("https://vendor.test/\u202efdp.exe", OUTSIDE_ASCII),
    "byte order mark": ("https://vendor.test/\ufeffinvoice.pdf", OUTSIDE_ASCII),
    "non-ascii host": ("https://vеndor.test/invoice.pdf", OUTSIDE_ASCII),  # a Cyrillic "е"
    "user info": ("https://bank.test@evil.test/", USER_INFO),
    "user and password": ("https://bank.test:pay@evil.test/invoice.pdf", USER_INFO),
    "empty user info": ("https://@evil.test/", USER_INFO),
    "backslash before the host": ("https://bank.test\\@evil.test/", USER_INFO),
    "NEL": ("https://vendor.test/a\x85b", OUTSIDE_ASCII),
    "tab": ("https://vendor.test/a\tb", "must not contain spaces or control characters"),
}


def with_document(url: str) -> dict[str, object]:
    data = sample()
    data["accounts"][0]["invoices"][1]["document_url"] = url
    return data


def stored_documents(db: Database) -> list[str | None]:
    with db.read() as session:
        return list(session.scalars(select(InvoiceRecord.document_url)))


@pytest.mark.parametrize(("url", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_a_document_url_that_could_show_one_address_and_open_another_is_an_import_error(
    services: Services, db: Database, url: str, message: str
) -> None:
    with pytest.raises(InvalidImport) as caught:
        services.importer.run(with_document(url))
    assert caught.value.problems == [("accounts[0].invoices[1].document_url", message)]
    assert stored_documents(db) == []


@pytest.mark.parametrize(("url", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_a_stored_url_that_fails_the_check_gets_no_view_invoice_button(url: str, message: str) -> None:
    assert view_invoice_button(url) is None


def test_plain_ascii_urls_with_encoded_characters_a_port_and_a_query_are_still_imported(
    services: Services, db: Database
) -> None:
    url = "https://erp.vendor.test:8443/docs/INV%E2%80%941002.pdf?download=1&from=a%40b#page=2"
    services.importer.run(with_document(url))
    assert url in stored_documents(db)
    assert view_invoice_button(url) is not None
