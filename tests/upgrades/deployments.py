"""A deployment of a landed release, as an operator has it: its database with data in it, the
environment the bot runs with, and ways to talk to it as Slack and as the operator do."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from billing_core.db.database import Database
from billing_core.db.tables import InvoiceRecord, PaymentRecord
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import event_body, signed_headers, slash_command_body
from tests.support.cli import run_cli
from tests.support.localstripe_server import LocalStripe
from tests.support.serve_process import ServeProcess, bot_command, serve_env
from tests.support.stripe_helper import StripeHelper
from tests.upgrades.old_databases import Seeded, build_release_database, seed_release_data

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")


@contextmanager
def empty_database(tmp_path: Path, name: str) -> Iterator[str]:
    """A database nobody migrated: a new PostgreSQL database with ``TEST_DATABASE_URL``, else a file."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / f'{name}.db'}"
        return
    from devtools.postgres import fresh_database

    with fresh_database(POSTGRES_URL) as url:
        yield url


@dataclass
class Deployment:
    release: str
    url: str
    env: dict[str, str]
    cwd: Path
    card: str
    seeded: Seeded
    slack: SlackAPI

    def cli(self, *args: str) -> Any:
        """``billing-bot <args>`` as the operator runs it; in this process (a process costs seconds of
        imports) except ``serve`` and ``console``, whose start-up is part of what is tested."""
        if args[:1] in (("serve",), ("console",)):
            return bot_command(self.env, self.cwd, *args, timeout=120)
        return run_cli(*args, env=self.env, cwd=self.cwd)

    def ask(self, process: ServeProcess, text: str) -> str:
        """``/billing <text>`` as Ann; everything the bot answered (the ack and the response_url)."""
        url = self.slack.response_url
        body = slash_command_body(text, response_url=url)
        answer = process.post_slack(body)
        assert answer.status_code == 200, answer.text
        said = answer.text
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not self.slack.response_url_posts(url) and not said.strip():
            time.sleep(0.05)
        time.sleep(0.2)
        return said + "".join(json.dumps(c.json_args) for c in self.slack.response_url_posts(url))

    def type_in_dm(self, process: ServeProcess, text: str) -> None:
        event = {
            "type": "message",
            "channel": "DW111",
            "channel_type": "im",
            "user": "W111",
            "text": text,
            "ts": f"{time.time():.6f}",
            "team": "T111",
        }
        body = event_body(event, event_id=f"Ev{uuid.uuid4().hex[:12].upper()}")
        assert process.post_slack(body, signed_headers_for(body)).status_code == 200

    def invoice_status(self, number: str) -> str:
        db = Database(self.url)
        try:
            with db.read() as session:
                return str(session.scalars(select(InvoiceRecord.status).where(InvoiceRecord.number == number)).one())
        finally:
            db.dispose()

    def payments(self) -> list[tuple[str, int, str | None]]:
        db = Database(self.url)
        try:
            with db.read() as session:
                return [
                    (p.status, p.amount_minor, p.stripe_payment_intent_id)
                    for p in session.scalars(select(PaymentRecord).order_by(PaymentRecord.id))
                ]
        finally:
            db.dispose()


def signed_headers_for(body: bytes) -> dict[str, str]:
    from tests.support.bot_harness import SECRET

    return signed_headers(SECRET, body)


def deploy(
    release: str, url: str, cwd: Path, slack: SlackAPI, localstripe: LocalStripe, **extra_env: str
) -> Deployment:
    """``release``'s database at ``url`` with a used deployment's data; Acme's customer and card
    exist in localstripe (emptied first)."""
    localstripe.reset()
    slack.clear()
    stripe = StripeHelper(localstripe)
    customer = stripe.customer("ann@acme.test")
    card = stripe.card(customer)
    build_release_database(url, release)
    seeded = seed_release_data(url, release, stripe_customer=customer, card=card)
    env = serve_env(url, slack.base_url, localstripe.base_url, **extra_env)
    return Deployment(release=release, url=url, env=env, cwd=cwd, card=card, seeded=seeded, slack=slack)


def head_and_chain() -> tuple[str, list[str]]:
    """This release's head revision and every revision from the first, in order."""
    from alembic.script import ScriptDirectory

    from billing_core.db.database import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    chain = [revision.revision for revision in script.walk_revisions()][::-1]
    return chain[-1], chain
