"""The escalation e-mail's ``Reply-To`` names the requester only, whatever their Slack name holds (issue 19, item 4).

Real parts: the escalation service and outbox on the database, delivering through an aiosmtpd sink;
the received bytes are parsed the way mail clients do (modern and compat32 parsers).
"""

from __future__ import annotations

import email
from email import policy
from email.utils import getaddresses

import pytest

from billing_core.container import Services
from billing_core.views import Actor
from tests.support.smtp_sink import SmtpSink

HOSTILE_NAMES = [
    "A" * 60 + " , mallory@evil.test, " + "B" * 40,
    "Ann Lee, mallory@evil.test, Bob",
    'Ann "the boss" Lee <mallory@evil.test>, x',
    "Ann <mallory@evil.test>",
    "Zoë Ümlaut, mallory@evil.test, Ñandú " * 3,
    "Ann\r\nBcc: mallory@evil.test",
    "Ann;mallory@evil.test;(comment)\\",
    "=?utf-8?q?mallory=40evil=2Etest=2C?= Ann",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_supports_reply_goes_to_the_requester_alone_whatever_their_slack_name_holds(
    name: str,
    mail_services: Services,
    smtp_sink: SmtpSink,
) -> None:
    requester = Actor(email="ann@acme.test", principal="slack:T111:W111", display_name=name)
    mail_services.escalations.create(requester, "acme", "other", "Please call me.")
    assert mail_services.escalations.outbox.deliver_due().sent == 1

    raw = smtp_sink.received[-1].raw
    modern = email.message_from_bytes(raw, policy=policy.default)
    legacy = email.message_from_bytes(raw)
    assert [a.addr_spec for a in modern["Reply-To"].addresses] == ["ann@acme.test"]
    assert [addr for _, addr in getaddresses(legacy.get_all("Reply-To", []))] == ["ann@acme.test"]
    for header in ("To", "Cc", "Bcc", "From"):
        assert "evil.test" not in str(modern.get(header, ""))
    assert smtp_sink.received[-1].rcpt_tos == ["support@vendor.test"]


def test_an_ordinary_name_with_accents_is_kept_as_the_reply_to_display_name(
    mail_services: Services,
    smtp_sink: SmtpSink,
) -> None:
    requester = Actor(email="ann@acme.test", principal="slack:T111:W111", display_name="Zoë O'Brien-Ñandú")
    mail_services.escalations.create(requester, "acme", "other", "Hello")
    mail_services.escalations.outbox.deliver_due()

    reply_to = email.message_from_bytes(smtp_sink.received[-1].raw, policy=policy.default)["Reply-To"]
    assert [(a.display_name, a.addr_spec) for a in reply_to.addresses] == [("Zoë O'Brien-Ñandú", "ann@acme.test")]
