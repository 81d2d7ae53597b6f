"""A Pay click gets its modal while the listener pool is busy (issue 28, item 7).

The trigger id of a click works once and for 3 seconds. Every listener thread is held busy here
(as a burst of slow Stripe calls would), the click comes in over signed HTTP, and the modal is
opened from the click's own request; its content follows once a thread is free."""

from __future__ import annotations

import threading

from bot.slack.app import LISTENER_THREADS
from tests.support.bot_fixtures import World


def test_a_pay_click_opens_its_modal_while_every_listener_thread_is_busy(world: World) -> None:
    release = threading.Event()
    started = threading.Semaphore(0)
    executor = world.bot.runtime.app._listener_runner.listener_executor

    def hold() -> None:
        started.release()
        release.wait(30)

    for _ in range(LISTENER_THREADS):
        executor.submit(hold)
    for _ in range(LISTENER_THREADS):
        assert started.acquire(timeout=10)  # every thread of the pool is now taken
    try:
        response, _ = world.bot.press("pay_open", {"account": "acme", "invoice": "INV-1"})

        assert response.status_code == 200
        [opened] = world.slack.calls("views.open")  # already there, filled, when the click was answered
        assert opened.ok and opened.args["trigger_id"]
        assert opened.json_args["view"].get("callback_id") == "pay_modal"  # no free thread was needed
    finally:
        release.set()
