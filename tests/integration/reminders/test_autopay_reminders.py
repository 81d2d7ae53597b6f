"""Reminders know autopay: before the due date they say when and to which card it will be charged;
no overdue reminder while an autopay charge is under way or still to be retried; and the sweep
tells contacts when the default card is about to expire."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.db.tables import (
    AccountRecord,
    AutopayAttemptRecord,
    AutopayRecord,
    InvoiceRecord,
    PaymentMethodRecord,
)
from billing_core.reminders.service import ReminderService
from devtools.loopback.slack_api import SlackAPI
from tests.integration.reminders.conftest import account, dm_texts, invoice, utc

NOW = utc(2026, 11, 25, 15)  # a Wednesday, in working hours in London


@pytest.fixture(autouse=True)
def people(slack_api: SlackAPI, clock: FixedClock) -> None:
    slack_api.add_user("UANN", "ann@acme.test", "Ann Lee", tz="Europe/London")
    clock.set(NOW)


def autopay(db: Database, *, exp: tuple[int, int] = (12, 2031)) -> None:
    """Acme has a default Visa •••• 4242 and autopay on."""
    with db.transaction() as session:
        acme = session.scalars(select(AccountRecord).where(AccountRecord.external_id == "acme")).one()
        session.add(
            PaymentMethodRecord(
                account_id=acme.id,
                stripe_payment_method_id="pm_1",
                brand="visa",
                last4="4242",
                exp_month=exp[0],
                exp_year=exp[1],
                is_default=True,
                refreshed_at=NOW,
            )
        )
        session.add(
            AutopayRecord(
                account_id=acme.id,
                enabled=True,
                changed_by_email="ann@acme.test",
                changed_by_principal="slack:T1:UANN",
                changed_at=NOW,
            )
        )


def attempt(db: Database, number: int, status: str) -> None:
    with db.transaction() as session:
        invoice_id = session.scalars(select(InvoiceRecord.id).where(InvoiceRecord.number == "INV-1")).one()
        session.add(AutopayAttemptRecord(invoice_id=invoice_id, attempt=number, status=status, claimed_at=NOW))


def test_the_reminder_before_an_autopay_invoice_is_due_says_when_and_to_which_card_it_will_be_charged(
    load: Callable[..., None], reminders: ReminderService, slack_api: SlackAPI, db: Database
) -> None:
    load(account("acme", [("ann@acme.test", "Ann Lee")], [invoice("INV-1", NOW.date() + timedelta(days=7), 125000)]))
    autopay(db)

    assert reminders.run_sweep().summary() == "sent 1, skipped 0, failed 0"

    [(_, text)] = dm_texts(slack_api)
    assert "will be charged by autopay on 2026-12-02 to Visa •••• 4242" in text
    [call] = slack_api.calls("chat.postMessage")
    blocks = json.dumps(call.json_args["blocks"], ensure_ascii=False)
    assert "will be charged by autopay on 2 Dec 2026 to Visa •••• 4242" in blocks
    assert '"pay_open"' not in blocks


@pytest.mark.parametrize(
    ("attempts", "sent"),
    [
        ([(1, "pending")], 0),
        ([(1, "requires_action")], 0),
        ([(1, "retried"), (2, "declined")], 0),  # the last retry is still to come
        ([(1, "retried"), (2, "retried"), (3, "declined")], 1),  # autopay gave up: reminders take over
    ],
)
def test_no_overdue_reminder_goes_out_while_an_autopay_charge_is_pending(
    attempts: list[tuple[int, str]],
    sent: int,
    load: Callable[..., None],
    reminders: ReminderService,
    slack_api: SlackAPI,
    db: Database,
) -> None:
    load(account("acme", [("ann@acme.test", "Ann Lee")], [invoice("INV-1", NOW.date() - timedelta(days=3))]))
    autopay(db)
    for number, status in attempts:
        attempt(db, number, status)

    assert reminders.run_sweep().sent == sent


def test_the_sweep_tells_the_contacts_once_when_the_default_card_expires_within_30_days(
    load: Callable[..., None],
    reminders: ReminderService,
    slack_api: SlackAPI,
    db: Database,
    clock: FixedClock,
) -> None:
    load(account("acme", [("ann@acme.test", "Ann Lee")], [invoice("INV-1", date(2027, 3, 1))]))
    autopay(db, exp=(12, 2026))
    clock.set(utc(2026, 12, 2, 11))

    first = reminders.run_sweep()
    reminders.run_sweep()

    [(channel, text)] = dm_texts(slack_api)
    assert channel == "DUANN" and "expires in 29 days" in text
    assert "card expiry notices: sent 1, postponed 0, failed 0" in first.notes
