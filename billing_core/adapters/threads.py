"""The thread adapter of the background-work port ``billing_core.background.Background``: a daemon
thread per submitted job, a daemon thread per loop, a ``ThreadPoolExecutor`` per lane."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class ThreadLoop:
    """``job`` in a daemon thread, every ``every`` seconds or as soon as ``wake`` is called."""

    def __init__(self, name: str, job: Callable[[], object], every: float) -> None:
        self._name = name
        self._job = job
        self._every = every
        self._woken = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._woken.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._job()
            self._woken.wait(self._every)
            self._woken.clear()


class ThreadLanes:
    """One ``ThreadPoolExecutor`` per lane, each of ``bounds[lane]`` threads (at least one)."""

    def __init__(self, name: str, bounds: Mapping[str, int]) -> None:
        self._pools = {
            lane: ThreadPoolExecutor(max_workers=max(1, bound), thread_name_prefix=f"{name}-{lane}")
            for lane, bound in bounds.items()
        }

    def run(self, jobs: Sequence[tuple[str, Callable[[], T]]]) -> list[T]:
        futures = [self._pools[lane].submit(job) for lane, job in jobs]
        return [future.result() for future in futures]

    def close(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)


class ThreadPool:
    """``billing_core.background.Pool`` on a ``ThreadPoolExecutor``; a context manager that waits for
    its jobs on the way out."""

    def __init__(self, size: int, name: str) -> None:
        self._executor = ThreadPoolExecutor(size, thread_name_prefix=name)

    def start(self, job: Callable[[], T]) -> Callable[[], T]:
        return self._executor.submit(job).result

    def __enter__(self) -> ThreadPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._executor.shutdown(wait=True)


class ThreadBackground:
    """Background work on daemon threads (a process exiting does not wait for them)."""

    def __init__(self) -> None:
        self._in_flight: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def submit(self, name: str, job: Callable[[], object]) -> None:
        thread = threading.Thread(target=job, name=name, daemon=True)
        with self._lock:
            self._in_flight = {t for t in self._in_flight if t.is_alive()} | {thread}
        thread.start()

    def wait(self, timeout: float = 10.0) -> None:
        with self._lock:
            threads = list(self._in_flight)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def loop(self, name: str, job: Callable[[], object], every: float) -> ThreadLoop:
        return ThreadLoop(name, job, every)

    def lanes(self, name: str, bounds: Mapping[str, int]) -> ThreadLanes:
        return ThreadLanes(name, bounds)
