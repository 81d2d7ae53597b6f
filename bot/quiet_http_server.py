"""A threading HTTP server that logs its handlers' failures instead of printing them.

``socketserver`` prints a traceback between two lines of dashes to ``sys.stderr`` when a handler
fails, from the server's thread, whenever that happens: into the console's screen, or into a test's
captured output. The bot keeps its connections to Slack open, so a client resetting one (when its
thread ends) is routine and no error at all; anything else is logged. Used by the console's
in-process Slack Web API and by the tests' stand-ins.
"""

from __future__ import annotations

import logging
import sys
from http.server import ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)

_HANG_UPS = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, TimeoutError)


class QuietThreadingHTTPServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` whose handler failures go to the log, client hang-ups nowhere."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, _HANG_UPS):
            logger.debug("a client closed its connection: %s", error)
            return
        logger.warning("failed on a request from %s", client_address, exc_info=True)
