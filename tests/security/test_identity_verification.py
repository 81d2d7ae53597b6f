"""Proof of e-mail ownership (IDENTITY_VERIFICATION=email_code): codes, limits, the Slack flow, revocation.

Real parts: the database, aiosmtpd for the code e-mails, the Bolt app with our listeners driven by
signed requests, the Slack Web API stand-in, and the ``billing-bot`` process for revocation.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from slack_bolt import BoltResponse
from sqlalchemy import select

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.db.tables import AuditEventRecord, PrincipalRecord, VerificationCodeRecord
from billing_core.errors import (
    VerificationAttemptsExhausted,
    VerificationCodeExpired,
    VerificationCodeWrong,
    VerificationRateLimited,
)
from billing_core.views import Actor
from bot.compose import SlackRuntime, build_runtime
from bot.settings import Settings
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import (
    block_actions_body,
    block_actions_payload,
    button_action,
    slash_command_body,
    text_input_value,
    view_submission_body,
)
from handlers.identity.ids import VERIFY_CODE_BLOCK, VERIFY_CODE_INPUT, VERIFY_ENTER_ACTION, VERIFY_MODAL_CALLBACK
from handlers.kit.identity import IdentityResolver
from handlers.kit.ids import VERIFY_RESEND_ACTION
from tests.support import cli
from tests.support.bolt_requests import signed_request
from tests.support.sample_accounts import account, invoice
from tests.support.sample_accounts import wait_until as wait_for
from tests.support.services import MakeServices
from tests.support.settings import settings_from
from tests.support.smtp_sink import SmtpSink

SECRET = "verification-signing-secret"
ANN = Actor(email="ann@acme.test", principal="slack:T111:W111", display_name="Ann Lee")
SAMPLE: dict[str, Any] = {
    "accounts": [
        account(
            "acme",
            "Acme Corp",
            "usd",
            [("ann@acme.test", "Ann Lee")],
            [
                invoice("INV-1", "2026-11-01", "2026-12-01", 125000),
            ],
        ),
    ]
}


def make_settings(database_url: str, smtp_url: str, **extra: str) -> Settings:
    env = {"IDENTITY_VERIFICATION": "email_code", **extra}
    return settings_from(
        DATABASE_URL=database_url,
        SMTP_URL=smtp_url,
        SMTP_FROM="billing-bot@vendor.test",
        SLACK_SIGNING_SECRET=SECRET,
        **env,
    )


@pytest.fixture
def services(database_url: str, make_services: MakeServices, smtp_sink: SmtpSink) -> Services:
    return make_services(settings=make_settings(database_url, smtp_sink.url), accounts=SAMPLE)


def code_from(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    found = re.search(r"\b(\d{6})\b", str(part.get_content()))
    assert found is not None
    return found.group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# -- the domain service ---------------------------------------------------------------------


def test_a_contact_in_email_code_mode_must_verify_and_a_non_contact_is_not_asked(services: Services) -> None:
    verifier = services.identity_verification
    assert verifier.needs_code(ANN)
    assert not verifier.needs_code(Actor("someone@else.test", "slack:T111:W999", "Sam"))


def test_slack_email_mode_trusts_the_email_slack_shows(
    database_url: str, make_services: MakeServices, smtp_sink: SmtpSink
) -> None:
    settings = make_settings(database_url, smtp_sink.url, IDENTITY_VERIFICATION="slack_email")
    built = make_services(settings=settings, accounts=SAMPLE)
    assert not built.identity_verification.needs_code(ANN)


def test_oauth_installs_default_to_email_code_and_single_workspace_installs_to_slack_email() -> None:
    oauth = Settings(_env_file=None, SLACK_CLIENT_ID="1.2", SLACK_CLIENT_SECRET="s")
    single = Settings(_env_file=None, SLACK_BOT_TOKEN="xoxb-1")
    assert oauth.identity_verification_mode == "email_code"
    assert single.identity_verification_mode == "slack_email"


def test_the_code_is_emailed_to_the_contact_from_smtp_from_and_stored_only_hashed(
    services: Services, smtp_sink: SmtpSink, db: Database
) -> None:
    sent = services.identity_verification.request_code(ANN)
    [mail] = smtp_sink.wait_for(1)
    code = code_from(mail)
    assert sent.masked_email == "a•••@acme.test"
    assert mail["To"] == "ann@acme.test" and mail["From"] == "billing-bot@vendor.test"
    assert code not in str(mail["Subject"])
    with db.read() as session:
        [record] = session.scalars(select(VerificationCodeRecord)).all()
        stored = json.dumps([str(getattr(record, c.key)) for c in VerificationCodeRecord.__table__.columns])
        audit = json.dumps([str(r.detail) + str(r.target) for r in session.scalars(select(AuditEventRecord))])
    assert code not in stored and code not in audit


def test_the_right_code_links_the_slack_user_to_the_email_and_stops_asking(
    services: Services, smtp_sink: SmtpSink, db: Database
) -> None:
    verifier = services.identity_verification
    verifier.request_code(ANN)
    code = code_from(smtp_sink.wait_for(1)[0])
    assert verifier.confirm(ANN.principal, code) == "ann@acme.test"
    assert not verifier.needs_code(ANN)
    with db.read() as session:
        principal = session.scalars(select(PrincipalRecord).where(PrincipalRecord.principal == ANN.principal)).one()
        assert principal.verified_email == "ann@acme.test" and principal.verified_at is not None
    with pytest.raises(VerificationCodeExpired):  # used once, never again
        verifier.confirm(ANN.principal, code)


def test_a_changed_slack_email_must_be_verified_again(services: Services, smtp_sink: SmtpSink) -> None:
    verifier = services.identity_verification
    verifier.request_code(ANN)
    verifier.confirm(ANN.principal, code_from(smtp_sink.wait_for(1)[0]))
    services.importer.run(
        {
            "accounts": [
                {
                    **SAMPLE["accounts"][0],
                    "contacts": [
                        {"email": "ann@acme.test", "name": "Ann Lee"},
                        {"email": "boss@acme.test", "name": "Boss"},
                    ],
                }
            ]
        }
    )
    assert verifier.needs_code(Actor("boss@acme.test", ANN.principal, "Ann Lee"))


def test_a_code_expires_after_fifteen_minutes(services: Services, smtp_sink: SmtpSink, clock: FixedClock) -> None:
    verifier = services.identity_verification
    verifier.request_code(ANN)
    code = code_from(smtp_sink.wait_for(1)[0])
    clock.set(clock.now() + timedelta(minutes=15))
    with pytest.raises(VerificationCodeExpired):
        verifier.confirm(ANN.principal, code)
    assert verifier.needs_code(ANN)


def test_five_wrong_codes_kill_the_code_even_the_right_one_afterwards(services: Services, smtp_sink: SmtpSink) -> None:
    verifier = services.identity_verification
    verifier.request_code(ANN)
    code = code_from(smtp_sink.wait_for(1)[0])
    left = []
    for _ in range(4):
        with pytest.raises(VerificationCodeWrong) as raised:
            verifier.confirm(ANN.principal, wrong(code))
        left.append(raised.value.attempts_left)
    assert left == [4, 3, 2, 1]
    with pytest.raises(VerificationAttemptsExhausted):
        verifier.confirm(ANN.principal, wrong(code))
    with pytest.raises(VerificationAttemptsExhausted):
        verifier.confirm(ANN.principal, code)
    assert verifier.needs_code(ANN)
    actions = [e.action for e in services.audit.entries()]
    assert "identity.code_refused" in actions and "identity.verified" not in actions


def test_asking_again_reuses_the_pending_code_instead_of_sending_another(
    services: Services, smtp_sink: SmtpSink
) -> None:
    verifier = services.identity_verification
    first = verifier.request_code(ANN)
    again = verifier.request_code(ANN)
    assert first.new and not again.new
    assert len(smtp_sink.wait_for(1)) == 1


def test_codes_are_rate_limited_per_slack_user(services: Services, smtp_sink: SmtpSink, clock: FixedClock) -> None:
    verifier = services.identity_verification
    for _ in range(3):
        verifier.request_code(ANN, fresh=True)
    with pytest.raises(VerificationRateLimited):
        verifier.request_code(ANN, fresh=True)
    assert len(smtp_sink.wait_for(3)) == 3
    clock.set(clock.now() + timedelta(minutes=16))
    assert verifier.request_code(ANN, fresh=True).new


def test_codes_are_rate_limited_per_email_across_slack_users_by_a_daily_cap(
    services: Services, smtp_sink: SmtpSink, clock: FixedClock
) -> None:
    verifier = services.identity_verification
    for user in range(10):
        verifier.request_code(Actor("ann@acme.test", f"slack:T111:W{user}", "Ann"))
        clock.set(clock.now() + timedelta(minutes=1))
    with pytest.raises(VerificationRateLimited):
        verifier.request_code(Actor("ANN@acme.test", "slack:T222:W99", "Not Ann"))
    assert len(smtp_sink.wait_for(10)) == 10


def test_only_the_newest_code_works(services: Services, smtp_sink: SmtpSink) -> None:
    verifier = services.identity_verification
    verifier.request_code(ANN)
    old = code_from(smtp_sink.wait_for(1)[0])
    verifier.request_code(ANN, fresh=True)
    new = code_from(smtp_sink.wait_for(2)[1])
    if old != new:
        with pytest.raises(VerificationCodeWrong):
            verifier.confirm(ANN.principal, old)
    assert verifier.confirm(ANN.principal, new) == "ann@acme.test"


# -- in Slack ---------------------------------------------------------------------------------


@pytest.fixture
def runtime(
    database_url: str, db: Database, clock: FixedClock, smtp_sink: SmtpSink, slack_api: SlackAPI
) -> Iterator[SlackRuntime]:
    slack_api.add_user("W111", "ann@acme.test", "Ann Lee")
    settings = make_settings(
        database_url, smtp_sink.url, SLACK_BOT_TOKEN="xoxb-verification", SLACK_API_URL=slack_api.base_url
    )
    built = build_runtime(settings, clock=clock, db=db, identity=IdentityResolver())
    built.services.importer.run(SAMPLE)
    yield built
    built.notifier.shutdown()


def dispatch(runtime: SlackRuntime, body: bytes) -> BoltResponse:
    return runtime.app.dispatch(signed_request(SECRET, body))


def billing(runtime: SlackRuntime, slack: SlackAPI, text: str = "") -> str:
    """What the person is shown: the ack body when it is the reply, else the response_url post."""
    url = slack.response_url
    response = dispatch(runtime, slash_command_body(text, response_url=url))
    assert response.status == 200
    if response.body:
        return json.dumps(json.loads(response.body), ensure_ascii=False)
    [post] = wait_for(lambda: slack.response_url_posts(url), "the ephemeral reply")
    return json.dumps(json.loads(post.body), ensure_ascii=False)


def submit_code(runtime: SlackRuntime, code: str) -> dict[str, Any]:
    body = view_submission_body(
        callback_id=VERIFY_MODAL_CALLBACK, values={VERIFY_CODE_BLOCK: {VERIFY_CODE_INPUT: text_input_value(code)}}
    )
    response = dispatch(runtime, body)
    assert response.status == 200
    reply: dict[str, Any] = json.loads(response.body)
    return reply


def test_an_unverified_contact_gets_a_code_prompt_and_no_billing_data(
    runtime: SlackRuntime, slack_api: SlackAPI, smtp_sink: SmtpSink
) -> None:
    reply = billing(runtime, slack_api, "balance")
    assert "We e-mailed a code to a•••@acme.test" in reply
    assert VERIFY_ENTER_ACTION in reply and "Enter code" in reply
    assert "1,250" not in reply and "Acme" not in reply and "INV-1" not in reply
    assert '"ephemeral"' in reply
    [mail] = smtp_sink.wait_for(1)
    assert mail["To"] == "ann@acme.test"


def test_an_unverified_contact_already_known_to_the_bot_still_gets_only_the_prompt(
    runtime: SlackRuntime, slack_api: SlackAPI, smtp_sink: SmtpSink
) -> None:
    billing(runtime, slack_api, "balance")  # Slack told us who this is: the identity is cached now
    for text in ("balance", "", "invoices", "pay", "history", "accounts"):
        reply = billing(runtime, slack_api, text)
        assert "We e-mailed a code to a•••@acme.test" in reply
        assert "1,250" not in reply and "Acme" not in reply and "INV-1" not in reply


def test_enter_code_opens_the_modal_a_wrong_code_shows_attempts_left_and_the_right_one_verifies(
    runtime: SlackRuntime, slack_api: SlackAPI, smtp_sink: SmtpSink
) -> None:
    billing(runtime, slack_api)
    code = code_from(smtp_sink.wait_for(1)[0])
    dispatch(runtime, block_actions_body(block_actions_payload(button_action(VERIFY_ENTER_ACTION, ""))))
    [opened] = slack_api.wait_for("views.open")
    assert opened.json_args["view"]["callback_id"] == VERIFY_MODAL_CALLBACK

    refused = submit_code(runtime, wrong(code))
    assert refused == {
        "response_action": "errors",
        "errors": {VERIFY_CODE_BLOCK: "That code isn't right. 4 attempts left."},
    }
    assert submit_code(runtime, "12ab")["errors"][VERIFY_CODE_BLOCK] == "Enter the 6-digit code from the e-mail."

    done = submit_code(runtime, code)
    assert done["response_action"] == "update"
    assert "You're verified — run /billing again" in json.dumps(done, ensure_ascii=False)
    again = billing(runtime, slack_api, "balance")
    assert "$1,250.00" in again and "We e-mailed" not in again


def test_send_a_new_code_sends_another_until_the_rate_limit(
    runtime: SlackRuntime, slack_api: SlackAPI, smtp_sink: SmtpSink
) -> None:
    billing(runtime, slack_api)

    def resend() -> str:
        url = slack_api.response_url
        payload = block_actions_payload(button_action(VERIFY_RESEND_ACTION, ""), response_url=url)
        dispatch(runtime, block_actions_body(payload))
        [post] = wait_for(lambda: slack_api.response_url_posts(url), "the answer")
        return str(post.body.decode())

    for count in (2, 3):
        assert "We e-mailed a code to a•••@acme.test" in json.loads(resend())["text"]
        assert len(smtp_sink.wait_for(count)) == count
    refusal = resend()
    assert "Too many codes" in refusal
    assert len(smtp_sink.messages) == 3


# -- revocation -------------------------------------------------------------------------------


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """The command in this process (``tests.support.cli``)."""
    return cli.run_cli(*args, env=cli.cli_env(("SLACK_", "STRIPE_", "SMTP_"), DATABASE_URL=database_url))


def test_identities_revoke_prints_what_it_revoked_and_the_user_must_verify_again(
    services: Services, smtp_sink: SmtpSink, database_url: str
) -> None:
    verifier = services.identity_verification
    verifier.request_code(ANN)
    verifier.confirm(ANN.principal, code_from(smtp_sink.wait_for(1)[0]))

    result = run_cli("identities", "revoke", "W111", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "revoked slack:T111:W111 -> ann@acme.test" in result.stdout
    assert verifier.needs_code(ANN)

    again = run_cli("identities", "revoke", "ANN@acme.test", database_url=database_url)
    assert again.returncode == 0 and "nothing to revoke" in again.stdout


def test_revoking_by_email_unlinks_every_slack_user_of_that_address_and_records_it(
    services: Services, smtp_sink: SmtpSink
) -> None:
    verifier = services.identity_verification
    for index, user in enumerate(("slack:T1:U1", "slack:T2:U2")):
        actor = Actor("ann@acme.test", user, "Ann")
        verifier.request_code(actor)
        verifier.confirm(user, code_from(smtp_sink.wait_for(index + 1)[index]))
    revoked = verifier.revoke("Ann@Acme.test")
    assert sorted(link.principal for link in revoked) == ["slack:T1:U1", "slack:T2:U2"]
    assert [e.action for e in services.audit.entries()].count("identity.revoked") == 2


def test_a_proven_contact_gets_the_balance_in_the_ack_and_a_revoked_link_stops_it_at_once(
    runtime: SlackRuntime, slack_api: SlackAPI, smtp_sink: SmtpSink
) -> None:
    verifier = runtime.services.identity_verification
    assert "We e-mailed a code" in billing(runtime, slack_api, "balance")
    verifier.confirm(ANN.principal, code_from(smtp_sink.wait_for(1)[0]))
    url = slack_api.response_url
    answered = dispatch(runtime, slash_command_body("balance", response_url=url))
    assert answered.body and "1,250" in answered.body  # in the ack itself, the proof read along
    verifier.revoke("W111")
    again = billing(runtime, slack_api, "balance")
    assert "We e-mailed a code to a•••@acme.test" in again and "1,250" not in again
