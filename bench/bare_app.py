"""The yardstick: a Bolt app that only acknowledges, on exactly our server stack.

Same ``App`` settings as ``bot.slack.app.build_bolt_app`` (sync, ``process_before_response``, request
verification), same Starlette app (``bot.web.http.create_http_app``: signature and shape checks,
``run_in_threadpool`` dispatch, metrics) and the same uvicorn settings as ``billing-bot serve``.
Only the listeners differ: each one calls ``ack()`` and nothing else.

    python -m bench.bare_app --port 3100 [--workers N]    (reads the same environment as ``serve``)

``--workers N`` runs N processes under uvicorn's process manager, as ``serve --workers N`` does.
"""

from __future__ import annotations

import argparse

from slack_bolt import Ack, App
from starlette.applications import Starlette

from bot.compose import build_services
from bot.settings import Settings
from bot.slack.client import make_web_client
from bot.web.http import create_http_app
from handlers.kit.ids import SHOW_INVOICES_ACTION
from handlers.runtime.seen_events import SeenEvents


def bare_bolt_app(settings: Settings) -> App:
    assert settings.slack_signing_secret is not None and settings.slack_bot_token is not None
    app = App(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        token=settings.slack_bot_token.get_secret_value(),
        client=make_web_client(settings),  # auth.test (once, by Bolt's authorization) goes to the stand-in
        token_verification_enabled=False,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        url_verification_enabled=True,
        ignoring_self_events_enabled=True,
    )

    def just_ack(ack: Ack) -> None:
        ack()

    app.command("/billing")(just_ack)
    app.action("pay_open")(just_ack)
    app.action(SHOW_INVOICES_ACTION)(just_ack)  # the wrk section's button click ("Pay" on the overview)
    app.event("app_home_opened")(just_ack)
    return app


def bare_http_app() -> Starlette:
    """The ASGI app, built from the environment (one per worker process with ``--workers``)."""
    settings = Settings()
    services = build_services(settings)
    # Event ids deduplicated in memory only: the database claim every replica shares is ours to
    # pay for, not the yardstick's (it would slow the bare app's Home events as much as ours).
    return create_http_app(services, settings, bare_bolt_app(settings), seen_events=SeenEvents())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3100)
    parser.add_argument("--workers", type=int, default=1, help="worker processes sharing the port")
    args = parser.parse_args()
    from bench.server import run_uvicorn

    log_level = Settings().log_level
    if args.workers > 1:
        run_uvicorn("bench.bare_app:bare_http_app", args.host, args.port, log_level, workers=args.workers)
    else:
        run_uvicorn(bare_http_app(), args.host, args.port, log_level)


if __name__ == "__main__":
    main()
