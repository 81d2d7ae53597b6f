"""A threading HTTP server for test stand-ins that logs its failures instead of printing them.

``socketserver`` prints a traceback between two lines of dashes to ``sys.stderr`` when a handler
fails, from the server's thread, whenever that happens: a client resetting a kept-alive connection
long after its test ended would land in whatever captures stderr at that moment (a ``CliRunner``
in another test, say). A client hanging up is no error at all; anything else is logged.
"""

from __future__ import annotations

import logging
import sys
from http.server import ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)

_HANG_UPS = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, TimeoutError)


class QuietThreadingHTTPServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, _HANG_UPS):
            logger.debug("a client of a test stand-in closed its connection: %s", error)
            return
        logger.warning("a test stand-in failed on a request from %s", client_address, exc_info=True)
