"""uvicorn's HTTP protocol with a deadline for a request's headers.

uvicorn times out an idle kept-alive connection (``timeout_keep_alive``, counted from the end of a
response) but not a connection that never sends a request, nor one sending its headers a byte at
a time: enough of those hold every socket the process may open (slowloris). Here a connection must
deliver each request's headers within ``HEADER_SECONDS`` of opening or of the request's first
byte, else it is closed. Bodies have their own deadline where they are read (``bot.web.request_body``).
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger(__name__)

# Slack, Stripe and browsers send a request's headers at once.
HEADER_SECONDS = 5.0
KEEP_ALIVE_SECONDS = 5  # an idle kept-alive connection is closed after this (uvicorn's timeout_keep_alive)


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` that closes a connection whose request headers are late."""

    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_header_deadline()

    def on_headers_complete(self) -> None:
        self._stop_header_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_deadline()
        super().connection_lost(exc)

    def _start_header_deadline(self) -> None:
        self._stop_header_deadline()
        self._header_deadline = self.loop.call_later(HEADER_SECONDS, self._headers_late)

    def _stop_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_late(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            logger.info("closed a connection that sent no complete request headers within %.0f s", HEADER_SECONDS)
            self.transport.close()
