"""The wrk section's machinery (issue 14): signed request files, wrk's Lua script, OAuth workspaces.

Nothing here measures or asserts a time; the one wrk run checks what arrived, not how fast.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import func, select

from bench.generate import QUICK, account_external_id, user_id
from bench.server import SIGNING_SECRET
from bench.standin import StandIn
from bench.workspaces import bot_token, install_workspaces, oauth_settings, seed_principals, team_of, workspace
from bench.wrk import BUTTON_ACTION, INTERACTIONS, LUA, Bodies, Window, _chosen, parse_wrk, rows, write_signed
from billing_core.db.database import Database
from billing_core.db.tables import PrincipalRecord
from bot.slack.oauth import installation_store
from handlers.runtime.slack_requests import verify


def _lines(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()]


@pytest.mark.parametrize("interaction", ["balance", "pay", "pay_modal", "home", "button"])
def test_every_request_in_the_file_carries_a_signature_the_server_accepts(tmp_path: Path, interaction: str) -> None:
    path = tmp_path / "requests.txt"
    write_signed(path, Bodies(QUICK, StandIn()).build(interaction, 300, "t", team_of))
    lines = _lines(path)
    assert len(lines) == 300
    for content_type, ts, signature, body in lines:
        assert content_type in ("application/json", "application/x-www-form-urlencoded")
        assert verify(SIGNING_SECRET, body.encode(), ts, signature)
    assert len({body for *_, body in lines}) == 300  # distinct bodies, never one repeated


def test_home_events_have_distinct_event_ids_from_the_workspaces_of_their_users(tmp_path: Path) -> None:
    bodies = Bodies(QUICK, StandIn())
    events = [json.loads(body) for _, body in bodies.build("home", 500, "x", team_of)]
    assert len({e["event_id"] for e in events}) == 500
    assert all(e["team_id"] == team_of(int(e["event"]["user"][2:])) for e in events)


def test_the_button_click_is_pay_on_the_ephemeral_overview_of_the_users_own_account(tmp_path: Path) -> None:
    bodies = Bodies(QUICK, StandIn())
    for _, body in bodies.build("button", 50, "b", None):
        [payload] = urllib.parse.parse_qs(body.decode())["payload"]
        click = json.loads(payload)
        [action] = click["actions"]
        assert action["action_id"] == BUTTON_ACTION == "show_invoices"
        assert click["container"]["is_ephemeral"] and "/response_url/b" in click["response_url"]
        a = int(click["user"]["id"][2:])
        assert json.loads(action["value"]) == {"account": account_external_id(a)}


def _window(server: str, interaction: str, requests: int, finished: int) -> Window:
    return Window(
        server=server, interaction=interaction, concurrency=8, round=1, seconds=1.0, requests=requests,
        rps=float(requests), p50_ms=1.0, p99_ms=2.0, max_ms=3.0, errors=0, repeated=0, finished=finished,
        drained=0, worker_cpu_s=[1.0, 1.0],
    )  # fmt: skip


def test_a_button_click_counts_as_done_when_its_reply_reached_slack_and_a_subset_makes_its_own_rows() -> None:
    ours, bare = _window("ours-w2", "button", 900, 300), _window("bare-w2", "button", 3000, 0)
    assert ours.done_rps == 300.0 and bare.done_rps == 3000.0  # ours: replies arrived; bare: acks
    [cell] = rows([ours, bare])["cells"]
    assert (cell["interaction"], cell["workers"], cell["rps_vs_bare"]) == ("button", 2, 0.1)
    assert _chosen(("button",)) == ("button",) and _chosen(()) == INTERACTIONS
    assert _chosen(("home", "balance")) == ("balance", "home")
    with pytest.raises(ValueError):
        _chosen(("buton",))


def test_the_figures_are_read_from_the_bench_line() -> None:
    output = 'Running 1s test\n  1 threads\nBENCH {"requests": 12, "duration_us": 1000000, "p99_us": 1500}\n'
    assert parse_wrk(output) == {"requests": 12, "duration_us": 1000000, "p99_us": 1500}
    with pytest.raises(RuntimeError):
        parse_wrk("wrk: connection refused\n")


def test_installed_workspaces_are_found_by_the_installation_store(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert install_workspaces(db, 2_500)["workspaces"] == 2_500
        assert install_workspaces(db, 2_500)["workspaces"] == 2_500  # replaced, not added twice
        store = installation_store(oauth_settings(database_url), db.engine)
        bot = store.find_bot(enterprise_id=None, team_id=workspace(2_499))
        assert bot is not None and bot.bot_token == bot_token(workspace(2_499))
        assert store.find_installation(enterprise_id=None, team_id=workspace(7)) is not None
        with db.engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(store.bots)) == 2_500
        assert seed_principals(db, [0, 5, 5]) == 2
        with db.read() as session:
            principals = set(session.scalars(select(PrincipalRecord.principal)))
        assert principals == {f"slack:{team_of(0)}:{user_id(0)}", f"slack:{team_of(5)}:{user_id(5)}"}
    finally:
        db.dispose()


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[Counter[str]] = Counter()
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = verify(SIGNING_SECRET, body, self.headers["X-Slack-Request-Timestamp"], self.headers["X-Slack-Signature"])
        with self.lock:
            self.seen["signed" if ok else "unsigned"] += 1
            self.seen["close"] += self.headers.get("Connection", "").lower() == "close"
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # wrk drops its connections when its time is up


@pytest.fixture
def recorder() -> Iterator[ThreadingHTTPServer]:
    _Recorder.seen = Counter()
    server = _Quiet(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.process
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (the bench installs it)")
def test_wrk_sends_the_signed_requests_and_now_and_then_asks_for_a_new_connection(
    tmp_path: Path, recorder: ThreadingHTTPServer
) -> None:
    script, data = tmp_path / "signed.lua", tmp_path / "requests.txt"
    script.write_text(LUA)
    write_signed(data, Bodies(QUICK, StandIn()).build("balance", 64, "t", None))
    port = recorder.server_address[1]
    run = subprocess.run(
        ["wrk", "-t1", "-c2", "-d1s", "-s", str(script), f"http://127.0.0.1:{port}/slack/events", "--", str(data),
         "1", "8"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    figures = parse_wrk(run.stdout)
    seen = _Recorder.seen
    assert seen["signed"] > 0 and seen["unsigned"] == 0
    assert figures["status_errors"] == 0 and figures["distinct"] == 64
    # One line in 8 asks for a new connection (wrk may skip a generated request when it reconnects).
    assert 0 < seen["close"] < seen["signed"] / 4
