"""``billing-bot socket``: the same Bolt app over Socket Mode (needs ``SLACK_APP_TOKEN``)."""

from __future__ import annotations

import signal

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from billing_core.db.schema import require_current_schema
from billing_core.errors import ConfigurationError
from bot.settings import Settings


def socket_mode_handler(app: App, settings: Settings) -> SocketModeHandler:
    """A handler whose ``apps.connections.open`` goes to ``SLACK_API_URL`` (the app's client)."""
    if settings.slack_app_token is None:
        raise ConfigurationError("SLACK_APP_TOKEN is required for this mode but is not set")
    return SocketModeHandler(app, app_token=settings.slack_app_token.get_secret_value(), web_client=app.client)


def run_socket(settings: Settings, *, scheduler: bool) -> None:
    """Connect and serve until interrupted."""
    from bot.compose import build_runtime
    from bot.server import report_staff_channel, start_outbound, start_scheduler

    if settings.slack_app_token is None:
        raise ConfigurationError("SLACK_APP_TOKEN is required for this mode but is not set")
    runtime = build_runtime(settings, socket_mode=True)
    require_current_schema(runtime.services.db)  # `billing-bot db upgrade` migrates, never a start
    report_staff_channel(runtime.services)
    start_outbound(runtime.services)
    jobs = start_scheduler(runtime.services, settings) if scheduler else None
    # SIGTERM ends the process like Ctrl-C, through ``finally``: "last seen" is written, not lost.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        socket_mode_handler(runtime.app, settings).start()  # type: ignore[no-untyped-call]
    finally:
        runtime.seen.stop()
        if jobs is not None and hasattr(jobs, "shutdown"):
            jobs.shutdown()
        runtime.notifier.shutdown()


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
