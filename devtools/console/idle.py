"""Knowing when the app has finished answering: Bolt's listener executor, counted.

The console waits for every listener and lazy listener a request started before it prompts
again, so output never interleaves with the prompt and a script can drive it line by line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class TrackingExecutor(Executor):
    """A thread pool that knows how many tasks are queued or running."""

    def __init__(self, max_workers: int = 8) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="console-listener")
        self._busy = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with self._idle:
            self._busy += 1

        def run() -> T:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

        try:
            return self._pool.submit(run)
        except BaseException:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()
            raise

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running; False if ``timeout`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
