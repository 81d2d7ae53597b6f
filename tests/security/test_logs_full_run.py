"""The logs of a full run (signed pay flow over HTTP on localstripe, an escalation e-mailed over SMTP
with AUTH, a Stripe webhook, card numbers typed into Slack) hold no secret and no card number,
and every line is structured JSON carrying the request's correlation id."""

from __future__ import annotations

import io
import json
import logging

from bot.logging_setup import configure_logging, correlation_id, secret_values
from tests.security.full_run import (
    CARD_TYPED,
    SECRETS,
    SMTP_PASSWORD,
    VISA,
    FullRun,
)


def run_everything(run: FullRun) -> None:
    run.pay_invoice("INV-1")
    run.escalate("Please call me about the November invoice.")
    run.command(f"pay {CARD_TYPED}")
    run.command(f"support my card {VISA} was charged twice")
    unknown = {
        "id": "evt_sec_1",
        "object": "event",
        "type": "payment_intent.succeeded",
        "api_version": "2017-08-15",
        "created": 1764064800,
        "data": {"object": {"id": "pi_unknown", "object": "payment_intent"}},
    }
    assert run.stripe_webhook(unknown).status_code < 300
    logging.getLogger("billing_bot.test").info("token in a message by mistake: %s", run.settings.slack_bot_token)


def test_a_full_run_logs_no_secret_and_no_card_number(full_run: FullRun, captured_logs: io.StringIO) -> None:
    configure_logging(level="DEBUG", fmt="json", secrets=secret_values(full_run.settings), stream=captured_logs)
    run_everything(full_run)
    # A library that logs a raw secret or card number by mistake is redacted too.
    logging.getLogger("billing_bot.test").warning("oops %s %s %s", SMTP_PASSWORD, VISA, full_run.settings.smtp_url)

    logs = captured_logs.getvalue()
    assert logs.count("\n") > 20  # the run did log (Bolt, Stripe, SMTP, our services)
    for secret in SECRETS:
        assert secret not in logs
    assert VISA not in logs and CARD_TYPED not in logs and "4242-4242" not in logs


def test_log_lines_are_json_with_the_correlation_id_also_returned_as_x_request_id(
    full_run: FullRun, captured_logs: io.StringIO
) -> None:
    configure_logging(level="DEBUG", fmt="json", secrets=secret_values(full_run.settings), stream=captured_logs)
    first, _ = full_run.command("balance")
    second, _ = full_run.command("balance")
    request_ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(request_ids) == 2
    records = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    assert records and all({"time", "level", "logger", "correlation_id", "message"} <= set(r) for r in records)
    assert request_ids & {r["correlation_id"] for r in records}
    assert correlation_id.get() not in request_ids  # the test's own context was not touched


def test_every_configured_secret_is_handed_to_the_redaction(full_run: FullRun) -> None:
    values = secret_values(full_run.settings)
    for secret in SECRETS:
        assert secret in values
