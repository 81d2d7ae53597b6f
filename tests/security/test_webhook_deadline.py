"""The outbound webhook client cannot be held past its delivery lease, nor made to load a huge
answer (issue 25, item 9).

Before: urllib3 preloaded the whole response body, and its per-read timeout (10 s) restarted with
every byte, so a receiver trickling its answer kept an attempt alive past the outbox's 30-second
lease and another process sent the same event at the same time. Real parts: raw TCP receivers in
the test process that trickle the status line, the headers or the body, or answer with 50 MB.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from billing_core.adapters.threads import ThreadBackground
from billing_core.adapters.webhook_http import MAX_BODY_BYTES, TOTAL_SECONDS, WebhookEndpoint
from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.db.tables import OutboundEventRecord
from billing_core.outbound.delivery import BackoffPolicy, OutboundDelivery
from billing_core.outbound.events import WEBHOOK, OutboundSink, enable, record_event
from bot.compose import build_outbound
from tests.support.settings import settings_from

BODY = json.dumps({"id": "evt_1", "type": "payment.succeeded", "created": 0, "data": {}})
HUGE = 50 * 1024 * 1024


@dataclass
class RawReceiver:
    """A TCP listener answering every request with ``answer(connection)``; counts requests and bytes sent."""

    answer: Callable[[socket.socket, RawReceiver], None]
    requests: int = 0
    sent: int = 0
    closed_early: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/hooks/billing"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(connection,), daemon=True).start()

    def _one(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)  # the request (small: headers and the event fit one read)
            self.requests += 1
            try:
                self.answer(connection, self)
            except OSError:
                self.closed_early = True

    def trickle(self, connection: socket.socket, data: bytes) -> None:
        """``data`` one byte at a time, slowly, for at most a minute (the client is meant to give up)."""
        for byte in data[:300]:
            if self._stop.is_set():
                return
            connection.sendall(bytes([byte]))
            self.sent += 1
            time.sleep(0.2)

    def close(self) -> None:
        self._stop.set()
        self._listener.close()


def trickled_status(connection: socket.socket, receiver: RawReceiver) -> None:
    receiver.trickle(connection, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" + b" " * 300)


def trickled_headers(connection: socket.socket, receiver: RawReceiver) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\n")
    receiver.trickle(connection, b"X-Slow: " + b"a" * 400)


def trickled_body(connection: socket.socket, receiver: RawReceiver) -> None:
    connection.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 1000000\r\n\r\n")
    receiver.trickle(connection, b"x" * 400)


def huge_body(connection: socket.socket, receiver: RawReceiver) -> None:
    connection.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {HUGE}\r\n\r\n".encode())
    chunk = b"x" * 65536
    while receiver.sent < HUGE:
        connection.sendall(chunk)
        receiver.sent += len(chunk)


@pytest.fixture
def receivers() -> Iterator[list[RawReceiver]]:
    started: list[RawReceiver] = []
    yield started
    for receiver in started:
        receiver.close()


def test_the_whole_request_has_one_deadline_below_the_delivery_lease() -> None:
    assert BackoffPolicy().lease.total_seconds() > TOTAL_SECONDS


@pytest.mark.parametrize(("configured", "lease", "deadline"), [(None, 30.0, TOTAL_SECONDS), ("3", 3.0, 2.0)])
def test_outbound_lease_seconds_sets_the_lease_and_keeps_the_deadline_below_it(
    database_url: str, db: Database, clock: FixedClock, configured: str | None, lease: float, deadline: float
) -> None:
    extra = {"OUTBOUND_LEASE_SECONDS": configured} if configured is not None else {}
    settings = settings_from(
        DATABASE_URL=database_url, OUTBOUND_WEBHOOK_URL="http://erp.test/hooks",
        OUTBOUND_WEBHOOK_SECRET="whsec_test", **extra,
    )  # fmt: skip
    delivery = build_outbound(settings, db=db, clock=clock, background=ThreadBackground())
    assert delivery is not None
    [endpoint] = delivery.channels.values()
    assert isinstance(endpoint, WebhookEndpoint)
    assert delivery.policy.lease.total_seconds() == lease and endpoint._total == deadline


@pytest.mark.parametrize(
    "answer", [trickled_status, trickled_headers, trickled_body], ids=["status line", "headers", "body of an error"]
)
def test_a_receiver_trickling_its_answer_is_cut_off_at_the_deadline_and_retried(
    receivers: list[RawReceiver], answer: Callable[[socket.socket, RawReceiver], None]
) -> None:
    receivers.append(receiver := RawReceiver(answer))
    endpoint = WebhookEndpoint(receiver.url, "whsec_test", total_seconds=1.0)
    attempt = endpoint.send("evt_1", "payment.succeeded", BODY, int(time.time()))
    assert not attempt.ok and not attempt.permanent
    assert attempt.error == "no complete answer within 1 s"
    assert receiver.sent < 300  # it gave up long before the receiver finished trickling


def test_a_huge_answer_is_not_read_past_the_cap(receivers: list[RawReceiver]) -> None:
    receivers.append(receiver := RawReceiver(huge_body))
    attempt = WebhookEndpoint(receiver.url, "whsec_test").send("evt_1", "payment.succeeded", BODY, int(time.time()))
    assert attempt.ok and attempt.status == 200
    deadline = time.monotonic() + 30
    while not receiver.closed_early and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receiver.closed_early and receiver.sent < HUGE  # the client hung up after MAX_BODY_BYTES
    assert MAX_BODY_BYTES <= 64 * 1024


def test_an_event_whose_receiver_trickles_is_retried_later_and_sent_once_per_attempt(
    receivers: list[RawReceiver], db: Database, clock: FixedClock
) -> None:
    receivers.append(receiver := RawReceiver(trickled_status))
    enable(db, OutboundSink(frozenset({WEBHOOK})))
    with db.transaction() as session:
        event_id = record_event(
            session,
            channel=WEBHOOK,
            type="payment.succeeded",
            subject="payment:1",
            data={"payment_id": 1},
            now=clock.now(),
        )
    delivery = OutboundDelivery(
        db=db,
        clock=clock,
        background=ThreadBackground(),
        channels=[WebhookEndpoint(receiver.url, "whsec_test", total_seconds=1.0)],
    )
    try:
        assert delivery.deliver_due().retried == 1
    finally:
        delivery.stop()
    with db.read() as session:
        status, attempts, error = session.execute(
            select(OutboundEventRecord.status, OutboundEventRecord.attempts, OutboundEventRecord.last_error).where(
                OutboundEventRecord.id == event_id
            )
        ).one()
    assert (status, attempts, error) == ("queued", 1, "no complete answer within 1 s")
    assert receiver.requests == 1
