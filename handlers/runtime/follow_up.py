"""Ack now, finish later: Bolt's lazy listeners without the deep copy of each request.

Bolt's ``lazy=[...]`` deep-copies the request and its context for every lazy function, which
cost more CPU than some of our whole answers. ``acked_then`` registers one listener that runs the
ack function in the request thread (so its answer is the HTTP response) and then hands the
follow-up functions to the app's listener executor with the same body, client and context, which
nothing touches after the ack. As with Bolt's lazy listeners, the follow-ups run even when the ack
function failed, and each one's failure is logged, never raised into the request.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

logger = logging.getLogger(__name__)

Listener = Callable[..., Any]

# Set by an ack function that answered completely: its follow-ups are not started at all.
_NOTHING_LEFT = "billing_nothing_left_to_do"

# Where the app's middleware puts the ``Later`` follow-ups run on (``put_later``).
_LATER = "billing_later"

# What a wrapped function may ask for by parameter name, as Bolt would inject it.
_INJECTABLE = ("ack", "body", "client", "context", "event", "view", "action", "payload", "command")


class Later:
    """Runs follow-up work on an executor, in a copy of the submitter's context variables.

    ``executor`` is looked up on every call: the console swaps the app's executor after the app
    is built, and follow-ups must run where it can count them.
    """

    def __init__(self, executor: Callable[[], Executor] | None = None, *, workers: int = 8) -> None:
        if executor is None:
            own = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="follow-up")
            executor = lambda: own  # noqa: E731 - a constant source
        self._executor = executor

    def run(self, function: Listener, /, **kwargs: Any) -> None:
        context = contextvars.copy_context()  # the request's correlation id in the follow-up's logs
        self._executor().submit(context.run, _logged, function, kwargs)


def put_later(context: BoltContext, later: Later) -> None:
    """Called by the app's middleware on every request: follow-ups of this request run on ``later``."""
    context[_LATER] = later


def later_of(context: BoltContext) -> Later:
    later = context.get(_LATER)
    if not isinstance(later, Later):
        raise RuntimeError("no Later in the context: the app's middleware did not run put_later")
    return later


def nothing_left_to_do(context: BoltContext) -> None:
    """Called by an ack function whose answer is complete: skip its follow-ups (a thread hop each)."""
    context[_NOTHING_LEFT] = True


def _logged(function: Listener, kwargs: dict[str, Any]) -> None:
    try:
        function(**kwargs)
    except Exception:
        logger.exception("follow-up %s failed", getattr(function, "__name__", function))


def _wanted(function: Listener) -> tuple[str, ...]:
    names = tuple(inspect.signature(function).parameters)
    unknown = [name for name in names if name not in _INJECTABLE]
    if unknown:
        raise TypeError(f"{function.__name__} asks for {unknown}; only {_INJECTABLE} can be passed")
    return names


def acked_then(ack_function: Listener, *follow_ups: Listener) -> Listener:
    """One Bolt listener: ``ack_function`` now, then each of ``follow_ups`` on the listener executor."""
    ack_wants = _wanted(ack_function)
    follow_wants = [(follow_up, _wanted(follow_up)) for follow_up in follow_ups]

    def listener(
        ack: Ack,
        body: dict[str, Any],
        client: WebClient,
        context: BoltContext,
        event: dict[str, Any] | None,
        view: dict[str, Any] | None,
        action: dict[str, Any] | None,
        payload: dict[str, Any],
        command: dict[str, Any] | None,
    ) -> None:
        given = {
            "ack": ack, "body": body, "client": client, "context": context, "event": event,
            "view": view, "action": action, "payload": payload, "command": command,
        }  # fmt: skip
        try:
            ack_function(**{name: given[name] for name in ack_wants})
        finally:
            if not context.get(_NOTHING_LEFT):
                later = later_of(context)
                for follow_up, wants in follow_wants:
                    later.run(follow_up, **{name: given[name] for name in wants})

    listener.__name__ = f"{ack_function.__name__}_then_{'_'.join(f.__name__ for f in follow_ups)}"
    return listener
