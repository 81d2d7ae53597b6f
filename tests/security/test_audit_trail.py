"""Every payment, change of card, account switch, escalation and refused forgery lands in the audit
trail, driven through signed HTTP requests, and ``billing-bot audit`` prints it."""

from __future__ import annotations

from billing_core.audit import AuditEntry
from handlers.kit.ids import PAY_OPEN_ACTION
from handlers.payments.ids import METHOD_MAKE_DEFAULT_ACTION, METHOD_REMOVE_ACTION
from tests.security.full_run import (
    ANN,
    VISA,
    FullRun,
    wait_until,
)
from tests.support import cli


def entries(run: FullRun, action: str, outcome: str | None = None) -> list[AuditEntry]:
    return [e for e in run.services.audit.entries() if e.action == action and outcome in (None, e.outcome)]


def awaited(run: FullRun, action: str, outcome: str | None = None) -> list[AuditEntry]:
    found: list[AuditEntry] = wait_until(lambda: entries(run, action, outcome), f"audit {action}/{outcome}")
    return found


def second_card(run: FullRun) -> str:
    customer = run.stripe.v1.customers.list(params={"email": "ann@acme.test"}).data[0].id
    card = run.stripe.v1.payment_methods.create(
        params={"type": "card", "card": {"number": VISA, "exp_month": 1, "exp_year": 2032, "cvc": "123"}}
    )
    run.stripe.v1.payment_methods.attach(card.id, params={"customer": customer})
    run.services.require_payments().methods.list(ANN, "acme", refresh=True)
    return str(card.id)


def test_a_payment_is_recorded_with_who_paid_which_account(full_run: FullRun) -> None:
    full_run.pay_invoice("INV-1")
    [settled] = awaited(full_run, "payment.succeeded")
    [started] = entries(full_run, "payment.started")
    assert settled.account_external_id == started.account_external_id == "acme"
    assert settled.target == started.target and settled.detail["amount_minor"] == 125000
    assert started.actor == "ann@acme.test" and started.principal == ANN.principal


def test_making_a_card_the_default_and_removing_one_are_recorded(full_run: FullRun) -> None:
    card = second_card(full_run)
    full_run.press(METHOD_MAKE_DEFAULT_ACTION, {"account": "acme", "method": card})
    [made] = wait_until(lambda: [e for e in entries(full_run, "card.make_default") if e.target == card], "default")
    assert made.actor == "ann@acme.test" and made.account_external_id == "acme" and made.outcome == "ok"
    full_run.press(METHOD_MAKE_DEFAULT_ACTION, {"account": "acme", "method": full_run.acme_card})
    wait_until(lambda: len(entries(full_run, "card.make_default")) >= 3, "the switch back")
    full_run.press(METHOD_REMOVE_ACTION, {"account": "acme", "method": card})
    removed = wait_until(
        lambda: [
            e
            for e in full_run.services.audit.entries()
            if e.action.startswith("card.") and "remov" in e.action and e.target == card and e.outcome == "ok"
        ],
        "the removal",
    )
    assert removed[0].account_external_id == "acme"


def test_switching_accounts_is_recorded(full_run: FullRun) -> None:
    _, url = full_run.command("switch globex")
    assert "Switched to Globex" in full_run.reply_text(url)
    [switched] = awaited(full_run, "account.switch")
    assert switched.account_external_id == "globex" and switched.actor == "ann@acme.test"


def test_an_escalation_is_recorded(full_run: FullRun) -> None:
    full_run.escalate("Can we split the October invoice?")
    [created] = awaited(full_run, "escalation.create")
    assert created.account_external_id == "acme" and created.actor == "ann@acme.test"
    assert created.target is not None and created.target.startswith("ESC-")


def test_forged_ids_of_another_customer_are_refused_and_recorded(full_run: FullRun) -> None:
    full_run.press(PAY_OPEN_ACTION, {"account": "initech", "invoice": "I-1"})
    full_run.press(METHOD_REMOVE_ACTION, {"account": "acme", "method": full_run.initech_card})
    forged = awaited(full_run, "forgery.refused", "refused")
    assert forged[0].actor == "ann@acme.test"
    card_refusals = wait_until(
        lambda: [
            e for e in full_run.services.audit.entries() if e.outcome == "refused" and e.target == full_run.initech_card
        ],
        "the refused card",
    )
    assert card_refusals
    assert full_run.stripe.v1.payment_methods.retrieve(full_run.initech_card).customer is not None
    assert full_run.services.accounts.balance(ANN, "acme").amount_minor == 175050


def test_billing_bot_audit_prints_the_trail_filtered_by_account_and_date(full_run: FullRun, database_url: str) -> None:
    full_run.command("switch globex")
    full_run.escalate("Question about INV-2")
    awaited(full_run, "account.switch")
    env = cli.cli_env(("SLACK_", "STRIPE_", "SMTP_"), DATABASE_URL=database_url)

    def audit(*args: str) -> list[str]:
        result = cli.run_cli("audit", *args, env=env)  # the command, in this process
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    acme = audit("--account", "acme")
    assert any("escalation.create" in line for line in acme)
    assert not any("account.switch" in line for line in acme)
    assert any("account.switch" in line and "globex" in line for line in audit("--since", "2026-11-25"))
    assert audit("--since", "2026-11-26") == []
