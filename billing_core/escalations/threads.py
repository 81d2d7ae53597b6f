"""Two-way support threads: billing staff answer a request in the thread of its staff post, the
requester in the DM thread the bot keeps for that request, and each side's messages are relayed
to the other. Every message is stored (``billing_escalation_message``) and audited, and its
follow-up e-mail to billing support is queued like the request's own e-mail.

Who may write where is decided here from stored facts only: a staff message belongs to the request
whose staff post (channel, ts) it answers; a requester's message to the request whose DM thread
(channel, ts) it is in, and only when the writer is that request's requester. The Slack layer
checks the rest (the private support channel, its membership, no bots) before calling in.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billing_core.access import require_account
from billing_core.audit import add_audit_event
from billing_core.card_guard import contains_card_number
from billing_core.clock import Clock
from billing_core.db.database import Database
from billing_core.db.tables import AccountRecord, EscalationMessageRecord, EscalationRecord
from billing_core.errors import (
    AccountNotFound,
    CardNumberInText,
    EscalationMessageEmpty,
    EscalationNotFound,
    InvalidEscalation,
    NotYourRequest,
)
from billing_core.escalations.details import escalation_view
from billing_core.escalations.views import STATES, EscalationView, clean_message, format_reference, parse_reference
from billing_core.views import Actor

log = logging.getLogger(__name__)

PERSON = "person"  # SUPPORT_STAFF_NAME: show the staff member's own name
DEFAULT_STAFF_NAME = "Billing team"
MAX_THREAD_MESSAGE = 4000  # stored and relayed; the Slack layer clips what it shows
MAX_LINKS = 10
MAX_URL = 2000
STAFF, REQUESTER = "staff", "requester"
# Which states each side may set: staff all three, the requester resolve or reopen.
SETTABLE = {STAFF: ("open", "waiting", "resolved"), REQUESTER: ("open", "resolved")}


@dataclass(frozen=True, slots=True)
class Link:
    """A file or a link passed along as a link (never its bytes)."""

    url: str
    name: str


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    id: int
    reference: str
    side: str  # staff / requester
    author_name: str
    text: str
    links: tuple[Link, ...]
    created_at: datetime
    author_principal: str = ""


@dataclass(frozen=True, slots=True)
class Relay:
    """A message taken in, and the request it belongs to; ``new`` is False for a repeat delivery."""

    message: ThreadMessage
    escalation: EscalationView
    new: bool
    state_changed: bool = False  # the requester answered a request waiting on them: open again


def clean_links(links: list[Link]) -> tuple[Link, ...]:
    """http(s) links only, each one URL without characters that could end Slack's link markup."""
    kept: list[Link] = []
    for link in links:
        url = link.url.strip()
        if not url.lower().startswith(("https://", "http://")) or len(url) > MAX_URL:
            continue
        if any(ch in url for ch in "<>| \n\t\"'"):
            continue
        kept.append(Link(url=url, name=clean_message(link.name).replace("\n", " ")[:200]))
    return tuple(kept[:MAX_LINKS])


def thread_text(text: str, links: tuple[Link, ...]) -> str:
    """The cleaned message text; an empty text is allowed only when files or links come with it."""
    message = clean_message(text or "")[:MAX_THREAD_MESSAGE]
    if not message and not links:
        raise EscalationMessageEmpty("empty message")
    if contains_card_number(message):
        raise CardNumberInText("message contains a card number")
    return message


class SupportThreads:
    """The two sides of each request's support thread; see the module docstring."""

    def __init__(self, *, db: Database, clock: Clock, staff_name: str = DEFAULT_STAFF_NAME) -> None:
        self._db = db
        self._clock = clock
        self._staff_name = staff_name.strip() or DEFAULT_STAFF_NAME

    @property
    def shows_person(self) -> bool:
        """Whether staff answers are signed with the staff member's own name (``SUPPORT_STAFF_NAME=person``)."""
        return self._staff_name.lower() == PERSON

    def signature(self, person_name: str) -> str:
        """Who answered, as the requester sees it: the person's name, or the vendor's fixed text."""
        if self.shows_person:
            return clean_message(person_name).replace("\n", " ")[:80] or DEFAULT_STAFF_NAME
        return self._staff_name[:80]

    # -- finding a request by where a message was written -------------------------------------

    def by_staff_post(self, channel: str, ts: str) -> EscalationView | None:
        with self._db.read() as session:
            record = self._staff_post(session, channel, ts)
            return escalation_view(session, record) if record is not None else None

    def by_requester_dm(self, channel: str, ts: str) -> EscalationView | None:
        with self._db.read() as session:
            record = self._requester_dm(session, channel, ts)
            return escalation_view(session, record) if record is not None else None

    def messages(self, reference: str) -> list[ThreadMessage]:
        """The thread's messages, oldest first."""
        with self._db.read() as session:
            record = _by_reference(session, reference)
            rows = session.scalars(
                select(EscalationMessageRecord)
                .where(EscalationMessageRecord.escalation_id == record.id)
                .order_by(EscalationMessageRecord.created_at, EscalationMessageRecord.id)
            ).all()
            return [thread_message(row) for row in rows]

    # -- messages ---------------------------------------------------------------------------

    def staff_message(
        self,
        *,
        channel: str,
        thread_ts: str,
        ts: str,
        staff_principal: str,
        staff_name: str,
        text: str,
        links: list[Link],
    ) -> Relay | None:
        """A staff member's reply in the thread of a request's staff post; None when the thread is
        no request's post (it then reaches nobody)."""
        kept = clean_links(links)
        message = thread_text(text, kept)
        with self._db.transaction() as session:
            record = self._staff_post(session, channel, thread_ts)
            if record is None:
                return None
            actor = Actor(email="billing-staff", principal=staff_principal, display_name=staff_name)
            return self._store(session, record, STAFF, actor, self.signature(staff_name), message, kept, channel, ts)

    def requester_message(
        self, *, actor: Actor, channel: str, thread_ts: str, ts: str, text: str, links: list[Link]
    ) -> Relay | None:
        """The requester's reply in their DM thread; None when the thread is no request's, or the
        writer is not its requester or no longer a billing contact of its account (refused and
        audited: nothing is relayed)."""
        kept = clean_links(links)
        message = thread_text(text, kept)
        with self._db.transaction() as session:
            record = self._requester_dm(session, channel, thread_ts)
            if record is None:
                return None
            if not self._is_requester(session, record, actor):
                self._refused(session, record, actor, "escalation.message")
                return None
            principal = actor.principal
            name = record.requester_name or record.requester_email
            relay = self._store(session, record, REQUESTER, actor, name, message, kept, channel, ts)
            if relay.new and record.status == "open" and record.waiting_since is not None:
                # The customer answered: the request no longer waits on them.
                self._change(session, record, "open", principal, REQUESTER)
                relay = Relay(relay.message, escalation_view(session, record), True, state_changed=True)
            return relay

    def relayed(self, message_id: int, channel: str | None, ts: str | None, *, error: str | None = None) -> None:
        """Where the message was posted on the other side (or why it was not): stored and audited."""
        now = self._clock.now()
        with self._db.transaction() as session:
            row = session.get(EscalationMessageRecord, message_id)
            if row is None:
                return
            if channel and ts:
                row.relayed_channel, row.relayed_ts = channel[:64], ts[:64]
            record = session.get(EscalationRecord, row.escalation_id)
            add_audit_event(
                session,
                at=now,
                actor=None,
                account_id=record.account_id if record else None,
                action="escalation.relay",
                target=format_reference(row.escalation_id),
                outcome="failed" if error else "relayed",
                detail={"message": row.id, "side": row.side, "to": channel, "error": error},
            )

    # -- the requester's DM thread ----------------------------------------------------------------

    def attach_requester_dm(self, reference: str, channel: str, ts: str) -> EscalationView:
        """Remember the first message of the request's DM thread; the first one stored wins (a
        concurrent second root is told which thread is the request's)."""
        with self._db.transaction() as session:
            record = _by_reference(session, reference)
            session.execute(
                update(EscalationRecord)
                .where(EscalationRecord.id == record.id, EscalationRecord.requester_dm_ts.is_(None))
                .values(requester_dm_channel=channel[:64], requester_dm_ts=ts[:64])
                .execution_options(synchronize_session=False)
            )
            session.refresh(record)
            return escalation_view(session, record)

    # -- state --------------------------------------------------------------------------------

    def set_state(self, reference: str, state: str, *, principal: str) -> EscalationView:
        """Staff move the request to ``state`` (audited); the current state changes nothing. The
        caller has checked that ``principal`` is billing staff (a member of the support channel)."""
        if state not in SETTABLE[STAFF]:
            raise InvalidEscalation(f"staff cannot set the state {state!r}")
        with self._db.transaction() as session:
            record = _by_reference(session, reference)
            self._change(session, record, state, principal, STAFF)
            return escalation_view(session, record)

    def set_state_as_requester(
        self, reference: str, state: str, *, actor: Actor, channel: str, ts: str
    ) -> EscalationView:
        """The requester resolves or reopens their request from its DM thread's first message
        (``channel``, ``ts``). Anyone else, or a message that is not that thread's first, is
        ``NotYourRequest`` (audited as ``forgery.refused``) and changes nothing."""
        if state not in SETTABLE[REQUESTER]:
            raise InvalidEscalation(f"the requester cannot set the state {state!r}")
        with self._db.transaction() as session:
            record = _by_reference(session, reference)
            in_thread = (record.requester_dm_channel, record.requester_dm_ts) == (channel, ts)
            allowed = in_thread and self._is_requester(session, record, actor)
            if allowed:
                self._change(session, record, state, actor.principal, REQUESTER)
                return escalation_view(session, record)
        with self._db.transaction() as session:  # the refusal is audited; nothing else changed
            self._refused(session, _by_reference(session, reference), actor, "escalation.state")
        raise NotYourRequest(reference)

    # -- helpers ------------------------------------------------------------------------------

    def _change(self, session: Session, record: EscalationRecord, state: str, principal: str, side: str) -> None:
        before = escalation_view(session, record).state
        if before == state:
            return
        now = self._clock.now()
        if state == "resolved":
            values = {"status": "resolved", "resolved_at": now, "resolved_by": principal, "waiting_since": None}
        elif state == "waiting":
            values = {"status": "open", "resolved_at": None, "resolved_by": None, "waiting_since": now}
        else:
            values = {"status": "open", "resolved_at": None, "resolved_by": None, "waiting_since": None}
        session.execute(
            update(EscalationRecord)
            .where(EscalationRecord.id == record.id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.refresh(record)
        add_audit_event(
            session,
            at=now,
            actor=None,
            account_id=record.account_id,
            action="escalation.state",
            target=format_reference(record.id),
            outcome="ok",
            detail={"from": before, "to": state, "side": side, "by": principal},
        )
        log.info("escalation %s: %s -> %s (%s)", format_reference(record.id), before, STATES[state], side)

    def _store(
        self,
        session: Session,
        record: EscalationRecord,
        side: str,
        actor: Actor,
        name: str,
        text: str,
        links: tuple[Link, ...],
        channel: str,
        ts: str,
    ) -> Relay:
        existing = self._seen(session, channel, ts)
        if existing is not None:  # Slack delivered the same message again: relayed once
            return Relay(thread_message(existing), escalation_view(session, record), False)
        now = self._clock.now()
        row = EscalationMessageRecord(
            escalation_id=record.id,
            side=side,
            author_principal=actor.principal[:255],
            author_name=name[:255],
            text=text,
            links=json.dumps([{"url": link.url, "name": link.name} for link in links]),
            source_channel=channel[:64],
            source_ts=ts[:64],
            created_at=now,
            email_status="queued",
            attempts=0,
            next_attempt_at=now,
        )
        # A concurrent worker taking in the same message at the same instant fails on the unique
        # (channel, ts) here and relays nothing: the other one relays it.
        session.add(row)
        session.flush()
        add_audit_event(
            session,
            at=now,
            actor=actor if side == REQUESTER else None,
            account_id=record.account_id,
            action="escalation.message",
            target=format_reference(record.id),
            outcome="stored",
            detail={
                "message": row.id,
                "side": side,
                "by": actor.principal,
                "channel": channel[:64],
                "ts": ts[:64],
                "links": len(links),
            },
        )
        return Relay(thread_message(row), escalation_view(session, record), True)

    @staticmethod
    def _is_requester(session: Session, record: EscalationRecord, actor: Actor) -> bool:
        """The request's own requester, still a billing contact of its account."""
        if record.requester_principal != actor.principal:
            return False
        account = session.get(AccountRecord, record.account_id)
        try:
            require_account(session, actor, account.external_id if account else "")
        except AccountNotFound:
            return False
        return True

    @staticmethod
    def _seen(session: Session, channel: str, ts: str) -> EscalationMessageRecord | None:
        return session.scalars(
            select(EscalationMessageRecord).where(
                EscalationMessageRecord.source_channel == channel[:64], EscalationMessageRecord.source_ts == ts[:64]
            )
        ).first()

    def _refused(self, session: Session, record: EscalationRecord, actor: Actor, action: str) -> None:
        """Someone acted on a request that is not theirs (a forged click or event): audited like any
        forged value, with who did it; nothing else changes."""
        log.warning("%s refused on %s: not the requester", action, format_reference(record.id))
        add_audit_event(
            session,
            at=self._clock.now(),
            actor=actor,
            account_id=None,  # not the caller's account: the row is found by its target
            action="forgery.refused",
            target=format_reference(record.id),
            outcome="refused",
            detail={"error": "NotYourRequest", "on": action},
        )

    @staticmethod
    def _staff_post(session: Session, channel: str, ts: str) -> EscalationRecord | None:
        if not channel or not ts:
            return None
        return session.scalars(
            select(EscalationRecord).where(EscalationRecord.slack_channel == channel, EscalationRecord.slack_ts == ts)
        ).first()

    @staticmethod
    def _requester_dm(session: Session, channel: str, ts: str) -> EscalationRecord | None:
        if not channel or not ts:
            return None
        return session.scalars(
            select(EscalationRecord).where(
                EscalationRecord.requester_dm_channel == channel, EscalationRecord.requester_dm_ts == ts
            )
        ).first()


def _by_reference(session: Session, reference: str) -> EscalationRecord:
    escalation_id = parse_reference(reference)
    record = session.get(EscalationRecord, escalation_id) if escalation_id is not None else None
    if record is None:
        raise EscalationNotFound(reference)
    return record


def thread_message(row: EscalationMessageRecord) -> ThreadMessage:
    try:
        raw = json.loads(row.links or "[]")
    except ValueError:
        raw = []
    links = tuple(
        Link(url=str(item.get("url", "")), name=str(item.get("name", ""))) for item in raw if isinstance(item, dict)
    )
    return ThreadMessage(
        id=row.id,
        reference=format_reference(row.escalation_id),
        side=row.side,
        author_name=row.author_name,
        text=row.text,
        links=links,
        created_at=row.created_at,
        author_principal=row.author_principal,
    )
