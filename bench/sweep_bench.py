"""The reminder sweep over many installed workspaces, from two processes, against a Slack stand-in
that enforces the published tiers per (workspace, method) and answers 429 with ``Retry-After``.

    python -m bench.sweep_bench [--workspaces 10000] [--accounts 10000] [--database-url URL]

Data: ``accounts`` accounts of the bench generator (10 invoices each), installed in OAuth mode in
``workspaces`` workspaces (``bench.workspaces``); each account's own contact (``billing…``) has
used the bot in one workspace (``team_of``), a fortieth of them in one of five *hot* workspaces so
that some workspaces press on their tiers; the shared ``finance…`` contacts never used it and are
looked up by e-mail where a colleague is (``users.lookupByEmail``, Tier 3), and not found.

Two worker processes (``--worker``), each with its own sender, budgets and workspace leases, run
``services.reminders.run_sweep`` at the same moment on the same database (PostgreSQL in full mode,
a SQLite file in quick mode). Reported: DMs per second across workspaces (from the start signal to
the last DM; the sweep's overdue escalation after delivery is not counted), calls the stand-in
got inside a ``Retry-After`` window it had given (goal 0), each method's highest calls in any 60 s
in one workspace against its tier, and whether every due DM went out exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert

from bench.generate import Sizes, generate, user_email, user_id
from bench.reminder_send import weekday_morning
from bench.standin import StandIn
from bench.workspaces import install_workspaces, oauth_settings, team_of, workspace
from billing_core.clock import FixedClock
from billing_core.db.database import Database
from billing_core.db.tables import PrincipalRecord, SlackLimitRecord
from bot.slack.reminder_sender import CONCURRENT_SENDS
from devtools.loopback.slack_tiers import SlackTiers

ROOT = Path(__file__).resolve().parent.parent
WORKSPACES = 10_000
ACCOUNTS = 10_000
HOT_WORKSPACES = 5
HOT_EVERY = 40  # every 40th account's contact uses the bot in a hot workspace
PROFILE_ENV = "SWEEP_BENCH_PROFILE"


def home_of(a: int, workspaces: int) -> str:
    """The workspace account ``a``'s own contact uses the bot in."""
    return workspace(a // HOT_EVERY % HOT_WORKSPACES) if a % HOT_EVERY == 0 else team_of(a, workspaces)


def seed(db: Database, accounts: int, workspaces: int) -> None:
    """Each account's own contact proven in its home workspace; no leases or rests left from a run."""
    now = datetime.now(UTC)
    rows = []
    for a in range(accounts):
        email = user_email(user_id(a))
        rows.append({
            "principal": f"slack:{home_of(a, workspaces)}:{user_id(a)}", "email": email, "verified_email": email,
            "verified_at": now, "updated_at": now, "last_seen_at": now,
        })  # fmt: skip
    with db.engine.begin() as connection:
        connection.execute(delete(PrincipalRecord))
        connection.execute(delete(SlackLimitRecord))
        for start in range(0, len(rows), 5_000):
            connection.execute(insert(PrincipalRecord), rows[start : start + 5_000])


def due_dms(db: Database, url: str, now: datetime) -> int:
    """DMs the sweep must send: the groups (person and step) of the own contacts (all proven)."""
    from bot.compose import build_services

    services = build_services(
        oauth_settings(url, SLACK_API_URL="http://127.0.0.1:9/api/"), clock=FixedClock(now), db=db
    )
    return sum(1 for planned in services.reminders.preview(now) if planned.email.startswith("billing"))


@contextmanager
def serving(tiers: SlackTiers) -> Iterator[StandIn]:
    """The stand-in on its own event loop thread, for the worker processes to call."""
    standin = StandIn(tiers)
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(standin.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="sweep-standin", daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield standin
    finally:
        asyncio.run_coroutine_threadsafe(standin.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def run(workspaces: int, accounts: int, database_url: str | None, profile_dir: str | None = None) -> dict[str, Any]:
    now = weekday_morning(datetime.now(UTC))
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'sweep.db'}"
        db = Database(url)
        generate(db, Sizes(accounts, 10 * accounts), today=now.date())
        installed = install_workspaces(db, workspaces)
        seed(db, accounts, workspaces)
        expected = due_dms(db, url, now)
        tiers = SlackTiers()
        with serving(tiers) as standin:
            workers = [
                subprocess.Popen(
                    [
                        "nice",
                        "-n",
                        "10",
                        sys.executable,
                        "-m",
                        "bench.sweep_bench",
                        "--worker",
                        url,
                        standin.api_url,
                        now.isoformat(),
                    ],
                    cwd=ROOT,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    env={**os.environ, "PYTHONPATH": str(ROOT), **({PROFILE_ENV: profile_dir} if profile_dir else {})},
                )
                for _ in range(2)
            ]
            for worker in workers:  # built (imports, composition) before the clock starts
                assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
            started = time.perf_counter()
            for worker in workers:
                assert worker.stdin is not None
                worker.stdin.write("go\n")
                worker.stdin.flush()
            results = []
            for worker in workers:
                out, _ = worker.communicate(timeout=1800)
                results.append(json.loads(out.strip().splitlines()[-1]))
            ended = time.perf_counter()
            load_after = os.getloadavg()
            report = tiers.report()
            dms = sum(standin.dms.values())
            last = (standin.last_dm_at or ended) - started
            first = (standin.first_dm_at or ended) - started
            twice = sum(1 for count in standin.dms.values() if count > 1)
        db.dispose()
    return {
        "workspaces": workspaces,
        "accounts": accounts,
        "database": Database(url).dialect if database_url else "sqlite",
        "installed_in_s": installed["seconds"],
        "processes": 2,
        "concurrent_sends_per_process": CONCURRENT_SENDS,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "due_dms": expected,
        "dms_sent": dms,
        "dms_sent_twice": twice,
        "every_dm_once": dms == expected and twice == 0,
        "seconds_to_first_dm": round(first, 2),
        "seconds_to_last_dm": round(last, 2),
        "dms_per_second": round(dms / last, 1) if last > 0 else None,
        "sweep_seconds": round(ended - started, 2),
        "calls_inside_retry_after": report["calls_inside_retry_after"],
        "answered_429": report["answered_429"],
        "peak_per_workspace_per_minute": report["peaks"],
        "per_process": results,
    }


def worker(url: str, api_url: str, now_iso: str) -> None:
    """One replica: build the services, wait for "go", sweep, print the result as JSON."""
    from bot.compose import build_services

    now = datetime.fromisoformat(now_iso)
    db = Database(url)
    services = build_services(oauth_settings(url, SLACK_API_URL=api_url), clock=FixedClock(now), db=db)
    print("ready", flush=True)
    sys.stdin.readline()
    started, cpu = time.perf_counter(), time.process_time()
    profile_dir = os.environ.get(PROFILE_ENV)
    if profile_dir:  # --profile: each worker's cProfile, for bench.profile-style reading with pstats
        import cProfile

        with cProfile.Profile() as profile:
            result = services.reminders.run_sweep(now)
        profile.dump_stats(str(Path(profile_dir) / f"sweep-worker-{os.getpid()}.prof"))
    else:
        result = services.reminders.run_sweep(now)
    print(
        json.dumps(
            {
                "seconds": round(time.perf_counter() - started, 2),
                "cpu_seconds": round(time.process_time() - cpu, 2),
                "dms": result.messages,
                "skipped": result.messages_skipped,
                "failed": result.messages_failed,
                "postponed": result.postponed,
                "left_to_the_other_process": result.messages_elsewhere,
            }
        )
    )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workspaces", type=int, default=WORKSPACES)
    parser.add_argument("--accounts", type=int, default=ACCOUNTS)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--profile", metavar="DIR", default=None, help="write each worker's cProfile stats to DIR")
    parser.add_argument("--worker", nargs=3, metavar=("URL", "API_URL", "NOW"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    print(json.dumps(run(args.workspaces, args.accounts, args.database_url, args.profile), indent=2))


if __name__ == "__main__":
    main()
