"""The messaging port (``billing_core.messaging``) for contacts found by e-mail, on Slack's Web API:
lookupByEmail (cached), users.info, chat.postMessage and chat.update; one
workspace (``SlackReminderSender``) or every installed one (``WorkspacesReminderSender``). They
tell and edit reminders themselves; autopay's notices are posted through them
(``bot.slack.autopay_messenger``).

Someone who has not proven the contact's address (``IDENTITY_VERIFICATION=email_code``, or a
person from another organization) gets a reminder without its details: it says only that a
reminder is waiting, with a button that e-mails them a code (``handlers.reminders.blocks``).

Rate limits never block here: a 429 (or a send that would break the one-message-per-second
per-channel pace) raises ``ChatRateLimited`` with the wait, and the sweep moves on to others.
With ``leases`` (every process built by ``bot.compose``), a workspace is sent to by one process at
a time (``bot.slack.workspace_leases``): another process's workspace raises ``ChatHandledElsewhere``.

A DM is posted with the person's user id as the ``channel``: Slack posts it in the app's DM with
them (opening it when needed) and answers with that DM's channel id, kept to edit the message
later. That saves a ``conversations.open`` (Tier 3, 50 a minute per workspace) for every new person.

Never twice: every reminder carries message ``metadata`` naming its delivery rows
(``billing_reminder``), and the client has no retry handlers. A post that may have reached Slack
without an answer (a timeout, a dropped connection, a 5xx) raises ``ChatDeliveryUnconfirmed``. A
reminder whose claims were taken over while an earlier attempt may have posted it
(``ReminderMessage.unconfirmed``: the process stopped between sending and recording, or such a
post) is looked for first in the person's DM (``conversations.open``, then
``conversations.history`` with ``include_all_metadata``, scope ``im:history``): a message already
carrying all its delivery ids is taken as sent, and nothing is posted. If that DM cannot be read
(an error other than a rate limit, say a missing scope), the reminder is posted: a reminder twice
is the lesser harm than one never sent, and this happens only after a crash or an unanswered post.
A first attempt never reads the DM.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.adapters.threads import ThreadPool
from billing_core.db.database import Database
from billing_core.errors import ChatDeliveryFailed, ChatDeliveryUnconfirmed, ChatHandledElsewhere, ChatRateLimited
from billing_core.identity.directory import PrincipalDirectory, Reachable
from billing_core.identity.emails import normalize_email
from billing_core.identity.principal import parse_principal, principal_for
from billing_core.messaging import ChatContact, PostedMessage
from billing_core.reminders.messages import ReminderMessage
from billing_core.views import Actor
from bot.slack.rate_limits import WINDOW, RateLimits
from bot.slack.workspace_leases import Taken, WorkspaceLeases
from bot.slack.workspaces import SlackWorkspaces, Workspace
from handlers.kit.blocks import Block, fallback_text
from handlers.reminders.blocks import reminder_blocks, withheld_blocks
from handlers.runtime.ttl_cache import TtlCache
from handlers.runtime.web_api import SlackWebClient

# Lookups and sends a sweep may run at once across workspaces (one at a time in each workspace).
CONCURRENT_SENDS = 16

NOT_FOUND = frozenset({"users_not_found", "user_not_found", "account_inactive", "user_disabled"})

METADATA_TYPE = "billing_reminder"  # message metadata of a reminder: {"deliveries": "12,13"}
HISTORY_LOOKBACK = 20  # latest messages of the DM looked at for an earlier attempt's post

logger = logging.getLogger(__name__)

# Whether this person (a principal showing the contact's e-mail) must still prove the address.
NeedsProof = Callable[[Actor], bool]


def _never(_actor: Actor) -> bool:
    return False


def blocks_for(message: ReminderMessage) -> list[Block]:
    return withheld_blocks(message) if message.withheld else reminder_blocks(message)


def text_for(message: ReminderMessage) -> str:
    """The DM's fallback ``text``: Slack renders mentions and links in it, and invoice numbers come
    from the import file, so it is escaped like the blocks."""
    return fallback_text(message.fallback_text())


class SlackReminderSender:
    """Finds billing contacts in the workspace and DMs them reminders."""

    def __init__(
        self,
        client: WebClient,
        *,
        workspace: str = "",
        needs_proof: NeedsProof = _never,
        per_channel_interval: float = 1.0,
        cache_ttl: float = 3600.0,
        monotonic: Callable[[], float] = time.monotonic,
        limits: RateLimits | None = None,
        leases: WorkspaceLeases | None = None,
    ) -> None:
        self.client = client
        self._workspace = workspace
        self._leases = leases
        # Per (workspace, method): Slack's tier budgets and Retry-After windows (bot.slack.rate_limits).
        self._limits = limits or RateLimits(monotonic=monotonic)
        self._needs_proof = needs_proof
        self._interval = per_channel_interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        # One call at a time in this workspace, whatever the threads sending (a sweep's pool): the
        # workspace's budgets and its one-post-a-second pace per person are checked and spent in order.
        self._serial = threading.RLock()
        self._contacts: TtlCache[str, ChatContact | None] = TtlCache(cache_ttl, monotonic=monotonic)
        self._last_post: dict[str, float] = {}

    def find_contact(self, email: str) -> ChatContact | None:
        key = email.strip().lower()
        return self._contacts.get_or_load(key, lambda: self._look_up_contact(key))

    def _look_up_contact(self, key: str) -> ChatContact | None:
        try:
            user = self._call("users_lookupByEmail", email=key)["user"]
        except _NotFound:
            return None
        return None if user.get("deleted") or user.get("is_bot") else self._contact(user, key)

    def find_user(self, user_id: str, email: str, *, proven: Collection[str] = ()) -> ChatContact | None:
        """The person behind a known Slack user id, if still active and still showing ``email``;
        ``proven``: principals known to have proven ``email`` (no need to ask ``needs_proof``).

        Not cached: only asked for people who used the bot here (one call per sweep and person).
        """
        try:
            user = self._call("users_info", user=user_id).get("user") or {}
        except _NotFound:
            return None
        if user.get("deleted") or user.get("is_bot"):
            return None
        return self._contact(user, email, proven)

    def tell(self, contact: ChatContact, message: ReminderMessage) -> PostedMessage:
        """Post a reminder with its metadata; one an earlier attempt may have posted is looked for
        in the person's DM first, and when there, answered with instead (module docstring)."""
        if message.unconfirmed and message.deliveries:
            with self._serial:
                found = self._posted_before(contact, message.deliveries)
            if found is not None:
                return found
        metadata = {"event_type": METADATA_TYPE, "event_payload": {"deliveries": _key(message.deliveries)}}
        return self._post(contact, text_for(message), blocks_for(message), metadata if message.deliveries else None)

    def post(self, contact: ChatContact, text: str, blocks: list[Block]) -> PostedMessage:
        """Any other DM to a contact found here (autopay notices), paced like reminders."""
        return self._post(contact, text, blocks, None)

    def _post(
        self, contact: ChatContact, text: str, blocks: list[Block], metadata: dict[str, Any] | None
    ) -> PostedMessage:
        channel = contact.user_id  # the app's DM with them (module docstring)
        extra = {"metadata": metadata} if metadata is not None else {}
        with self._serial:
            self._pace(channel)
            answer = self._call("chat_postMessage", channel=channel, text=text, blocks=blocks, **extra)
            with self._lock:
                self._last_post[channel] = self._monotonic()
        return PostedMessage(str(answer.get("channel") or channel), str(answer["ts"]), self._workspace)

    def _posted_before(self, contact: ChatContact, deliveries: Sequence[int]) -> PostedMessage | None:
        """The reminder covering all of ``deliveries`` among the DM's latest messages, else None;
        None too when the DM cannot be read (then it is posted: module docstring). Rate limits and
        another process's workspace raise as for a post."""
        wanted = set(deliveries)
        try:
            opened = self._call("conversations_open", users=contact.user_id)
            channel = str(opened["channel"]["id"])
            history = self._call(
                "conversations_history", channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True
            )
        except (ChatDeliveryFailed, _NotFound, KeyError, TypeError) as error:
            logger.warning("could not read %s's DM for an earlier reminder (%s); posting it", contact.user_id, error)
            return None
        for message in history.get("messages") or []:
            metadata = message.get("metadata") if isinstance(message, dict) else None
            if not isinstance(metadata, dict) or metadata.get("event_type") != METADATA_TYPE:
                continue
            payload = metadata.get("event_payload")
            posted = _deliveries_of(payload.get("deliveries") if isinstance(payload, dict) else None)
            if wanted <= posted and message.get("ts"):
                logger.info("reminder %s was posted by an earlier attempt; not posted again", _key(deliveries))
                return PostedMessage(channel, str(message["ts"]), self._workspace)
        return None

    def update(self, posted: PostedMessage, message: ReminderMessage) -> None:
        self._call(
            "chat_update",
            channel=posted.channel,
            ts=posted.ts,
            text=text_for(message),
            blocks=blocks_for(message),
        )

    def _contact(self, user: dict[str, Any], email: str, proven: Collection[str] = ()) -> ChatContact:
        timezone = user.get("tz")
        if not timezone:  # lookupByEmail usually carries tz; users.info is the authority
            info = self._call("users_info", user=user["id"]).get("user") or {}
            timezone = info.get("tz")
        user_id = str(user["id"])
        grid = user.get("enterprise_user") if isinstance(user.get("enterprise_user"), dict) else {}
        enterprise_id = grid.get("enterprise_id") if isinstance(grid, dict) else None
        principal = principal_for(str(user.get("team_id") or ""), user_id, enterprise_id)
        return ChatContact(
            user_id=user_id,
            timezone=str(timezone) if timezone else None,
            workspace=self._workspace,
            needs_proof=principal not in proven and self._needs_proof(Actor(email=email, principal=principal)),
        )

    def _pace(self, channel: str) -> None:
        with self._lock:
            last = self._last_post.get(channel)
        if last is not None:
            wait = last + self._interval - self._monotonic()
            if wait > 0:
                raise ChatRateLimited(wait)

    def _call(self, method: str, **arguments: Any) -> dict[str, Any]:
        with self._serial:
            return self._call_leased(method, **arguments)

    def _call_leased(self, method: str, **arguments: Any) -> dict[str, Any]:
        if self._leases is not None:
            try:
                taken = self._leases.hold(self._workspace)  # ChatHandledElsewhere: another process's now
            except ChatHandledElsewhere:
                if self._leases.sweeping_here:
                    raise  # the holder's own sweep reaches this person
                return self._call_held(method, **arguments)  # one message: not held up by another's sweep
            if taken is not None:
                self.inherit(taken)
        try:
            return self._call_held(method, **arguments)
        finally:
            if self._leases is not None:
                self._leases.done(self._workspace)  # given back at once outside a sweep

    def batch(self) -> AbstractContextManager[None]:
        """A sweep: the workspace leases taken for its sends are kept until it ends."""
        return self._leases.batch() if self._leases is not None else nullcontext()

    def _call_held(self, method: str, **arguments: Any) -> dict[str, Any]:
        self._limits.acquire(self._workspace, method)  # ChatRateLimited without calling Slack
        try:
            response = getattr(self.client, method)(**arguments)
        except SlackApiError as error:
            status = error.response.status_code
            if status == 429:
                retry_after = _retry_after(error.response.headers)
                self._limits.rest(self._workspace, method, retry_after)  # for everyone in this workspace
                if self._leases is not None:
                    self._leases.rest(self._workspace, method, retry_after)  # and every process
                raise ChatRateLimited(retry_after) from None
            code = str(error.response.get("error") or status)
            if code in NOT_FOUND:
                raise _NotFound(code) from None
            if method == "chat_postMessage" and (status >= 500 or code in _MAYBE_POSTED):
                raise ChatDeliveryUnconfirmed(f"{method}: {code}") from None
            raise ChatDeliveryFailed(f"{method}: {code}") from None
        except (OSError, TimeoutError) as error:  # no answer: a post may have gone through all the same
            failure = ChatDeliveryUnconfirmed if method == "chat_postMessage" else ChatDeliveryFailed
            raise failure(f"{method}: {type(error).__name__}") from None
        data: dict[str, Any] = response.data if isinstance(response.data, dict) else {}
        return data

    def inherit(self, taken: Taken) -> None:
        """A workspace just taken from another process: the calls it made there in the last window
        count as this process's (all of the budget if it lapsed without saying), and Slack's rests
        still run."""
        if taken.previous_ago is not None:
            for method in self._limits.tiered:
                if WINDOW - taken.previous_ago <= 0:
                    break
                if taken.previous_calls is None:  # it lapsed: its whole budget may be spent
                    self._limits.rest(self._workspace, method, WINDOW - taken.previous_ago)
                else:
                    self._limits.preload(self._workspace, method, taken.previous_calls, taken.previous_ago)
            if self._interval - taken.previous_ago > 0:
                self._limits.rest(self._workspace, "chat_postMessage", self._interval - taken.previous_ago)
        for method, seconds in taken.rests.items():
            self._limits.rest(self._workspace, method, seconds)


class _NotFound(Exception):
    pass


# Slack's errors that may follow a post that went through in part ("some aspect of the operation
# succeeded"), whatever the HTTP status.
_MAYBE_POSTED = frozenset({"internal_error", "fatal_error", "request_timeout", "service_unavailable"})


def _key(deliveries: Sequence[int]) -> str:
    """A reminder's delivery ids as its metadata carries them: "12,13"."""
    return ",".join(str(i) for i in sorted(deliveries))


def _deliveries_of(key: object) -> set[int]:
    if not isinstance(key, str):
        return set()
    return {int(part) for part in key.split(",") if part.strip().isdigit()}


def _retry_after(headers: Any) -> float:
    raw = None
    if headers:
        raw = headers.get("Retry-After") or headers.get("retry-after")
        if isinstance(raw, list):
            raw = raw[0] if raw else None
    try:
        return max(1.0, float(raw)) if raw is not None else 1.0
    except (TypeError, ValueError):
        return 1.0


def build_reminder_sender(
    token: str, base_url: str, *, needs_proof: NeedsProof = _never, limits: RateLimits | None = None
) -> SlackReminderSender:
    """A sender with its own WebClient; no retry handlers, so a 429 never sleeps a thread."""
    return SlackReminderSender(reminder_client(token, base_url), needs_proof=needs_proof, limits=limits)


def reminder_client(token: str, base_url: str) -> WebClient:
    """A WebClient for reminders over the process's kept-alive connections (a new connection per
    call cost more than the call), with no retry handlers: a 429 never sleeps the sweep's thread,
    and a post is never sent twice."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    return SlackWebClient(token=token, base_url=base, timeout=10, retry_handlers=[])


class WorkspacesReminderSender:
    """Reminders with the app installed in many workspaces: each person once, where they are.

    A contact is reminded in the workspace where they last used the bot; else in a workspace where
    a colleague on one of their accounts used it and ``users.lookupByEmail`` finds them there;
    never once per workspace. Sends and updates go through that workspace's own installation.

    A sweep hands it many people at a time (``billing_core.messaging.Pipelining``): ``prepare``
    reads where they all are in one go and takes the leases of their workspaces together, and up
    to ``concurrent_sends`` lookups and sends run at once, each workspace's calls one at a time
    (``SlackReminderSender``), so its budgets stay exact while other workspaces go on.
    """

    concurrent_sends = CONCURRENT_SENDS

    def __init__(
        self,
        workspaces: SlackWorkspaces,
        directory: PrincipalDirectory,
        *,
        needs_proof: NeedsProof = _never,
        per_channel_interval: float = 1.0,
        db: Database | None = None,
        limits: RateLimits | None = None,
    ) -> None:
        self._workspaces = workspaces
        self._directory = directory
        self._needs_proof = needs_proof
        self._interval = per_channel_interval
        self._lock = threading.Lock()
        self._senders: dict[str, SlackReminderSender] = {}
        self._limits = limits or RateLimits()  # outlives a sender rebuilt for a refreshed token
        # With the database every process shares: one process at a time sends in a workspace.
        self._leases = WorkspaceLeases(db, recent=self._limits.recent) if db is not None else None
        self._prepared: dict[str, Reachable] = {}  # read by prepare(), taken by find_contact()

    def pool(self) -> ThreadPool:
        """The threads one sweep finds and sends on (``concurrent_sends`` of them)."""
        return ThreadPool(self.concurrent_sends, "reminders")

    def prepare(self, emails: Sequence[str]) -> None:
        """A sweep is about to look for these people: read where each may be reached at once, and
        in a sweep take the leases of the workspaces where they used the bot together (one
        statement for those nobody holds) rather than one by one at their first call."""
        reachable = self._directory.reachable_many(emails)
        with self._lock:
            self._prepared.update(reachable)
        first: dict[str, Workspace] = {}  # where each one used the bot last
        others: dict[str, Workspace] = {}  # where a colleague of theirs did
        for places in reachable.values():
            for principals, into in ((places.own, first), (places.colleagues, others)):
                slack = next(filter(None, map(parse_principal, principals)), None)
                if slack is not None:
                    workspace = Workspace(slack.team_id, slack.enterprise_id)
                    into[workspace.key] = workspace
        if self._leases is not None and self._leases.sweeping_here:
            for key, taken in self._leases.hold_many(first).items():
                if taken != Taken():  # something to inherit (hold_many takes only leases nobody held: never so far)
                    sender = self._sender(first[key])
                    if sender is not None:
                        sender.inherit(taken)
        mine = [
            workspace
            for workspace in {**others, **first}.values()
            if self._leases is None or self._leases.held_elsewhere(workspace.key) is None
        ]
        self._workspaces.prefetch(mine)  # their installations read together, not one by one

    def find_contact(self, email: str) -> ChatContact | None:
        with self._lock:
            reachable = self._prepared.pop(normalize_email(email), None)
        if reachable is None:
            reachable = self._directory.reachable(email)
        tried: set[Workspace] = set()
        for principal in reachable.own:  # where they used the bot, most recent first
            slack = parse_principal(principal)
            if slack is None:
                continue
            workspace = Workspace(slack.team_id, slack.enterprise_id)
            tried.add(workspace)
            self._not_elsewhere(workspace)
            sender = self._sender(workspace)
            found = sender.find_user(slack.user_id, email, proven=reachable.proven) if sender is not None else None
            if found is not None:
                return found
        for principal in reachable.colleagues:  # workspaces of their accounts, most recent first
            slack = parse_principal(principal)
            if slack is None:
                continue
            workspace = Workspace(slack.team_id, slack.enterprise_id)
            if workspace in tried:
                continue
            tried.add(workspace)
            self._not_elsewhere(workspace)
            sender = self._sender(workspace)
            found = sender.find_contact(email) if sender is not None else None
            if found is not None:
                return found
        return None

    def _not_elsewhere(self, workspace: Workspace) -> None:
        """In a sweep, ``ChatHandledElsewhere`` at once for a workspace another process is known to
        hold, as its first call there would raise, without reading its installation first."""
        if self._leases is not None and self._leases.sweeping_here:
            left = self._leases.held_elsewhere(workspace.key)
            if left is not None:
                raise ChatHandledElsewhere(left)

    def batch(self) -> AbstractContextManager[None]:
        """A sweep: the workspace leases taken for its sends are kept until it ends."""
        return self._leases.batch() if self._leases is not None else nullcontext()

    def tell(self, contact: ChatContact, message: ReminderMessage) -> PostedMessage:
        return self._sender_of(contact.workspace).tell(contact, message)

    def update(self, posted: PostedMessage, message: ReminderMessage) -> None:
        self._sender_of(posted.workspace).update(posted, message)

    def post(self, contact: ChatContact, text: str, blocks: list[Block]) -> PostedMessage:
        return self._sender_of(contact.workspace).post(contact, text, blocks)

    def _sender_of(self, workspace: str) -> SlackReminderSender:
        sender = self._sender(Workspace.from_key(workspace))
        if sender is None:
            raise ChatDeliveryFailed(f"the app is no longer installed in workspace {workspace or '?'}")
        return sender

    def _sender(self, workspace: Workspace) -> SlackReminderSender | None:
        client = self._workspaces.client_for(workspace)
        if client is None:
            return None
        with self._lock:
            sender = self._senders.get(workspace.key)
            if sender is None or sender.client is not client:
                sender = SlackReminderSender(
                    client,
                    workspace=workspace.key,
                    needs_proof=self._needs_proof,
                    per_channel_interval=self._interval,
                    limits=self._limits,
                    leases=self._leases,
                )
                self._senders[workspace.key] = sender
            return sender
