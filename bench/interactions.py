"""Latency/throughput of ``billing-bot serve`` against a bare Bolt app, and the RSS of ``serve``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench.generate import Sizes
from bench.load import INTERACTIONS, Workload, run_cell
from bench.server import Server, server_env
from bench.standin import StandIn

CONCURRENCY = (1, 8, 32)


async def _start(server: Server) -> Server:
    return await asyncio.get_running_loop().run_in_executor(None, server.__enter__)


async def latency(database_url: str, sizes: Sizes, log_dir: Path, *, seconds: float, warmup: float) -> dict[str, Any]:
    """Every interaction at every concurrency, bare app and ours alternately, on the same stack."""
    standin = await StandIn().start()
    env = server_env(database_url, standin.api_url, standin.root_url)
    ours, bare = Server.ours(env, log_dir), Server.bare(env, log_dir)
    await _start(ours)
    try:
        await _start(bare)
        workload = Workload(sizes, standin)
        # Every bench user once, so the identity cache is warm as in steady use.
        await run_cell(ours.port, standin, workload, "balance", 8, seconds=3600, warmup=0,
                       max_requests=len(workload.accounts))
        cells: list[dict[str, Any]] = []
        for interaction in INTERACTIONS:
            for concurrency in CONCURRENCY:
                base = await run_cell(bare.port, standin, workload, interaction, concurrency,
                                      seconds=seconds, warmup=warmup, ack_only=True)
                mine = await run_cell(ours.port, standin, workload, interaction, concurrency,
                                      seconds=seconds, warmup=warmup)
                row = mine.summary()
                row["bare_rps"] = round(base.rps, 1)
                row["bare_ack_p50_ms"] = base.summary()["ack_p50_ms"]
                row["bare_ack_p99_ms"] = base.summary()["ack_p99_ms"]
                row["rps_vs_bare"] = round(mine.rps / base.rps, 3) if base.rps else None
                cells.append(row)
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
                cell = await run_cell(server.port, standin, workload, interaction, 8, seconds=3600, warmup=0,
                                      max_requests=requests // len(INTERACTIONS))
                errors += cell.errors
            await asyncio.sleep(1.0)
            after.append(server.rss_mb())
        return {"requests_per_round": requests, "rss_at_rest_mb": at_rest, "rss_after_rounds_mb": after,
                "errors": errors, "growth_last_two_rounds_mb": round(after[-1] - after[-2], 1) if rounds > 1 else 0}
    finally:
        server.stop()
        await standin.stop()
