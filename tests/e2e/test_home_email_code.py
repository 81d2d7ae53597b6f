"""The App Home with ``IDENTITY_VERIFICATION=email_code``: the proven e-mail is read with the
Home's one statement, and a contact who has not proven theirs sees only how to do it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from billing_core.clock import FixedClock
from billing_core.db.tables import PrincipalRecord
from billing_core.identity.directory import PrincipalDirectory
from devtools.loopback.slack_signing import app_home_opened_event
from tests.support.bot_fixtures import World
from tests.support.bot_harness import ANN, ANN_ACTOR, wait_for_listeners


@pytest.fixture(scope="module")
def bot_overrides() -> dict[str, str]:
    return {"IDENTITY_VERIFICATION": "email_code"}


def _home(world: World) -> str:
    world.bot.event(app_home_opened_event(ANN))
    wait_for_listeners(world.bot)
    [*_, last] = world.bot.wait_calls("views.publish")
    return json.dumps(last.json_args["view"], ensure_ascii=False)


def test_a_contact_who_has_not_proven_their_address_is_asked_to_and_shown_no_account(world: World) -> None:
    view = _home(world)
    assert "confirm your e-mail address first" in view
    assert "Acme" not in view and "INV-1" not in view


def test_once_the_address_is_proven_the_home_shows_the_dashboard(world: World) -> None:
    db = world.bot.db
    PrincipalDirectory(db, FixedClock(datetime(2026, 11, 20, tzinfo=UTC))).record_seen(
        ANN_ACTOR.principal, ANN_ACTOR.email
    )
    with db.transaction() as session:  # she proved the address with a code
        session.execute(
            update(PrincipalRecord)
            .where(PrincipalRecord.principal == ANN_ACTOR.principal)
            .values(verified_email=ANN_ACTOR.email, verified_at=datetime(2026, 11, 20, tzinfo=UTC))
        )
    view = _home(world)
    assert "Acme Corp" in view and "INV-1" in view and "confirm your e-mail" not in view
