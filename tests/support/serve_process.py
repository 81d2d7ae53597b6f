"""``billing-bot serve`` as a real process, for tests that need its sockets, memory, log lines, a
``kill -9``, or several processes on one database.

* :func:`serve`: one process on its own SQLite file and Slack stand-in (sockets, memory).
* :func:`serve_env` + :func:`start_serve`: a process on the database, Slack and Stripe a test
  chooses; start two on one database and they are two replicas.
* :func:`prepare_sample_database`: a migrated database with the sample accounts, Acme's default
  Visa in localstripe; :func:`pay_invoice_body` is Ann's signed-to-be Pay submission for it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
from sqlalchemy import select

from billing_core.db.base import Base
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord
from bot.compose import build_services
from bot.settings import Settings
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import (
    interaction_body,
    select_input_value,
    signed_headers,
    view_submission_payload,
)
from tests.support.bot_harness import SECRET, WEBHOOK_SECRET, wait_until
from tests.support.localstripe_server import LocalStripe, free_port
from tests.support.sample_accounts import ANN, ANN_ID, SAMPLE
from tests.support.stripe_helper import StripeHelper
from tests.support.template_db import migrated_sqlite, migrated_sqlite_url

BOT = [sys.executable, "-m", "bot"]


@dataclass(frozen=True)
class Serve:
    pid: int
    port: int
    log: Path

    def connect(self, timeout: float = 20.0) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory so far (``VmHWM``)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM in /proc")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass(frozen=True)
class ServeProcess(Serve):
    """A started ``billing-bot serve``: post Slack requests to it, read its log, stop or kill it."""

    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post_slack(self, body: bytes, headers: dict[str, str] | None = None, timeout: float = 20.0) -> httpx.Response:
        """``body`` to ``/slack/events``, signed now unless ``headers`` are given."""
        return httpx.post(
            self.base_url + "/slack/events",
            content=body,
            headers=headers or signed_headers(SECRET, body),
            timeout=timeout,
        )

    def kill(self) -> None:
        """``kill -9``: nothing of the process's own runs after it."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def serve_env(database_url: str, slack_url: str, stripe_url: str, **extra: str) -> dict[str, str]:
    """This process's environment without its Slack, Stripe, database, mail and log settings, and the
    bot's for ``database_url``, the Slack Web API at ``slack_url`` and Stripe at ``stripe_url``."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STRIPE_", "DATABASE_URL", "SMTP_", "LOG_"))
    }
    env.update(
        DATABASE_URL=database_url,
        SLACK_API_URL=slack_url,
        SLACK_BOT_TOKEN="xoxb-serve",
        SLACK_SIGNING_SECRET=SECRET,
        STRIPE_API_KEY="sk_test_x",
        STRIPE_API_BASE=stripe_url,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        BILLING_TIMEZONE="UTC",
        PUBLIC_URL="http://bot.test",
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


def start_serve(
    env: dict[str, str], cwd: Path, *, name: str = "serve", scheduler: bool = False, timeout: float = 30.0
) -> ServeProcess:
    """``billing-bot serve`` on a free port, logging to ``cwd/<name>.log``, once ``/healthz`` answers."""
    [started] = start_serves(env, cwd, [name], scheduler=scheduler, timeout=timeout)
    return started


def start_serves(
    env: dict[str, str], cwd: Path, names: list[str], *, scheduler: bool = False, timeout: float = 30.0
) -> list[ServeProcess]:
    """One :func:`start_serve` per name, launched together so their start-ups (imports) overlap."""
    launched: list[ServeProcess] = []
    try:
        for name in names:
            port = free_port()
            log = cwd / f"{name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [*BOT, "serve", "--port", str(port), *([] if scheduler else ["--no-scheduler"])],
                    env=env,
                    cwd=cwd,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            launched.append(ServeProcess(process.pid, port, log, process))
        for started, name in zip(launched, names, strict=True):
            wait_until(partial(_answers_or_died, started.port, started.process), timeout, f"billing-bot serve ({name})")
            assert started.process.poll() is None, started.log_text()
    except BaseException:
        for started in launched:
            started.kill()
        raise
    return launched


@contextmanager
def serve(tmp_path: Path) -> Iterator[Serve]:
    """One process on its own SQLite file and Slack stand-in, Stripe unreachable, no scheduler."""
    with SlackAPI() as api:
        # A copy of the session's migrated template: what `billing-bot db upgrade` leaves, without a process.
        env = serve_env(migrated_sqlite_url(tmp_path / "serve.db"), api.base_url, "http://127.0.0.1:9")
        process = start_serve(env, tmp_path)
        try:
            yield process
        finally:
            process.stop()


def bot_command(env: dict[str, str], cwd: Path, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """``billing-bot <args>`` run to its end (``returncode``, ``stdout``, ``stderr``)."""
    return subprocess.run([*BOT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _answers_or_died(port: int, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        return True
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def status_of(sock: socket.socket) -> int | None:
    """The status code of the answer read from ``sock``; ``None`` when it closed without one."""
    try:
        head = sock.recv(65536)
    except OSError:
        return None
    return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else None


# -- a database with something to pay -------------------------------------------------------------


def prepare_sample_database(url: str, localstripe: LocalStripe) -> str:
    """Migrate ``url``, empty it, import the sample accounts and give Acme a Stripe customer with a
    default Visa (localstripe is emptied first); returns the card's id."""
    localstripe.reset()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        migrated_sqlite(Path(url.removeprefix("sqlite:///")))  # a new file: the session's migrated template
    db = Database(url)
    try:
        db.upgrade()  # a no-op on the template's copy; migrates a PostgreSQL database
        with db.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
        settings = Settings(
            _env_file=None,
            DATABASE_URL=url,
            STRIPE_API_KEY="sk_test_x",
            STRIPE_API_BASE=localstripe.base_url,
        )
        services = build_services(settings, db=db)
        services.importer.run(SAMPLE)
        helper = StripeHelper(localstripe)
        customer = helper.customer("ann@acme.test")
        with db.transaction() as session:
            account = session.scalars(select(AccountRecord).where(AccountRecord.external_id == "acme")).one()
            account.stripe_customer_id = customer
        card = helper.card(customer)
        services.require_payments().methods.make_default(ANN, "acme", card)
        return card
    finally:
        db.dispose()


def pay_invoice_body(card: str, invoice: str = "INV-1", view_id: str = "V_SERVE") -> bytes:
    """Ann's submission of the pay modal ``view_id`` for Acme's ``invoice`` with ``card`` (unsigned)."""
    payload = view_submission_payload(
        "pay_modal",
        {"pay_method": {"pay_method_select": select_input_value(card)}},
        {"account": "acme", "invoice": invoice},
        user_id=ANN_ID,
        view_id=view_id,
    )
    return interaction_body(payload)
