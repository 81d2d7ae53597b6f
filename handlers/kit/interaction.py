"""One request from Slack, seen from a listener: who asked, their accounts, the payload.

Everything in the payload is untrusted. Values naming an account, invoice or card are checked
by the services against the caller's verified e-mail; refusals that look like forgeries are audited.

What listeners need besides the request: services, identity cache, support address.

Put in the Bolt context by a middleware (``context["deps"]`` and ``context["services"]``);
never a module global. Anything deep-copying a context gets these back as themselves."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from slack_bolt import BoltContext
from slack_sdk import WebClient

from billing_core.container import Services
from billing_core.marks import OnceMarks
from billing_core.views import AccountView, Actor, CallerContext
from handlers.kit.blocks import Screen
from handlers.kit.identity import IdentityResolver
from handlers.runtime.ack_reads import BoundedReads
from handlers.runtime.follow_up import Later
from handlers.runtime.ttl_cache import TtlCache

if TYPE_CHECKING:
    from handlers.kit.seam import Understander
import logging

from billing_core.container import Payments
from billing_core.errors import AccountNotFound, BillingError, NotABillingContact
from billing_core.payments.methods import PaymentMethodService
from billing_core.payments.service import PaymentService
from handlers.kit.blocks import message_screen
from handlers.kit.errors import (
    GENERIC_FAILURE,
    PAYMENTS_UNAVAILABLE,
    PaymentsUnavailable,
    is_forgery_suspect,
    not_a_contact_message,
    user_message,
)
from handlers.kit.surfaces import Surface, surface_for


class ShownOutcomes:
    """Modals already showing a payment outcome, so a double click's "in progress" never hides it.

    A display nicety, not a guard (the database guards the charge). With ``marks`` the marks are
    in the database, so a double click that reaches another process is recognised too; without,
    they are process-local and bounded.
    """

    KIND = "shown-outcome"

    def __init__(self, marks: OnceMarks | None = None, *, limit: int = 10_000) -> None:
        self._marks = marks
        self._limit = limit
        self._views: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def mark(self, view_id: str | None) -> None:
        if not view_id:
            return
        if self._marks is not None:
            self._marks.claim(self.KIND, view_id)
            return
        with self._lock:
            self._views[view_id] = None
            while len(self._views) > self._limit:
                self._views.popitem(last=False)

    def shown(self, view_id: str | None) -> bool:
        if not view_id:
            return False
        if self._marks is not None:
            return self._marks.seen(self.KIND, view_id)
        with self._lock:
            return view_id in self._views


# How long the support channel's member list answers "may this person be staff?" for the Home tab.
STAFF_ROSTER_SECONDS = 30.0


class HomePublishing(Protocol):
    def publish(
        self,
        client: WebClient,
        team_id: str,
        user_id: str,
        enterprise_id: str | None = None,
        *,
        view_hash: str | None = None,
    ) -> None: ...


@dataclass(frozen=True)
class Deps:
    services: Services
    identity: IdentityResolver
    support_email: str
    # Screens the kit shows but the subdomains draw (handed in by ``handlers.registry.listener_deps``).
    overview_screen: Callable[[Interaction, CallerContext], Screen]
    verification_prompt: Callable[[Services, Actor], Screen]
    # The account's current invoices (after a refused or stale click): drawn by layers above the
    # subdomains, so handed in too.
    invoices_screen: Callable[[Interaction, CallerContext, AccountView], Screen]
    # Publishes a person's Home tab, in a request or outside one (``handlers.home.publisher``): the
    # one instance the notifier also calls, so both share what was last published to whom.
    home: HomePublishing
    # The client of the workspace a principal belongs to (a DM to someone of another workspace).
    client_for_principal: Callable[[str], WebClient | None] = lambda _principal: None
    # The workspace (team id) holding the billing support channel, when several are installed.
    support_team: str | None = None
    outcomes: ShownOutcomes = field(default_factory=ShownOutcomes)
    ack_reads: BoundedReads = field(default_factory=BoundedReads)
    later: Later = field(default_factory=Later)
    # The support channel's members as Slack last listed them, per (workspace, channel): who may be
    # billing staff (``handlers.kit.staff``); kept briefly so everyone else's Home costs no Slack call.
    staff_roster: TtlCache[tuple[str, str], frozenset[str] | None] = field(
        default_factory=lambda: TtlCache(STAFF_ROSTER_SECONDS)
    )
    # What reads typed messages (``handlers.kit.seam``); None: chat's rule-based understander.
    understander: Understander | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Deps:
        return self


def deps_of(context: BoltContext) -> Deps:
    deps = context.get("deps")
    if not isinstance(deps, Deps):
        raise RuntimeError("the deps middleware did not run")
    return deps


logger = logging.getLogger(__name__)


class IdentityNotCached(Exception):
    """The caller is not in the identity cache and this interaction may not ask Slack."""


class NotAContact(Exception):
    """The caller is no verified billing contact: ``run_safely`` shows ``Interaction.refusal``."""


class Interaction:
    """The caller and payload of one Slack request."""

    def __init__(
        self, body: dict[str, Any], client: WebClient, context: BoltContext, *, cached_identity_only: bool = False
    ) -> None:
        self.body = body
        self.client = client
        self.context = context
        self.deps: Deps = deps_of(context)
        self.services: Services = self.deps.services
        user = body.get("user") if isinstance(body.get("user"), dict) else {}
        assert isinstance(user, dict)
        team = body.get("team") if isinstance(body.get("team"), dict) else {}
        assert isinstance(team, dict)
        self.user_id = str(context.user_id or user.get("id") or body.get("user_id") or "")
        self.team_id = str(context.team_id or user.get("team_id") or team.get("id") or body.get("team_id") or "")
        enterprise = body.get("enterprise") if isinstance(body.get("enterprise"), dict) else {}
        assert isinstance(enterprise, dict)
        self.enterprise_id: str | None = context.enterprise_id or (
            str(enterprise["id"]) if isinstance(enterprise.get("id"), str) else None
        )
        self._cached_identity_only = cached_identity_only
        self._actor: Actor | None = None
        self._unverified: Actor | None = None
        self._resolved = False
        self._slack_actor: Actor | None = None
        self._slack_resolved = False
        self._caller: CallerContext | None = None

    def publish_home(self) -> None:
        """Republish the caller's Home tab (after a change they made). Never raises."""
        self.deps.home.publish(self.client, self.team_id, self.user_id, self.enterprise_id)

    @property
    def slack_actor(self) -> Actor | None:
        """The caller with the e-mail Slack holds for them, not yet checked against the e-mail their
        principal proved (``actor`` checks it; a read that brings the proof along checks it with
        ``IdentityVerification.proven_by``)."""
        if not self._slack_resolved:
            if self._cached_identity_only:  # an ack never waits for Slack
                known, actor = self.deps.identity.cached(self.team_id, self.user_id)
                if not known:
                    raise IdentityNotCached(self.user_id)
            else:
                actor = self.deps.identity.resolve(self.client, self.team_id, self.user_id, self.enterprise_id)
            self._slack_actor, self._slack_resolved = actor, True
        return self._slack_actor

    @property
    def actor(self) -> Actor | None:
        """The caller with the e-mail Slack holds for them; ``None`` when none is visible, or while
        they still have to prove that e-mail (``IDENTITY_VERIFICATION=email_code``)."""
        if not self._resolved:
            actor = self.slack_actor
            if actor is not None and self.services.identity_verification.needs_code(actor):
                self._unverified, actor = actor, None
            self._actor = actor
            self._resolved = True
        return self._actor

    @property
    def unverified(self) -> Actor | None:
        """The caller as Slack names them, when they are a contact who has not proven the e-mail yet."""
        _ = self.actor
        return self._unverified

    def caller(self) -> CallerContext | None:
        """The caller's accounts, or ``None`` when they are not a billing contact.

        Read once per request: a listener asking again gets the same answer without a query.
        """
        if self._caller is not None:
            return self._caller
        actor = self.actor
        if actor is None:
            return None
        try:
            self._caller = self.services.accounts.caller(actor)
        except NotABillingContact:
            return None
        return self._caller

    def contact(self) -> CallerContext:
        """The caller's accounts; ``NotAContact`` (the refusal screen) for anyone else."""
        caller = self.caller()
        if caller is None:
            raise NotAContact(self.user_id)
        return caller

    def contact_actor(self) -> Actor:
        """The caller as a verified e-mail, without reading their accounts; ``NotAContact`` when none."""
        actor = self.actor
        if actor is None:
            raise NotAContact(self.user_id)
        return actor

    def require_payments(self) -> Payments:
        """Payments and cards; ``PaymentsUnavailable`` (said as such) without a Stripe key."""
        return self.services.require_payments()

    @property
    def payments(self) -> PaymentService:
        """Payments; ``PaymentsUnavailable`` (said as such) without a Stripe key."""
        return self.services.require_payments().service

    @property
    def payment_methods(self) -> PaymentMethodService:
        """Saved cards; ``PaymentsUnavailable`` (said as such) without a Stripe key."""
        return self.services.require_payments().methods

    def refusal(self) -> Screen:
        """Why there is no billing data: not a contact, or (with a code e-mailed now) not verified yet."""
        if self.unverified is not None:
            return self.deps.verification_prompt(self.services, self.unverified)
        return message_screen(not_a_contact_message(self.deps.support_email))

    def surface(self, *, new_message: bool = False) -> Surface:
        return surface_for(self.body, self.client, new_message=new_message)

    def record_refusal(self, error: BaseException, **detail: Any) -> None:
        """Audit a refused value from the payload (forged, or merely stale: they look the same)."""
        if not is_forgery_suspect(error):
            return
        try:
            self.services.audit.record(
                actor=self.actor,
                action="forgery.refused",
                outcome="refused",
                target=str(detail.get("target") or "")[:255] or None,
                detail={"error": type(error).__name__, "slack_user": self.user_id, **detail},
            )
        except Exception:
            logger.exception("could not audit a refused value")


def member_account(caller: CallerContext, external_id: object) -> AccountView:
    """The caller's account named in a payload; ``AccountNotFound`` for anything else."""
    account = caller.account(external_id) if isinstance(external_id, str) else None
    if account is None:
        raise AccountNotFound(str(external_id))
    return account


def run_safely(
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    work: Callable[[Interaction], None],
    *,
    surface: Surface | None = None,
) -> None:
    """Run a follow-up so that no failure is silent: log it and tell the person.

    Someone who is no verified contact gets the refusal (or the e-mail code); a domain refusal its
    text; payments without a Stripe key say they are unavailable; anything else the generic failure.
    """
    try:
        interaction = Interaction(body, client, context)
    except Exception:
        logger.exception("could not read the interaction")
        return
    try:
        work(interaction)
    except NotAContact:
        _tell(interaction, surface, interaction.refusal)
    except PaymentsUnavailable:
        _tell(interaction, surface, lambda: message_screen(PAYMENTS_UNAVAILABLE))
    except BillingError as error:
        logger.info("refused: %s", type(error).__name__)
        text = user_message(error)
        _tell(interaction, surface, lambda: message_screen(text))
    except Exception:
        logger.exception("listener failed")
        _tell(interaction, surface, lambda: message_screen(GENERIC_FAILURE))


def _tell(interaction: Interaction, surface: Surface | None, screen: Callable[[], Screen]) -> None:
    try:
        (surface or interaction.surface(new_message=True)).show(screen())
    except Exception:
        logger.exception("could not tell the user about a failure")
