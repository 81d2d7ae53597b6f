"""Where a reply goes: the ephemeral message (``response_url``), or a modal.

Replies are never ``in_channel``. A modal opens with the trigger id (it expires in 3 s and can be
used once): with its content when that is ready in time, else with a loading view filled in later
with ``views.update``.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.payments.dm_threads import DmThread
from handlers.kit.blocks import Block, Screen, message_screen, modal, section
from handlers.kit.errors import WINDOW_NOT_OPENED
from handlers.kit.ids import SCREEN_MODAL_CALLBACK
from handlers.runtime.response_url import post_response

logger = logging.getLogger(__name__)

# Slack's answers when the message a reply was meant for is no longer there.
THREAD_GONE = ("thread_not_found", "message_not_found", "channel_not_found")


class Surface(Protocol):
    def show(self, screen: Screen) -> None: ...


def loading_view(title: str = "Billing") -> Block:
    return modal(title, [section(":hourglass_flowing_sand: One moment…")])


def screen_view(screen: Screen) -> Block:
    return modal(screen.title, screen.blocks, callback_id=SCREEN_MODAL_CALLBACK)


class ResponseUrlSurface:
    """An ephemeral reply through ``response_url``; ``replace`` swaps the message clicked.

    ``own_reply``: the URL is a slash command's, whose "original" message is the reply posted
    through it, so ``correct`` (``replace_original``) puts right what ``show`` posted.
    """

    def __init__(self, client: WebClient, url: str, *, replace: bool, own_reply: bool = False) -> None:
        self._url = url
        self._replace = replace
        self._own_reply = own_reply

    def show(self, screen: Screen) -> None:
        self._post(screen, replace=self._replace)

    def correct(self, screen: Screen) -> None:
        """Replace what ``show`` showed (only meaningful when ``correctable``)."""
        self._post(screen, replace=True)

    def _post(self, screen: Screen, *, replace: bool) -> None:
        status = post_response(
            self._url,
            {
                "text": screen.text,
                "blocks": screen.blocks,
                "response_type": "ephemeral",
                "replace_original": replace,
            },
        )
        if status >= 400:
            logger.warning("response_url answered %s", status)

    @property
    def replaces(self) -> bool:
        """True when this reply replaces the message clicked (so a later ``show`` corrects it in place)."""
        return self._replace

    @property
    def correctable(self) -> bool:
        """True when ``correct`` replaces what ``show`` showed: the clicked message ``show``
        replaced, or a slash command's reply (``own_reply``)."""
        return self._replace or self._own_reply


class ModalSurface:
    """A modal: an existing one (``view_id``) updated in place, or a new one opened or pushed.

    A new modal opens with the first view shown in it (one ``views.open``); ``open`` puts up a
    loading view first, for flows about to wait on something slow while the trigger id ticks.
    If the modal cannot be opened (the trigger expired), ``fallback`` says so instead.
    """

    def __init__(
        self,
        client: WebClient,
        *,
        view_id: str | None = None,
        trigger_id: str | None = None,
        push: bool = False,
        fallback: Surface | None = None,
    ) -> None:
        self._client = client
        self.view_id = view_id
        self._trigger_id = trigger_id
        self._push = push
        self._fallback = fallback
        # The ``hash`` Slack gave the view last shown here: ``correct`` changes only that view.
        self.view_hash: str | None = None

    def open(self, title: str = "Billing") -> None:
        """Open (or push) the loading modal now, while the trigger id is still valid.

        When Slack refuses, ``fallback`` (if any) says so and the ``SlackApiError`` is raised."""
        if self.view_id is None and self._trigger_id:
            self._open_with(loading_view(title))

    def show(self, screen: Screen) -> None:
        self.show_view(screen_view(screen))

    def show_view(self, view: Block) -> None:
        if self.view_id is None and self._trigger_id:
            try:
                self._open_with(view)
            except SlackApiError as error:
                logger.warning("views.open failed: %s", error.response.get("error"))
            return
        if self.view_id is None:
            logger.warning("no modal to show the reply in")
            return
        self._remember(self._client.views_update(view_id=self.view_id, view=view))

    def correct(self, view: Block) -> bool:
        """Replace the view last shown here, only if it is still the one shown (Slack checks the
        view's ``hash``): a person who moved on (submitted, went back) keeps what they see.
        False when nothing was changed."""
        if self.view_id is None or self.view_hash is None:
            return False
        try:
            self._remember(self._client.views_update(view_id=self.view_id, hash=self.view_hash, view=view))
        except SlackApiError as error:  # hash_conflict: the modal shows something else now
            logger.info("left the modal as it is: %s", error.response.get("error"))
            return False
        return True

    def _remember(self, response: Any) -> None:
        shown = response.get("view") if response is not None else None
        self.view_hash = str(shown["hash"]) if isinstance(shown, dict) and shown.get("hash") else None

    def _open_with(self, view: Block) -> None:
        trigger_id, self._trigger_id = self._trigger_id, None  # a trigger id works once
        opener = self._client.views_push if self._push else self._client.views_open
        try:
            response = opener(trigger_id=trigger_id, view=view)
        except SlackApiError:
            if self._fallback is not None:
                self._fallback.show(message_screen(WINDOW_NOT_OPENED))
            raise
        opened = response.get("view") or {}
        self.view_id = str(opened.get("id")) if isinstance(opened, dict) and opened.get("id") else None
        self._remember(response)


class DmSurface:
    """The caller's DM with the app (when the modal they submitted has closed)."""

    def __init__(self, client: WebClient, user_id: str) -> None:
        self._client = client
        self._user_id = user_id

    def show(self, screen: Screen) -> None:
        send_dm(self._client, self._user_id, screen)


class Nowhere:
    """No reply: the interaction's effect is elsewhere (the Home tab it came from)."""

    def show(self, screen: Screen) -> None:
        return None


def modal_of(surface: Surface) -> ModalSurface:
    """``surface`` as the modal a flow's surface factory made it (pay, support)."""
    assert isinstance(surface, ModalSurface), surface
    return surface


def opened_surface(body: dict[str, Any], client: WebClient, title: str = "Billing") -> Surface:
    """``surface_for``, with a new modal opened (loading) right now while the trigger id is valid."""
    surface = surface_for(body, client)
    if isinstance(surface, ModalSurface):
        surface.open(title)
    return surface


def surface_for(
    body: dict[str, Any], client: WebClient, *, new_message: bool = False
) -> ResponseUrlSurface | ModalSurface:
    """The natural place to answer an interaction from ``body``.

    From a modal: that modal. From the Home tab: a new modal. From a message: an ephemeral reply
    replacing it (or a new one with ``new_message``). From a slash command: a new ephemeral reply.
    """
    container = body.get("container") if isinstance(body.get("container"), dict) else {}
    assert isinstance(container, dict)
    view = body.get("view") if isinstance(body.get("view"), dict) else None
    if container.get("type") == "view" or view is not None:
        if isinstance(view, dict) and view.get("type") == "modal" and view.get("id"):
            return ModalSurface(client, view_id=str(view["id"]))
        return ModalSurface(client, trigger_id=_str(body.get("trigger_id")))
    response_url = _str(body.get("response_url"))
    if response_url:
        replace = bool(container.get("is_ephemeral")) and not new_message and body.get("type") == "block_actions"
        return ResponseUrlSurface(client, response_url, replace=replace)
    return ModalSurface(client, trigger_id=_str(body.get("trigger_id")))


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def send_dm(client: WebClient, user_id: str, screen: Screen) -> bool:
    """Post ``screen`` to the user's DM with the app. False when Slack refused."""
    return post_dm(client, user_id, screen) is not None


def post_dm(client: WebClient, user_id: str, screen: Screen, *, thread: DmThread | None = None) -> DmThread | None:
    """Post ``screen`` to the user's DM with the app, as a reply in ``thread`` when given (a
    message of that DM), and answer where it went (channel and ts); None when Slack refused."""
    try:
        if thread is not None:
            channel: object = thread.channel
        else:
            opened = client.conversations_open(users=user_id)
            channel = (opened.get("channel") or {}).get("id")
        if not channel:
            return None
        posted = client.chat_postMessage(
            channel=str(channel),
            text=screen.text,
            blocks=screen.blocks,
            thread_ts=thread.ts if thread is not None else None,
        )
        ts = posted.get("ts")
        return DmThread(str(posted.get("channel") or channel), str(ts)) if ts else None
    except SlackApiError as error:
        if thread is not None and error.response.get("error") in THREAD_GONE:
            return post_dm(client, user_id, screen)  # the message to reply to is gone: a new DM
        logger.warning("DM to %s failed: %s", user_id, error.response.get("error"))
        return None
