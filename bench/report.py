"""The issue's targets checked against a run's results, and the printed (Markdown) table."""

from __future__ import annotations

from typing import Any

MAX_QUERIES = 5
P99_MS = 20.0
RATIO = 0.30
PLAN_S = 3.0
VIEW_MS = 200.0  # the staff receivables view's queries (issue 31)
SWEEP_DMS_PER_S = 500  # issue 28: the reminder sweep across 10,000 workspaces, two processes
IMPORT_PER_S = 10_000
EXPORT_PER_S = 50_000  # payments export (issue 17), full run: 1,000,000 payments
EXPORT_RSS_MB = 150.0
RSS_MB = 250.0
FLAT_MB = 5.0  # growth between the last two rounds that still counts as flat
# wrk section (issue 30): serve --workers 2 against the bare app with 2 workers, at c=8; every
# interaction at a third of bare, p99 20 ms for slash commands and 30 ms for what opens a view
WRK_RATIO = {"balance": 0.33, "pay": 0.33, "pay_modal": 0.33, "home": 0.33, "button": 0.33}
WRK_P99_MS = {"balance": 20.0, "pay": 20.0, "pay_modal": 30.0, "home": 30.0, "button": 20.0}
WORKERS_SCALING = 1.4
OAUTH_WITHIN = 0.10


def _cell(results: dict[str, Any], interaction: str, concurrency: int) -> dict[str, Any] | None:
    cells = results.get("latency", {}).get("cells", [])
    return next((c for c in cells if c["interaction"] == interaction and c["concurrency"] == concurrency), None)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target: what was measured and whether it is met (``None``: not measured)."""
    rows: list[dict[str, Any]] = []

    def add(target: str, measured: Any, met: bool | None) -> None:
        rows.append({"target": target, "measured": measured, "met": met})

    for name in ("balance", "pay"):
        cell = _cell(results, name, 8)
        if cell is not None:
            add(f"/billing {name} ack p99 at c=8 <= {P99_MS:g} ms", cell["ack_p99_ms"], cell["ack_p99_ms"] <= P99_MS)
            add(
                f"/billing {name} reply p99 at c=8 <= {P99_MS:g} ms (end to end)",
                cell["e2e_p99_ms"],
                cell["e2e_p99_ms"] <= P99_MS,
            )
    for name in ("balance", "pay", "pay_modal", "home"):
        cell = _cell(results, name, 8)
        if cell is not None and cell["rps_vs_bare"] is not None:
            add(
                f"{name} throughput at c=8 >= {RATIO:.0%} of bare Bolt",
                cell["rps_vs_bare"],
                cell["rps_vs_bare"] >= RATIO,
            )
    queries = results.get("queries")
    if queries:
        slash = {k: v for k, v in queries.items() if k.startswith("/billing")}
        worst = max(max(v.values()) for v in slash.values())
        over = sorted(k for k, v in slash.items() if max(v.values()) > MAX_QUERIES)
        add(
            f"queries per slash command <= {MAX_QUERIES}",
            f"max {worst}" + (f" ({', '.join(over)})" if over else ""),
            worst <= MAX_QUERIES,
        )
        n_plus_one = sorted(k for k, v in queries.items() if v["50_invoices"] != v["1_invoice"])
        add(
            "same queries for 1 and 50 invoices",
            "differs: " + ", ".join(n_plus_one) if n_plus_one else "same",
            not n_plus_one,
        )
    oauth_queries = results.get("queries_oauth")
    if oauth_queries:
        worst = max(max(v.values()) for v in oauth_queries.values())
        over = sorted(k for k, v in oauth_queries.items() if max(v.values()) > MAX_QUERIES)
        add(
            f"queries per slash command, OAuth (authorization included) <= {MAX_QUERIES}",
            f"max {worst}" + (f" ({', '.join(over)})" if over else ""),
            worst <= MAX_QUERIES,
        )
    rows += _wrk_targets(results)
    plan = results.get("reminders", {}).get("plan")
    if plan:
        full = results.get("mode") == "full"
        add(
            f"sweep planning over {plan['invoices']:,} invoices <= {PLAN_S:g} s",
            plan["plan_seconds"],
            plan["plan_seconds"] <= PLAN_S if full else None,
        )
    sweep = results.get("sweep")
    if sweep:
        full = results.get("mode") == "full"
        add(
            f"sweep DMs/s across {sweep['workspaces']:,} workspaces, two processes >= {SWEEP_DMS_PER_S}",
            sweep["dms_per_second"],
            (sweep["dms_per_second"] or 0) >= SWEEP_DMS_PER_S if full else None,
        )
        add(
            "sweep: calls inside a Retry-After window = 0",
            sweep["calls_inside_retry_after"],
            sweep["calls_inside_retry_after"] == 0,
        )
        over = [
            m
            for m, p in sweep["peak_per_workspace_per_minute"].items()
            if p["tier"] and p["peak_per_minute"] > p["tier"]
        ]
        add("sweep: no workspace over its tier", ", ".join(over) or "none over", not over)
        add(
            "sweep: every due DM sent exactly once",
            f"{sweep['dms_sent']:,} of {sweep['due_dms']:,}",
            sweep["every_dm_once"],
        )
    autopay = results.get("autopay")
    if autopay:
        full = results.get("mode") == "full"
        add(
            f"autopay pass planning over {autopay['invoices']:,} invoices (10% of accounts) <= {PLAN_S:g} s",
            autopay["plan_seconds"],
            autopay["plan_seconds"] <= PLAN_S if full else None,
        )
    aging = results.get("receivables")
    if aging:
        full = results.get("mode") == "full"
        if "slowest_query_ms" in aging:
            add(
                f"each receivables view query over {aging['invoices']:,} invoices <= {VIEW_MS:g} ms"
                f" (slowest of {aging['view_queries']}: {aging['slowest_query']})",
                aging["slowest_query_ms"],
                aging["slowest_query_ms"] <= VIEW_MS if full else None,
            )
        add(
            f"the receivables view's whole read ({aging.get('view_queries', '?')} queries)"
            f" over {aging['invoices']:,} invoices <= {VIEW_MS:g} ms",
            aging["view_ms"],
            aging["view_ms"] <= VIEW_MS if full else None,
        )
    for row in results.get("import", []):
        if str(row["backend"]).startswith("sqlite"):
            add(
                f"import >= {IMPORT_PER_S:,} invoices/s on SQLite",
                row["first_import_invoices_per_s"],
                row["first_import_invoices_per_s"] >= IMPORT_PER_S,
            )
    for row in results.get("export", []):
        full = results.get("mode") == "full"
        add(
            f"export >= {EXPORT_PER_S:,} payments/s ({row['backend']}, {row['payments']:,})",
            row["rows_per_s"],
            row["rows_per_s"] >= EXPORT_PER_S if full else None,
        )
        add(
            f"export peak RSS <= {EXPORT_RSS_MB:g} MB ({row['backend']})",
            row["peak_rss_mb"],
            row["peak_rss_mb"] <= EXPORT_RSS_MB if full else None,
        )
    memory = results.get("memory")
    if memory:
        peak = max([memory["rss_at_rest_mb"], *memory["rss_after_rounds_mb"]])
        add(f"RSS of serve <= {RSS_MB:g} MB", peak, peak <= RSS_MB)
        add(
            f"RSS flat across rounds (last round grows <= {FLAT_MB:g} MB)",
            memory["growth_last_two_rounds_mb"],
            memory["growth_last_two_rounds_mb"] <= FLAT_MB,
        )
    return rows


def _wrk_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's wrk targets; judged on a full run only (quick windows are a second long)."""
    section = results.get("wrk")
    if not section:
        return []
    full = results.get("mode") == "full"
    rows: list[dict[str, Any]] = []

    def add(target: str, measured: Any, ok: bool) -> None:
        rows.append({"target": target, "measured": measured, "met": ok if full and measured is not None else None})

    def cell(interaction: str) -> dict[str, Any] | None:
        return next(
            (c for c in section["cells"] if (c["interaction"], c["concurrency"], c["workers"]) == (interaction, 8, 2)),
            None,
        )

    for name, p99 in WRK_P99_MS.items():
        c = cell(name)
        if c is not None:
            add(
                f"wrk: {name} p99 at c=8, --workers 2 <= {p99:g} ms",
                c["p99_ms"],
                c["p99_ms"] is not None and c["p99_ms"] <= p99,
            )
    for name, ratio in WRK_RATIO.items():
        c = cell(name)
        if c is not None:
            add(
                f"wrk: {name} throughput at c=8, --workers 2 >= {ratio:.0%} of bare Bolt",
                c["rps_vs_bare"],
                c["rps_vs_bare"] is not None and c["rps_vs_bare"] >= ratio,
            )
    for row in section["scaling"]:
        if row["concurrency"] == 8:
            add(
                f"wrk: {row['interaction']} at c=8, --workers 2 >= {WORKERS_SCALING:g}x --workers 1",
                row["w2_vs_w1"],
                row["w2_vs_w1"] is not None and row["w2_vs_w1"] >= WORKERS_SCALING,
            )
    for row in section["oauth"]:
        if row["concurrency"] == 8:
            add(
                f"wrk: OAuth (10,000 workspaces) {row['interaction']} at c=8 within {OAUTH_WITHIN:.0%} of "
                "single workspace",
                row["vs_single"],
                row["vs_single"] is not None and row["vs_single"] >= 1 - OAUTH_WITHIN,
            )
    return rows


def _wrk_tables(section: dict[str, Any]) -> list[str]:
    out = [
        "",
        f"wrk ({section['threads']} thread, keep-alive, pre-signed bodies; medians of {section['rounds']} "
        f"round(s) of {section['seconds']} s windows; rps = HTTP answers/s, done/s = finished interactions/s "
        "(modal and Home: when Slack got the view; button: when its response_url reply arrived); ratios "
        "paired within a round; busiest worker = its share of the CPU time of ours / of bare, 0.5 = even):",
        "",
    ]
    out.append(
        _table(
            [
                "interaction",
                "c",
                "workers",
                "rps",
                "done/s",
                "p50",
                "p99",
                "bare rps",
                "bare p99",
                "done / bare",
                "busiest worker",
                "errors",
            ],
            [
                [
                    c["interaction"],
                    c["concurrency"],
                    c["workers"],
                    c["rps"],
                    c["done_rps"],
                    c["p50_ms"],
                    c["p99_ms"],
                    c["bare_rps"],
                    c["bare_p99_ms"],
                    c["rps_vs_bare"],
                    f"{c['busiest_worker_share']} / {c['bare_busiest_worker_share']}" if c["workers"] > 1 else None,
                    c["errors"],
                ]
                for c in section["cells"]
            ],
        )
    )
    out += ["", "serve --workers 2 against --workers 1 (done/s):", ""]
    out.append(
        _table(
            ["interaction", "c", "--workers 1", "--workers 2", "2 / 1", "bare 2 / 1"],
            [
                [r["interaction"], r["concurrency"], r["w1_rps"], r["w2_rps"], r["w2_vs_w1"], r["bare_w2_vs_w1"]]
                for r in section["scaling"]
            ],
        )
    )
    o = section["oauth"]
    if not o or not section.get("oauth_setup"):  # a subset of interactions without balance or pay
        return out
    out += [
        "",
        f"OAuth mode, {section['oauth_setup']['workspaces']:,} installed workspaces "
        "(serve --workers 2), against single workspace in the same rounds:",
        "",
    ]
    out.append(
        _table(
            ["interaction", "c", "OAuth rps", "OAuth p99", "single rps", "single p99", "OAuth / single", "errors"],
            [
                [
                    r["interaction"],
                    r["concurrency"],
                    r["rps"],
                    r["p99_ms"],
                    r["single_rps"],
                    r["single_p99_ms"],
                    r["vs_single"],
                    r["errors"],
                ]
                for r in o
            ],
        )
    )
    return out


def _table(header: list[str], rows: list[list[Any]]) -> str:
    text = [[str("–" if v is None else v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text)) if text else len(h) for i, h in enumerate(header)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) + " |" for r in text]
    return "\n".join([line, rule, *body])


def render(results: dict[str, Any]) -> str:
    """The whole run as Markdown tables (what the README's Performance section shows)."""
    m = results["machine"]
    data = results["data"]
    out = [
        f"mode {results['mode']}, {results['database']}: {data['accounts']:,} accounts, {data['contacts']:,} "
        f"contacts, {data['invoices']:,} invoices; {m['nproc']} × {m['cpu']}, {m['memory_gib']} GiB, "
        f"Python {m['python']}, load average at start {m['load_average_at_start'][0]:.2f}",
    ]
    latency = results.get("latency")
    if latency:
        out += [
            "",
            "Interactions (ack = HTTP answer to Slack; reply = until the answer reached the Web API "
            "stand-in; rps = finished interactions per second):",
            "",
        ]
        out.append(
            _table(
                [
                    "interaction",
                    "c",
                    "ack p50",
                    "ack p99",
                    "reply p50",
                    "reply p99",
                    "rps",
                    "bare rps",
                    "bare ack p99",
                    "rps / bare",
                ],
                [
                    [
                        c["interaction"],
                        c["concurrency"],
                        c["ack_p50_ms"],
                        c["ack_p99_ms"],
                        c["e2e_p50_ms"],
                        c["e2e_p99_ms"],
                        c["rps"],
                        c["bare_rps"],
                        c["bare_ack_p99_ms"],
                        c["rps_vs_bare"],
                    ]
                    for c in latency["cells"]
                ],
            )
        )
    queries = results.get("queries")
    if queries:
        out += ["", "SQL statements per interaction:", ""]
        out.append(
            _table(
                ["interaction", "50 invoices", "1 invoice"],
                [[k, v["50_invoices"], v["1_invoice"]] for k, v in queries.items()],
            )
        )
    oauth_queries = results.get("queries_oauth")
    if oauth_queries:
        out += ["", "SQL statements per slash command, OAuth mode with 10,000 workspaces (authorization included):", ""]
        out.append(
            _table(
                ["interaction", "50 invoices", "1 invoice"],
                [[k, v["50_invoices"], v["1_invoice"]] for k, v in oauth_queries.items()],
            )
        )
    if results.get("wrk"):
        out += _wrk_tables(results["wrk"])
    reminders = results.get("reminders")
    if reminders:
        p, s = reminders["plan"], reminders["send"]
        out += ["", "Reminders:", ""]
        out.append(
            _table(
                ["measure", "value"],
                [
                    ["planning: invoices", f"{p['invoices']:,}"],
                    ["planning: due reminders", f"{p['due_reminders']:,}"],
                    ["planning: DMs", f"{p['dms']:,}"],
                    ["planning: seconds", p["plan_seconds"]],
                    ["planning: Python peak MiB", p["python_peak_mib"]],
                    ["planning: process max RSS MiB", p["process_max_rss_mib"]],
                    ["sending: DMs sent", s["dms_sent"]],
                    ["sending: DMs/s (1 msg/s/channel limit)", s["dms_per_second"]],
                    ["sending: 429 answers", s["answered_429"]],
                    ["sending: closest two DMs in one channel (s)", s["closest_two_dms_in_one_channel_s"]],
                ],
            )
        )
    sweep = results.get("sweep")
    if sweep:
        out += ["", f"Reminder sweep, {sweep['workspaces']:,} workspaces, two processes ({sweep['database']}):", ""]
        rows = [
            [
                "due DMs / sent / sent twice",
                f"{sweep['due_dms']:,} / {sweep['dms_sent']:,} / {sweep['dms_sent_twice']}",
            ],
            ["seconds to the last DM", sweep["seconds_to_last_dm"]],
            ["DMs/s across workspaces", sweep["dms_per_second"]],
            ["calls inside a Retry-After window", sweep["calls_inside_retry_after"]],
            ["429 answers", sweep["answered_429"]],
        ]
        for method, peak in sorted(sweep["peak_per_workspace_per_minute"].items()):
            tier = peak["tier"] if peak["tier"] is not None else "special (1/s per channel)"
            rows.append([f"peak {method} calls in 60 s in one workspace (tier)", f"{peak['peak_per_minute']} ({tier})"])
        out.append(_table(["measure", "value"], rows))
    autopay = results.get("autopay")
    if autopay:
        out += ["", "Autopay pass planning:", ""]
        out.append(
            _table(
                ["measure", "value"],
                [
                    ["invoices", f"{autopay['invoices']:,}"],
                    ["accounts on autopay", f"{autopay['autopay_accounts']:,}"],
                    ["charges due", f"{autopay['due_charges']:,}"],
                    ["seconds", autopay["plan_seconds"]],
                ],
            )
        )
    aging = results.get("receivables")
    if aging:
        out += ["", "Receivables view queries (median ms):", ""]
        out.append(
            _table(
                ["measure", "value"],
                [
                    ["invoices", f"{aging['invoices']:,}"],
                    ["totals by aging bucket per currency", aging["totals_ms"]],
                    [
                        f"most overdue page, N+1 rows ({aging['overdue_accounts']:,} accounts overdue)",
                        aging["most_overdue_page_ms"],
                    ],
                    ["the staff view's whole read (StaffDesk.overview)", aging["view_ms"]],
                    *(
                        [[f"its slowest query: {aging['slowest_query']}", aging["slowest_query_ms"]]]
                        if "slowest_query_ms" in aging
                        else []
                    ),
                    [f"whole aging table ({aging['table_rows']:,} rows, receivables CLI)", aging["table_ms"]],
                ],
            )
        )
    imports = results.get("import")
    if imports:
        out += ["", "Import:", ""]
        out.append(
            _table(
                ["backend", "invoices", "first import /s", "re-import (unchanged) /s"],
                [
                    [r["backend"], f"{r['invoices']:,}", r["first_import_invoices_per_s"], r["reimport_invoices_per_s"]]
                    for r in imports
                ],
            )
        )
    exports = results.get("export")
    if exports:
        out += ["", "Payments export (CSV to a file, one `billing-bot payments export` process):", ""]
        out.append(
            _table(
                ["backend", "payments", "seconds", "payments/s", "peak RSS MB"],
                [
                    [r["backend"], f"{r['payments']:,}", r["export_s"], r["rows_per_s"], r["peak_rss_mb"]]
                    for r in exports
                ],
            )
        )
    memory = results.get("memory")
    if memory:
        out += ["", f"Memory of serve (RSS MB; {memory['requests_per_round']:,} requests per round):", ""]
        out.append(
            _table(
                ["at rest", *[f"after round {i + 1}" for i in range(len(memory["rss_after_rounds_mb"]))]],
                [[memory["rss_at_rest_mb"], *memory["rss_after_rounds_mb"]]],
            )
        )
    rows = results.get("targets", [])
    if rows:
        out += ["", "Targets:", ""]
        mark = {True: "met", False: "MISSED", None: "n/a (quick)"}
        out.append(_table(["target", "measured", ""], [[r["target"], r["measured"], mark[r["met"]]] for r in rows]))
    return "\n".join(out)
