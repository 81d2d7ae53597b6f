"""Who may resolve billing-support requests, and which installation talks to the support channel.

Issue: "Mark resolved" was authorised only by the channel id in the click, and support-channel
posts went through whichever workspace's token arrived first. Now: only members of the configured
support channel, which must be private, in the workspace holding it; posts go through that
workspace's installation; the requester hears back through their own workspace's.
Real parts: the Bolt app with our listeners, signed requests, the Slack stand-in answering per token.
"""

from __future__ import annotations

import pytest
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Bot, InstallationStore

from billing_core.container import Services
from billing_core.views import Actor
from bot.slack.workspaces import SlackWorkspaces, Workspace
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import block_actions_body, block_actions_payload, button_action
from handlers.escalations.ids import SUPPORT_RESOLVE_ACTION
from handlers.escalations.listeners import PUBLIC_CHANNEL, STAFF_ONLY, SlackStaffChannel
from tests.support.escalations import ANN, STAFF_CHANNEL, dispatch


def _resolve(app: App, reference: str, user: str, team: str = "T111") -> None:
    payload = block_actions_payload(
        button_action(SUPPORT_RESOLVE_ACTION, reference),
        user_id=user,
        channel_id=STAFF_CHANNEL,
        team_id=team,
        message={"ts": "1700000000.000100", "text": "x"},
    )
    dispatch(app, block_actions_body(payload))


def test_someone_outside_the_private_support_channel_cannot_resolve_from_it(
    support_app: tuple[App, Services], slack_api: SlackAPI
) -> None:
    app, services = support_app
    slack_api.add_channel(STAFF_CHANNEL, private=True, members=["WSTAFF"])
    view = services.escalations.create(ANN, "acme", "other", "Please call")

    _resolve(app, view.reference, user="W222")  # the button's value and channel id are right

    [refusal] = slack_api.wait_for("chat.postEphemeral")
    assert STAFF_ONLY in refusal.args["text"]
    assert services.escalations.get(view.reference).is_open
    assert slack_api.calls("chat.update") == []


def test_requests_are_not_resolved_from_a_public_channel(
    support_app: tuple[App, Services], slack_api: SlackAPI
) -> None:
    app, services = support_app
    slack_api.add_channel(STAFF_CHANNEL, private=False, members=["WSTAFF"])
    view = services.escalations.create(ANN, "acme", "other", "Please call")

    _resolve(app, view.reference, user="WSTAFF")

    [refusal] = slack_api.wait_for("chat.postEphemeral")
    assert PUBLIC_CHANNEL in refusal.args["text"]
    assert services.escalations.get(view.reference).is_open


def test_a_member_of_the_private_support_channel_resolves(
    support_app: tuple[App, Services], slack_api: SlackAPI
) -> None:
    app, services = support_app
    slack_api.add_channel(STAFF_CHANNEL, private=True, members=["WSTAFF"])
    view = services.escalations.create(ANN, "acme", "other", "Please call")

    _resolve(app, view.reference, user="WSTAFF")

    slack_api.wait_for("chat.update")
    slack_api.wait_for("chat.postMessage")  # the requester's DM
    assert not services.escalations.get(view.reference).is_open


class _Bots(InstallationStore):
    """An installation store holding several workspaces (what ``find_bot`` needs)."""

    def __init__(self, tokens: dict[tuple[str | None, str | None], str]) -> None:
        self.tokens = tokens

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        token = self.tokens.get((enterprise_id, None if is_enterprise_install else team_id))
        return Bot(bot_token=token, bot_id="BBILLING", bot_user_id="UBILLING", installed_at=0.0) if token else None


@pytest.fixture
def workspaces(slack_api: SlackAPI) -> SlackWorkspaces:
    for team, token in (("TVENDOR", "xoxb-vendor"), ("TCUST", "xoxb-customer")):
        slack_api.add_workspace(team, token)
    store = _Bots(
        {(None, "TVENDOR"): "xoxb-vendor", (None, "TCUST"): "xoxb-customer", ("EGRID", None): "xoxb-grid-org"}
    )
    return SlackWorkspaces(
        store=store,
        client_for_token=lambda token: WebClient(token=token, base_url=slack_api.base_url),
        support_team="TVENDOR",
    )


def test_support_channel_posts_go_through_the_support_workspace_installation_only(
    workspaces: SlackWorkspaces, slack_api: SlackAPI, services: Services
) -> None:
    escalation = services.escalations  # any stored escalation view will do
    services.importer.run(
        {
            "accounts": [
                {
                    "id": "acme",
                    "name": "Acme",
                    "currency": "usd",
                    "contacts": [{"email": "ann@acme.test", "name": "Ann"}],
                    "invoices": [],
                }
            ]
        }
    )
    view = escalation.create(Actor("ann@acme.test", "slack:TCUST:W111", "Ann"), "acme", "other", "Help")

    SlackStaffChannel(workspaces.support_client).post(STAFF_CHANNEL, view)

    [post] = slack_api.calls("chat.postMessage")
    assert post.token == "xoxb-vendor" and post.args["channel"] == STAFF_CHANNEL


def test_each_person_is_reached_through_their_own_workspace_or_grid_organization(
    workspaces: SlackWorkspaces,
) -> None:
    customer = workspaces.client_for_principal("slack:TCUST:W111")
    vendor = workspaces.client_for_principal("slack:TVENDOR:WSTAFF")
    grid = workspaces.client_for(Workspace("TGRID1", "EGRID"))  # installed org-wide
    assert customer is not None and customer.token == "xoxb-customer"
    assert vendor is not None and vendor.token == "xoxb-vendor"
    assert grid is not None and grid.token == "xoxb-grid-org"
    assert workspaces.client_for_principal("slack:TGONE:W1") is None  # never installed, or uninstalled


def test_nothing_about_an_account_is_posted_where_the_support_workspace_is_not_installed(
    slack_api: SlackAPI, services: Services
) -> None:
    nowhere = SlackWorkspaces(
        store=_Bots({}),
        client_for_token=lambda t: WebClient(token=t),
        support_team="TVENDOR",
    )
    services.importer.run(
        {
            "accounts": [
                {
                    "id": "acme",
                    "name": "Acme",
                    "currency": "usd",
                    "contacts": [{"email": "ann@acme.test", "name": "Ann"}],
                    "invoices": [],
                }
            ]
        }
    )
    view = services.escalations.create(ANN, "acme", "other", "Help")
    with pytest.raises(RuntimeError, match="SUPPORT_SLACK_TEAM"):
        SlackStaffChannel(nowhere.support_client).post(STAFF_CHANNEL, view)
    assert slack_api.calls("chat.postMessage") == []
