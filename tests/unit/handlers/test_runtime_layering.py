"""The Slack runtime is the bottom of ``handlers``: it imports no listener, no listener kit and
nothing of ``bot`` (bot -> handlers -> billing_core; the runtime knows Slack only)."""

from __future__ import annotations

import ast
from pathlib import Path

import handlers.runtime

RUNTIME = Path(handlers.runtime.__file__).parent


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_runtime_imports_only_itself_of_this_project() -> None:
    ours = ("handlers", "bot", "billing_core")
    for path in sorted(RUNTIME.glob("*.py")):
        strays = {m for m in imported_modules(path) if m.split(".")[0] in ours and not m.startswith("handlers.runtime")}
        assert not strays, f"{path.name} imports {sorted(strays)}"
