"""A deadline for reading each request (issue 8 item 12).

uvicorn's h11 protocol has a keep-alive timeout for idle connections, but it cancels it
on the first byte that arrives and has no other: a client that sends half a request
line, half its headers or half its body holds the connection (and, for a body, an
app task) for as long as it likes. Hundreds of such clients starve the server.

This protocol gives every request a deadline: from the moment the server is ready to
read one (connection made, or the previous response done) until the request, body
included, has arrived in full. A request that misses it gets `408 Request Timeout` if
nothing was answered yet, and the connection is closed. Streams (`/events`) are not
affected: their request is complete before they start.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_READ_TIMEOUT_SECONDS = 15.0

log = logging.getLogger("memtui.server")

# h11 states of the client's side in which a request is still being read.
_READING = (h11.IDLE, h11.SEND_BODY)


class ReadTimeoutH11Protocol(H11Protocol):
    read_timeout: float = DEFAULT_READ_TIMEOUT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_deadline: asyncio.TimerHandle | None = None

    @classmethod
    def with_timeout(cls, seconds: float) -> type[ReadTimeoutH11Protocol]:
        """This protocol with its own deadline (uvicorn takes a class, not an instance)."""
        return type(cls.__name__, (cls,), {"read_timeout": seconds})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_read_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_read_deadline()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        # Called on new data and after each response: a request still being read keeps
        # its deadline (arming it if this is a new one); a complete one cancels it.
        if self.transport.is_closing():
            self._cancel_read_deadline()
        elif self.conn.their_state in _READING:
            self._arm_read_deadline()
        else:
            self._cancel_read_deadline()

    def _arm_read_deadline(self) -> None:
        if self._read_deadline is None:
            self._read_deadline = self.loop.call_later(self.read_timeout, self._read_timed_out)

    def _cancel_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_timed_out(self) -> None:
        self._read_deadline = None
        state = self.conn.their_state
        if self.transport.is_closing() or state not in _READING:
            return
        if state is h11.IDLE and not self.conn.trailing_data[0]:
            # Not a byte of a request: an idle connection (uvicorn's keep-alive timeout
            # usually closes these first, but not a fresh one). Close it quietly.
            self.transport.close()
            return
        # Half a request head, or a body that stopped halfway (the app is waiting in
        # receive(); the close tells it the client is gone). Answer unless the app did.
        if state is h11.IDLE or (self.cycle is not None and not self.cycle.response_started):
            self.transport.write(_TIMEOUT_RESPONSE)
        log.info(
            "closed a connection from %s: its request did not arrive in full within %g s",
            f"{self.client[0]}:{self.client[1]}" if self.client else "a client",
            self.read_timeout,
        )
        self.transport.close()


_TIMEOUT_BODY = b'{"error": "the request did not arrive in full within the read timeout"}'
# Written raw: h11 will not send a response to a request it has not seen the head of.
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _TIMEOUT_BODY
)
