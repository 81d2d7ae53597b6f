"""Two ``billing-bot serve`` processes on one database behave as one (issue 14, item 5).

Two real processes share one database (PostgreSQL with ``TEST_DATABASE_URL``, else a SQLite
file), one Slack Web API stand-in, and localstripe behind a fault proxy. Slack's same delivery
reaches both (a retry behind a load balancer), the same Pay click reaches both (a double click),
one is killed with ``kill -9`` in the middle of a payment, and the scheduled jobs run in one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from billing_core.clock import SystemClock
from billing_core.db.database import Database
from billing_core.db.tables import AuditEventRecord, InvoiceRecord, JobLeaseRecord, OnceMarkRecord, PaymentRecord
from billing_core.leases import SCHEDULER_LEASE
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import app_home_opened_event, event_body, signed_headers
from handlers.runtime.seen_events import SHARED_KIND
from tests.support import cli
from tests.support.bot_harness import ANN, SECRET, StripeHelper, wait_until
from tests.support.fault_proxy import FaultProxy
from tests.support.localstripe_server import LocalStripe
from tests.support.serve_process import (
    ServeProcess,
    pay_invoice_body,
    prepare_sample_database,
    serve_env,
    start_serves,
)

pytestmark = pytest.mark.process  # starts billing-bot (or the console) as a separate process

PAY_INTENT = "POST /v1/payment_intents"


@dataclass
class Replicas:
    a: ServeProcess
    b: ServeProcess
    db: Database
    url: str
    card: str
    slack: SlackAPI
    stripe: StripeHelper
    faults: FaultProxy
    env: dict[str, str]
    cwd: Path

    def both_at_once(self, body: bytes, **extra: str) -> list[httpx.Response]:
        """The same signed request to both processes at the same moment (one signature, like a retry)."""
        headers = {**signed_headers(SECRET, body), **extra}
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(lambda p: p.post_slack(body, headers), (self.a, self.b)))

    def marked(self, event_id: str) -> bool:
        with self.db.read() as session:
            return session.get(OnceMarkRecord, (SHARED_KIND, event_id)) is not None

    def payments(self) -> list[tuple[str, int]]:
        with self.db.read() as session:
            return [(p.status, p.amount_minor) for p in session.scalars(select(PaymentRecord))]

    def invoice_status(self, number: str = "INV-1") -> str:
        with self.db.read() as session:
            return str(session.scalars(select(InvoiceRecord.status).where(InvoiceRecord.number == number)).one())

    def refused_starts(self) -> int:
        with self.db.read() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(AuditEventRecord)
                    .where(AuditEventRecord.action == "payment.start", AuditEventRecord.outcome == "refused")
                )
                or 0
            )

    def charges(self) -> list[tuple[int, str]]:
        return [(pi["amount"], pi["status"]) for pi in self.stripe.intents()]

    def said(self, method: str, words: str) -> list[str]:
        texts = [json.dumps(c.json_args, ensure_ascii=False) for c in self.slack.calls(method) if c.ok]
        return [t for t in texts if words in t]


@pytest.fixture
def database_url_for_two(tmp_path: Path, postgres_server_url: str | None) -> str:
    """The session's PostgreSQL database, or a SQLite file both processes open."""
    return postgres_server_url or f"sqlite:///{tmp_path / 'replicas.db'}"


def start_replicas(
    tmp_path: Path, url: str, slack: SlackAPI, localstripe: LocalStripe, *, scheduler: bool, **extra: str
) -> Iterator[Replicas]:
    card = prepare_sample_database(url, localstripe)
    slack.clear()
    db = Database(url)
    with FaultProxy.for_url(localstripe.base_url) as faults:
        env = serve_env(url, slack.base_url, faults.root_url, **extra)
        started: list[ServeProcess] = []
        try:
            started.extend(start_serves(env, tmp_path, ["a", "b"], scheduler=scheduler))
            a, b = started
            yield Replicas(
                a,
                b,
                db=db,
                url=url,
                card=card,
                slack=slack,
                stripe=StripeHelper(localstripe),
                faults=faults,
                env=env,
                cwd=tmp_path,
            )
        finally:
            faults.release()
            for process in started:
                process.stop()
            db.dispose()


@pytest.fixture
def replicas(
    tmp_path: Path, database_url_for_two: str, slack: SlackAPI, localstripe_server: LocalStripe
) -> Iterator[Replicas]:
    """Two ``serve`` processes without the scheduler (the tests drive every job themselves)."""
    yield from start_replicas(tmp_path, database_url_for_two, slack, localstripe_server, scheduler=False)


@pytest.fixture
def scheduling_replicas(
    tmp_path: Path, database_url_for_two: str, slack: SlackAPI, localstripe_server: LocalStripe
) -> Iterator[Replicas]:
    """Two ``serve`` processes, each with its scheduler, renewing (or trying to take) the lease every
    second instead of every 30 s (``SCHEDULER_HEARTBEAT_SECONDS``), so a takeover is not waited for."""
    yield from start_replicas(
        tmp_path, database_url_for_two, slack, localstripe_server, scheduler=True, SCHEDULER_HEARTBEAT_SECONDS="1"
    )


@pytest.fixture(scope="class")
def one_pair(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server_url: str | None,
    slack: SlackAPI,
    localstripe_server: LocalStripe,
) -> Iterator[Replicas]:
    """Two ``serve`` processes without the scheduler, started once for the tests of a class that leave
    both running (each test has its own event and view ids)."""
    tmp = tmp_path_factory.mktemp("replicas")
    url = postgres_server_url or f"sqlite:///{tmp / 'replicas.db'}"
    yield from start_replicas(tmp, url, slack, localstripe_server, scheduler=False)


@pytest.fixture
def pair(one_pair: Replicas) -> Replicas:
    """:func:`one_pair`, the Slack stand-in's calls forgotten."""
    one_pair.slack.clear()
    return one_pair


# -- the same delivery, the same click ------------------------------------------------------------


RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


class TestOnePairOfProcesses:
    """The same delivery and the same click reaching both of one pair of processes (started once; the
    pay click last, as it pays INV-1)."""

    def test_a_retry_reaching_the_other_process_after_the_first_delivery_is_not_processed_again(
        self, pair: Replicas
    ) -> None:
        body = event_body(app_home_opened_event(ANN), event_id="EvREPLICA0")
        assert pair.a.post_slack(body).status_code == 200  # the first delivery: its mark noted, not waited for
        wait_until(lambda: len(pair.slack.calls("views.publish")) == 1, 15, "the first delivery's Home")
        # Slack retries 3 s after a first delivery it did not see acknowledged, at the earliest.
        wait_until(lambda: pair.marked("EvREPLICA0"), 5, "the first delivery's mark written")
        retry = {**signed_headers(SECRET, body), **RETRY}
        assert pair.b.post_slack(body, retry).status_code == 200

        ignored = "ignored event EvREPLICA0: another process took it in"
        wait_until(lambda: ignored in pair.b.log_text(), 15, "the other process to drop the retry")
        assert len(pair.slack.calls("views.publish")) == 1

    def test_the_same_retry_delivered_to_both_processes_has_one_effect_and_both_answer_200(
        self, pair: Replicas
    ) -> None:
        body = event_body(app_home_opened_event(ANN), event_id="EvREPLICA1")

        answers = pair.both_at_once(body, **RETRY)

        assert [a.status_code for a in answers] == [200, 200]
        ignored = "ignored event EvREPLICA1: another process took it in"

        def both_done() -> bool:  # one published and the other dropped it, or both published
            published = len(pair.slack.calls("views.publish"))
            return published >= 2 or (published == 1 and ignored in pair.a.log_text() + pair.b.log_text())

        wait_until(both_done, 15, "both processes to be done with the event")
        assert len(pair.slack.calls("views.publish")) == 1
        assert [ignored in p.log_text() for p in (pair.a, pair.b)].count(True) == 1

    def test_the_same_pay_click_sent_to_both_processes_charges_once_and_says_so_once(self, pair: Replicas) -> None:
        body = pay_invoice_body(pair.card, view_id="V_DOUBLE")

        answers = pair.both_at_once(body)

        assert [a.status_code for a in answers] == [200, 200]
        wait_until(lambda: pair.said("chat.postMessage", "Payment received"), 20, "the receipt DM")
        wait_until(
            lambda: all(status != "pending" for status, _ in pair.payments()), 20, "every payment started to be settled"
        )
        assert pair.payments() == [("succeeded", 125000)]
        assert pair.charges() == [(125000, "succeeded")]
        # The other process found the invoice claimed (or paid) and refused to start a second payment.
        wait_until(lambda: pair.refused_starts() == 1, 20, "the other process to refuse the second start")
        assert pair.invoice_status() == "paid"
        assert len(pair.said("chat.postMessage", "Payment received")) == 1
        modal = [c for c in pair.slack.calls("views.update") if c.json_args.get("view_id") == "V_DOUBLE"]
        assert "Payment received" in json.dumps(modal[-1].json_args)  # the other's refusal never hides it


# -- kill -9 in the middle of a payment --------------------------------------------------------------


KILLS: dict[str, Callable[[FaultProxy], object]] = {
    # Stripe charges, but its answer never reaches the process before it dies.
    "after Stripe charged": lambda faults: faults.blackhole(match=PAY_INTENT, forward_first=True),
    # The charge never reaches Stripe: the process dies while the request is held.
    "before Stripe saw the charge": lambda faults: faults.blackhole(match=PAY_INTENT),
}


@pytest.mark.parametrize("when", list(KILLS), ids=list(KILLS))
def test_a_process_killed_mid_payment_leaves_one_charge_or_none_and_reconcile_settles_it(
    replicas: Replicas, when: str
) -> None:
    stripe_charged = when == "after Stripe charged"
    KILLS[when](replicas.faults)
    body = pay_invoice_body(replicas.card, view_id="V_KILLED")

    assert replicas.a.post_slack(body).status_code == 200
    replicas.faults.wait_seen(PAY_INTENT, timeout=20)
    if stripe_charged:
        wait_until(lambda: len(replicas.stripe.intents()) == 1, 10, "Stripe to have the charge")
    replicas.a.kill()
    replicas.faults.release()  # a held request dies with its connection, never forwarded later

    assert replicas.payments() == [("pending", 125000)]  # committed before Stripe was called
    # The same click reaching the surviving process starts nothing: the invoice is claimed.
    assert replicas.b.post_slack(body).status_code == 200
    wait_until(lambda: replicas.refused_starts() == 1, 20, "the survivor to refuse a second payment")
    assert len(replicas.faults.seen(PAY_INTENT)) == 1

    if not stripe_charged:  # past Stripe's idempotency window: a payment Stripe never saw is failed, not
        # guessed (within the window reconcile would replay its create with the same key instead:
        # tests/integration/payments/test_unknown_outcome.py)
        with replicas.db.transaction() as session:
            session.execute(update(PaymentRecord).values(submitted_at=SystemClock().now() - timedelta(hours=25)))
    for _ in range(2):  # the CLI of the scheduler's job (in this process); the second run finds nothing left to do
        env = replicas.env | {"STRIPE_API_BASE": replicas.stripe.server.base_url}
        reconcile = cli.run_cli("payments", "reconcile", env=env, cwd=replicas.cwd)
        assert reconcile.returncode == 0, reconcile.stderr

    if stripe_charged:
        assert replicas.charges() == [(125000, "succeeded")]
        assert replicas.payments() == [("succeeded", 125000)]
        assert replicas.invoice_status() == "paid"
    else:
        assert replicas.charges() == []
        assert replicas.payments() == [("failed", 125000)]
        assert replicas.invoice_status() == "open"
        # and the survivor takes the next click, charging exactly once
        assert replicas.b.post_slack(pay_invoice_body(replicas.card, view_id="V_AGAIN")).status_code == 200
        wait_until(lambda: ("succeeded", 125000) in replicas.payments(), 20, "the new payment to succeed")
        assert replicas.charges() == [(125000, "succeeded")]
        assert replicas.invoice_status() == "paid"


# -- the scheduled jobs ------------------------------------------------------------------------------


RUNS_THE_JOBS = "now runs the scheduler jobs"


def lease_holder(db: Database) -> str | None:
    with db.read() as session:
        return session.scalar(select(JobLeaseRecord.holder).where(JobLeaseRecord.name == SCHEDULER_LEASE))


def test_the_scheduled_jobs_run_in_one_process_and_the_other_takes_over_when_it_dies(
    scheduling_replicas: Replicas,
) -> None:
    replicas = scheduling_replicas
    wait_until(lambda: lease_holder(replicas.db), 15, "a process to take the scheduler lease")
    holder_pid = int(str(lease_holder(replicas.db)).split(":")[1])
    holder, other = (replicas.a, replicas.b) if holder_pid == replicas.a.pid else (replicas.b, replicas.a)
    assert holder_pid == holder.pid
    wait_until(lambda: RUNS_THE_JOBS in holder.log_text(), 15, "the holder to say it runs the jobs")
    assert RUNS_THE_JOBS not in other.log_text()

    holder.kill()
    with replicas.db.transaction() as session:  # the dead holder's lease lapses (its ttl is 90 s)
        session.execute(update(JobLeaseRecord).values(expires_at=SystemClock().now() - timedelta(seconds=1)))

    # The survivor's next tick (its heartbeat: every second here) takes the lease over.
    wait_until(lambda: f":{other.pid}:" in str(lease_holder(replicas.db)), 45, "the survivor to take over")
    wait_until(lambda: RUNS_THE_JOBS in other.log_text(), 15, "the survivor to say it runs the jobs")
