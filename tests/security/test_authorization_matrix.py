"""Threat 2: forged payload values. Every action id and view callback the app registers, fed another
account's invoice, card, account id and escalation reference by a real contact (Ann, of Acme and
Globex; the victim is Peter of Initech). Each forged request is refused, changes nothing in the
database or at Stripe, and (where the listener reads the forged value) is audited as
``forgery.refused``.

The table is checked against the listeners really registered on a Bolt app, so a new action id
without a row here fails :func:`test_every_registered_action_and_view_has_a_row_in_the_matrix`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from slack_bolt import App
from sqlalchemy import select

from billing_core.db.base import Base
from billing_core.db.database import Database
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import (
    block_actions_payload,
    button_action,
    interaction_body,
    select_input_value,
    static_select_action,
    text_input_value,
    view_submission_payload,
)
from handlers.escalations.payloads import FileOffer, OfferedFile
from handlers.registry import register_listeners
from tests.security.conftest import STAFF_CHANNEL
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, PETER_ACTOR, wait_for_listeners, wait_until

ANN_DM = "D111"
AUDIT_TABLE = "billing_audit_event"
# A refused card change re-reads the cards from Stripe; the cache rows are rewritten with new
# surrogate keys but the same content, so that table is compared without its key.
REFRESHED_CACHES = {"billing_payment_method"}
# When a person was last seen: written in the background by bot/slack/seen_people.py's batches, so the
# first flush may land during any row; bookkeeping of any request, not a change a forgery made.
SEEN_STAMPS = {("billing_principal", "last_seen_at"), ("billing_principal", "updated_at")}
CATCH_ALL = ".*"


@pytest.fixture(scope="module")
def bot_overrides(slack: SlackAPI) -> dict[str, str]:
    """The support channel of tests/security/conftest.py, with its members named: Ann is none of them,
    so the staff view's buttons (issue 31) are forgeries from her (the stand-in counts everyone a
    member of a channel it was not told about)."""
    slack.add_channel(STAFF_CHANNEL, private=True, members=["W555"])
    return {"SUPPORT_SLACK_CHANNEL": STAFF_CHANNEL}


# -- what the app registers ------------------------------------------------------------------


class _RecordingApp(App):
    """A Bolt app that remembers the action ids and view callbacks it is given."""

    def __init__(self) -> None:
        super().__init__(token="xoxb-matrix", signing_secret="matrix", token_verification_enabled=False)
        self.action_ids: set[str] = set()
        self.view_ids: set[str] = set()

    def action(self, constraints: Any, *args: Any, **kwargs: Any) -> Any:
        self.action_ids.add(_constraint(constraints, "action_id"))
        return super().action(constraints, *args, **kwargs)

    def view(self, constraints: Any, *args: Any, **kwargs: Any) -> Any:
        self.view_ids.add(_constraint(constraints, "callback_id"))
        return super().view(constraints, *args, **kwargs)


def _constraint(value: Any, key: str) -> str:
    if isinstance(value, re.Pattern):
        pattern: str = value.pattern
        return pattern
    if isinstance(value, dict):
        return _constraint(value.get(key), key)
    return str(value)


def registered() -> tuple[set[str], set[str]]:
    app = _RecordingApp()
    register_listeners(app)
    return app.action_ids, app.view_ids


# -- the forgeries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Forgery:
    """One forged request: which listener it hits, how to build it, and what must be audited."""

    listener: str  # the registered action id / callback id (or pattern) it exercises
    kind: str  # "action" | "view"
    name: str
    build: Callable[[World, str], bytes]  # (world, Peter's escalation reference) -> signed body
    audited: Callable[[World, str], str] | None  # the forged value the audit must name; None: value unread
    answers: bool = True  # False for URL buttons, which are only acked

    @property
    def id(self) -> str:
        return f"{self.listener}:{self.name}"


_RESPONSE_URL = {"url": ""}  # the Slack stand-in's response_url, set by the test before building


def press(
    action_id: str, value: dict[str, Any] | str, *, channel: str = "C111", message: dict[str, Any] | None = None
) -> bytes:
    raw = value if isinstance(value, str) else json.dumps(value)
    return interaction_body(
        block_actions_payload(
            button_action(action_id, raw),
            user_id=ANN,
            channel_id=channel,
            message=message,
            response_url=_RESPONSE_URL["url"],
        )
    )


def choose(action_id: str, option: str) -> bytes:
    return interaction_body(
        block_actions_payload(static_select_action(action_id, option), user_id=ANN, response_url=_RESPONSE_URL["url"])
    )


def submit(callback_id: str, metadata: dict[str, Any] | str, values: dict[str, Any] | None = None) -> bytes:
    return interaction_body(
        view_submission_payload(callback_id, values or {}, metadata, user_id=ANN, view_id="V_FORGED")
    )


def pay_values(method: str) -> dict[str, Any]:
    return {"pay_method": {"pay_method_select": select_input_value(method)}}


def support_values(invoice: str | None = None) -> dict[str, Any]:
    return {
        "support_topic": {"support_topic_select": select_input_value("other")},
        "support_invoice": {"support_invoice_select": select_input_value(invoice or "-")},
        "support_message": {"support_message_input": text_input_value("Please look at this.")},
    }


REMINDER_DM = {"ts": "1700000000.000100", "text": "Reminder", "blocks": []}
INITECH = {"account": "initech"}
INITECH_INVOICE = {"account": "initech", "invoice": "I-1"}
ACME_WITH_INITECH_INVOICE = {"account": "acme", "invoice": "I-1"}


def _const(value: str) -> Callable[[World, str], str]:
    return lambda w, ref: value


def _pressed(action_id: str, value: dict[str, Any] | str) -> Callable[[World, str], bytes]:
    """A builder pressing ``action_id`` with ``value`` (one per action id, bound now, not at the call)."""
    return lambda w, ref: press(action_id, value)


FORGERIES: list[Forgery] = [
    # the pay flow
    Forgery(
        "pay_open",
        "action",
        "other account and invoice",
        lambda w, r: press("pay_open", INITECH_INVOICE),
        _const("initech"),
    ),
    Forgery(
        "pay_open",
        "action",
        "other invoice under my account",
        lambda w, r: press("pay_open", ACME_WITH_INITECH_INVOICE),
        _const("I-1"),
    ),
    Forgery(
        "pay_open",
        "action",
        "other account balance",
        lambda w, r: press("pay_open", {"account": "initech", "balance": True}),
        _const("initech"),
    ),
    Forgery(
        "pay_modal",
        "view",
        "other account in metadata",
        lambda w, r: submit("pay_modal", INITECH_INVOICE, pay_values(w.acme_card)),
        _const("initech"),
    ),
    Forgery(
        "pay_modal",
        "view",
        "other invoice under my account",
        lambda w, r: submit("pay_modal", ACME_WITH_INITECH_INVOICE, pay_values(w.acme_card)),
        _const("I-1"),
    ),
    Forgery(
        "pay_modal",
        "view",
        "other account's card in state values",
        lambda w, r: submit("pay_modal", {"account": "acme", "invoice": "INV-1"}, pay_values(w.initech_card)),
        lambda w, r: w.initech_card,
    ),
    Forgery(
        "pay_modal",
        "view",
        "other account balance",
        lambda w, r: submit(
            "pay_modal", {"account": "initech", "balance": True, "expected": 7000}, pay_values(w.initech_card)
        ),
        _const("initech"),
    ),
    # payment methods
    Forgery(
        "method_make_default",
        "action",
        "other account's card under my account",
        lambda w, r: press("method_make_default", {"account": "acme", "method": w.initech_card}),
        lambda w, r: w.initech_card,
    ),
    Forgery(
        "method_make_default",
        "action",
        "other account",
        lambda w, r: press("method_make_default", {"account": "initech", "method": w.initech_card}),
        _const("initech"),
    ),
    Forgery(
        "method_remove",
        "action",
        "other account's card under my account",
        lambda w, r: press("method_remove", {"account": "acme", "method": w.initech_card}),
        lambda w, r: w.initech_card,
    ),
    Forgery(
        "method_remove",
        "action",
        "other account",
        lambda w, r: press("method_remove", {"account": "initech", "method": w.initech_card}),
        _const("initech"),
    ),
    Forgery("add_card", "action", "other account", lambda w, r: press("add_card", INITECH), _const("initech")),
    # autopay
    Forgery(
        "autopay_confirm",
        "action",
        "other account",
        lambda w, r: press("autopay_confirm", {"account": "initech", "on": True}),
        _const("initech"),
    ),
    Forgery(
        "autopay_set",
        "action",
        "other account with its card",
        lambda w, r: press("autopay_set", {"account": "initech", "on": True, "card": w.initech_card}),
        _const("initech"),
    ),
    Forgery(
        "autopay_set",
        "action",
        "other account, turning off",
        lambda w, r: press("autopay_set", {"account": "initech", "on": False}),
        _const("initech"),
    ),
    # screens and the account switch
    *[
        Forgery(
            action_id,
            "action",
            "other account",
            _pressed(action_id, INITECH),
            _const("initech"),
        )
        for action_id in (
            "show_overview",
            "show_invoices",
            "show_methods",
            "show_history",
            "show_accounts",
            "show_history_previous",
            "show_methods_page",
        )
    ],
    Forgery(
        "switch_account", "action", "other account", lambda w, r: choose("switch_account", "initech"), _const("initech")
    ),
    # billing support
    Forgery(
        "support_open",
        "action",
        "other account and invoice",
        lambda w, r: press("support_open", INITECH_INVOICE),
        _const("initech"),
    ),
    Forgery(
        "support_open",
        "action",
        "other invoice under my account",
        lambda w, r: press("support_open", ACME_WITH_INITECH_INVOICE),
        _const("I-1"),
    ),
    Forgery(
        "support_modal",
        "view",
        "other account in metadata",
        lambda w, r: submit("support_modal", INITECH, support_values()),
        _const("initech"),
    ),
    Forgery(
        "support_modal",
        "view",
        "other invoice under my account",
        lambda w, r: submit("support_modal", {"account": "acme"}, support_values("I-1")),
        _const("I-1"),
    ),
    Forgery(
        "support_resolve",
        "action",
        "other person's escalation outside the staff channel",
        lambda w, r: press("support_resolve", r, channel=ANN_DM),
        lambda w, r: r,
    ),
    # a file sent to the app, offered to billing support (issue 28)
    Forgery(
        "support_file_send",
        "action",
        "other account",
        lambda w, r: press(
            "support_file_send", FileOffer(account="initech", files=(OfferedFile(name="remittance.pdf"),)).encode()
        ),
        _const("initech"),
    ),
    Forgery(
        "support_file_cancel",
        "action",
        "forged values ignored",
        lambda w, r: press("support_file_cancel", INITECH_INVOICE, channel=ANN_DM),
        None,
    ),
    # support threads' state buttons (issue 31)
    Forgery(
        "support_state",
        "action",
        "other person's escalation outside the staff channel",
        lambda w, r: press("support_state", {"reference": r, "state": "resolved"}, channel=ANN_DM),
        lambda w, r: r,
    ),
    Forgery(
        "support_requester_state",
        "action",
        "other person's escalation from my own DM",
        lambda w, r: press("support_requester_state", {"reference": r, "state": "resolved"}, channel=ANN_DM),
        lambda w, r: r,
    ),
    # reminder DM buttons
    Forgery(
        "reminder_snooze",
        "action",
        "other account's invoice",
        lambda w, r: press("reminder_snooze", {"invoices": [["initech", "I-1"]]}, message=REMINDER_DM),
        _const("I-1"),
    ),
    Forgery(
        "reminder_snooze",
        "action",
        "other account's invoice as the DM's reference",
        lambda w, r: press("reminder_snooze", INITECH_INVOICE, message=REMINDER_DM),
        _const("I-1"),
    ),
    Forgery(
        "reminder_snooze",
        "action",
        "mine mixed with another account's",
        lambda w, r: press(
            "reminder_snooze", {"invoices": [["acme", "INV-1"], ["initech", "I-1"]]}, message=REMINDER_DM
        ),
        _const("I-1"),
    ),
    Forgery(
        "reminder_already_paid",
        "action",
        "other account's invoice",
        lambda w, r: press("reminder_already_paid", INITECH_INVOICE, message=REMINDER_DM),
        _const("I-1"),
    ),
    Forgery(
        "reminder_already_paid",
        "action",
        "other invoice under my account",
        lambda w, r: press("reminder_already_paid", ACME_WITH_INITECH_INVOICE, message=REMINDER_DM),
        _const("I-1"),
    ),
    # promise to pay (issue 31): the button and the modal's metadata name an account
    Forgery(
        "reminder_promise_open",
        "action",
        "other account",
        lambda w, r: press("reminder_promise_open", INITECH, message=REMINDER_DM),
        _const("initech"),
    ),
    Forgery(
        "reminder_promise_modal",
        "view",
        "other account in metadata",
        lambda w, r: submit(
            "reminder_promise_modal",
            INITECH,
            {"promise_date": {"promise_date_picker": {"type": "datepicker", "selected_date": "2026-12-04"}}},
        ),
        _const("initech"),
    ),
    # consent (issue 28): the Home's switch names an account; the DM's buttons carry no value at all,
    # the DM clicked (Slack's signed container) must hold a reminder the bot sent
    Forgery(
        "reminders_off", "action", "other account", lambda w, r: press("reminders_off", INITECH), _const("initech")
    ),
    Forgery("reminders_on", "action", "other account", lambda w, r: press("reminders_on", INITECH), _const("initech")),
    Forgery(
        "reminder_stop",
        "action",
        "forged values, in a DM holding no reminder",
        lambda w, r: press("reminder_stop", INITECH_INVOICE, channel=ANN_DM, message=REMINDER_DM),
        None,
    ),
    Forgery(
        "reminder_not_me",
        "action",
        "forged values, in a channel",
        lambda w, r: press("reminder_not_me", INITECH_INVOICE, message=REMINDER_DM),
        None,
    ),
    # the staff receivables view (issue 31): Ann is no member of the support channel
    *(
        Forgery(action, "action", "not billing staff", _pressed(action, INITECH), _const("initech"))
        for action in ("staff_pause_open", "staff_resume", "staff_remind_now", "staff_close_open", "staff_requests")
    ),
    *(
        Forgery(action, "action", "not billing staff", _pressed(action, {"page": 0}), _const("NotBillingStaff"))
        for action in ("staff_page", "staff_page_previous", "staff_page_next")
    ),
    Forgery(
        "staff_pause_modal",
        "view",
        "not billing staff",
        lambda w, r: submit(
            "staff_pause_modal",
            INITECH,
            {"staff_pause_date": {"staff_pause_date_picker": {"type": "datepicker", "selected_date": "2026-12-04"}}},
        ),
        _const("initech"),
    ),
    Forgery(
        "staff_close_modal",
        "view",
        "not billing staff",
        lambda w, r: submit(
            "staff_close_modal",
            INITECH,
            {
                "staff_close_invoice": {"staff_close_invoice_select": select_input_value("I-1")},
                "staff_close_how": {"staff_close_how_select": select_input_value("void")},
            },
        ),
        _const("initech"),
    ),
    # listeners that never read a value from the payload: forged values are simply ignored
    Forgery(
        "verify_enter_code",
        "action",
        "forged values ignored",
        lambda w, r: press("verify_enter_code", INITECH_INVOICE),
        None,
    ),
    Forgery(
        "verify_resend_code",
        "action",
        "forged values ignored",
        lambda w, r: press("verify_resend_code", INITECH_INVOICE),
        None,
    ),
    Forgery(
        "verify_code_modal",
        "view",
        "forged values ignored",
        lambda w, r: submit(
            "verify_code_modal", INITECH_INVOICE, {"verify_code": {"verify_code_input": text_input_value("123456")}}
        ),
        None,
    ),
    Forgery(
        "^link_",
        "action",
        "url button with forged values",
        lambda w, r: press("link_pay_page", INITECH_INVOICE),
        None,
        answers=False,
    ),
    Forgery(
        CATCH_ALL,
        "action",
        "unknown action with forged values",
        lambda w, r: press("zz_retired_action", INITECH_INVOICE),
        None,
    ),
    Forgery(
        CATCH_ALL,
        "view",
        "unknown view with forged values",
        lambda w, r: submit("zz_retired_modal", INITECH_INVOICE),
        None,
    ),
]


# -- the checks --------------------------------------------------------------------------------


def test_every_registered_action_and_view_has_a_row_in_the_matrix() -> None:
    actions, views = registered()
    covered_actions = {f.listener for f in FORGERIES if f.kind == "action"}
    covered_views = {f.listener for f in FORGERIES if f.kind == "view"}
    assert actions - covered_actions == set(), "action ids with no forgery row"
    assert views - covered_views == set(), "view callbacks with no forgery row"
    assert CATCH_ALL in actions and CATCH_ALL in views  # stale or unknown ids end in the catch-alls


def database_snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the audit trail (which must grow)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.read() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == AUDIT_TABLE:
                continue
            columns = [
                c
                for c in table.columns
                if not (table.name in REFRESHED_CACHES and c.primary_key) and (table.name, c.name) not in SEEN_STAMPS
            ]
            rows = session.execute(select(*columns)).mappings().all()
            if table.name == PRINCIPAL_TABLE:
                # The seen-people batcher inserts a bare "where this person uses the bot" row in the
                # background, whenever its flush lands: only rows holding an identity link or an
                # account choice are compared.
                rows = [r for r in rows if r["verified_email"] is not None or r["active_account_id"] is not None]
            out[table.name] = sorted((tuple(row.values()) for row in rows), key=repr)
    return out


PRINCIPAL_TABLE = "billing_principal"


def stripe_snapshot(world: World) -> dict[str, Any]:
    return {
        "intents": sorted((pi["id"], pi["status"], pi["amount"]) for pi in world.stripe.intents()),
        "acme_cards": world.stripe.card_ids(world.acme_customer),
        "initech_cards": world.stripe.card_ids(world.initech_customer),
        "acme_default": world.stripe.default_card(world.acme_customer),
        "initech_default": world.stripe.default_card(world.initech_customer),
    }


USER_FACING = (
    "views.open",
    "views.update",
    "views.push",
    "views.publish",
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "response_url",
)


def said_to_ann(slack: SlackAPI) -> str:
    return "\n".join(
        json.dumps(c.json_args) + c.body.decode("utf-8", "replace") for c in slack.calls() if c.method in USER_FACING
    )


def forgeries_refused(world: World) -> list[Any]:
    return [e for e in world.bot.services.audit.entries() if e.action == "forgery.refused"]


@pytest.mark.parametrize("forgery", FORGERIES, ids=lambda f: f.id)
def test_a_forged_request_is_refused_changes_nothing_and_is_audited(shared_world: World, forgery: Forgery) -> None:
    world = shared_world  # forgeries change nothing, so one set-up serves every row
    # One of Peter's requests serves every row (a new one per row would hit the support rate limit).
    escalation = next(iter(world.bot.services.escalations.list_open(PETER_ACTOR)), None) or (
        world.bot.services.escalations.create(PETER_ACTOR, "initech", "other", "Peter's question")
    )
    world.slack.clear()
    _RESPONSE_URL["url"] = world.slack.response_url
    before_db, before_stripe = database_snapshot(world.bot.db), stripe_snapshot(world)
    audited_before = len(forgeries_refused(world))

    response = world.bot.post(forgery.build(world, escalation.reference))

    assert response.status_code == 200
    assert "Traceback" not in response.text
    if forgery.answers:
        wait_until(
            lambda: (
                any(c.method in USER_FACING for c in world.slack.calls()) or response.text.strip() not in ("", "null")
            ),
            10,
            "an answer to the forged request",
        )
    if forgery.audited is not None:
        wanted = forgery.audited(world, escalation.reference)
        wait_until(lambda: len(forgeries_refused(world)) > audited_before, 10, "a forgery.refused audit entry")
        new = forgeries_refused(world)[audited_before:]
        assert any(wanted == e.target or wanted in json.dumps(e.detail) for e in new), [e.target for e in new]
        assert all(e.principal == f"slack:T111:{ANN}" for e in new)
    wait_for_listeners(world.bot)

    assert database_snapshot(world.bot.db) == before_db
    assert stripe_snapshot(world) == before_stripe
    told = said_to_ann(world.slack) + response.text
    assert "Initech" not in told and "70.00" not in told and "Peter" not in told
