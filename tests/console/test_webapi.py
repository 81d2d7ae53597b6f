"""The in-process Web API stand-in: what the app's WebClient asks, answered and drawn as Slack would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from devtools.console.display import Display
from devtools.console.webapi import SlackWebAPI
from devtools.console.workspace import Workspace


class Screen:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines.append(text)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def screen() -> Screen:
    return Screen()


@pytest.fixture
def workspace(screen: Screen) -> Iterator[Workspace]:
    # not named like the fixture: in the lambda, mypy would take ``workspace`` for the fixture function
    built = Workspace(Display(screen.write, lambda user_id: built.describe(user_id)))
    api = SlackWebAPI(built).start()
    yield built
    api.stop()


@pytest.fixture
def client(workspace: Workspace) -> WebClient:
    return WebClient(token="xoxb-test", base_url=f"{workspace.root_url}/api/")


def section(text: str) -> list[dict[str, object]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


def test_people_are_found_by_id_and_by_email_from_the_directory(workspace: Workspace, client: WebClient) -> None:
    ann = workspace.add_person("ann@acme.test", "Ann Lee", tz="Europe/Paris")

    info = client.users_info(user=ann.id)
    found = client.users_lookupByEmail(email="ANN@acme.test")

    assert info["user"]["profile"]["email"] == "ann@acme.test"
    assert info["user"]["tz"] == "Europe/Paris"
    assert found["user"]["id"] == ann.id
    with pytest.raises(SlackApiError) as missing:
        client.users_lookupByEmail(email="nobody@acme.test")
    assert missing.value.response["error"] == "users_not_found"


def test_a_dm_is_drawn_marked_as_a_dm_to_its_recipient(workspace: Workspace, client: WebClient, screen: Screen) -> None:
    bob = workspace.add_person("bob@globex.test", "Bob Stone")

    channel = client.conversations_open(users=bob.id)["channel"]["id"]
    posted = client.chat_postMessage(channel=channel, text="Reminder", blocks=section("*INV-3001* is overdue"))

    assert posted["ok"] and posted["ts"]
    assert "DM to Bob Stone <bob@globex.test>" in screen.text
    assert "INV-3001 is overdue" in screen.text


def test_ephemeral_replies_are_marked_and_can_replace_the_message_clicked(workspace: Workspace, screen: Screen) -> None:
    ann = workspace.add_person("ann@acme.test", "Ann Lee")
    workspace.display.viewer = ann.id
    url = workspace.response_url(ann.id, "D" + ann.id)

    WebhookClient(url).send(text="x", blocks=section("Open invoices"), response_type="ephemeral")

    assert "ephemeral, only visible to you" in screen.text
    assert "Open invoices" in screen.text
    choice_surface = workspace.post_ephemeral("D" + ann.id, ann.id, {"blocks": section("before")})
    replace_url = choice_surface.response_url
    WebhookClient(replace_url).send(text="x", blocks=section("after"), replace_original=True)
    assert "replaced" in screen.lines[-1] and "after" in screen.lines[-1]
    assert choice_surface.content["blocks"] == section("after")


def test_modals_open_with_a_trigger_and_update_in_place(
    workspace: Workspace, client: WebClient, screen: Screen
) -> None:
    ann = workspace.add_person("ann@acme.test", "Ann Lee")
    workspace.display.viewer = ann.id
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Pay"}, "blocks": section("One moment")}

    opened = client.views_open(trigger_id=workspace.trigger_id(ann.id), view=modal)
    client.views_update(view_id=opened["view"]["id"], view={**modal, "blocks": section("Pay $480.00?")})

    assert "Modal: Pay" in screen.text
    assert "Modal: Pay · updated" in screen.lines[-1] and "Pay $480.00?" in screen.lines[-1]
    with pytest.raises(SlackApiError):
        client.views_open(trigger_id="made-up", view=modal)


def test_the_app_home_is_drawn_when_opened_and_otherwise_only_noted(
    workspace: Workspace, client: WebClient, screen: Screen
) -> None:
    ann = workspace.add_person("ann@acme.test", "Ann Lee")
    home = {"type": "home", "blocks": section("Balance $315.00")}

    client.views_publish(user_id=ann.id, view=home)
    assert "App Home of Ann Lee" in screen.lines[-1] and "Balance" not in screen.lines[-1]

    workspace.opening_home(ann.id)
    client.views_publish(user_id=ann.id, view=home)
    assert "App Home of Ann Lee" in screen.lines[-1] and "Balance $315.00" in screen.lines[-1]
