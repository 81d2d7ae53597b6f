"""The thread adapter of the background-work port (``billing_core.adapters.threads``): submitted
jobs run off the caller's thread and can be waited for, a loop runs when woken and stops, and a
lane never runs more jobs at once than its bound."""

from __future__ import annotations

import threading
import time
from functools import partial

from billing_core.adapters.threads import ThreadBackground


def test_submitted_jobs_run_on_their_own_named_thread_and_can_be_waited_for() -> None:
    background = ThreadBackground()
    ran: list[str] = []
    release = threading.Event()

    def job() -> None:
        release.wait(5)
        ran.append(threading.current_thread().name)

    background.submit("escalation-7", job)
    assert ran == []  # the caller did not wait
    release.set()
    background.wait(5)
    assert ran == ["escalation-7"]


def test_a_loop_runs_at_once_when_woken_and_not_after_it_stopped() -> None:
    runs = threading.Semaphore(0)
    loop = ThreadBackground().loop("outbound-delivery", runs.release, every=60.0)
    loop.start()
    loop.start()  # idempotent
    assert runs.acquire(timeout=5)  # the first pass
    loop.wake()
    assert runs.acquire(timeout=5)  # woken long before the minute
    loop.stop(5)
    loop.wake()
    assert not runs.acquire(timeout=0.2)


def test_a_lane_runs_at_most_its_bound_at_once_and_results_come_back_in_order() -> None:
    lanes = ThreadBackground().lanes("outbound", {"webhook": 2, "email": 1})
    lock, running, most = threading.Lock(), [0], [0]

    def job(n: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return n

    try:
        assert lanes.run([("webhook", partial(job, n)) for n in range(6)]) == list(range(6))
    finally:
        lanes.close()
    assert most[0] == 2
