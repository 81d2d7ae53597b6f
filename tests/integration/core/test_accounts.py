from __future__ import annotations

import pytest

from billing_core.container import Services
from billing_core.errors import AccountNotFound, InvoiceNotFound, NotABillingContact
from billing_core.money import Money
from billing_core.views import Actor
from tests.integration.core.sample_data import sample

ANN = Actor(email="ann@acme.test", principal="slack:T1:UANN", display_name="Ann")
PETER = Actor(email="peter@initech.test", principal="slack:T1:UPETER")


@pytest.fixture
def imported(services: Services) -> Services:
    services.importer.run(sample())
    return services


class TestIdentity:
    def test_a_contact_of_two_accounts_sees_both(self, imported: Services) -> None:
        caller = imported.accounts.caller(ANN)
        assert sorted(a.external_id for a in caller.accounts) == ["acme", "globex"]

    def test_emails_match_ignoring_case_and_surrounding_spaces(self, imported: Services) -> None:
        shouty = Actor(email="  Ann@ACME.test ", principal="slack:T1:UANN")
        assert len(imported.accounts.caller(shouty).accounts) == 2
        assert imported.accounts.is_contact(" ANN@acme.TEST")

    def test_someone_who_is_no_contact_is_refused(self, imported: Services) -> None:
        with pytest.raises(NotABillingContact):
            imported.accounts.caller(Actor(email="mallory@evil.test", principal="slack:T1:UM"))
        assert not imported.accounts.is_contact("mallory@evil.test")

    def test_a_contact_of_several_accounts_starts_on_the_most_recently_invoiced(self, imported: Services) -> None:
        # globex issued G-1 on 2026-11-10, acme's latest is 2026-11-01
        assert imported.accounts.caller(ANN).active.external_id == "globex"

    def test_switching_by_name_ignores_case_and_is_remembered(self, imported: Services) -> None:
        imported.accounts.switch(ANN, "acme corp")
        assert imported.accounts.caller(ANN).active.external_id == "acme"

    def test_the_read_with_open_invoices_shows_what_the_separate_reads_show(self, imported: Services) -> None:
        # Before and after a switch: the active account comes from the latest invoice, then from the choice.
        for switch_to in (None, "acme"):
            if switch_to is not None:
                imported.accounts.switch(ANN, switch_to)
            together, open_invoices = imported.accounts.caller_with_open_invoices(ANN)
            apart = imported.accounts.caller(ANN)
            assert together == apart
            assert open_invoices == imported.accounts.open_invoices(ANN, apart.active.external_id)

    def test_the_read_with_open_invoices_refuses_someone_who_is_no_contact(self, imported: Services) -> None:
        with pytest.raises(NotABillingContact):
            imported.accounts.caller_with_open_invoices(Actor(email="mallory@evil.test", principal="slack:T1:UM"))

    def test_switching_by_exact_id(self, imported: Services) -> None:
        assert imported.accounts.switch(ANN, "acme").active.name == "Acme Corp"

    def test_switching_to_an_account_of_someone_else_changes_nothing(self, imported: Services) -> None:
        imported.accounts.switch(ANN, "acme")
        with pytest.raises(AccountNotFound):
            imported.accounts.switch(ANN, "initech")
        assert imported.accounts.caller(ANN).active.external_id == "acme"

    def test_the_active_account_is_per_person(self, imported: Services) -> None:
        imported.accounts.switch(ANN, "acme")
        other_ann_login = Actor(email="ann@acme.test", principal="slack:T2:UANN2")
        assert imported.accounts.caller(other_ann_login).active.external_id == "globex"

    def test_switches_are_audited(self, imported: Services) -> None:
        imported.accounts.switch(ANN, "acme")
        entries = imported.audit.entries(account_external_id="acme")
        assert [(e.action, e.actor, e.outcome) for e in entries] == [("account.switch", "ann@acme.test", "ok")]


class TestBalance:
    def test_the_balance_sums_open_invoices_only(self, imported: Services) -> None:
        assert imported.accounts.balance(ANN, "acme") == Money(125000 + 50050, "usd")
        assert imported.accounts.balance(ANN, "globex") == Money(9900, "eur")

    def test_account_summaries_carry_balance_next_due_and_overdue(self, imported: Services) -> None:
        acme = imported.accounts.account(ANN, "acme")
        assert acme.balance.format() == "$1,750.50"
        assert acme.open_invoice_count == 2
        assert str(acme.next_due_on) == "2026-11-01"
        assert acme.overdue_count == 1  # the clock says 2026-11-25

    def test_open_invoices_are_listed_oldest_due_first_with_overdue_marked(self, imported: Services) -> None:
        invoices = imported.accounts.open_invoices(ANN, "acme")
        assert [(i.number, i.overdue) for i in invoices] == [("INV-1001", True), ("INV-1002", False)]

    def test_a_jpy_balance_has_no_minor_digits(self, imported: Services) -> None:
        assert imported.accounts.balance(PETER, "initech").format() == "¥125,000"


class TestMembershipGuard:
    def test_another_accounts_invoice_looks_exactly_like_a_missing_one(self, imported: Services) -> None:
        with pytest.raises(InvoiceNotFound) as foreign:
            imported.accounts.invoice(ANN, "initech", "INV-1001")
        with pytest.raises(InvoiceNotFound) as missing:
            imported.accounts.invoice(ANN, "acme", "INV-9999")
        with pytest.raises(InvoiceNotFound) as no_account:
            imported.accounts.invoice(ANN, "nosuch", "INV-1001")
        assert type(foreign.value) is type(missing.value) is type(no_account.value)

    def test_the_same_invoice_number_resolves_within_the_callers_account(self, imported: Services) -> None:
        assert imported.accounts.invoice(ANN, "acme", "INV-1001").amount_due == Money(125000, "usd")
        assert imported.accounts.invoice(PETER, "initech", "INV-1001").amount_due == Money(125000, "jpy")

    def test_another_accounts_balance_and_history_are_refused(self, imported: Services) -> None:
        with pytest.raises(AccountNotFound):
            imported.accounts.balance(PETER, "acme")
        with pytest.raises(AccountNotFound):
            imported.history.page(PETER, "acme")

    def test_history_of_an_account_without_payments_is_an_empty_page(self, imported: Services) -> None:
        page = imported.history.page(ANN, "acme")
        assert page.items == () and page.total == 0 and not page.has_next
