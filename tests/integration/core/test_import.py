from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, ContactRecord, InvoiceRecord
from billing_core.errors import InvalidImport
from tests.integration.core.sample_data import sample


def counts(db: Database) -> tuple[int, int, int]:
    with db.read() as session:
        return (
            session.scalar(select(func.count(AccountRecord.id))) or 0,
            session.scalar(select(func.count(ContactRecord.id))) or 0,
            session.scalar(select(func.count(InvoiceRecord.id))) or 0,
        )


def problems_of(services: Services, data: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidImport) as caught:
        services.importer.run(data)
    return caught.value.problems


class TestImportHappyPath:
    def test_a_valid_file_creates_accounts_contacts_and_invoices(self, services: Services, db: Database) -> None:
        summary = services.importer.run(sample())
        assert (summary.accounts_created, summary.contacts_created, summary.invoices_created) == (3, 4, 6)
        assert counts(db) == (3, 4, 6)

    def test_importing_the_same_file_twice_changes_nothing(self, services: Services, db: Database) -> None:
        services.importer.run(sample())
        with db.read() as session:
            before = [(i.id, i.updated_at, i.status) for i in session.scalars(select(InvoiceRecord))]
        summary = services.importer.run(sample())
        assert summary.invoices_created == 0 and summary.invoices_updated == 0
        assert summary.invoices_unchanged == 6 and summary.accounts_unchanged == 3
        with db.read() as session:
            after = [(i.id, i.updated_at, i.status) for i in session.scalars(select(InvoiceRecord))]
        assert before == after

    def test_changed_amounts_statuses_and_due_dates_update_in_place(self, services: Services, db: Database) -> None:
        services.importer.run(sample())
        changed = sample()
        invoice = changed["accounts"][0]["invoices"][0]
        invoice.update(amount_due=130000, due_on="2026-11-15")
        changed["accounts"][0]["invoices"][1]["status"] = "void"
        summary = services.importer.run(changed)
        assert summary.invoices_updated == 2 and summary.invoices_created == 0
        with db.read() as session:
            record = session.scalars(
                select(InvoiceRecord)
                .where(InvoiceRecord.number == "INV-1001")
                .join(AccountRecord)
                .where(AccountRecord.external_id == "acme")
            ).one()
            assert record.amount_due_minor == 130000 and str(record.due_on) == "2026-11-15"
        assert counts(db) == (3, 4, 6)

    def test_invoices_missing_from_the_file_are_left_alone(self, services: Services, db: Database) -> None:
        services.importer.run(sample())
        smaller = sample()
        smaller["accounts"][0]["invoices"] = smaller["accounts"][0]["invoices"][:1]
        services.importer.run(smaller)
        assert counts(db)[2] == 6

    def test_a_contact_removed_from_an_account_loses_it(self, services: Services, db: Database) -> None:
        services.importer.run(sample())
        changed = sample()
        changed["accounts"][0]["contacts"] = changed["accounts"][0]["contacts"][:1]
        summary = services.importer.run(changed)
        assert summary.extra["contacts_removed"] == 1
        assert counts(db)[1] == 3

    def test_a_paid_import_marks_the_full_amount_paid(self, services: Services, db: Database) -> None:
        services.importer.run(sample())
        with db.read() as session:
            paid = session.scalars(select(InvoiceRecord).where(InvoiceRecord.number == "INV-0999")).one()
            assert paid.amount_paid_minor == paid.amount_due_minor == 90000


class TestImportValidation:
    def test_a_bad_type_is_reported_with_its_path(self, services: Services, db: Database) -> None:
        data = sample()
        data["accounts"][0]["invoices"][1]["amount_due"] = "500.50"
        assert problems_of(services, data) == [
            (
                "accounts[0].invoices[1].amount_due",
                "must be a whole number of minor units (for example 125000 for $1,250.00)",
            )
        ]
        assert counts(db) == (0, 0, 0)

    def test_a_float_amount_is_a_bad_type(self, services: Services) -> None:
        data = sample()
        data["accounts"][0]["invoices"][0]["amount_due"] = 1250.5
        assert [p for p, _ in problems_of(services, data)] == ["accounts[0].invoices[0].amount_due"]

    def test_a_negative_amount_is_refused(self, services: Services, db: Database) -> None:
        data = sample()
        data["accounts"][2]["invoices"][0]["amount_due"] = -1
        assert problems_of(services, data) == [("accounts[2].invoices[0].amount_due", "must not be negative")]
        assert counts(db) == (0, 0, 0)

    def test_an_unknown_currency_is_refused(self, services: Services) -> None:
        data = sample()
        data["accounts"][1]["currency"] = "eurx"
        data["accounts"][1]["invoices"][0]["currency"] = "eurx"
        paths = [p for p, _ in problems_of(services, data)]
        assert paths == ["accounts[1].currency", "accounts[1].invoices[0].currency"]

    def test_an_invoice_in_another_currency_than_its_account_is_refused(self, services: Services) -> None:
        data = sample()
        data["accounts"][0]["invoices"][0]["currency"] = "eur"
        assert [p for p, _ in problems_of(services, data)] == ["accounts[0].invoices[0].currency"]

    def test_a_duplicate_invoice_number_is_refused(self, services: Services, db: Database) -> None:
        data = sample()
        data["accounts"][0]["invoices"][1]["number"] = "INV-1001"
        problems = problems_of(services, data)
        assert problems == [
            ("accounts[0].invoices[1].number", "duplicate invoice number 'INV-1001' (also invoices[0])")
        ]
        assert counts(db) == (0, 0, 0)

    def test_the_same_invoice_number_on_two_accounts_is_fine(self, services: Services, db: Database) -> None:
        services.importer.run(sample())  # INV-1001 exists on acme and on initech
        assert counts(db)[2] == 6

    def test_a_due_date_before_the_issue_date_is_refused(self, services: Services) -> None:
        data = sample()
        data["accounts"][0]["invoices"][0]["due_on"] = "2026-09-30"
        assert problems_of(services, data) == [
            ("accounts[0].invoices[0].due_on", "due date 2026-09-30 is before the issue date 2026-10-01")
        ]

    def test_a_malformed_email_is_refused(self, services: Services) -> None:
        data = sample()
        data["accounts"][0]["contacts"][1]["email"] = "bob at acme"
        assert problems_of(services, data) == [
            ("accounts[0].contacts[1].email", "'bob at acme' is not a valid e-mail address")
        ]

    def test_every_problem_is_reported_at_once_and_nothing_is_written(self, services: Services, db: Database) -> None:
        data = sample()
        data["accounts"][0]["invoices"][0]["amount_due"] = -5
        data["accounts"][1]["contacts"][0]["email"] = "nope"
        data["accounts"][2]["invoices"][0]["issued_on"] = "01/11/2026"
        problems = problems_of(services, data)
        assert [p for p, _ in problems] == [
            "accounts[0].invoices[0].amount_due",
            "accounts[1].contacts[0].email",
            "accounts[2].invoices[0].issued_on",
        ]
        assert counts(db) == (0, 0, 0)

    def test_a_file_that_is_not_an_object_of_accounts_is_refused(self, services: Services) -> None:
        assert problems_of(services, [1, 2]) == [("(file)", "must be an object")]

    def test_a_rejected_file_changes_nothing_already_imported(self, services: Services, db: Database) -> None:
        services.importer.run(sample())

        def invoices() -> list[tuple[object, ...]]:
            with db.read() as session:
                return [
                    tuple(row)
                    for row in session.execute(
                        select(
                            InvoiceRecord.number,
                            InvoiceRecord.amount_due_minor,
                            InvoiceRecord.due_on,
                            InvoiceRecord.status,
                            InvoiceRecord.updated_at,
                        ).order_by(InvoiceRecord.id)
                    )
                ]

        before = invoices()
        data = sample()
        data["accounts"][0]["invoices"][0]["amount_due"] = 1  # a valid change ...
        data["accounts"][0]["invoices"][1]["due_on"] = "2020-01-01"  # ... beside an invalid one
        assert [path for path, _ in problems_of(services, data)] == ["accounts[0].invoices[1].due_on"]
        assert invoices() == before
