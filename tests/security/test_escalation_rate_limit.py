"""Requests to billing support are rate limited per person and per account: each one is a staff post
and an e-mail (issue 19, item 13).

Real parts: the database, the escalation service and outbox delivering to an aiosmtpd server; the
whole bot (signed requests, Slack stand-in) for what the person reads.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.errors import EscalationRateLimited
from billing_core.views import Actor
from devtools.loopback.slack_signing import select_input_value, text_input_value
from handlers.escalations.payloads import MESSAGE_BLOCK, MESSAGE_INPUT, TOPIC_BLOCK, TOPIC_INPUT
from tests.security.full_run import ANN as RUN_ANN
from tests.security.full_run import FullRun, wait_until
from tests.support.escalations import ANN
from tests.support.smtp_sink import SmtpSink


def test_forty_requests_in_a_burst_store_five_and_send_five_emails(
    mail_services: Services, smtp_sink: SmtpSink
) -> None:
    start = threading.Barrier(40)
    outcomes: list[str] = []

    def ask(index: int) -> None:
        start.wait()
        try:
            mail_services.escalations.create(ANN, "acme", "other", f"Request number {index}")
            outcomes.append("stored")
        except EscalationRateLimited:
            outcomes.append("refused")

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    mail_services.escalations.outbox.deliver_due()

    assert sorted(outcomes) == ["refused"] * 35 + ["stored"] * 5
    assert len(mail_services.escalations.list_open(ANN)) == 5
    assert len(smtp_sink.messages) == 5


def test_a_person_may_ask_again_after_an_hour(mail_services: Services, clock: FixedClock) -> None:
    for index in range(5):
        mail_services.escalations.create(ANN, "acme", "other", f"Request {index}")
    with pytest.raises(EscalationRateLimited):
        mail_services.escalations.create(ANN, "acme", "other", "One more")
    with pytest.raises(EscalationRateLimited):
        mail_services.escalations.report_already_paid(ANN, "acme", "INV-1001")
    clock.set(clock.now() + timedelta(hours=1, seconds=1))
    assert mail_services.escalations.create(ANN, "acme", "other", "After an hour").reference


def test_an_account_takes_at_most_twenty_requests_a_day_from_all_its_people(
    mail_services: Services, clock: FixedClock
) -> None:
    people = [Actor("ann@acme.test", f"slack:T111:W{index}", "Ann") for index in range(5)]
    for person in people[:4]:
        for index in range(5):
            mail_services.escalations.create(person, "acme", "other", f"Request {index}")
    with pytest.raises(EscalationRateLimited):
        mail_services.escalations.create(people[4], "acme", "other", "The twenty-first")
    clock.set(clock.now() + timedelta(days=1, seconds=1))
    assert mail_services.escalations.create(people[4], "acme", "other", "Next day").reference


def test_a_person_over_the_limit_is_told_to_wait_in_slack_and_nothing_is_sent(full_run: FullRun) -> None:
    for index in range(5):
        full_run.services.escalations.create(RUN_ANN, "acme", "other", f"Earlier request {index}")
    values = {
        TOPIC_BLOCK: {TOPIC_INPUT: select_input_value("other", "Something else")},
        MESSAGE_BLOCK: {MESSAGE_INPUT: text_input_value("And one more, please")},
    }
    assert full_run.submit_values("support_modal", values, json.dumps({"account": "acme"})).status_code == 200

    def told() -> list[str]:
        return [c.body.decode() for c in full_run.slack.calls("chat.postMessage") if "wait an hour" in c.body.decode()]

    assert wait_until(told, "the rate-limit message")
    assert len(full_run.services.escalations.list_open(RUN_ANN)) == 5
