"""The domain speaks to no outside system itself: Stripe, SMTP, HTTP, Prometheus and the PostgreSQL
driver are imported only by ``billing_core.adapters`` (and the database layer, ``billing_core.db``,
for its driver), each behind a port the domain owns. Names that merely say "stripe" (the
``stripe_customer_id`` field of the import file, the columns holding Stripe's ids) are data, not
imports, and stay."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "billing_core"
OUTSIDE = {"stripe", "smtplib", "urllib3", "httpx", "requests", "prometheus_client", "psycopg"}
# Parsing a URL (urllib.parse) is a rule; sending one is an adapter's job.
OUTSIDE_MODULES = {"urllib.request", "http.client"}


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def outside_systems(path: Path) -> list[str]:
    return sorted(
        module
        for module in imported_modules(path)
        if module.split(".")[0] in OUTSIDE or any(module.startswith(name) for name in OUTSIDE_MODULES)
    )


def test_only_the_adapters_import_the_libraries_of_outside_systems() -> None:
    found = {
        str(path.relative_to(ROOT.parent)): outside_systems(path)
        for path in sorted(ROOT.rglob("*.py"))
        if path.relative_to(ROOT).parts[0] not in ("adapters", "db")
    }
    assert {path: libraries for path, libraries in found.items() if libraries} == {}


def test_the_database_layer_names_its_driver_only_to_stream_rows() -> None:
    users = sorted(
        str(path.relative_to(ROOT.parent))
        for path in (ROOT / "db").rglob("*.py")
        if "migrations" not in path.parts and any(m.split(".")[0] == "psycopg" for m in imported_modules(path))
    )
    assert users in ([], ["billing_core/db/streaming.py"])
