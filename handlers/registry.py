"""Every listener module's ``register(app)``, in order; the catch-alls for stale actions last."""

from __future__ import annotations

import re
from collections.abc import Callable

from slack_bolt import App
from slack_sdk import WebClient

from billing_core.container import Services
from billing_core.marks import OnceMarks
from handlers import commands, navigation, screens
from handlers.autopay import listeners as autopay
from handlers.chat import listeners as chat
from handlers.chat.rules import RuleUnderstander
from handlers.escalations import listeners as escalations
from handlers.home import listeners as home
from handlers.home.publisher import HomePublisher
from handlers.identity import listeners as identity
from handlers.identity.prompt import verification_prompt
from handlers.kit.identity import IdentityResolver
from handlers.kit.interaction import Deps, HomePublishing, ShownOutcomes
from handlers.kit.seam import Understander
from handlers.payments import listeners as payments
from handlers.reminders import listeners as reminders
from handlers.runtime.follow_up import Later
from handlers.staff import listeners as staff


def register_listeners(app: App) -> None:
    """Register every listener on ``app``."""
    for module in (
        commands,
        home,
        payments,
        navigation,
        identity,
        escalations,
        reminders,
        autopay,
        staff,
        chat,
    ):
        module.register(app)
    # Events we do not handle are acknowledged (not 404), so Slack does not retry them. After the
    # modules: Bolt runs the first matching listener, so this would swallow chat's message events.
    app.event(re.compile(".*"))(lambda: None)
    navigation.register_catch_all(app)


def listener_deps(
    services: Services,
    identity: IdentityResolver,
    support_email: str,
    *,
    later: Later | None = None,
    marks: OnceMarks | None = None,
    client_for_principal: Callable[[str], WebClient | None] | None = None,
    support_team: str | None = None,
    understander: Understander | None = None,
    home_publisher: HomePublishing | None = None,
) -> Deps:
    """What every listener gets besides the request, with the screens the kit shows but the
    subdomains draw (the overview behind "out of date", the e-mail verification prompt, the
    current invoices, the Home tab)."""
    return Deps(
        services=services,
        identity=identity,
        support_email=support_email,
        overview_screen=screens.overview,
        verification_prompt=verification_prompt,
        invoices_screen=screens.current_invoices,
        home=home_publisher
        or HomePublisher(
            identity=identity,
            reads=services.home,
            proof=services.identity_verification,
            autopay=services.chargeable_autopay(),
            support_email=support_email,
        ),
        outcomes=ShownOutcomes(marks),
        later=later or Later(),
        client_for_principal=client_for_principal or (lambda _principal: None),
        support_team=support_team,
        understander=understander or RuleUnderstander(),  # what reads chat messages (handlers.kit.seam)
    )
