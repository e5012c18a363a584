"""The socket side of one stream: reads client messages, writes the connection's queue to the
socket, keeps the heartbeat, and runs the replay when the client subscribes.

Invariants: the connection is registered with the hub for exactly as long as `run` runs; every
task started here is cancelled and awaited before `run` returns; a client that reads nothing
gets its close frame within `send_timeout`, or none (the socket does not linger); a failing ack
store or re-authentication never ends the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from starlette.websockets import WebSocket, WebSocketDisconnect

from failsafe.hub.connection import Connection, ConnectionClosed
from failsafe.hub.protocol import (
    CLOSE_HEARTBEAT,
    CLOSE_INTERNAL,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_TOO_SLOW,
    MAX_INVALID_MESSAGES,
    MAX_MESSAGE_BYTES,
    PING_FRAME,
    PONG_FRAME,
    Ack,
    InvalidMessage,
    Ping,
    Subscribe,
    acked_frame,
    error_frame,
    parse_client_message,
)
from failsafe.hub.service import Hub
from failsafe.kit import metrics as kit_metrics

log = logging.getLogger(__name__)

# Stores an ack; answers False when the alert does not exist or is not the caller's to see.
AckStore = Callable[[int], Awaitable[bool]]
# Re-checks the credentials (a revoked token ends the stream at the next heartbeat).
Reauth = Callable[[], Awaitable[bool]]


class StreamSession:
    """Runs one authenticated socket: reader, writer, heartbeat, and the replay when asked."""

    def __init__(
        self,
        websocket: WebSocket,
        conn: Connection,
        hub: Hub,
        *,
        store_ack: AckStore,
        reauthenticate: Reauth,
    ) -> None:
        self.ws = websocket
        self.conn = conn
        self.hub = hub
        self.limits = conn.limits
        self.store_ack = store_ack
        self.reauthenticate = reauthenticate
        self.invalid = 0
        self.last_heard = asyncio.get_running_loop().time()
        self.replay_task: asyncio.Task[None] | None = None
        self.disconnected = False

    async def run(self) -> None:
        self.hub.register(self.conn)
        kit_metrics.WS_CONNECTIONS.inc()  # paired with the dec() in `finally`
        tasks = [
            asyncio.create_task(self._read(), name="ws-read"),
            asyncio.create_task(self._write(), name="ws-write"),
            asyncio.create_task(self._heartbeat(), name="ws-heartbeat"),
            asyncio.create_task(self.conn.closed.wait(), name="ws-closed"),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.hub.unregister(self.conn)
            kit_metrics.WS_CONNECTIONS.dec()
            if self.conn.state != "closed":
                self.conn.state = "closed"
            if self.replay_task is not None:
                tasks.append(self.replay_task)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if not self.disconnected:
            code = self.conn.close_code or CLOSE_NORMAL
            # A client that reads nothing gets no close frame: the bound keeps the socket (and
            # this task) from lingering; uvicorn then drops the transport.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.limits.send_timeout):
                    await self.ws.close(code, self.conn.close_reason)

    def _error(self, code: str, message: str) -> None:
        self.conn.send_nowait(error_frame(code, message))

    def _invalid(self, message: str) -> None:
        self.invalid += 1
        if self.invalid > MAX_INVALID_MESSAGES:
            self.conn.kill(CLOSE_POLICY, "too many invalid messages")
        else:
            self._error("bad_request", message)

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                message = await self.ws.receive()
            except (WebSocketDisconnect, RuntimeError):
                self.disconnected = True
                return
            if message["type"] == "websocket.disconnect":
                self.disconnected = True
                return
            self.last_heard = loop.time()
            text = message.get("text")
            if text is None:
                raw = message.get("bytes") or b""
                if len(raw) > MAX_MESSAGE_BYTES:
                    self.conn.kill(CLOSE_TOO_BIG, "message too big")
                    return
                self._invalid("binary frames are not understood; send JSON text")
                continue
            if len(text) > MAX_MESSAGE_BYTES:
                self.conn.kill(CLOSE_TOO_BIG, "message too big")
                return
            await self._handle(text)

    async def _handle(self, text: str) -> None:
        try:
            msg = parse_client_message(text)
        except InvalidMessage as exc:
            # Field locations and messages only; never echo the input back into logs.
            self._invalid(str(exc))
            return
        if isinstance(msg, Subscribe):
            if self.replay_task is not None:
                self._error("conflict", "already subscribed; reconnect to change the subscription")
                return
            self.replay_task = asyncio.create_task(self._subscribe(msg), name="ws-replay")
        elif isinstance(msg, Ack):
            try:
                stored = await self.store_ack(msg.id)
            except Exception:  # a database hiccup must not end the stream
                log.warning("storing an ack failed", exc_info=True)
                self._error("unavailable", "ack not stored; try again")
                return
            if stored:
                self.conn.send_nowait(acked_frame(msg.id))
            else:
                self._error("not_found", f"no alert {msg.id} for this bureau")
        elif isinstance(msg, Ping):
            self.conn.send_nowait(PONG_FRAME)
        # Pong: `last_heard` is all it updates.

    async def _subscribe(self, msg: Subscribe) -> None:
        try:
            await self.conn.subscribe(msg.since, msg.filters)
        except (asyncio.CancelledError, ConnectionClosed):
            raise
        except Exception:  # the database may be away: the client resumes
            log.warning("replay failed", exc_info=True)
            self.conn.kill(CLOSE_INTERNAL, "replay failed; resume with since")

    async def _write(self) -> None:
        # asyncio.timeout rather than wait_for: on 3.11, wait_for can swallow the cancellation
        # that ends this task when the send completes at the same moment.
        while self.conn.state != "closed":
            frame = await self.conn.queue.get()
            try:
                async with asyncio.timeout(self.limits.send_timeout):
                    await self.ws.send_text(frame)
                kit_metrics.WS_FRAMES.inc()
            except TimeoutError:
                self.conn.kill(CLOSE_TOO_SLOW, "too slow: resume with since")
                return
            except (WebSocketDisconnect, RuntimeError, OSError):
                self.disconnected = True
                return

    async def _heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        interval, timeout = self.limits.ping_interval, self.limits.ping_timeout
        while True:
            await asyncio.sleep(interval)  # the heartbeat's period
            if loop.time() - self.last_heard > interval + timeout:
                self.conn.kill(CLOSE_HEARTBEAT, "heartbeat timeout")
                return
            try:
                still_valid = await self.reauthenticate()
            except Exception:  # noqa: BLE001 (the database may be away; keep the stream)
                still_valid = True
            if not still_valid:
                self.conn.kill(CLOSE_POLICY, "token revoked")
                return
            self.conn.send_nowait(PING_FRAME)
