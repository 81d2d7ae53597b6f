"""The support channel must be private and not shared with another organization (Slack Connect):
otherwise no request is posted there, the start says so in one clear line, and ``/healthz`` too.

Real parts: the escalation outbox, aiosmtpd, the Slack Web API stand-in answering
``conversations.info`` with ``is_private`` / ``is_ext_shared``, the HTTP app, signed clicks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import pytest
from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from starlette.testclient import TestClient

from billing_core.clock import FixedClock
from billing_core.container import Services
from billing_core.db.database import Database
from bot.server import report_staff_channel
from bot.settings import Settings
from bot.web.http import create_http_app
from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import block_actions_body, block_actions_payload, button_action
from handlers.escalations.ids import SUPPORT_RESOLVE_ACTION
from handlers.escalations.staff_channel_check import MISSING_SCOPE, PUBLIC, SHARED
from tests.support.escalations import ANN, SAMPLE, dispatch
from tests.support.services import MakeServices
from tests.support.smtp_sink import SmtpSink

STAFF = "CSTAFF"


@pytest.fixture
def services(make_services: MakeServices, smtp_sink: SmtpSink, slack_api: SlackAPI) -> Services:
    return make_services(
        accounts=SAMPLE,
        staff_client=WebClient(token="xoxb-test", base_url=slack_api.base_url),
        SMTP_URL=smtp_sink.url,
        SUPPORT_EMAIL="support@vendor.test",
        SUPPORT_SLACK_CHANNEL=STAFF,
    )


@pytest.fixture
def http(services: Services, database_url: str) -> Iterator[TestClient]:
    settings = Settings(_env_file=None, DATABASE_URL=database_url, SUPPORT_SLACK_CHANNEL=STAFF)
    bolt = App(signing_secret="s", token="xoxb-test", token_verification_enabled=False)
    with TestClient(create_http_app(services, settings, bolt)) as client:
        yield client


def escalate_and_deliver(services: Services, smtp_sink: SmtpSink) -> str:
    view = services.escalations.create(ANN, "acme", "other", "Please call me about October")
    services.escalations.outbox.deliver_due()
    smtp_sink.wait_for(1)
    return view.reference


def staff_posts(api: SlackAPI) -> list[str]:
    return [str(c.args.get("text")) for c in api.calls("chat.postMessage") if c.args.get("channel") == STAFF]


def test_a_private_unshared_channel_gets_the_request_and_healthz_says_ok(
    services: Services, slack_api: SlackAPI, smtp_sink: SmtpSink, http: TestClient
) -> None:
    slack_api.add_channel(STAFF, private=True)

    reference = escalate_and_deliver(services, smtp_sink)

    assert any(reference in text for text in staff_posts(slack_api))
    assert http.get("/healthz").json()["support_channel"] == "ok"


@pytest.mark.parametrize(("private", "shared", "why"), [(True, True, SHARED), (False, False, PUBLIC)])
def test_a_shared_or_public_channel_gets_no_post_and_start_and_healthz_say_why(
    services: Services,
    slack_api: SlackAPI,
    smtp_sink: SmtpSink,
    http: TestClient,
    caplog: pytest.LogCaptureFixture,
    private: bool,
    shared: bool,
    why: str,
) -> None:
    slack_api.add_channel(STAFF, private=private, ext_shared=shared)

    with caplog.at_level(logging.ERROR):
        report_staff_channel(services)
    escalate_and_deliver(services, smtp_sink)  # still e-mailed to support

    assert staff_posts(slack_api) == []
    # The logs are redacted: a secret that is also a word of the message (the CI database's password
    # is "billing") is masked there, so the reason is matched up to its explanation.
    reason = why.split(":")[0]
    assert any(reason in record.getMessage() for record in caplog.records)
    health = http.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.json()["support_channel"] == f"not posting: {why}"


def test_without_groups_read_in_the_support_workspace_healthz_names_the_scope_to_grant(
    services: Services, slack_api: SlackAPI, http: TestClient
) -> None:
    slack_api.fail_next("conversations.info", status=200, error="missing_scope")

    assert http.get("/healthz").json()["support_channel"] == f"not posting: {MISSING_SCOPE}"


def test_mark_resolved_in_a_channel_shared_with_another_organization_is_refused(
    services: Services, slack_api: SlackAPI, database_url: str, db: Database, clock: FixedClock
) -> None:
    from handlers.escalations import listeners as support
    from handlers.kit.identity import IdentityResolver
    from handlers.registry import listener_deps
    from handlers.runtime.follow_up import put_later

    slack_api.add_channel(STAFF, private=True, ext_shared=True)
    slack_api.add_user("WGUEST", "guest@other.test", "Guest From Elsewhere")
    client = WebClient(token="xoxb-test", base_url=slack_api.base_url)
    app = App(client=client, signing_secret="test-signing-secret", token_verification_enabled=False)
    deps = listener_deps(services, IdentityResolver(), "support@vendor.test", client_for_principal=lambda _p: client)

    def put_deps(context: BoltContext, next: Callable[[], None]) -> None:
        context["deps"] = deps
        put_later(context, deps.later)
        next()

    app.use(put_deps)
    support.register(app)
    view = services.escalations.create(ANN, "acme", "other", "Please call")
    payload = block_actions_payload(
        button_action(SUPPORT_RESOLVE_ACTION, view.reference),
        user_id="WGUEST",
        channel_id=STAFF,
        message={"ts": "1700000000.000100", "text": "x"},
    )

    dispatch(app, block_actions_body(payload))

    [refusal] = slack_api.wait_for("chat.postEphemeral")
    assert "not shared with another organization" in refusal.args["text"]
    time.sleep(0.1)
    assert services.escalations.get(view.reference).is_open
