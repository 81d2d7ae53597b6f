"""Slack for the one-shot operator commands (``reminders run-once``, ``autopay run-once``,
``payments reconcile``): the same workspaces as ``serve``, in either install mode.

With ``SLACK_BOT_TOKEN`` every message goes through that token. Distributed by OAuth
(``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET``) there is no app-wide token: every message about a
person goes through the installation of that person's workspace, read from the installation store
in the database, and the support channel through ``SUPPORT_SLACK_TEAM``'s. Nothing here waits for
a thread pool: a command's DMs are sent before it exits.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import datetime
from typing import Any, TypeVar

from billing_core.clock import Clock, FixedClock, SystemClock
from billing_core.container import Services
from billing_core.db.database import Database
from billing_core.errors import ConfigurationError
from billing_core.payments.dm_threads import PaymentDmThreads
from bot.compose import build_services
from bot.settings import Settings
from bot.slack.client import make_web_client
from bot.slack.notifier import SlackNotifier
from bot.slack.oauth import installation_store
from bot.slack.workspaces import SlackWorkspaces, slack_workspaces
from handlers.escalations.listeners import slack_staff_channel

T = TypeVar("T")


class InlineExecutor(Executor):
    """Runs each task at once on the caller's thread (a command exits only when its DMs are out)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # the notifier logs its own failures; keep the Future honest
            future.set_exception(error)
        return future


def require_slack(settings: Settings) -> None:
    """Refuse a sending command with neither install mode configured, naming both."""
    if settings.oauth_enabled or settings.slack_bot_token is not None:
        return
    raise ConfigurationError(
        "SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (OAuth) "
        "is required for this mode but is not set"
    )


def operator_workspaces(settings: Settings, db: Database) -> SlackWorkspaces | None:
    """The workspaces a command sends through; ``None`` when no Slack credential is configured."""
    if settings.oauth_enabled:
        return slack_workspaces(settings, store=installation_store(settings, db.engine), default_client=None)
    if settings.slack_bot_token is None:
        return None
    return slack_workspaces(settings, store=None, default_client=make_web_client(settings))


def operator_services(settings: Settings, now: datetime | None = None) -> Services:
    """``build_services`` for a one-shot command, telling people by DM (payment outcomes, cards)
    and posting escalations to the support channel through the right workspace's installation."""
    clock: Clock = FixedClock(now) if now is not None else SystemClock()
    db = Database(settings.database_url)
    workspaces = operator_workspaces(settings, db)
    if workspaces is None:
        return build_services(settings, clock=clock, db=db)
    return build_services(
        settings,
        clock=clock,
        db=db,
        notifier=SlackNotifier(workspaces.client_for, executor=InlineExecutor(), threads=PaymentDmThreads(db)),
        staff_channel=slack_staff_channel(settings.support_slack_channel, workspaces.support_client),
    )
