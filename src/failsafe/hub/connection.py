"""One websocket client of the hub as a state machine: its subscription, bounded send queue, and
the replay-then-live seam (docs/contracts.md "Websocket"; the wire format is failsafe.hub.protocol,
the socket I/O failsafe.hub.session).

States: idle -> replaying -> live -> closed (closed from any state, once). Invariants:
- `offer*` are called synchronously by the hub's fan-out; while replaying, live items are held in
  `buffer` (at most `limits.replay_buffer`, else the connection closes with CLOSE_TOO_SLOW);
- `last_id`: every alert id <= it has been considered for this socket, and an alert is sent at
  most once, in id order (replay from the database up to the hub's `high` at subscription, then
  the held live items above it);
- the send queue holds at most `limits.max_queue` frames; a client that falls behind is closed
  (CLOSE_TOO_SLOW) and resumes with `since`, never grows server memory.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Protocol

from failsafe.contract import AlertView
from failsafe.hub.protocol import (
    CLOSE_TOO_SLOW,
    ConnectionLimits,
    ConnectionState,
    Delivered,
    Filters,
    Update,
    subscribed_frame,
)
from failsafe.kit import metrics as kit_metrics


class ReplaySource(Protocol):
    """What a connection's replay needs of the hub."""

    @property
    def high(self) -> int:
        """Every alert id <= high has been fanned out."""

    async def load_after(
        self, bureau: str | None, after: int, upto: int, limit: int
    ) -> Sequence[AlertView]: ...


class ConnectionClosed(Exception):
    """The connection was closed (too slow, shutdown...) while its replay was running."""


class Connection:
    """The hub's side of one socket (a `failsafe.hub.protocol.Subscriber`)."""

    def __init__(
        self,
        source: ReplaySource,
        *,
        limits: ConnectionLimits,
        principal_id: str,
        bureau: str | None,
    ) -> None:
        self.source = source
        self.limits = limits
        self.principal_id = principal_id
        self.bureau = bureau  # None: an admin, every alert
        self.queue: asyncio.Queue[str] = asyncio.Queue(limits.max_queue)
        self.state: ConnectionState = "idle"
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
        if len(self.buffer) >= self.limits.replay_buffer:
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
        self.state = "closed"
        self.close_code = code
        self.close_reason = reason
        if code == CLOSE_TOO_SLOW:
            kit_metrics.WS_SLOW_DROPPED.inc()
        self.buffer.clear()
        self.closed.set()

    # -- replay then live --------------------------------------------------------------------

    async def subscribe(self, since: int | None, filters: Filters) -> int:
        """Replay alerts after `since` from the database, then switch to live. Returns how many
        alerts were replayed."""
        self.filters = filters
        # Synchronous snapshot: from here on the hub's fan-out lands in `buffer` (ids > target),
        # and the database holds every id <= target (the hub only delivers committed alerts).
        target = self.source.high
        self.state = "replaying"
        last = target if since is None else since
        replayed = 0
        page_size = self.limits.replay_page
        while last < target:
            page = await self.source.load_after(self.bureau, last, target, page_size)
            for view in page:
                item = Delivered.of(view)
                if self.filters.match(item):
                    await self._put(item.frame)
                    replayed += 1
            last = page[-1]["id"] if len(page) == page_size else target
        self.last_id = max(last, target)
        await self._put(subscribed_frame(replayed, self.last_id))
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
