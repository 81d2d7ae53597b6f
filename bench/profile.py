"""cProfile of one interaction, dispatched in-process as ``serve`` would (signature check, parse,
event claim, Bolt), its follow-ups run inline on the same thread so they are profiled too.

    python -m bench.profile INTERACTION [--requests N] [--top N] [--plain]

INTERACTION: pay_modal, pay_modal_old_copy, home, home_unchanged, balance, balance_oauth.

``--plain`` runs the same requests without cProfile and prints only the thread's CPU per request
(cProfile's own overhead, about half of the profiled figure and more for code making many small
calls, is not in it).

``pay_modal_old_copy`` opens the pay modal on a card copy older than a minute, as nearly every
open is on the full data set (100,000 accounts): the modal opens from the copy and Stripe (the
bench's Stripe stand-in, which agrees) is asked in the background, here inline.

``home`` opens the tab with no view in the event (as a first open: always published);
``home_unchanged`` opens it carrying the view last published (Slack's hash): nothing changed, so
no ``views.publish``.

The world is the quick data set on SQLite (``bench.generate.QUICK``), the Web API is the loopback
stand-in (``devtools/loopback/slack_api.py``, on its own thread: its time is not counted, only the
client side of each call). Prints the top cumulative entries and a summary grouped by what the
milliseconds are spent on (groups nest: authorize's store read is also a DB read).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import timedelta
from pathlib import Path
from typing import Any

from slack_bolt import BoltRequest
from slack_sdk import WebClient
from sqlalchemy import update

from bench.generate import QUICK, account_external_id, generate, light_accounts, user_id
from bench.queries import add_bench_users, bench_settings, newest_invoice
from bench.server import BOT_TOKEN, SIGNING_SECRET
from bench.stripe_standin import StripeStandIn
from billing_core.adapters.threads import ThreadBackground
from billing_core.db.database import Database
from billing_core.db.tables import PaymentMethodRecord
from billing_core.identity.directory import PrincipalDirectory
from billing_core.marks import OnceMarks
from bot.compose import build_services
from bot.settings import Settings
from bot.slack.app import build_slack_app
from bot.slack.seen_people import SeenPeople
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
from handlers.runtime import ack_deadline
from handlers.runtime.seen_events import SeenEvents
from handlers.runtime.slack_requests import read, verify

_ROOT = str(Path(__file__).resolve().parents[1]) + "/"
INTERACTIONS = ("pay_modal", "pay_modal_old_copy", "home", "home_unchanged", "balance", "balance_oauth")

# (group, function-name fragments whose cumulative time is the group's): the largest entry counts.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("signature check", ("slack_requests.py:verify",)),
    ("request parse", ("slack_requests.py:read",)),
    ("event claim", ("seen_events.py:claim_shared",)),
    ("Bolt dispatch (all of it)", ("slack_bolt/app/app.py:dispatch",)),
    ("authorize", ("oauth.py:__call__", "authorization/authorize.py:__call__")),
    ("DB (SQLAlchemy execute, all)", ("engine/base.py:execute",)),
    ("DB reads (read-only engine)", ("database.py:reading",)),
    ("DB sessions (read/transaction)", ("database.py:read", "database.py:transaction")),
    ("Block Kit build", ("blocks.py:",)),
    ("JSON", ("json/__init__.py:dumps", "json/__init__.py:loads")),
    ("Web API call", ("slack_sdk/web/base_client.py:api_call", "web_api.py:")),
    ("Stripe", ("payments/card_cache.py:refresh_cards", "payments/card_cache.py:fetch_cards")),
)


class Inline(Executor):
    """Runs what is submitted at once, on the caller's thread (so cProfile sees it)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


def _world(tmp: Path, api: SlackAPI, stripe_base: str, oauth: bool) -> tuple[Any, Settings, Callable[[int], str]]:
    url = f"sqlite:///{tmp / 'profile.db'}"
    db = Database(url)
    generate(db, QUICK)
    team: Callable[[int], str] = lambda a: "T111"  # noqa: E731
    if oauth:
        from bench.workspaces import install_workspaces, oauth_settings, seed_principals, team_of

        install_workspaces(db)
        seed_principals(db, [0, light_accounts()[0]])
        settings = oauth_settings(
            url, SLACK_API_URL=api.base_url, STRIPE_API_KEY="sk_test_bench", STRIPE_API_BASE=stripe_base
        )
        team = team_of
    else:
        settings = bench_settings(url, api, stripe_base)
    add_bench_users(api, [0, light_accounts()[0]], team if oauth else None)
    return build_services(settings, db=db), settings, team


def run(interaction: str, requests: int, top: int, *, plain: bool = False) -> str:
    oauth = interaction == "balance_oauth"
    with tempfile.TemporaryDirectory() as tmp, SlackAPI() as api, StripeStandIn() as stripe_api:
        services, settings, team = _world(Path(tmp), api, stripe_api.base_url, oauth)
        client = WebClient(token=None if oauth else BOT_TOKEN, base_url=api.base_url)
        people = SeenPeople(PrincipalDirectory(services.db, services.clock))
        app, _ = build_slack_app(
            services, settings, client=client, verify_token=False, listener_executor=Inline(), seen=people
        )
        seen = SeenEvents(shared=OnceMarks(services.db, services.clock, background=ThreadBackground()))
        a = 0
        if interaction == "pay_modal_old_copy":
            with services.db.transaction() as session:
                session.execute(
                    update(PaymentMethodRecord).values(refreshed_at=services.clock.now() - timedelta(days=1))
                )

        def body(n: int) -> bytes:
            if interaction.startswith("pay_modal"):
                value = json.dumps({"account": account_external_id(a), "invoice": newest_invoice(QUICK, a)})
                payload = block_actions_payload(
                    button_action("pay_open", value), user_id=user_id(a), team_id=team(a), response_url=api.response_url
                )
                return block_actions_body(payload)
            if interaction == "home":
                return event_body(app_home_opened_event(user_id=user_id(a)), team_id=team(a))
            if interaction == "home_unchanged":
                shown = [c.response["view"] for c in api.calls("views.publish") if c.response]
                view = shown[-1] if shown else None
                return event_body(app_home_opened_event(user_id=user_id(a), view=view), team_id=team(a))
            return slash_command_body("balance", user_id=user_id(a), team_id=team(a), response_url=api.response_url)

        def one(raw: bytes) -> None:
            headers = signed_headers(SIGNING_SECRET, raw)
            assert verify(SIGNING_SECRET, raw, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
            parsed = read(raw.decode())
            first = parsed.event_id is not None and seen.claim(parsed.event_id)
            if parsed.event_id is not None and not (first and seen.claim_shared(parsed.event_id, retry=False)):
                return
            _, token = ack_deadline.start()  # as bot.web.http does: the ack's read runs in this thread
            try:
                request = BoltRequest(body=raw.decode(), headers={k.lower(): [v] for k, v in headers.items()})
                response = app.dispatch(request)
            finally:
                ack_deadline.reset(token)
            assert response.status == 200, response.body

        for n in range(20):  # warm-up: caches, prepared statements, imports
            one(body(n))
        bodies = [body(n) for n in range(requests)]
        profile = cProfile.Profile(time.thread_time)  # this thread's CPU: waits on the stand-in excluded
        started = time.thread_time()
        if not plain:
            profile.enable()
        for raw in bodies:
            one(raw)
        if not plain:
            profile.disable()
        spent = time.thread_time() - started
        people.stop()
        services.db.dispose()
    if plain:
        return f"{interaction}: {requests} requests, {spent * 1000 / requests:.2f} ms CPU each (no profiler)"
    return summary(profile, interaction, requests, top)


def summary(profile: cProfile.Profile, interaction: str, requests: int, top: int) -> str:
    stats = pstats.Stats(profile)
    entries: dict[str, float] = {}
    total = 0.0
    for (path, _line, name), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        key = f"{path}:{name}"
        entries[key] = max(entries.get(key, 0.0), cumulative)
        total = max(total, cumulative)
    per = 1000.0 / requests
    head = f"{interaction}: {requests} requests, {total * per:.2f} ms CPU each (cProfile's overhead included: about 2x)"
    lines = [head, ""]
    lines.append("| group | ms per request | share |")
    lines.append("|---|---|---|")
    for group, fragments in GROUPS:
        spent = max((t for key, t in entries.items() if any(f in key for f in fragments)), default=0.0)
        lines.append(f"| {group} | {spent * per:.2f} | {spent / total:.0%} |")
    lines += ["", "top cumulative:"]
    ranked = sorted(entries.items(), key=lambda kv: kv[1], reverse=True)
    for key, spent in ranked[:top]:
        short = key.split("site-packages/")[-1].replace(_ROOT, "")
        lines.append(f"  {spent * per:7.3f} ms  {short}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("interaction", choices=INTERACTIONS)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--plain", action="store_true", help="CPU per request without cProfile, no breakdown")
    args = parser.parse_args()
    print(run(args.interaction, args.requests, args.top, plain=args.plain))


if __name__ == "__main__":
    main()
