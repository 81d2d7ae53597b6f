"""``make bench`` / ``make bench-quick``: run every benchmark, print a table, write bench/results.json.

    python -m bench [--quick] [--database-url URL] [--only SECTION ...] [--interactions NAME ...] [--output PATH]

Full mode needs PostgreSQL: ``--database-url``, else ``BENCH_DATABASE_URL``, else the server that
``bash .ci/postgres.sh`` starts (database ``billing_bench`` on it, created when absent). Quick mode
runs on a temporary SQLite file unless a URL is given. ``--interactions`` limits the wrk section to
some of its interactions (``--only wrk --interactions button``). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import export_bench, import_bench, interactions, reminder_send, sweep_bench
from bench import generate as gen
from bench.report import render, targets
from bench.wrk import INTERACTIONS as WRK_INTERACTIONS
from billing_core.db.database import Database

SECTIONS = ("queries", "latency", "memory", "reminders", "sweep", "import", "wrk", "autopay", "export", "receivables")
ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = int(
        next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def postgres_server_url(given: str | None) -> str:
    """A PostgreSQL URL: the one given, ``BENCH_DATABASE_URL``, or ``.ci/postgres.sh``'s."""
    url = given or os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    out = subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh")], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def bench_database(server_url: str, name: str = "billing_bench") -> str:
    """Database ``name`` on the server of ``server_url``, created when absent."""
    import psycopg

    from devtools.postgres import connect_kwargs, with_database

    url = with_database(server_url, name)
    admin = connect_kwargs(with_database(server_url, "postgres"))
    with psycopg.connect(autocommit=True, **admin) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
    return url


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    quick = args.quick
    sizes = gen.QUICK if quick else gen.FULL
    server_url = args.database_url or os.environ.get("BENCH_DATABASE_URL")
    if not quick:
        server_url = postgres_server_url(server_url)
    if server_url and server_url.startswith("postgresql"):
        data_url = server_url if args.database_url else bench_database(server_url)
    else:
        data_url = server_url or f"sqlite:///{tmp / 'bench.db'}"
    results: dict[str, Any] = {
        "mode": "quick" if quick else "full",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "database": Database(data_url).dialect,
    }
    db = Database(data_url)
    print(f"data set: {sizes} on {db.dialect} ...", flush=True)
    results["data"] = gen.generate(db, sizes)
    only = set(args.only or SECTIONS)
    logs = tmp / "logs"
    logs.mkdir()

    if "queries" in only:
        print("queries per interaction ...", flush=True)
        from bench.queries import bench_settings, count_all, count_oauth
        from bench.stripe_standin import StripeStandIn
        from bot.compose import build_services
        from devtools.loopback.slack_api import SlackAPI

        with SlackAPI() as api, StripeStandIn() as stripe_api:
            settings = bench_settings(data_url, api, stripe_api.base_url)
            results["queries"] = count_all(build_services(settings, db=db), settings, api, sizes)
            print("queries per slash command in OAuth mode (10,000 workspaces) ...", flush=True)
            results["queries_oauth"] = count_oauth(db, api, stripe_api.base_url, sizes)
    db.dispose()

    if "latency" in only:
        print("latency and throughput (ours vs bare Bolt) ...", flush=True)
        seconds, warmup = (0.5, 0.2) if quick else (4.0, 0.5)
        results["latency"] = asyncio.run(interactions.latency(data_url, sizes, logs, seconds=seconds, warmup=warmup))
    if "memory" in only:
        print("memory of serve ...", flush=True)
        results["memory"] = asyncio.run(interactions.memory(data_url, sizes, logs, requests=400 if quick else 10_000))
    if "reminders" in only:
        print("reminder planning and send rate ...", flush=True)
        probe = subprocess.run(
            [sys.executable, "-m", "bench.plan_probe", data_url], check=True, capture_output=True, text=True, cwd=ROOT
        )
        plan = json.loads(probe.stdout.strip().splitlines()[-1])
        plan["invoices"] = sizes.invoices
        send = reminder_send.run(32, gen.Sizes(256, 4_000)) if quick else reminder_send.run(300, gen.QUICK)
        results["reminders"] = {"plan": plan, "send": send}
    if "sweep" in only:
        workspaces, accounts = (400, 400) if quick else (sweep_bench.WORKSPACES, sweep_bench.ACCOUNTS)
        print(f"reminder sweep over {workspaces:,} workspaces from two processes ...", flush=True)
        sweep_url = None  # quick: a SQLite file of its own; full: its own PostgreSQL database
        if server_url and server_url.startswith("postgresql"):
            sweep_url = bench_database(server_url, "billing_sweep_bench")
        results["sweep"] = sweep_bench.run(workspaces, accounts, sweep_url)
    if "autopay" in only:
        print("autopay pass planning (10% of accounts on autopay) ...", flush=True)
        probe = subprocess.run(
            [sys.executable, "-m", "bench.autopay_plan", data_url], check=True, capture_output=True, text=True, cwd=ROOT
        )
        results["autopay"] = json.loads(probe.stdout.strip().splitlines()[-1]) | {"invoices": sizes.invoices}
    if "receivables" in only:
        print("receivables view queries (aging totals, most overdue page, whole table) ...", flush=True)
        probe = subprocess.run(
            [sys.executable, "-m", "bench.receivables_bench", data_url],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        results["receivables"] = json.loads(probe.stdout.strip().splitlines()[-1]) | {"invoices": sizes.invoices}
    if "import" in only:
        print("import ...", flush=True)
        count = 10_000 if quick else 100_000
        results["import"] = [import_bench.run(count, None)]
        if server_url and server_url.startswith("postgresql"):
            results["import"].append(import_bench.run(count, server_url))
    if "export" in only:
        count = 10_000 if quick else 1_000_000
        print(f"export {count:,} payments ...", flush=True)
        results["export"] = [export_bench.run(count, None)]
        if server_url and server_url.startswith("postgresql"):
            results["export"].append(export_bench.run(count, server_url))
    if "wrk" in only:
        chosen = ", ".join(args.interactions or ()) or "every interaction"
        print(
            f"wrk ({chosen}): serve --workers 1/2, bare Bolt 1/2, OAuth (10,000 workspaces) for balance, pay ...",
            flush=True,
        )
        from bench import wrk

        seconds, rounds, warm = (1, 1, 1) if quick else (5, 3, 2)
        results["wrk"] = asyncio.run(
            wrk.measure(
                data_url, sizes, logs, seconds=seconds, rounds=rounds, warm_seconds=warm,
                interactions=tuple(args.interactions or ()),
            )
        )  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small data set (SQLite unless a URL is given)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL (or SQLite) URL for the data set")
    parser.add_argument("--only", nargs="*", choices=SECTIONS, help="run only these sections")
    parser.add_argument(
        "--interactions",
        nargs="*",
        choices=WRK_INTERACTIONS,
        help="the wrk section measures only these interactions (default: all)",
    )
    parser.add_argument(
        "--output",
        default=None,
        help="default bench/results.json (full; committed with the README) or bench/results/quick.json",
    )
    args = parser.parse_args()
    output = Path(args.output or ROOT / "bench" / ("results/quick.json" if args.quick else "results.json"))
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="billing-bench-") as tmp:
        results = run(args, Path(tmp))
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["targets"] = targets(results)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    print(f"wrote {output} ({results['seconds']} s)")


if __name__ == "__main__":
    main()
