"""At ``LOG_LEVEL=DEBUG`` the logs hold no PaymentIntent client secret, 3-D Secure link token,
escalation body, OAuth ``code`` or Slack refresh token (issue 19, item 17).

Real parts: the whole bot from ``tests/security/full_run.py`` (localstripe, SMTP, Slack stand-in,
signed requests) with the CLI's logging at DEBUG; the OAuth flow through the e2e bot.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bot.logging_setup import configure_logging, redact, secret_values
from tests.security.full_run import ANN, FullRun
from tests.security.test_oauth_install_policy import install, oauth_bot

NEEDS_AUTHENTICATION = "4000002500003155"
ESCALATION_BODY = "Quarterly reconciliation question about purchase order Zanzibar-77"


def test_a_debug_run_logs_no_client_secret_link_token_or_escalation_body(
    full_run: FullRun, captured_logs: io.StringIO
) -> None:
    configure_logging(level="DEBUG", secrets=secret_values(full_run.settings), stream=captured_logs)
    card = full_run.stripe.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": NEEDS_AUTHENTICATION, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    customer = full_run.stripe.v1.payment_methods.retrieve(full_run.acme_card).customer
    full_run.stripe.v1.payment_methods.attach(card.id, params={"customer": str(customer)})
    full_run.services.require_payments().methods.list(ANN, "acme", refresh=True)
    started = full_run.services.require_payments().service.start_invoice_payment(ANN, "acme", "INV-1", card.id)
    waiting = full_run.services.require_payments().service.execute(started.id)
    assert waiting.status == "requires_action" and waiting.action_url is not None
    path = waiting.action_url.removeprefix("http://bot.test")
    assert full_run.http.get(path).status_code == 200
    secret = full_run.stripe.v1.payment_intents.retrieve(waiting.stripe_payment_intent_id or "").client_secret
    full_run.escalate(ESCALATION_BODY)

    logs = captured_logs.getvalue()
    assert logs.count("\n") > 20  # DEBUG did log: Bolt, slack_sdk, Stripe, SMTP, our services
    token = path.rsplit("/", 1)[-1]
    assert secret and secret not in logs
    assert token not in logs and token.split(".", 1)[-1] not in logs
    assert "Zanzibar-77" not in logs


def test_the_oauth_code_is_not_logged_at_debug(tmp_path: Path, captured_logs: io.StringIO) -> None:
    bot, slack = oauth_bot(tmp_path, SLACK_EMAIL_TRUSTED_TEAMS="T111", IDENTITY_VERIFICATION="slack_email")
    try:
        configure_logging(level="DEBUG", secrets=secret_values(bot.settings), stream=captured_logs)
        assert install(bot, "T111") == 200
    finally:
        bot.stop()
        slack.stop()
    logs = captured_logs.getvalue()
    assert "oauth" in logs.lower()
    assert "code-T111" not in logs


@pytest.mark.parametrize(
    "token",
    [
        "xoxe-1-My0xLTEyMzQ1Njc4OTAtcmVmcmVzaA",
        "xoxe.xoxb-1-MS0yLTEyMzQ1Njc4OTAtYm90",
        "xoxe.xoxp-1-MS0yLTEyMzQ1Njc4OTAtdXNlcg",
        "pi_3Abc123_secret_Zyx987",
        "seti_1Abc123_secret_Zyx987",
    ],
)
def test_refresh_tokens_and_client_secrets_are_redacted_wherever_they_appear(token: str) -> None:
    for text in (f"refreshed {token} ok", f"{{'refresh_token': '{token}'}}", f'"client_secret": "{token}"'):
        assert token not in redact(text)
        assert re.search(r"_secret_Zyx|xoxe", redact(text)) is None
