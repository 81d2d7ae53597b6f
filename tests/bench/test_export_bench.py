"""The bench's "export 1,000,000 payments" section, run small: it counts what a real export wrote."""

from __future__ import annotations

from typing import Any

from bench import export_bench
from bench.report import render, targets


def test_the_export_section_reports_rows_per_second_and_peak_rss_and_its_targets() -> None:
    row = export_bench.run(500)
    assert row["payments"] == 500 and row["rows_per_s"] > 0 and 0 < row["peak_rss_mb"] < 1000
    results: dict[str, Any] = {
        "mode": "full",
        "export": [row],
        "machine": {"nproc": 2, "cpu": "x", "memory_gib": 1, "python": "3", "load_average_at_start": [0.0]},
        "database": "sqlite",
        "data": {"accounts": 0, "contacts": 0, "invoices": 0},
    }
    results["targets"] = targets(results)
    names = [t["target"] for t in results["targets"]]
    assert any("export >= 50,000 payments/s" in n for n in names)
    assert any("export peak RSS <= 150 MB" in n for n in names)
    assert "Payments export" in render(results)
