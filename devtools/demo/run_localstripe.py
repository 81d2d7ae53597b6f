"""Launch localstripe on 127.0.0.1 with no on-disk state.

Usage: ``python -m devtools.demo.run_localstripe PORT`` (started by ``devtools.demo.localstripe``;
adapted from the test suite's launcher, which production code must not import).

The stock ``localstripe`` CLI binds every interface, reloads
``/tmp/localstripe.pickle`` at start-up and re-pickles the whole store to
that shared file on every write.  This launcher avoids all three:

* it never calls ``localstripe.server.start()`` (the only place that calls
  ``Store.try_load_from_disk``), and additionally disables that method;
* it replaces ``Store.dump_to_disk`` with a no-op;
* it binds ``127.0.0.1`` only;
* it exits when its parent process dies (no orphaned servers after a killed
  test run).
"""

from __future__ import annotations

import os
import sys
import threading
import time


def _exit_with_parent(interval: float = 0.5) -> None:
    """Terminate this process as soon as it is re-parented (its parent died)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watchdog").start()


def main(argv: list[str] | None = None) -> None:
    """Run localstripe in the foreground on the port given as the only argument."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not (args[0].isascii() and args[0].isdecimal()):
        sys.stderr.write("usage: run_localstripe.py PORT\n")
        raise SystemExit(2)
    port = int(args[0])

    _exit_with_parent()

    from aiohttp import web
    from localstripe import resources  # type: ignore[import-untyped,unused-ignore]

    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None

    from localstripe.server import app  # type: ignore[import-untyped,unused-ignore]

    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
