"""Reminder send rate against a Web API stand-in that allows one message per second per channel.

    python -m bench.reminder_send [--users 300]

A real sweep (``services.reminders.run_sweep``, as ``billing-bot reminders run-once`` runs it)
over the small data set on SQLite, at 10:00 UTC on a weekday, with ``users`` Slack users in the
workspace (the own contacts of the first accounts, and their shared "finance" contacts, so some
people get several DMs and hit the per-channel limit). The stand-in answers 429 with
``Retry-After`` beyond one ``chat.postMessage`` per second per channel.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.generate import EMAIL_DOMAIN, QUICK, Sizes, generate, user_email, user_id
from billing_core.clock import FixedClock
from billing_core.db.database import Database
from bot.compose import build_services
from bot.settings import Settings
from devtools.loopback.slack_api import SlackAPI


def weekday_morning(after: datetime) -> datetime:
    day = after.date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def run(users: int = 300, sizes: Sizes = QUICK) -> dict[str, Any]:
    now = weekday_morning(datetime.now(UTC))
    with tempfile.TemporaryDirectory() as tmp, SlackAPI() as api:
        url = f"sqlite:///{Path(tmp) / 'send.db'}"
        db = Database(url)
        generate(db, sizes, today=now.date())
        for a in range(users):
            api.add_user(user_id(a), user_email(user_id(a)), f"Bench {a}", tz="UTC")
            api.add_user(f"UF{a // 2:06d}", f"finance{a // 2:06d}@{EMAIL_DOMAIN}", f"Finance {a // 2}", tz="UTC")
        api.enforce_rate_limits(True, per_channel_interval=1.0, burst=1)
        settings = Settings(
            _env_file=None,
            DATABASE_URL=url,
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_API_URL=api.base_url,
        )
        services = build_services(settings, clock=FixedClock(now), db=db)
        started = time.perf_counter()
        result = services.reminders.run_sweep(now)
        elapsed = time.perf_counter() - started
        posts = api.calls("chat.postMessage")
        db.dispose()
    delivered = [c for c in posts if c.status == 200 and c.ok]
    per_channel: dict[str, list[float]] = defaultdict(list)
    for call in delivered:
        per_channel[str(call.json_args.get("channel"))].append(call.at)
    closest = min(
        (b - a for times in per_channel.values() for a, b in zip(sorted(times), sorted(times)[1:], strict=False)),
        default=None,
    )
    return {
        "contacts": sizes.contacts,
        "workspace_users": users + (users + 1) // 2,
        "sweep_seconds": round(elapsed, 2),
        "dms_sent": len(delivered),
        "reminders_sent": result.sent,
        "dms_per_second": round(len(delivered) / elapsed, 1) if elapsed else None,
        "answered_429": sum(1 for c in posts if c.status == 429),
        "channels": len(per_channel),
        "most_dms_to_one_channel": max((len(t) for t in per_channel.values()), default=0),
        "closest_two_dms_in_one_channel_s": round(closest, 2) if closest is not None else None,
        "left_for_next_sweep": result.postponed,
        "failed": result.failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=300)
    args = parser.parse_args()
    print(json.dumps(run(args.users), indent=2))


if __name__ == "__main__":
    main()
