"""The listener kit: everything around a listener's use case, written once.

``@for_account(Payload)`` turns a use case ``(Request) -> None`` into a follow-up for
``acked(...)``. Before the use case runs, the kit puts up the listener's surface, resolves the
caller (anyone who is no verified billing contact gets the refusal, or the e-mail code), reads the
payload once (a forged or malformed value is ``MalformedPayload``) and checks that the account it
names is one of the caller's. A ``BillingError`` from any of that or from the use case is audited
when it looks like a forgery and answered by the listener's ``refused`` screen (by default: "out of
date" over the caller's overview when the account is not theirs, else the error's text). Anything
else is logged and told as a generic failure (``run_safely``).

A new button is then: a payload model (``handlers.kit.payloads``), a Block Kit builder writing
``Model(...).encode()`` as the button's value, and one listener body of use-case code::

    @for_account(AccountRef, surface=opened_surface)
    def show_methods(request: Request[AccountRef]) -> None:
        request.show(screens.methods(request.ix, request.caller, request.account))

    app.action(SHOW_METHODS_ACTION)(acked(show_methods))
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.errors import BillingError
from billing_core.views import AccountView, Actor, CallerContext
from handlers.kit.blocks import Screen, message_screen
from handlers.kit.errors import OUT_OF_DATE, MalformedPayload, user_message
from handlers.kit.interaction import Interaction, member_account, run_safely
from handlers.kit.payloads import Payload
from handlers.kit.surfaces import Surface, surface_for
from handlers.runtime.follow_up import Listener, acked_then

logger = logging.getLogger(__name__)

P = TypeVar("P", bound=Payload)

SurfaceFor = Callable[[dict[str, Any], WebClient], Surface]
FollowUp = Callable[[dict[str, Any], WebClient, BoltContext], None]


def plain_ack(ack: Ack) -> None:
    """Acknowledge with nothing: the answer follows."""
    ack()


def acked(*follow_ups: Listener) -> Listener:
    """One Bolt listener: a plain ack now, then ``follow_ups`` on the listener pool."""
    return acked_then(plain_ack, *follow_ups)


def new_message(body: dict[str, Any], client: WebClient) -> Surface:
    """A new ephemeral reply (or modal), leaving the message clicked as it is."""
    return surface_for(body, client, new_message=True)


@dataclass(frozen=True)
class Request(Generic[P]):
    """One click by a verified billing contact, naming one of their own accounts."""

    ix: Interaction
    caller: CallerContext
    account: AccountView
    payload: P
    surface: Surface

    @property
    def actor(self) -> Actor:
        return self.caller.actor

    def show(self, screen: Screen) -> None:
        self.surface.show(screen)


@dataclass(frozen=True)
class ContactRequest(Generic[P]):
    """One click by a verified billing contact whose payload the services check value by value."""

    ix: Interaction
    actor: Actor
    payload: P
    surface: Surface

    def show(self, screen: Screen) -> None:
        self.surface.show(screen)


@dataclass(frozen=True)
class Refusal(Generic[P]):
    """A refused request: ``account`` is ``None`` when the payload named none of the caller's."""

    ix: Interaction
    caller: CallerContext
    account: AccountView | None
    payload: P | None
    error: BillingError
    surface: Surface


def out_of_date(refusal: Refusal[Any]) -> Screen | None:
    """The usual answer: "out of date" over the overview when the account was not the caller's;
    the error's own text when the use case refused."""
    if refusal.account is None:
        return refusal.ix.deps.overview_screen(refusal.ix, refusal.caller).with_notice(OUT_OF_DATE)
    return message_screen(user_message(refusal.error))


def say_why(refusal: Refusal[Any]) -> Screen | None:
    """The error's own text, whatever was refused."""
    return message_screen(user_message(refusal.error))


def for_account(
    payload: type[P],
    *,
    surface: SurfaceFor = surface_for,
    refused: Callable[[Refusal[P]], Screen | None] = out_of_date,
) -> Callable[[Callable[[Request[P]], None]], FollowUp]:
    """Make ``use_case`` a follow-up that runs only for a contact, on an account of theirs."""

    def decorate(use_case: Callable[[Request[P]], None]) -> FollowUp:
        def serve(ix: Interaction, where: Surface) -> None:
            caller = ix.contact()
            value: P | None = None
            account: AccountView | None = None
            try:
                value = payload.read(ix.body)
                account = member_account(caller, value.account_named(caller))
                use_case(Request(ix, caller, account, value, where))
            except BillingError as error:
                _audit(ix, error, value, caller)
                screen = refused(Refusal(ix, caller, account, value, error, where))
                if screen is not None:
                    where.show(screen)

        return _follow_up(use_case.__name__, surface, serve)

    return decorate


def for_contact(
    payload: type[P], *, surface: SurfaceFor = new_message
) -> Callable[[Callable[[ContactRequest[P]], None]], FollowUp]:
    """Make ``use_case`` a follow-up for a verified contact, without reading their accounts: the
    services check each value of the payload against the contact's e-mail. Refusals say why."""

    def decorate(use_case: Callable[[ContactRequest[P]], None]) -> FollowUp:
        def serve(ix: Interaction, where: Surface) -> None:
            actor = ix.contact_actor()
            value: P | None = None
            try:
                value = payload.read(ix.body)
                use_case(ContactRequest(ix, actor, value, where))
            except BillingError as error:
                _audit(ix, error, value, None)
                raise

        return _follow_up(use_case.__name__, surface, serve)

    return decorate


def _follow_up(name: str, surface: SurfaceFor, serve: Callable[[Interaction, Surface], None]) -> FollowUp:
    def follow_up(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        try:
            where = surface(body, client)
        except SlackApiError as error:  # a modal could not be opened in time; the fallback said so
            logger.warning("could not open the modal: %s", error.response.get("error"))
            return
        run_safely(body, client, context, lambda ix: serve(ix, where), surface=where)

    follow_up.__name__ = name
    return follow_up


def _audit(ix: Interaction, error: BillingError, value: Payload | None, caller: CallerContext | None) -> None:
    if value is None:
        ix.record_refusal(error, account=None, target=error.raw if isinstance(error, MalformedPayload) else "")
        return
    named = value.account_named(caller) if caller is not None else getattr(value, "account", None)
    ix.record_refusal(error, account=named, target=value.suspect(error))
