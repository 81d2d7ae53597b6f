"""The domain starts no threads (issue 29, item 2): background work goes through the
``billing_core.background`` port, whose thread adapter is in ``billing_core.adapters``. A lock
guarding shared state (``billing_core.tallies``) is not a thread and stays allowed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "billing_core"
THREADS = re.compile(
    r"\bthreading\.(Thread|Event|Timer|Condition|Semaphore|BoundedSemaphore|Barrier)\b"
    r"|from threading import|\bThread\(|concurrent\.futures|ThreadPoolExecutor\b"
)


def test_no_domain_module_runs_threads_itself() -> None:
    found = [
        f"{path.relative_to(ROOT.parent)}:{number}: {line.strip()}"
        for path in sorted(ROOT.rglob("*.py"))
        if "adapters" not in path.relative_to(ROOT).parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if THREADS.search(line)
    ]
    assert found == []
