"""SQL statements per Slack interaction, counted with SQLAlchemy's ``before_cursor_execute``.

A signed request is dispatched into the Bolt app exactly as ``serve`` builds it; the count
covers the whole request, the ack and the lazy listener (we wait for Bolt's thread pool to
drain). The Web API is the recording stand-in of ``devtools/loopback/slack_api.py``; Stripe is
``bench/stripe_standin.py`` (``/billing methods`` asks Stripe for the cards and writes its answer into
the card copy, as ``serve`` does).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltRequest
from slack_sdk import WebClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.generate import Sizes, account_external_id, invoice_counts, light_accounts, user_email, user_id
from bench.server import BOT_TOKEN, SIGNING_SECRET
from billing_core.container import Services
from billing_core.db.database import Database
from bot.compose import build_services
from bot.settings import Settings
from bot.slack.app import build_slack_app
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import (
    app_home_opened_event,
    block_actions_body,
    block_actions_payload,
    button_action,
    event_body,
    signed_headers,
    slash_command_body,
)

# Every ``/billing`` text of the contract that reads data (``support`` opens a modal, no query).
SLASH_COMMANDS = ("", "balance", "invoices", "pay", "pay balance", "methods", "history", "accounts", "help")


@contextmanager
def counting(*engines: Engine) -> Iterator[list[str]]:
    """Collect every SQL statement the ``engines`` run, from any thread, while the block runs."""
    statements: list[str] = []
    lock = threading.Lock()

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        with lock:
            statements.append(statement)

    distinct = list(dict.fromkeys(engines))
    for engine in distinct:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in distinct:
            event.remove(engine, "before_cursor_execute", record)


def bench_settings(database_url: str, api: SlackAPI, stripe_base: str) -> Settings:
    """Settings as ``serve`` gets them in the benchmark, on the Slack stand-in ``api`` and the Stripe
    stand-in at ``stripe_base`` (``bench.stripe_standin``)."""
    return Settings(
        _env_file=None,
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=api.base_url,
        STRIPE_API_KEY="sk_test_bench",
        STRIPE_API_BASE=stripe_base,
    )


def add_bench_users(api: SlackAPI, accounts: list[int], team: Callable[[int], str] | None = None) -> None:
    """The bench users, each a member of the workspace ``team(account)`` names (OAuth mode)."""
    for a in accounts:
        email = user_email(user_id(a))
        api.add_user(user_id(a), email, f"Bench {a}", tz="UTC", team_id=team(a) if team else None)


@dataclass
class Dispatched:
    status: int
    statements: list[str]


class _Draining(ThreadPoolExecutor):
    """The app's listener pool, which can wait until nothing submitted to it, however late, is left."""

    def __init__(self) -> None:
        super().__init__(max_workers=4, thread_name_prefix="bench-listener")
        self._submitted: list[Future[Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        self._submitted.append(future)
        return future

    def drain(self) -> None:
        while pending := [f for f in self._submitted if not f.done()]:
            wait(pending)
        self.shutdown(wait=True)


class InProcessSlack:
    """Dispatches signed requests into a fresh ``build_bolt_app`` and counts the SQL they cause.

    In OAuth mode (``SLACK_CLIENT_ID``/``SECRET`` in ``settings``) each user talks from the
    workspace ``team(account)`` names, and Bolt authorizes every request from the installation store.
    """

    def __init__(
        self, services: Services, settings: Settings, api: SlackAPI, team: Callable[[int], str] | None = None
    ) -> None:
        self.services = services
        self.settings = settings
        self.api = api
        self.team = team or (lambda a: "T111")

    def dispatch(self, body: bytes) -> Dispatched:
        token = None if self.settings.oauth_enabled else BOT_TOKEN  # OAuth: the installation's, per request
        client = WebClient(token=token, base_url=self.api.base_url)
        executor = _Draining()
        app, _ = build_slack_app(
            self.services, self.settings, client=client, verify_token=False, listener_executor=executor
        )
        headers: dict[str, str | Sequence[str]] = {
            k.lower(): [v] for k, v in signed_headers(SIGNING_SECRET, body).items()
        }
        db = self.services.db
        with counting(db.engine, db.read_engine) as statements:  # writes, and the read-only reads
            response = app.dispatch(BoltRequest(body=body.decode(), headers=headers))
            # Follow-ups run on the app's executor: wait for them, and for what they start in
            # turn (a background card check), so their queries count too.
            executor.drain()
        return Dispatched(response.status, list(statements))

    def command(self, a: int, text: str) -> Dispatched:
        return self.dispatch(
            slash_command_body(text, user_id=user_id(a), team_id=self.team(a), response_url=self.api.response_url)
        )

    def pay_button(self, a: int, invoice_number: str) -> Dispatched:
        value = json.dumps({"account": account_external_id(a), "invoice": invoice_number})
        payload = block_actions_payload(
            button_action("pay_open", value),
            user_id=user_id(a),
            team_id=self.team(a),
            response_url=self.api.response_url,
        )
        return self.dispatch(block_actions_body(payload))

    def home(self, a: int) -> Dispatched:
        return self.dispatch(event_body(app_home_opened_event(user_id=user_id(a)), team_id=self.team(a)))


def newest_invoice(sizes: Sizes, a: int) -> str:
    """The number of account ``a``'s newest invoice (always open in the data set)."""
    return f"INV-{a:06d}-{invoice_counts(sizes)[a] - 1:03d}"


def oauth_slack(db: Database, api: SlackAPI, stripe_base: str) -> InProcessSlack:
    """OAuth mode on ``db``: 10,000 installed workspaces, the bench users' principals proven in theirs
    (``IDENTITY_VERIFICATION=email_code``, OAuth's default)."""
    from bench.workspaces import install_workspaces, oauth_settings, seed_principals, team_of

    install_workspaces(db)
    seed_principals(db, [0, light_accounts()[0]])
    add_bench_users(api, [0, light_accounts()[0]], team_of)  # members of their own workspaces
    settings = oauth_settings(
        db.url, SLACK_API_URL=api.base_url, STRIPE_API_KEY="sk_test_bench", STRIPE_API_BASE=stripe_base
    )
    return InProcessSlack(build_services(settings, db=db), settings, api, team=team_of)


def count_oauth(db: Database, api: SlackAPI, stripe_base: str, sizes: Sizes) -> dict[str, Any]:
    """Queries per slash command in OAuth mode, authorization from the installation store included."""
    return count_all_with(oauth_slack(db, api, stripe_base), api, sizes, commands_only=True)


def count_all(services: Services, settings: Settings, api: SlackAPI, sizes: Sizes) -> dict[str, Any]:
    """Queries per interaction for a 50-invoice account and a 1-invoice account."""
    return count_all_with(InProcessSlack(services, settings, api), api, sizes)


def count_all_with(
    slack: InProcessSlack, api: SlackAPI, sizes: Sizes, *, commands_only: bool = False
) -> dict[str, Any]:
    """Statements of each interaction for a 50-invoice and a 1-invoice account (``commands_only``: slash commands)."""
    heavy, light = 0, light_accounts()[0]
    add_bench_users(api, [heavy, light], slack.team if slack.settings.oauth_enabled else None)
    rows: dict[str, dict[str, int]] = {}
    for text in SLASH_COMMANDS:
        rows[f"/billing {text}".strip()] = {
            "50_invoices": len(slack.command(heavy, text).statements),
            "1_invoice": len(slack.command(light, text).statements),
        }
    if commands_only:
        return rows
    rows["pay button (modal)"] = {
        "50_invoices": len(slack.pay_button(heavy, newest_invoice(sizes, heavy)).statements),
        "1_invoice": len(slack.pay_button(light, newest_invoice(sizes, light)).statements),
    }
    rows["app_home_opened"] = {
        "50_invoices": len(slack.home(heavy).statements),
        "1_invoice": len(slack.home(light).statements),
    }
    return rows
