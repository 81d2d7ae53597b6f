"""Publishing a person's App Home, in a request or outside one (after a webhook's DM).

Built from the few pieces a Home needs (who the person is, one read of their accounts, whether
they proved their e-mail, autopay's line), none of which sends anything: so the composition root
builds it before the notifier that calls it, and the listeners' deps share the same instance (and
its memory of what was last published to whom).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from billing_core.autopay.switch import AutopayService, AutopayStatus
from billing_core.errors import NotABillingContact
from billing_core.home import HomeRead, HomeReads
from billing_core.views import Actor
from handlers.home.blocks import MAX_HOME_INVOICES, home_refusal_view, home_view
from handlers.kit.errors import not_a_contact_message
from handlers.kit.identity import IdentityResolver
from handlers.runtime.ttl_cache import TtlCache

logger = logging.getLogger(__name__)

VERIFY_FIRST = "Please confirm your e-mail address first: run /billing and I'll e-mail you a code."

# The Home last published to each person (digest of its view, the hash Slack gave it). Any age is
# correct (the hash proves what Slack shows); the bound and the hour only keep memory small.
PUBLISHED_HOME_SECONDS = 3600.0
PUBLISHED_HOMES = 10_000


class ProofOfEmail(Protocol):
    def proven_by(self, actor: Actor, linked_email: str | None) -> bool: ...


class HomePublisher:
    """Draws and publishes the Home of one person; ``publish`` never raises."""

    def __init__(
        self,
        *,
        identity: IdentityResolver,
        reads: HomeReads,
        proof: ProofOfEmail,
        autopay: AutopayService | None,
        support_email: str,
    ) -> None:
        """``autopay``: None when nothing could be charged (no Stripe key): the Home shows no
        autopay line then."""
        self._identity = identity
        self._reads = reads
        self._proof = proof
        self._autopay = autopay
        self._support_email = support_email
        # Per (workspace, user): the digest of the Home last published and the view hash Slack
        # answered; an opened Home that is still that view and would be drawn the same is skipped.
        self._published: TtlCache[tuple[str, str], tuple[str, str]] = TtlCache(
            PUBLISHED_HOME_SECONDS, max_entries=PUBLISHED_HOMES
        )

    def publish(
        self,
        client: WebClient,
        team_id: str,
        user_id: str,
        enterprise_id: str | None = None,
        *,
        view_hash: str | None = None,
    ) -> None:
        """The person's dashboard into their Home tab. ``view_hash``: the hash of the Home they have
        open (``app_home_opened``), so a late publish never overwrites a newer one."""
        try:
            actor = self._identity.resolve(client, team_id, user_id, enterprise_id)
            view = home_refusal_view(not_a_contact_message(self._support_email))
            if actor is not None:
                try:
                    home = self._reads.read(actor)  # one statement, the proven e-mail included
                    if not self._proof.proven_by(actor, home.proven_email):
                        # No code is e-mailed just for opening the tab; /billing does that.
                        view = home_refusal_view(VERIFY_FIRST)
                    else:
                        view = home_view(
                            home.caller, home.invoices[:MAX_HOME_INVOICES], self._autopay_line(home), home.preferences
                        )
                except NotABillingContact:
                    pass
            self._publish(client, team_id, user_id, view, view_hash)
        except SlackApiError as error:
            if error.response.get("error") == "hash_conflict":  # a newer Home is there already: keep it
                logger.info("views.publish skipped: the Home changed since it was opened")
                return
            logger.warning("views.publish failed: %s", error.response.get("error"))
        except Exception:
            logger.exception("could not publish the Home tab")

    def _publish(
        self, client: WebClient, team_id: str, user_id: str, view: dict[str, Any], view_hash: str | None
    ) -> None:
        """``views.publish``, unless the person opened the very Home last published to them (Slack's
        event carries that view: its ``hash`` is the one our publish got back) and it would be drawn
        the same now (same digest of the rendered view). Any other publish (after a change, after a
        webhook, another replica's or another screen's publish since: Slack's hash differs) goes out."""
        key = (team_id or "", user_id)
        digest = hashlib.sha256(json.dumps(view, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        if view_hash:
            last = self._published.get(key)
            if last is not None and last.value == (digest, view_hash):
                return
        self._published.pop(key)  # unknown until Slack answers
        at = self._published.now()
        if view_hash:
            answer = client.views_publish(user_id=user_id, view=view, hash=view_hash)
        else:
            answer = client.views_publish(user_id=user_id, view=view)
        published = answer.get("view")
        new_hash = published.get("hash") if isinstance(published, dict) else None
        if isinstance(new_hash, str) and new_hash:
            self._published.put(key, (digest, new_hash), at)

    def _autopay_line(self, home: HomeRead) -> AutopayStatus | None:
        """The read's autopay line; None when nothing could be charged. When the copy knows no
        default card, autopay's own read asks Stripe first, as it always did."""
        if self._autopay is None:
            return None
        if home.default_card_unknown:
            return self._autopay.status(home.caller.actor, home.caller.active.external_id)
        return home.autopay
