"""``/metrics`` and the details of ``/healthz`` for operators only, when ``METRICS_TOKEN`` is set.

Issue: both answered anyone who could reach the port. A load balancer still gets the plain
health status; the escalation-queue details and the metrics need the token.
"""

from __future__ import annotations

from starlette.testclient import TestClient

from billing_core.clock import FixedClock
from billing_core.db.database import Database
from bot.compose import build_runtime
from bot.web.http import create_http_app
from devtools.loopback.slack_api import SlackAPI
from tests.support.settings import settings_from

TOKEN = "ops-token-for-tests"


def _client(database_url: str, db: Database, clock: FixedClock, api: SlackAPI, **extra: str) -> TestClient:
    settings = settings_from(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-t",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=api.base_url,
        **extra,
    )
    runtime = build_runtime(settings, clock=clock, db=db)
    return TestClient(create_http_app(runtime.services, settings, runtime.app))


def test_with_an_operator_token_metrics_and_health_details_need_it(
    database_url: str,
    db: Database,
    clock: FixedClock,
    slack_api: SlackAPI,
) -> None:
    http = _client(database_url, db, clock, slack_api, METRICS_TOKEN=TOKEN)

    assert http.get("/metrics").status_code == 401
    assert http.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    public = http.get("/healthz")
    assert public.status_code == 200 and public.json() == {"status": "ok", "database": "ok"}
    assert "escalations" in http.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"}).json()


def test_without_a_token_both_stay_open_as_the_contract_describes(
    database_url: str,
    db: Database,
    clock: FixedClock,
    slack_api: SlackAPI,
) -> None:
    http = _client(database_url, db, clock, slack_api)
    assert http.get("/metrics").status_code == 200
    assert "escalations" in http.get("/healthz").json()
