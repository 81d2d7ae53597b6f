"""Reminder DMs and proof of the address (issue: reminders bypassed ``email_code``).

With ``IDENTITY_VERIFICATION=email_code`` a Slack profile e-mail is not proof: a person whose
profile shows a contact's address but who never proved it gets a reminder that says only that one
is waiting (no invoice number, amount or account name), with a button that e-mails a code. Once
they prove the address, the same DM is rewritten with its details. Real parts: the database, the
Slack Web API stand-in, aiosmtpd for the code e-mail.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.views import Actor
from devtools.loopback.slack_api import RecordedCall, SlackAPI
from handlers.kit.ids import VERIFY_RESEND_ACTION
from tests.integration.reminders.conftest import account, invoice, utc
from tests.security.test_identity_verification import code_from
from tests.support.services import MakeServices
from tests.support.smtp_sink import SmtpSink

ANN = Actor(email="ann@acme.test", principal="slack:T111:UANN", display_name="Ann Lee")
DETAILS = ("INV-1", "1,250.00", "Acme Corp")


@pytest.fixture
def services(make_services: MakeServices, clock: FixedClock, slack_api: SlackAPI, smtp_sink: SmtpSink) -> Services:
    built = make_services(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_API_URL=slack_api.base_url,
        IDENTITY_VERIFICATION="email_code",
        SMTP_URL=smtp_sink.url,
        SMTP_FROM="billing-bot@vendor.test",
        accounts={
            "accounts": [
                account("acme", [("ann@acme.test", "Ann Lee")], [invoice("INV-1", date(2026, 11, 25), 125000)])
            ]
        },
    )
    slack_api.add_user("UANN", "ann@acme.test", "Ann Lee", tz="Europe/Berlin")
    clock.set(utc(2026, 11, 25, 12))
    return built


def _everything_shown(call: RecordedCall) -> str:
    text: str = call.json_args["text"]
    return text + json.dumps(call.json_args.get("blocks"))


def test_a_person_who_never_proved_the_address_gets_a_reminder_without_billing_details(
    services: Services, slack_api: SlackAPI
) -> None:
    assert services.reminders is not None
    result = services.reminders.run_sweep()

    [dm] = slack_api.calls("chat.postMessage")
    shown = _everything_shown(dm)
    assert result.sent == 1
    assert not any(detail in shown for detail in DETAILS)
    assert "reminder waiting" in shown and VERIFY_RESEND_ACTION in shown


def test_once_the_address_is_proven_the_waiting_reminder_shows_its_invoices(
    services: Services, slack_api: SlackAPI, smtp_sink: SmtpSink
) -> None:
    assert services.reminders is not None and services.identity_verification is not None
    services.reminders.run_sweep()
    [dm] = slack_api.calls("chat.postMessage")

    verifier = services.identity_verification
    verifier.request_code(ANN)
    verifier.confirm(ANN.principal, code_from(smtp_sink.wait_for(1)[0]))
    assert services.reminders.reveal_withheld(ANN.email) == 1

    [update] = slack_api.calls("chat.update")
    assert dm.response is not None and update.json_args["ts"] == dm.response["ts"]  # the same DM, rewritten
    assert all(detail in _everything_shown(update) for detail in DETAILS)
    assert services.reminders.reveal_withheld(ANN.email) == 0  # shown once


def test_a_person_who_proved_the_address_gets_the_details_at_once(
    services: Services, slack_api: SlackAPI, smtp_sink: SmtpSink
) -> None:
    assert services.reminders is not None and services.identity_verification is not None
    services.identity_verification.request_code(ANN)
    services.identity_verification.confirm(ANN.principal, code_from(smtp_sink.wait_for(1)[0]))

    services.reminders.run_sweep()

    [dm] = slack_api.calls("chat.postMessage")
    assert all(detail in _everything_shown(dm) for detail in DETAILS)
