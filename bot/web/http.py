"""The HTTP face (README, "Operate"): Slack events, Stripe, health, metrics, OAuth.

Nothing a client sends causes a 5xx: Slack requests are verified and checked before Bolt sees
them (401 / 400), and Bolt runs on a thread pool so requests never queue behind each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from billing_core.adapters.threads import ThreadBackground
from billing_core.container import Services
from billing_core.marks import OnceMarks
from bot.settings import Settings
from bot.web.api_routes import api_routes
from bot.web.correlation import RequestIdMiddleware
from bot.web.metrics import Metrics
from bot.web.request_body import capped_body
from bot.web.stripe_routes import stripe_routes
from handlers.escalations.listeners import staff_channel_problem
from handlers.runtime import ack_deadline
from handlers.runtime.seen_events import SeenEvents
from handlers.runtime.slack_requests import MAX_BODY_BYTES, Malformed, read, verify

logger = logging.getLogger(__name__)

# Threads dispatching Slack requests to Bolt at once (Starlette's pool had 40 too).
BOLT_THREADS = 40

Endpoint = Callable[[Request], Awaitable[Response]]


def create_http_app(
    services: Services,
    settings: Settings,
    bolt_app: App,
    *,
    metrics: Metrics | None = None,
    seen_events: SeenEvents | None = None,
    at_shutdown: Sequence[Callable[[], None]] = (),
) -> Starlette:
    """The ASGI app ``billing-bot serve`` runs; ``at_shutdown`` runs in its lifespan's shutdown
    (SIGTERM included: uvicorn then re-raises the signal, and atexit handlers never run)."""
    metrics = metrics or Metrics()
    # Event ids are claimed in memory first, then in the database (every process sees a retry).
    # First deliveries' marks are written in batches by a background loop (handlers.runtime.seen_events).
    marks = OnceMarks(services.db, services.clock, background=ThreadBackground())
    seen = seen_events or SeenEvents(shared=marks)
    at_shutdown = (*at_shutdown, marks.stop)  # the noted first deliveries written before exit
    if services.escalations is not None:
        from billing_core.adapters.metrics import EscalationCollector

        metrics.registry.register(EscalationCollector(services.escalations.outbox))
    if services.outbound is not None:
        from billing_core.adapters.metrics import OutboundCollector

        metrics.registry.register(OutboundCollector(services.outbound))
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""

    # Bolt runs on this pool: cheaper per request than Starlette's run_in_threadpool (anyio's
    # capacity limiter and cancel scopes), and only Slack requests queue on it.
    bolt_threads = ThreadPoolExecutor(max_workers=BOLT_THREADS, thread_name_prefix="slack-request")

    def dispatch_once(bolt_request: BoltRequest, event_id: str | None, retry: bool) -> BoltResponse:
        if event_id is not None and not seen.claim_shared(event_id, retry=retry):
            logger.info("ignored event %s: another process took it in", event_id)
            metrics.slack_requests.labels("event", "duplicate").inc()
            return BoltResponse(status=200, body="")
        return bolt_app.dispatch(bolt_request)

    async def dispatch_in_time(bolt_request: BoltRequest, event_id: str | None, retry: bool) -> BoltResponse | None:
        """Bolt's answer, or ``None`` when the ack deadline passed first (an empty ack is due)."""
        deadline, token = ack_deadline.start()
        try:
            context = contextvars.copy_context()  # the deadline and the correlation id go along
        finally:
            ack_deadline.reset(token)
        loop = asyncio.get_running_loop()
        dispatched = loop.run_in_executor(bolt_threads, context.run, dispatch_once, bolt_request, event_id, retry)
        waiter: asyncio.Future[None] = loop.create_future()

        def wake(_: object = None) -> None:
            if not waiter.done():
                waiter.set_result(None)

        dispatched.add_done_callback(wake)
        timer = loop.call_later(ack_deadline.ACK_DEADLINE_SECONDS, wake)
        try:
            await waiter
        finally:
            timer.cancel()
        if not dispatched.done() and deadline.expire():
            return None
        return await dispatched  # done, or its answer was claimed just in time

    async def slack_events(request: Request) -> Response:
        body = await capped_body(request, MAX_BODY_BYTES)
        kind = "unknown"
        if isinstance(body, Response):
            return body  # too large, too slow, or the client went away
        headers = request.headers
        if not secret or not verify(
            secret, body, headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
        ):
            metrics.slack_requests.labels(kind, "unauthorized").inc()
            return _error(401, "invalid request")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, "body is not UTF-8")
        try:
            slack_request = read(text)  # checks, kind and event id from one parse (Bolt parses its own)
        except Malformed as why:
            logger.info("refused a malformed Slack request: %s", why)
            metrics.slack_requests.labels(kind, "malformed").inc()
            return _error(400, "malformed request")
        kind = slack_request.kind
        event_id = slack_request.event_id
        if event_id is not None and not seen.claim(event_id):
            # Slack's retry (X-Slack-Retry-Num) of an event already taken in: acknowledge, do nothing.
            logger.info(
                "ignored a repeated delivery of event %s (retry %s)",
                event_id,
                headers.get("x-slack-retry-num", "-")[:4],
            )
            metrics.slack_requests.labels(kind, "duplicate").inc()
            return Response(status_code=200)
        try:
            bolt_request = to_bolt_request(request, body)
        except Exception:  # a shape our checks let through but Bolt cannot read (fuzzing found some)
            logger.info("refused a Slack request Bolt cannot read", exc_info=True)
            metrics.slack_requests.labels(kind, "malformed").inc()
            if event_id is not None:
                seen.release(event_id)
            return _error(400, "malformed request")
        # Never on the event loop: a slash command's ack may read the database (its answer in the
        # ack body, handlers/commands.py) and Bolt's authorization may call Slack. The deadline
        # makes sure Slack hears from us in time whatever that thread is waiting for.
        try:
            # Slack's retries say so; only they can race another replica's first delivery.
            retry = "x-slack-retry-num" in headers
            bolt_response = await dispatch_in_time(bolt_request, event_id, retry)
            if bolt_response is None:
                logger.warning("acknowledged a %s request empty: its listener took too long to answer", kind)
                metrics.slack_requests.labels(kind, "late").inc()
                return Response(status_code=200)
        except Exception:
            logger.exception("Bolt failed on a verified request")
            metrics.slack_requests.labels(kind, "error").inc()
            if event_id is not None:
                seen.release(event_id)
            return _error(400, "request could not be processed")
        if bolt_response.status >= 500:
            logger.error("Bolt answered %s", bolt_response.status)
            metrics.slack_requests.labels(kind, "error").inc()
            if event_id is not None:
                seen.release(event_id)
            return _error(400, "request could not be processed")
        metrics.slack_requests.labels(kind, "ok").inc()
        return to_starlette_response(bolt_response)

    ops_token = settings.metrics_token.get_secret_value() if settings.metrics_token else None

    def operator(request: Request) -> bool:
        """True without ``METRICS_TOKEN``, else only for ``Authorization: Bearer <METRICS_TOKEN>``."""
        if ops_token is None:
            return True
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {ops_token}".encode())

    async def healthz(request: Request) -> Response:
        if await run_in_threadpool(services.db.ping):
            detail: dict[str, object] = {"status": "ok", "database": "ok"}
            if services.escalations.support_channel:  # private and unshared, else nothing is posted there
                problem = await run_in_threadpool(staff_channel_problem, services)
                detail["support_channel"] = "ok" if problem is None else f"not posting: {problem}"
            if operator(request):  # permanent e-mail failures show here, to operators only
                detail["escalations"] = await run_in_threadpool(services.escalations.health)
                if services.outbound is not None:
                    detail["outbound"] = await run_in_threadpool(services.outbound.health)
            return JSONResponse(detail)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)

    async def metrics_page(request: Request) -> Response:
        if not operator(request):
            return _error(401, "metrics need the operator token")
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    routes: list[BaseRoute] = [
        Route("/slack/events", _timed(metrics, "/slack/events", slack_events), methods=["POST"]),
        Route("/healthz", _timed(metrics, "/healthz", healthz), methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
    ]
    if bolt_app.oauth_flow is not None:
        routes.extend(_oauth_routes(bolt_app))
    routes.extend(stripe_routes(services, settings))
    routes.extend(api_routes(services.push, settings.api_tokens()))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        for step in at_shutdown:
            try:
                await run_in_threadpool(step)
            except Exception:
                logger.exception("a shutdown step failed")

    return Starlette(routes=routes, middleware=[Middleware(RequestIdMiddleware)], lifespan=lifespan)


def _oauth_routes(bolt_app: App) -> list[BaseRoute]:
    flow = bolt_app.oauth_flow
    assert flow is not None

    async def install(request: Request) -> Response:
        return await _oauth(request, flow.handle_installation)

    async def redirect(request: Request) -> Response:
        return await _oauth(request, flow.handle_callback)

    return [
        Route(flow.install_path, install, methods=["GET"]),
        Route(flow.redirect_uri_path, redirect, methods=["GET"]),
    ]


async def _oauth(request: Request, handle: Callable[[BoltRequest], BoltResponse]) -> Response:
    try:
        return to_starlette_response(await run_in_threadpool(handle, to_bolt_request(request, b"")))
    except Exception:
        logger.exception("OAuth step failed")
        return _error(400, "the installation could not be completed")


def _timed(metrics: Metrics, route: str, endpoint: Endpoint) -> Endpoint:
    async def timed(request: Request) -> Response:
        started = time.perf_counter()
        response = await endpoint(request)
        metrics.http_seconds.labels(route).observe(time.perf_counter() - started)
        metrics.http_requests.labels(route, str(response.status_code)).inc()
        return response

    return timed


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)
