"""The vendor's side of ``OUTBOUND_WEBHOOK_URL``: a real HTTP endpoint in the test process.

It verifies each request's ``Billing-Bot-Signature`` the way the README tells a receiver to, and
answers as scripted: a status code, ``"drop"`` (close the connection without an answer) or
``"hold"`` (keep the request open until ``release()``, then drop it); 200 once the script ends.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from billing_core.outbound.signing import verify
from devtools.loopback.server import CallLog, Reply, Request, StandInServer

Step = int | str


@dataclass(frozen=True)
class Received:
    event: dict[str, Any]
    signature_ok: bool
    answered: int | str


class EventReceiver(StandInServer):
    """Records every event posted to it, and which ones it acknowledged with a 2xx."""

    def __init__(self, secret: str, script: Iterable[Step] = ()) -> None:
        super().__init__()
        self.secret = secret
        self._script: deque[Step] = deque(script)
        self._lock = threading.Lock()
        self._released = threading.Event()
        self.log: CallLog[Received] = CallLog()

    def answer(self, request: Request) -> Reply:
        with self._lock:
            step: Step = self._script.popleft() if self._script else 200
        event = json.loads(request.body)
        ok = verify(self.secret, request.headers.get("billing-bot-signature", ""), request.body, now=int(time.time()))
        self.log.add(Received(event, ok, step))
        if step == "hold":
            self._released.wait(120)
            step = "drop"
        if step == "drop":
            raise ConnectionResetError("dropped on purpose")
        return Reply.json({}, int(step))

    def release(self) -> None:
        self._released.set()

    def script(self, *steps: Step) -> None:
        with self._lock:
            self._script.extend(steps)

    def clear_script(self) -> None:
        """Answer 200 from now on."""
        with self._lock:
            self._script.clear()

    @property
    def received(self) -> list[Received]:
        return self.log.entries()

    def acknowledged(self) -> list[dict[str, Any]]:
        """The events answered with a 2xx, oldest first."""
        return [r.event for r in self.received if isinstance(r.answered, int) and 200 <= r.answered < 300]

    def wait_acknowledged(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        def enough(entries: list[Received]) -> list[dict[str, Any]] | None:
            done = [r.event for r in entries if isinstance(r.answered, int) and 200 <= r.answered < 300]
            return done if len(done) >= count else None

        found = self.log.wait_until(enough, timeout, lambda entries: f"{len(entries)} received, fewer acknowledged")
        assert found is not None
        return found
