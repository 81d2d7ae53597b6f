"""``billing-bot serve`` as a real process: the contract's routes, signed Slack requests, config errors."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.loopback.slack_api import SlackAPI
from devtools.loopback.slack_signing import signed_headers, slash_command_body
from tests.support.bot_harness import SECRET, wait_until
from tests.support.localstripe_server import free_port
from tests.support.template_db import migrated_sqlite

pytestmark = pytest.mark.process  # starts billing-bot (or the console) as a separate process

BOT = [sys.executable, "-m", "bot"]


def environment(tmp_path: Path, api: SlackAPI, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STRIPE_", "DATABASE_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", SLACK_API_URL=api.base_url, **extra)
    return env


@pytest.fixture
def api() -> Iterator[SlackAPI]:
    with SlackAPI() as stand_in:
        stand_in.add_user("W111", "nobody@nowhere.test", "Nobody")
        yield stand_in


@contextlib.contextmanager
def serving(tmp_path: Path, api: SlackAPI, *options: str) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    """``billing-bot serve`` on a free port, healthy, with an HTTP client for it; stopped afterwards."""
    env = environment(tmp_path, api, SLACK_BOT_TOKEN="xoxb-serve", SLACK_SIGNING_SECRET=SECRET)
    migrated_sqlite(tmp_path / "serve.db")  # what `billing-bot db upgrade` leaves (tests/cli runs that command)
    port = free_port()
    process = subprocess.Popen(
        [*BOT, "serve", "--port", str(port), "--no-scheduler", *options],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:

            def healthy() -> bool:
                try:
                    return http.get("/healthz").status_code == 200
                except httpx.TransportError:
                    return process.poll() is not None

            wait_until(healthy, 30, "the server")
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            yield process, http
    finally:
        process.terminate()
        process.wait(15)


def ask_for_help(http: httpx.Client, api: SlackAPI) -> None:
    url = api.response_url
    body = slash_command_body("help", response_url=url)
    answer = http.post("/slack/events", content=body, headers=signed_headers(SECRET, body))
    assert answer.status_code == 200
    if not answer.content:  # help is answered in the ack body, or else through the response_url
        wait_until(lambda: bool(api.response_url_posts(url)), 10, "the help reply")
    else:
        assert answer.json()["response_type"] == "ephemeral" and "pay balance" in answer.text


def test_serve_answers_health_and_a_signed_command(tmp_path: Path, api: SlackAPI) -> None:
    with serving(tmp_path, api) as (_process, http):
        ask_for_help(http, api)
        assert http.get("/slack/events").status_code == 405
        assert http.get("/metrics").status_code == 200


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _workers(pid: int) -> list[int]:
    """uvicorn's worker processes under ``serve`` (multiprocessing also starts a resource tracker);
    a child that ends while it is being looked at (the killed worker, reaped) is not one."""
    workers = []
    for child in _children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")
        except FileNotFoundError:
            continue
        if command and "resource_tracker" not in command:
            workers.append(child)
    return workers


def test_serve_with_two_workers_answers_from_two_processes_and_replaces_one_that_dies(
    tmp_path: Path, api: SlackAPI
) -> None:
    with serving(tmp_path, api, "--workers", "2") as (process, http):
        wait_until(lambda: len(_workers(process.pid)) == 2, 20, "two worker processes")
        for _ in range(4):
            ask_for_help(http, api)
        victim = _workers(process.pid)[0]
        os.kill(victim, signal.SIGKILL)
        wait_until(
            lambda: victim not in _workers(process.pid) and len(_workers(process.pid)) == 2, 30, "a replacement worker"
        )
        wait_until(lambda: http.get("/healthz").status_code == 200, 20, "the server after a worker died")
        ask_for_help(http, api)


def test_serve_without_the_signing_secret_exits_naming_it(tmp_path: Path, api: SlackAPI) -> None:
    env = environment(tmp_path, api, SLACK_BOT_TOKEN="xoxb-serve")
    started = time.monotonic()
    result = subprocess.run(
        [*BOT, "serve", "--port", str(free_port())], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0 and time.monotonic() - started < 30
    assert "SLACK_SIGNING_SECRET" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_socket_without_an_app_token_exits_naming_it(tmp_path: Path, api: SlackAPI) -> None:
    env = environment(tmp_path, api, SLACK_BOT_TOKEN="xoxb-serve")
    result = subprocess.run([*BOT, "socket"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "SLACK_APP_TOKEN" in result.stderr
