"""How `failsafe serve` runs uvicorn: an HTTP protocol that bounds how long and how much a client
may send before its request line and headers are complete, and the connection settings an
operator may tune (`ServerSettings`, `FAILSAFE_SERVER__*`).

uvicorn bounds idle keep-alive connections (`timeout_keep_alive`) but not a request's head: a
new connection that sends nothing, or headers a byte at a time, is held for as long as the client
likes, and httptools keeps accumulating an endless header. `GuardedHttpProtocol` adds:

- a header timeout: from the moment a connection opens (or a request on a kept-alive connection
  begins) until its headers are complete, at most `header_timeout` seconds; then the connection
  is closed (with a 408 in the error shape when something was sent);
- a header size bound: more than `max_header_bytes` before the headers are complete is a 431;
- malformed requests answer 400 in the error shape rather than uvicorn's plain text;
- a lingering close when a response ends a connection before the request body did (a 413 by
  `Content-Length`): the client reads the answer instead of a connection reset.

Bodies are bounded by size (`failsafe.kit.limits`), not by time: a client trickling a body ties
up one connection and its request task, nothing else.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from failsafe.kit.http import error_body
from failsafe.settings import ServerSettings

# Seconds a connection closed before its request body ended keeps reading (and dropping) the
# rest, so that the client gets to read the response (see _LingeringClose).
LINGER_SECONDS = 2.0


class _LingeringClose:
    """Stands in for the transport of one request cycle. When uvicorn closes the connection after
    a response while the client is still sending its body (a 413, a 401 before the body mattered),
    closing at once with unread data makes the kernel send a reset, and a client that writes its
    whole body before reading (most HTTP libraries) sees a connection error instead of the
    answer. So: shut down our side, drop whatever still arrives for `LINGER_SECONDS`, then close.
    """

    def __init__(self, transport: asyncio.Transport, protocol: GuardedHttpProtocol) -> None:
        self._transport = transport
        self._protocol = protocol

    def close(self) -> None:
        cycle = self._protocol.cycle
        transport = self._transport
        if cycle.more_body and not transport.is_closing() and transport.can_write_eof():
            transport.write_eof()
            self._protocol.linger()
        else:
            transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GuardedHttpProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0
    max_header_bytes: int = 64 * 1024

    _head_timer: asyncio.TimerHandle | None = None
    _head_bytes: int = 0
    _lingering: bool = False

    def linger(self) -> None:
        """Our side is shut down: drop incoming data until the client closes, or until the
        linger time is over."""
        self._lingering = True
        self._end_head()
        self.flow.resume_reading()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._end_head()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return
        if self._head_timer is not None:
            self._head_bytes += len(data)
        super().data_received(data)
        if (
            self._head_timer is not None
            and self._head_bytes > self.max_header_bytes
            and not self.transport.is_closing()
        ):
            self._end_head()
            self._refuse(431, "request_header_too_large", "request headers too large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_head()  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._end_head()
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.scope is self.scope:
            self.cycle.transport = _LingeringClose(self.transport, self)  # type: ignore[assignment]

    def send_400_response(self, msg: str) -> None:
        self._end_head()
        self._refuse(400, "bad_request", "invalid HTTP request")

    def _start_head(self) -> None:
        if self._head_timer is None:
            self._head_bytes = 0
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _end_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._head_bytes:
            self._refuse(408, "request_timeout", "request headers not received in time")
        else:
            self.transport.close()

    def _refuse(self, status: int, code: str, message: str) -> None:
        body = error_body(code, message)
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        if self.transport.can_write_eof():
            # The rest of what the client sends is dropped, not left unread: closing with unread
            # data would reset the connection before the client reads this answer.
            self.transport.write_eof()
            self.linger()
        else:
            self.transport.close()


def http_protocol(settings: ServerSettings) -> type[GuardedHttpProtocol]:
    """The protocol class with this server's bounds (uvicorn instantiates it per connection)."""
    bounds = {
        "header_timeout": settings.header_timeout,
        "max_header_bytes": settings.max_header_bytes,
    }
    return type("FailsafeHttpProtocol", (GuardedHttpProtocol,), bounds)


def connection_options(settings: ServerSettings) -> dict[str, Any]:
    """The connection bounds as keyword arguments of `uvicorn.run`/`uvicorn.Config` (shared by
    `serve` and the tests that run a real server)."""
    return {
        "http": http_protocol(settings),
        "timeout_keep_alive": settings.keep_alive_timeout,
    }
