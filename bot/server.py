"""Composition for the Slack modes: notifier -> services -> Bolt app; ``serve`` runs it on uvicorn."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from billing_core.clock import Clock
from billing_core.container import Services
from billing_core.db.database import Database
from bot.app import build_bolt_app
from bot.bootstrap import build_services
from bot.settings import Settings
from bot.slack_client import make_web_client
from bot.slack_notifier import SlackNotifier
from handlers.identity.resolver import IdentityResolver

logger = logging.getLogger(__name__)


@dataclass
class SlackRuntime:
    services: Services
    app: App
    notifier: SlackNotifier


def build_runtime(
    settings: Settings,
    *,
    socket_mode: bool = False,
    clock: Clock | None = None,
    db: Database | None = None,
    identity: IdentityResolver | None = None,
) -> SlackRuntime:
    """Wire the whole Slack side. The notifier is built first (services tell people through it)
    and learns how to reach each workspace once the app (and its installation store) exists."""
    holder: dict[str, App] = {}
    default_client = make_web_client(settings) if not settings.oauth_enabled else None

    def client_for_team(team_id: str) -> WebClient | None:
        if default_client is not None:
            return default_client
        store = holder["app"].installation_store
        bot = store.find_bot(enterprise_id=None, team_id=team_id) if store is not None else None
        return make_web_client(settings, token=bot.bot_token) if bot is not None and bot.bot_token else None

    notifier = SlackNotifier(client_for_team)
    services = build_services(settings, clock=clock, db=db, notifier=notifier)
    app = build_bolt_app(
        services, settings, client=default_client, socket_mode=socket_mode, notifier=notifier, identity=identity
    )
    holder["app"] = app
    return SlackRuntime(services=services, app=app, notifier=notifier)


def start_scheduler(services: Services, settings: Settings, runtime: SlackRuntime) -> Any:
    """Start the reminder scheduler when that capability is installed (``bot.scheduler``)."""
    try:
        module = importlib.import_module("bot.scheduler")
    except ModuleNotFoundError as error:
        if error.name != "bot.scheduler":
            raise
        logger.info("no scheduler installed; scheduled jobs are not running")
        return None
    return module.start_scheduler(services=services, settings=settings, client=runtime.app.client)


def run_http(settings: Settings, *, host: str, port: int, scheduler: bool) -> None:
    """``billing-bot serve``: blocks until interrupted."""
    import uvicorn

    from bot.http import create_http_app
    from bot.http_protocol import KEEP_ALIVE_SECONDS, HeaderDeadlineProtocol

    runtime = build_runtime(settings)
    runtime.services.db.upgrade()  # safe to run again; serialised across processes
    asgi = create_http_app(runtime.services, settings, runtime.app)
    jobs = start_scheduler(runtime.services, settings, runtime) if scheduler else None
    try:
        # log_config=None: uvicorn's records go through our redacting root handler too.
        uvicorn.run(
            asgi, host=host, port=port, log_level=settings.log_level.lower(), access_log=False, log_config=None,
            # Slow clients are closed: late request headers, idle kept-alive connections (bot/http_protocol.py).
            http=HeaderDeadlineProtocol, timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
    finally:
        if jobs is not None and hasattr(jobs, "shutdown"):
            jobs.shutdown()
        runtime.notifier.shutdown()
