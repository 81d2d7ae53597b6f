"""A request answered once: in its ack body when a cheap read is ready in time, else by a follow-up.

A slash command's ack may carry its answer. ``answer_in_ack`` asks the listener's ``plan`` what
that answer is: a finished reply (the ack's keyword arguments), a read that makes one, or ``None``
(answer later). Over HTTP the read runs right here in the request thread, and the ack deadline
(``handlers.runtime.ack_deadline``) guards Slack's clock: when it passes first, the HTTP layer acks
empty and the follow-up starts at once. In Socket Mode there is no deadline, so the read runs on the
bounded pool of ``handlers.runtime.ack_reads``, which gives up in time. Either way exactly one of
the ack and the follow-up answers: the follow-up asks ``answered_in_ack`` first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import Ack, BoltContext

from handlers.runtime import ack_deadline
from handlers.runtime.ack_reads import BoundedReads
from handlers.runtime.follow_up import Listener, later_of, nothing_left_to_do

logger = logging.getLogger(__name__)

Reply = Mapping[str, Any]  # the ack's keyword arguments: text, blocks, response_type
Read = Callable[[], Reply | None]
Plan = Callable[[], Reply | Read | None]

# Set in the context by the ack: the one answer this request gets.
_ANSWER = "billing_one_answer"


class _OneAnswer:
    """Whoever ``take``s first answers: the ack, or "later" (the usual follow-up, or the one the
    ack deadline started while the ack was still reading)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._taken = False

    def take(self) -> bool:
        with self._lock:
            taken, self._taken = self._taken, True
            return not taken


def answer_in_ack(
    ack: Ack, context: BoltContext, plan: Plan, *, later: Listener, later_args: dict[str, Any], reads: BoundedReads
) -> None:
    """Ack with what ``plan`` gives in time, or ack empty and leave the answer to ``later``.

    ``later(**later_args)`` is the follow-up that answers otherwise; it is started here only when the
    ack deadline passes first (the listener's own follow-up starts it after the ack).
    """
    once = _OneAnswer()
    context[_ANSWER] = once
    deadline = ack_deadline.current()
    if deadline is not None:
        runner = later_of(context)
        deadline.on_expire(lambda: runner.run(later, **later_args))
    reply = _in_time(plan, deadline, reads)
    if reply is None or (deadline is not None and not deadline.claim()) or not once.take():
        ack()
        return
    nothing_left_to_do(context)
    ack(**reply)


def answered_in_ack(context: BoltContext) -> bool:
    """For the follow-up: True when the ack answered (or another follow-up is answering), so this
    one must not; False means it is this follow-up's turn to answer."""
    once = context.get(_ANSWER)
    return isinstance(once, _OneAnswer) and not once.take()


def _in_time(plan: Plan, deadline: ack_deadline.AckDeadline | None, reads: BoundedReads) -> Reply | None:
    try:
        step = plan()
        if step is None or not callable(step):
            return step
        if deadline is not None:
            return step()
        return reads.run(step)
    except Exception:
        logger.exception("could not answer in the ack: answering later")
        return None
