"""The Bolt app, assembled from services and settings (HTTP, Socket Mode and the console share it)."""

from __future__ import annotations

import atexit
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient

from billing_core.container import Services
from billing_core.errors import ConfigurationError
from billing_core.identity.directory import PrincipalDirectory
from billing_core.identity.principal import workspace_prefix
from billing_core.marks import OnceMarks
from bot.settings import Settings
from bot.slack.client import make_web_client
from bot.slack.oauth import AllowListedInstallationStore
from bot.slack.seen_people import SeenPeople
from bot.slack.workspaces import SlackWorkspaces, Workspace, slack_workspaces
from bot.web.correlation import ContextExecutor, correlate
from handlers.chat.rules import RuleUnderstander
from handlers.kit.identity import IdentityResolver
from handlers.kit.interaction import Deps, HomePublishing
from handlers.kit.text_guard import card_number_guard
from handlers.registry import listener_deps, register_listeners
from handlers.runtime.follow_up import Later, put_later
from handlers.runtime.web_api import PooledClients

logger = logging.getLogger(__name__)

LISTENER_THREADS = 32


def build_bolt_app(
    services: Services,
    settings: Settings,
    *,
    client: WebClient | None = None,
    identity: IdentityResolver | None = None,
    socket_mode: bool = False,
    verify_token: bool = True,
    store: AllowListedInstallationStore | None = None,
    workspaces: SlackWorkspaces | None = None,
    seen: SeenPeople | None = None,
) -> App:
    """``build_slack_app``'s Bolt app (tests, the bench)."""
    app, _deps = build_slack_app(
        services,
        settings,
        client=client,
        identity=identity,
        socket_mode=socket_mode,
        verify_token=verify_token,
        store=store,
        workspaces=workspaces,
        seen=seen,
    )
    return app


def build_slack_app(
    services: Services,
    settings: Settings,
    *,
    client: WebClient | None = None,
    identity: IdentityResolver | None = None,
    socket_mode: bool = False,
    verify_token: bool = True,
    store: AllowListedInstallationStore | None = None,
    workspaces: SlackWorkspaces | None = None,
    seen: SeenPeople | None = None,
    listener_executor: Executor | None = None,
    home_publisher: HomePublishing | None = None,
) -> tuple[App, Deps]:
    """A sync Bolt app and the deps its listeners get: acks in the request thread
    (``process_before_response``), slow work in
    follow-ups on Bolt's listener thread pool (``handlers.runtime.follow_up``). OAuth when
    ``SLACK_CLIENT_ID``/``SECRET`` are set, else the single-workspace ``SLACK_BOT_TOKEN``."""
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    if not socket_mode and not signing_secret:
        raise ConfigurationError("SLACK_SIGNING_SECRET is required for this mode but is not set")
    common: dict[str, Any] = {
        "signing_secret": signing_secret or "socket-mode-has-no-signing-secret",
        # bot.web.http checks every signature before Bolt sees the request (one check, not two).
        "request_verification_enabled": False,
        "process_before_response": True,
        "raise_error_for_unhandled_request": False,
        "url_verification_enabled": True,
        "ignoring_self_events_enabled": True,
        # Follow-ups wait on Stripe and Slack (a 429 sleeps): a small pool would queue other payers.
        "listener_executor": listener_executor
        or ContextExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="bolt-listener"),
    }
    executor: Executor = common["listener_executor"]
    seen_people = _seen_people(services, seen)
    forget_authorization: Callable[[str | None, str | None], None] | None = None
    if settings.oauth_enabled:
        from bot.slack.oauth import StoreAuthorize, installation_store, oauth_settings
        from bot.slack.uninstall import register_uninstall_listeners

        store = store or installation_store(settings, services.db.engine)
        authorize = StoreAuthorize(store)

        def forget_workspace(enterprise_id: str | None, team_id: str | None) -> None:
            """A workspace leaving: its authorization and the people seen there not yet written."""
            authorize.forget(enterprise_id, team_id)
            seen_people.forget(workspace_prefix(team_id, enterprise_id))

        app = App(
            client=client or make_web_client(settings, bot_token=False),
            oauth_settings=oauth_settings(settings, services.db.engine, store),
            installation_store=store,
            authorize=authorize,  # type: ignore[arg-type]  # an Authorize is accepted
            **common,
        )
        register_uninstall_listeners(
            app,
            store,
            PrincipalDirectory(services.db, services.clock),
            services.audit,
            forget_authorization=forget_workspace,
        )
        forget_authorization = forget_workspace
    else:
        if settings.slack_bot_token is None:
            raise ConfigurationError("SLACK_BOT_TOKEN is required for this mode but is not set")
        app = App(
            # The client carries the token (and SLACK_API_URL, and the 429 handling).
            client=client or make_web_client(settings),
            token_verification_enabled=verify_token,
            **common,
        )
    workspaces = workspaces or slack_workspaces(settings, store=app.installation_store, default_client=app.client)
    deps = listener_deps(
        services,
        identity or IdentityResolver(on_resolved=seen_people.saw),
        settings.support_email,
        client_for_principal=workspaces.client_for_principal,
        support_team=Workspace.from_key(settings.support_slack_team).team_id if settings.support_slack_team else None,
        # Follow-ups run where Bolt runs listeners.
        later=Later(lambda: executor),
        # "This modal already shows a payment's outcome", seen by every process on the database.
        marks=OnceMarks(services.db, services.clock),
        # What reads typed messages: the rules (another understander plugs in here, behind handlers.kit.seam).
        understander=RuleUnderstander(),
        home_publisher=home_publisher,
    )
    app.use(_our_middleware(deps))
    if forget_authorization is not None:
        _register_team_access(app, services, deps, workspaces, forget_authorization)
    register_listeners(app)
    return app, deps


def _register_team_access(
    app: App,
    services: Services,
    deps: Deps,
    workspaces: SlackWorkspaces,
    forget_authorization: Callable[[str | None, str | None], None],
) -> None:
    """Org-wide installs: workspaces added to or removed from the app (``bot.slack.uninstall``)."""
    from bot.slack.uninstall import register_team_access_listeners

    def forget(enterprise_id: str | None, team_id: str | None) -> None:
        forget_authorization(enterprise_id, team_id)
        workspaces.forget(Workspace(team_id, enterprise_id))

    register_team_access_listeners(
        app,
        PrincipalDirectory(services.db, services.clock),
        services.audit,
        forget_workspace=forget,
        publish_home=deps.home.publish,
    )


def _seen_people(services: Services, seen: SeenPeople | None) -> SeenPeople:
    """Where each person uses the bot (reminders go to the workspace they used last).
    The buffer is flushed and stopped when its database closes (``serve`` also flushes its own at
    shutdown), or at exit."""
    seen = seen or SeenPeople(PrincipalDirectory(services.db, services.clock))
    services.db.on_dispose(seen.stop)
    atexit.register(seen.stop)
    return seen


def _our_middleware(deps: Deps) -> Callable[..., BoltResponse]:
    """Our middlewares as one: Bolt works out the arguments of each middleware on every request.

    In order: a correlation id (Socket Mode), the pooled Web API client, the card-number
    guard (before any listener: card-like text is refused, never processed), the deps.
    """

    def put_deps(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        context["deps"] = deps
        context["services"] = deps.services
        put_later(context, deps.later)
        return next()

    clients = PooledClients()

    def ours(
        req: BoltRequest, body: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        return correlate(
            req,
            lambda: clients.use(context, lambda: card_number_guard(body, lambda: put_deps(context, next))),
        )

    return ours
