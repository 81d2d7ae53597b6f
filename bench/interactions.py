"""Latency/throughput of ``billing-bot serve`` against a bare Bolt app, and the RSS of ``serve``."""

from __future__ import annotations

import asyncio
import statistics
from pathlib import Path
from typing import Any

from bench.generate import Sizes
from bench.load import INTERACTIONS, CellResult, Workload, run_cell
from bench.server import Server, server_env
from bench.standin import StandIn

CONCURRENCY = (1, 8, 32)
_FIGURES = ("ack_p50_ms", "ack_p99_ms", "e2e_p50_ms", "e2e_p99_ms")


def median_row(ours: list[CellResult], bare: list[CellResult]) -> dict[str, Any]:
    """One table row from the windows of a cell: medians, and the median of the paired ratios."""
    rows = [run.summary() for run in ours]
    row: dict[str, Any] = {
        "interaction": ours[0].interaction, "concurrency": ours[0].concurrency,
        "requests": sum(run.requests for run in ours), "errors": sum(run.errors for run in ours),
        "rps": round(statistics.median(run.rps for run in ours), 1),
    }  # fmt: skip
    for figure in _FIGURES:
        values = [r[figure] for r in rows if r[figure] is not None]
        row[figure] = round(statistics.median(values), 2) if values else None
    bare_rows = [run.summary() for run in bare]
    row["bare_rps"] = round(statistics.median(run.rps for run in bare), 1)
    for figure in ("ack_p50_ms", "ack_p99_ms"):
        values = [r[figure] for r in bare_rows if r[figure] is not None]
        row[f"bare_{figure}"] = round(statistics.median(values), 2) if values else None
    ratios = [mine.rps / base.rps for mine, base in zip(ours, bare, strict=True) if base.rps]
    row["rps_vs_bare"] = round(statistics.median(ratios), 3) if ratios else None
    row["windows"] = len(ours)
    return row


async def _start(server: Server) -> Server:
    return await asyncio.get_running_loop().run_in_executor(None, server.__enter__)


async def latency(
    database_url: str, sizes: Sizes, log_dir: Path, *, seconds: float, warmup: float, rounds: int = 3
) -> dict[str, Any]:
    """Every interaction at every concurrency, bare app and ours alternately, on the same stack.

    Each cell is ``rounds`` windows of each app in turn, and each figure the median of its windows:
    the shared machine's speed drifts by a third from one minute to the next, and a ratio taken
    from neighbouring windows compares the two apps on the same machine.
    """
    standin = await StandIn().start()
    env = server_env(database_url, standin.api_url, standin.root_url)
    ours, bare = Server.ours(env, log_dir), Server.bare(env, log_dir)
    await _start(ours)
    try:
        await _start(bare)
        workload = Workload(sizes, standin)
        # Every bench user once, so the identity cache is warm as in steady use.
        await run_cell(
            ours.port, standin, workload, "balance", 8, seconds=3600, warmup=0, max_requests=len(workload.accounts)
        )
        cells: list[dict[str, Any]] = []
        for interaction in INTERACTIONS:
            for concurrency in CONCURRENCY:
                bare_runs: list[CellResult] = []
                our_runs: list[CellResult] = []
                for _ in range(rounds):  # alternating windows: both apps see the same machine
                    bare_runs.append(
                        await run_cell(
                            bare.port,
                            standin,
                            workload,
                            interaction,
                            concurrency,
                            seconds=seconds,
                            warmup=warmup,
                            ack_only=True,
                        )
                    )
                    our_runs.append(
                        await run_cell(
                            ours.port, standin, workload, interaction, concurrency, seconds=seconds, warmup=warmup
                        )
                    )
                cells.append(median_row(our_runs, bare_runs))
        return {"cells": cells, "web_api_calls": dict(standin.counts)}
    finally:
        ours.stop()
        bare.stop()
        await standin.stop()


async def memory(database_url: str, sizes: Sizes, log_dir: Path, *, requests: int, rounds: int = 3) -> dict[str, Any]:
    """RSS of a fresh ``serve`` at rest, then after each round of ``requests`` mixed interactions."""
    standin = await StandIn().start()
    env = server_env(database_url, standin.api_url, standin.root_url)
    server = Server.ours(env, log_dir)
    await _start(server)
    try:
        await asyncio.sleep(1.0)
        at_rest = server.rss_mb()
        workload = Workload(sizes, standin)
        after: list[float] = []
        errors = 0
        for _ in range(rounds):
            for interaction in INTERACTIONS:
                cell = await run_cell(
                    server.port,
                    standin,
                    workload,
                    interaction,
                    8,
                    seconds=3600,
                    warmup=0,
                    max_requests=requests // len(INTERACTIONS),
                )
                errors += cell.errors
            await asyncio.sleep(1.0)
            after.append(server.rss_mb())
        return {
            "requests_per_round": requests,
            "rss_at_rest_mb": at_rest,
            "rss_after_rounds_mb": after,
            "errors": errors,
            "growth_last_two_rounds_mb": round(after[-1] - after[-2], 1) if rounds > 1 else 0,
        }
    finally:
        server.stop()
        await standin.stop()
