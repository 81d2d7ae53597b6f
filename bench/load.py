"""The load generator: signed Slack requests at a fixed concurrency, over keep-alive connections.

Each of ``concurrency`` workers loops: build and sign a request, POST it, note the **ack** time
(Slack's 3-second clock: the HTTP answer), then wait until the reply has reached the Web API
stand-in, the **end-to-end** time (what the person sees: the ephemeral reply at
``response_url``, the filled pay modal, the Home tab's ``views.publish``).
A slash command answered in its ack body is finished at the ack: that body is the reply Slack
shows, and no ``response_url`` post follows. Only then does the worker send its next request,
so "requests/s" counts finished interactions and the lazy work can never pile up behind fast
acks. For the bare app, which only acks, the ack is the end.

Each worker talks as its own set of Slack users, so at most one Home tab per user is in flight.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.generate import Sizes, account_external_id, heavy_accounts, invoice_counts, user_id
from bench.server import SIGNING_SECRET
from bench.standin import Key, StandIn
from devtools.loopback.slack_signing import (
    app_home_opened_event,
    block_actions_body,
    block_actions_payload,
    button_action,
    event_body,
    slack_signature,
    slash_command_body,
)

E2E_TIMEOUT = 15.0
INTERACTIONS = ("balance", "pay", "pay_modal", "home")


@dataclass(frozen=True)
class Request:
    body: bytes
    content_type: str
    done_when: Key | None  # the stand-in call that completes it; None: the ack is the end


Builder = Callable[[int, str], Request]  # (account index, unique token) -> request


class Workload:
    """Builds the four interactions for the accounts of a data set."""

    def __init__(self, sizes: Sizes, standin: StandIn, *, pool: int = 512) -> None:
        self.standin = standin
        self._counts = invoice_counts(sizes)
        spread = max(1, sizes.accounts // pool)
        others = [a for a in range(0, sizes.accounts, spread) if a not in heavy_accounts()]
        # Half the users own a 50-invoice account (the worst screen to render), half are spread out.
        self.accounts = list(heavy_accounts()) + others[: max(0, pool - len(heavy_accounts()))]

    def builder(self, name: str) -> Builder:
        return {
            "balance": self._command("balance"),
            "pay": self._command("pay"),
            "pay_modal": self._pay_modal,
            "home": self._home,
        }[name]

    def _command(self, text: str) -> Builder:
        def build(a: int, token: str) -> Request:
            body = slash_command_body(
                text, user_id=user_id(a), response_url=self.standin.response_url(token), trigger_id=token
            )
            return Request(body, "application/x-www-form-urlencoded", ("response_url", token))

        return build

    def _pay_modal(self, a: int, token: str) -> Request:
        last = self._counts[a] - 1  # the newest invoice is always open
        value = json.dumps({"account": account_external_id(a), "invoice": f"INV-{a:06d}-{last:03d}"})
        payload = block_actions_payload(
            button_action("pay_open", value),
            user_id=user_id(a),
            trigger_id=token,
            response_url=self.standin.response_url(token),
        )
        return Request(block_actions_body(payload), "application/x-www-form-urlencoded", ("modal", "V" + token))

    def _home(self, a: int, token: str) -> Request:
        body = event_body(app_home_opened_event(user_id=user_id(a)))
        return Request(body, "application/json", ("views.publish", user_id(a)))


class Connection:
    """One keep-alive HTTP/1.1 connection; enough of the protocol for uvicorn's answers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self._reader is not None
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._writer.write(head.encode() + b"\r\n" + body)
        raw = await self._reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        content = b""
        if fields.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).strip(), 16)
                content += (await self._reader.readexactly(size + 2))[:size]
                if size == 0:
                    break
        else:
            content = await self._reader.readexactly(int(fields.get("content-length") or 0))
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, content

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def answered_in_ack(content: bytes) -> bool:
    """Whether a slash command's ack body is itself the reply (a message with text or blocks)."""
    if not content:
        return False
    try:
        message = json.loads(content)
    except ValueError:
        return False
    return isinstance(message, dict) and bool(message.get("text") or message.get("blocks"))


@dataclass
class CellResult:
    interaction: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    ack_ms: list[float]
    e2e_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "interaction": self.interaction,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.errors,
            "rps": round(self.rps, 1),
            "ack_p50_ms": percentile(self.ack_ms, 50),
            "ack_p99_ms": percentile(self.ack_ms, 99),
            "e2e_p50_ms": percentile(self.e2e_ms, 50),
            "e2e_p99_ms": percentile(self.e2e_ms, 99),
        }


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile, rounded to 0.01 ms; ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return round(ordered[rank], 2)


def signed(request: Request) -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "Content-Type": request.content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack_signature(SIGNING_SECRET, request.body, ts),
    }


async def run_cell(
    port: int,
    standin: StandIn,
    workload: Workload,
    interaction: str,
    concurrency: int,
    *,
    seconds: float,
    warmup: float,
    max_requests: int | None = None,
    ack_only: bool = False,
) -> CellResult:
    """``concurrency`` closed-loop workers for ``warmup`` + ``seconds`` (or ``max_requests``)."""
    build = workload.builder(interaction)
    result = CellResult(interaction, concurrency, 0, 0, 0.0, [], [])
    loop_start = time.perf_counter()
    measure_from = loop_start + warmup
    stop_at = measure_from + seconds
    sent = itertools.count()

    async def worker(k: int) -> None:
        mine = workload.accounts[k::concurrency] or workload.accounts
        connection = Connection(port)
        try:
            for j in itertools.count():
                started = time.perf_counter()
                if started >= stop_at or (max_requests is not None and next(sent) >= max_requests):
                    return
                request = build(mine[j % len(mine)], uuid.uuid4().hex)
                key = None if ack_only else request.done_when
                done = standin.expect(key) if key is not None else None
                try:
                    status, content = await connection.post("/slack/events", request.body, signed(request))
                    acked = time.perf_counter()
                    finished = acked
                    if key is not None and key[0] == "response_url" and answered_in_ack(content):
                        # The reply is the ack body: what Slack shows the person, no response_url post.
                        standin.forget(key)
                        done = None
                    if done is not None:
                        finished = await asyncio.wait_for(done, E2E_TIMEOUT)
                    ok = status == 200
                except (TimeoutError, OSError, asyncio.IncompleteReadError):
                    ok, acked, finished = False, time.perf_counter(), time.perf_counter()
                    if key is not None:
                        standin.forget(key)
                    await connection.close()
                if started >= measure_from:
                    if ok:
                        result.requests += 1
                        result.ack_ms.append((acked - started) * 1000)
                        result.e2e_ms.append((finished - started) * 1000)
                    else:
                        result.errors += 1
        finally:
            await connection.close()

    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    result.seconds = time.perf_counter() - measure_from
    return result
