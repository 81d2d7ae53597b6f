"""Bounded reads for acknowledgements: a small pool, and a wait that gives up in time.

A slash command may be answered in its ack body when the answer is a cheap read. The read runs
here so the ack can stop waiting after ``timeout_seconds`` (a slow or failing database must never
cost Slack's 3-second budget); the caller then falls back to the follow-up. Used in Socket Mode,
where no HTTP ack deadline (``handlers.runtime.ack_deadline``) guards the read.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

ACK_READ_SECONDS = 0.5


class BoundedReads:
    """Run a read on a small pool and wait at most ``timeout_seconds`` for it."""

    def __init__(self, *, workers: int = 8, timeout_seconds: float = ACK_READ_SECONDS) -> None:
        self.timeout_seconds = timeout_seconds
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ack-read")

    def run(self, read: Callable[[], T | None]) -> T | None:
        """``read()``'s result, or ``None`` when it failed or did not finish in time."""
        context = contextvars.copy_context()  # the request's correlation id in the read's logs
        future = self._pool.submit(context.run, read)
        try:
            return future.result(timeout=self.timeout_seconds)
        except FutureTimeout:
            future.cancel()  # still queued: never run it; running: its answer is dropped
            logger.warning("an ack-time read took longer than %.1f s: answering later", self.timeout_seconds)
            return None
        except Exception:
            logger.exception("an ack-time read failed: answering later")
            return None

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
