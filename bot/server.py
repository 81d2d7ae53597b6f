"""Composition for the Slack modes: notifier -> services -> Bolt app; ``serve`` runs it on uvicorn."""

from __future__ import annotations

import atexit
import logging
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from starlette.applications import Starlette

from billing_core.container import Services
from billing_core.db.schema import require_current_schema
from bot.compose import build_runtime
from bot.scheduler import start_scheduler as start_jobs
from bot.settings import Settings
from handlers.escalations.listeners import staff_channel_problem

logger = logging.getLogger(__name__)


def report_staff_channel(services: Services) -> None:
    """At start: say in one clear log line when ``SUPPORT_SLACK_CHANNEL`` is unfit (public, shared
    over Slack Connect, unreadable); escalations are then e-mailed but never posted there."""
    problem = staff_channel_problem(services)
    if problem is not None:
        logger.error("support channel refused, escalations will not be posted to Slack: %s", problem)


def start_outbound(services: Services) -> None:
    """Deliver outbound events and receipts from this process as they are committed, scheduler or
    not (``billing_core.outbound``). Call it once the database is migrated."""
    if services.outbound is not None:
        services.outbound.start()


def start_scheduler(services: Services, settings: Settings) -> BackgroundScheduler:
    """Start the scheduled jobs (reminders, escalation retries, reconciliation) for this process."""
    return start_jobs(services=services, settings=settings)


def run_http(settings: Settings, *, host: str, port: int, scheduler: bool, workers: int = 1) -> None:
    """``billing-bot serve``: blocks until interrupted.

    One worker serves in this process. With ``workers`` > 1, uvicorn's own process manager starts
    that many worker processes sharing the port (each builds the app with ``worker_app``) and
    restarts one that dies; this process keeps the scheduled jobs, which the lease runs once
    across every process on the database anyway.
    """
    import uvicorn

    from bot.web.http import create_http_app
    from bot.web.protocol import KEEP_ALIVE_SECONDS, HeaderDeadlineProtocol

    runtime = build_runtime(settings)
    require_current_schema(runtime.services.db)  # `billing-bot db upgrade` migrates, never a start
    report_staff_channel(runtime.services)
    start_outbound(runtime.services)
    jobs = start_scheduler(runtime.services, settings) if scheduler else None
    # log_config=None: uvicorn's records go through our redacting root handler too.
    options: dict[str, Any] = {
        "host": host, "port": port, "log_level": settings.log_level.lower(), "access_log": False, "log_config": None,
        # Slow clients are closed: late request headers, idle kept-alive connections (bot/web/protocol.py).
        "http": HeaderDeadlineProtocol, "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }  # fmt: skip
    try:
        if workers > 1:
            uvicorn.run(f"{__name__}:worker_app", factory=True, workers=workers, **options)
        else:
            # uvicorn re-raises SIGTERM after its graceful shutdown, so neither ``finally`` nor atexit
            # runs then: what must outlive the process is written in the app's lifespan shutdown.
            uvicorn.run(
                create_http_app(runtime.services, settings, runtime.app, at_shutdown=(runtime.seen.stop,)), **options
            )
    finally:
        if jobs is not None:
            jobs.shutdown()
        runtime.notifier.shutdown()


def worker_app() -> Starlette:
    """The ASGI app of one ``serve --workers N`` process, built from the environment like the parent's."""
    from bot.logging_setup import configure_from_settings
    from bot.settings import get_settings
    from bot.web.http import create_http_app

    settings = get_settings()
    configure_from_settings(settings)
    runtime = build_runtime(settings)
    start_outbound(runtime.services)  # the parent process migrated the database before starting workers
    atexit.register(runtime.notifier.shutdown)
    return create_http_app(runtime.services, settings, runtime.app, at_shutdown=(runtime.seen.stop,))
