"""One websocket client of the hub: its subscription, bounded send queue, replay-then-live seam,
heartbeats and the client messages of the contract (DESIGN.md "Websocket").

Client -> server: `subscribe {since, filters}`, `ack {id}`, `pong`, and `ping` (answered with
`pong`). Server -> client: `alert`, `alert_update`, `subscribed {replayed, last_id}` (sent when the
replay from the database is done: everything after it is live), `acked {id}`, `ping`,
`error {code, message}`. Close codes: 1008 authentication or policy (bad token, revoked, too many
invalid messages), 1009 message too big, 1013 too slow (resume with `since`), 4408 heartbeat
timeout, 1001 server shutting down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect

from failsafe.alerts.schemas import Severity
from failsafe.hub.service import Delivered, Hub, Update
from failsafe.kit import metrics as kit_metrics
from failsafe.watchlist.schemas import NoticeType

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024
MAX_INVALID_MESSAGES = 20

EntryId = Annotated[str, Field(max_length=64)]

CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_TOO_SLOW = 1013
CLOSE_HEARTBEAT = 4408
CLOSE_GOING_AWAY = 1001


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_score: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    notice_types: Annotated[list[NoticeType], Field(max_length=16)] | None = None
    severities: Annotated[list[Severity], Field(max_length=8)] | None = None
    entry_ids: Annotated[list[EntryId], Field(max_length=100)] | None = None

    def match(self, item: Delivered) -> bool:
        if self.min_score is not None and item.score < self.min_score:
            return False
        if self.notice_types is not None and item.notice_type not in self.notice_types:
            return False
        if self.severities is not None and item.severity not in self.severities:
            return False
        return self.entry_ids is None or item.entry_id in self.entry_ids


class Subscribe(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["subscribe"]
    since: Annotated[int, Field(ge=0)] | None = None
    filters: Filters = Filters()


class Ack(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["ack"]
    id: Annotated[int, Field(ge=1)]


class Pong(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["pong"]


class Ping(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["ping"]


ClientMessage = Annotated[Subscribe | Ack | Pong | Ping, Field(discriminator="type")]
_client_message: TypeAdapter[Subscribe | Ack | Pong | Ping] = TypeAdapter(ClientMessage)

# Stores an ack; answers False when the alert does not exist or is not the caller's to see.
AckStore = Callable[[int], Awaitable[bool]]
# Re-checks the credentials (a revoked token ends the stream at the next heartbeat).
Reauth = Callable[[], Awaitable[bool]]


def _frame(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


PING_FRAME = _frame({"type": "ping"})
PONG_FRAME = _frame({"type": "pong"})


class ConnectionClosed(Exception):
    """The connection was closed (too slow, shutdown...) while its replay was running."""


class Connection:
    """The hub's side of one socket. `offer*` are called synchronously by the hub's fan-out."""

    def __init__(self, hub: Hub, *, principal_id: str, bureau: str | None) -> None:
        self.hub = hub
        self.principal_id = principal_id
        self.bureau = bureau  # None: an admin, every alert
        self.queue: asyncio.Queue[str] = asyncio.Queue(hub.max_queue)
        self.state: Literal["idle", "replaying", "live", "closed"] = "idle"
        self.buffer: deque[Delivered | Update] = deque()
        self.filters = Filters()
        self.last_id = 0  # every alert id <= last_id has been considered for this socket
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed = asyncio.Event()
        self.peak_queue = 0

    # -- called by the hub -------------------------------------------------------------------

    def offer(self, item: Delivered) -> None:
        if self.state == "replaying":
            self._hold(item)
        elif self.state == "live" and item.id > self.last_id:
            self.last_id = item.id
            if self.filters.match(item):
                self.send_nowait(item.frame)

    def offer_update(self, update: Update) -> None:
        if self.state == "replaying":
            self._hold(update)
        elif self.state == "live" and self.filters.match(update.alert):
            self.send_nowait(update.frame)

    def _hold(self, item: Delivered | Update) -> None:
        if len(self.buffer) >= self.hub.replay_buffer:
            self.kill(CLOSE_TOO_SLOW, "too slow: resume with since")
        else:
            self.buffer.append(item)

    def send_nowait(self, frame: str) -> bool:
        if self.state == "closed":
            return False
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            # Never let a slow reader grow server memory: it reconnects with `since`.
            self.kill(CLOSE_TOO_SLOW, "too slow: resume with since")
            return False
        self.peak_queue = max(self.peak_queue, self.queue.qsize())
        return True

    def kill(self, code: int, reason: str) -> None:
        if self.state == "closed":
            return
        if code == CLOSE_TOO_SLOW:
            kit_metrics.WS_SLOW_DROPPED.inc()
        self.state = "closed"
        self.close_code = code
        self.close_reason = reason
        self.buffer.clear()
        self.closed.set()

    # -- replay then live --------------------------------------------------------------------

    async def subscribe(self, since: int | None, filters: Filters) -> int:
        """Replay alerts after `since` from the database, then switch to live. Returns how many
        alerts were replayed."""
        self.filters = filters
        # Synchronous snapshot: from here on the hub's fan-out lands in `buffer` (ids > target),
        # and the database holds every id <= target (the hub only delivers committed alerts).
        target = self.hub.high
        self.state = "replaying"
        last = target if since is None else since
        replayed = 0
        while last < target:
            page = await self.hub.load_after(self.bureau, last, target, self.hub.replay_page)
            for view in page:
                item = Delivered.of(view)
                if self.filters.match(item):
                    await self._put(item.frame)
                    replayed += 1
            last = int(page[-1]["id"]) if len(page) == self.hub.replay_page else target
        self.last_id = max(last, target)
        await self._put(
            _frame({"type": "subscribed", "replayed": replayed, "last_id": self.last_id})
        )
        # Live items that arrived during the replay, in order. No await between the buffer
        # running empty and the switch to live, so nothing can slip between the two.
        while self.buffer:
            held = self.buffer.popleft()
            if isinstance(held, Delivered):
                if held.id <= self.last_id:
                    continue
                self.last_id = held.id
                if self.filters.match(held):
                    await self._put(held.frame)
            elif self.filters.match(held.alert):
                await self._put(held.frame)
        if self.state == "replaying":
            self.state = "live"
        return replayed

    async def _put(self, frame: str) -> None:
        # Replay waits for the socket (back-pressure) instead of overflowing; meanwhile live
        # items are held in the bounded buffer.
        if self.state == "closed":
            raise ConnectionClosed
        await self.queue.put(frame)
        self.peak_queue = max(self.peak_queue, self.queue.qsize())


class StreamSession:
    """Runs one authenticated socket: reader, writer, heartbeat, and the replay when asked."""

    def __init__(
        self,
        websocket: WebSocket,
        conn: Connection,
        *,
        store_ack: AckStore,
        reauthenticate: Reauth,
    ) -> None:
        self.ws = websocket
        self.conn = conn
        self.hub = conn.hub
        self.store_ack = store_ack
        self.reauthenticate = reauthenticate
        self.invalid = 0
        self.last_heard = asyncio.get_running_loop().time()
        self.replay_task: asyncio.Task[None] | None = None
        self.disconnected = False

    async def run(self) -> None:
        self.hub.register(self.conn)
        kit_metrics.WS_CONNECTIONS.inc()  # ops: paired with the dec() in `finally`
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
            code = self.conn.close_code or 1000
            # A client that reads nothing gets no close frame: the bound keeps the socket (and
            # this task) from lingering; uvicorn then drops the transport.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.hub.send_timeout):
                    await self.ws.close(code, self.conn.close_reason)

    def _error(self, code: str, message: str) -> None:
        self.conn.send_nowait(_frame({"type": "error", "code": code, "message": message}))

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
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            self._invalid("not JSON")
            return
        try:
            msg = _client_message.validate_python(data)
        except ValidationError as exc:
            # Field locations and messages only; never echo the input back into logs.
            errors = exc.errors()
            where = ".".join(str(p) for p in errors[0]["loc"]) if errors else ""
            what = errors[0]["msg"] if errors else "invalid"
            self._invalid(f"invalid message at {where or 'root'}: {what}")
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
                self.conn.send_nowait(_frame({"type": "acked", "id": msg.id}))
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
            self.conn.kill(1011, "replay failed; resume with since")

    async def _write(self) -> None:
        # asyncio.timeout rather than wait_for: on 3.11, wait_for can swallow the cancellation
        # that ends this task when the send completes at the same moment.
        while self.conn.state != "closed":
            frame = await self.conn.queue.get()
            try:
                async with asyncio.timeout(self.hub.send_timeout):
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
        while True:
            await asyncio.sleep(self.hub.ping_interval)  # the heartbeat's period
            if loop.time() - self.last_heard > self.hub.ping_interval + self.hub.ping_timeout:
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
