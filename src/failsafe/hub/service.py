"""The websocket hub: one per `serve` replica, turning the alert bus into ordered, de-duplicated,
per-bureau streams for the sockets connected to this replica.

Invariants (docs/contracts.md "Delivery guarantees", "Cursors need commit order"):
- `high` is the highest alert id this hub has fanned out, and every id <= `high` has been fanned
  out exactly once, in increasing order. Alert ids are gap-free and commit-ordered, so an alert
  with id `high + 1` always exists in the database once any larger id is visible.
- The bus is a low-latency hint, not the source of truth: an alert ahead of a missing id waits in
  `pending` for at most `gap_timeout`, then the gap is filled from the database; the counter is
  also polled every `poll_interval` so an alert whose publisher died after commit is delivered
  even when nothing else arrives. Publication is at-least-once: an id <= `high` seen again is a
  duplicate (dropped) unless it carries a newer status, which becomes an `alert_update`.
- `_deliver` and the fan-out are synchronous: between two awaits every connection has seen every
  id <= `high` and none above. Connections snapshot `high` to split replay (database, <= high)
  from live (> high) with no gap and no duplicate at the seam.
- Nothing here grows without bound: connection queues, replay buffers, `pending` and the status
  cache all have limits; a connection over its limit is closed and resumes with `since`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.alerts.views import alert_view
from failsafe.contract import AlertView, BusMessage, ControlMessage
from failsafe.db import counters
from failsafe.db.models import Alert, AlertRecipient
from failsafe.hub.protocol import (
    CLOSE_GOING_AWAY,
    CLOSE_POLICY,
    ConnectionLimits,
    Delivered,
    Subscriber,
    Update,
)
from failsafe.kit import metrics as kit_metrics
from failsafe.kit.bus import PRINCIPAL_REVOKED, AlertBus
from failsafe.kit.retry import Backoff, OutageLog, retry

log = logging.getLogger(__name__)


class Hub:
    name = "hub"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: AlertBus,
        *,
        # Short: once a larger id is visible the missing one is committed (the counter's row
        # lock orders committers), so the database can always fill the gap; waiting only saves a
        # query when the bus is merely reordering, and every millisecond here is tail latency.
        gap_timeout: float = 0.05,
        poll_interval: float = 2.0,
        limits: ConnectionLimits | None = None,
        max_pending: int = 100_000,
        status_cache: int = 100_000,
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.gap_timeout = gap_timeout
        self.poll_interval = poll_interval
        # What each connection opened from now on may hold (a value: failsafe.hub.protocol).
        self.limits = limits or ConnectionLimits()
        self.max_pending = max_pending
        self.high = 0
        self.ready = False
        self.delivered = 0  # alerts fanned out (metrics, tests)
        self.duplicates = 0
        self.gap_fills = 0
        self._status_cache_size = status_cache
        self._pending: dict[int, AlertView] = {}
        self._gap_since: float | None = None
        self._gap_event = asyncio.Event()
        # id -> (status, updated_at) of recently delivered alerts, to tell updates from replays.
        self._known: OrderedDict[int, tuple[str, str]] = OrderedDict()
        self._by_bureau: dict[str, set[Subscriber]] = {}
        self._everything: set[Subscriber] = set()  # admins: every alert
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Ready on return when PostgreSQL answers; otherwise the hub keeps trying in the
        background, and `serve` answers meanwhile (/healthz; /readyz 503, new sockets closed
        with 1013) instead of exiting."""
        # Subscribe first, then read the counter: whatever commits after the read is either seen
        # on the bus or found by the gap filler, so nothing between the two is lost.
        self._tasks.append(asyncio.create_task(self._consume(), name="hub-consume"))
        outage = OutageLog(log, "hub: database")
        try:
            top = await self._alert_counter()
        except Exception as exc:  # noqa: BLE001 (any failure: the database may be away)
            outage.failed(exc)
            self._tasks.append(asyncio.create_task(self._start(outage), name="hub-start"))
            return
        self._started(top)

    async def _alert_counter(self) -> int:
        async with self.sessions() as session:
            return await counters.current_value(session, counters.ALERT_ID)

    async def _start(self, outage: OutageLog) -> None:
        backoff = Backoff(0.5, 10.0)
        await asyncio.sleep(backoff.next())  # the first attempt, in start(), failed
        # Any failure: the database may be away.
        self._started(await retry(self._alert_counter, outage=outage, backoff=backoff))

    def _started(self, top: int) -> None:
        # Alerts that came over the bus meanwhile (no socket could receive them: not ready) are
        # committed, so at most `top`; what is left in `pending` above it stays for delivery.
        self.high = max(self.high, top)
        self._drain()
        self._tasks.append(asyncio.create_task(self._watch_gaps(), name="hub-gaps"))
        self.ready = True
        log.info("hub started at alert id %d", self.high)

    async def stop(self) -> None:
        self.ready = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for conn in [*self._everything, *(c for s in self._by_bureau.values() for c in s)]:
            conn.kill(CLOSE_GOING_AWAY, "server shutting down")

    @property
    def connections(self) -> int:
        return len(self._everything) + sum(len(s) for s in self._by_bureau.values())

    def register(self, conn: Subscriber) -> None:
        if conn.bureau is None:
            self._everything.add(conn)
        else:
            self._by_bureau.setdefault(conn.bureau, set()).add(conn)

    def unregister(self, conn: Subscriber) -> None:
        if conn.bureau is None:
            self._everything.discard(conn)
            return
        group = self._by_bureau.get(conn.bureau)
        if group is not None:
            group.discard(conn)
            if not group:
                del self._by_bureau[conn.bureau]

    # -- input: the bus and the database ------------------------------------------------------

    async def _consume(self) -> None:
        backoff = Backoff(0.5, 10.0)
        outage = OutageLog(log, "hub: alert bus")
        while True:
            try:
                n = 0
                async for alert in self.bus.subscribe():
                    if outage.down:
                        outage.recovered()
                        backoff.reset()
                    self.receive(alert)
                    n += 1
                    if n % 32 == 0:
                        # A burst (a replayed batch) must not fill socket queues before their
                        # writers get a turn: yield to the loop now and then.
                        await asyncio.sleep(0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (a broker outage must not end delivery)
                outage.failed(exc)
                await asyncio.sleep(backoff.next())  # before reconnecting to the broker

    def receive(self, message: BusMessage) -> None:
        """One alert from the bus, in any order, possibly again (or a control message). Typed:
        the bus validated it (failsafe.kit.bus)."""
        if "control" in message:
            self._control(message)
            return
        alert = message
        alert_id = alert["id"]
        if alert_id <= self.high:
            self._maybe_update(alert_id, alert)
            return
        if alert_id == self.high + 1:
            self._deliver(alert)
            self._drain()
            return
        if alert_id not in self._pending and len(self._pending) < self.max_pending:
            # Beyond the limit it is dropped: the database fill delivers it.
            self._pending[alert_id] = alert
        if self._gap_since is None:
            self._gap_since = asyncio.get_running_loop().time()
            self._gap_event.set()

    def _control(self, message: ControlMessage) -> None:
        if message["control"] == PRINCIPAL_REVOKED:
            self.close_principal(message["principal_id"], "token revoked")
        else:
            # A newer replica's message this one does not know: nothing to do.
            log.warning("unknown control message on the bus; ignored")

    def close_principal(self, principal_id: str, reason: str) -> int:
        """Close every socket of `principal_id` on this replica (1008); returns how many."""
        closed = 0
        for conn in [*self._everything, *(c for s in self._by_bureau.values() for c in s)]:
            if conn.principal_id == principal_id and conn.state != "closed":
                conn.kill(CLOSE_POLICY, reason)
                closed += 1
        if closed:
            log.info("closed %d socket(s) of revoked principal %s", closed, principal_id)
        return closed

    def _drain(self) -> None:
        while (nxt := self._pending.pop(self.high + 1, None)) is not None:
            self._deliver(nxt)
        # Stale entries (already delivered from the database) go too.
        for stale in [i for i in self._pending if i <= self.high]:
            del self._pending[stale]
        if not self._pending:
            self._gap_since = None

    def _remember(self, alert_id: int, status: str, updated_at: str) -> None:
        self._known[alert_id] = (status, updated_at)
        self._known.move_to_end(alert_id)
        while len(self._known) > self._status_cache_size:
            self._known.popitem(last=False)

    def _maybe_update(self, alert_id: int, alert: AlertView) -> None:
        status = alert["status"]
        updated_at = alert.get("updated_at", "")
        known = self._known.get(alert_id)
        if known is None:
            # Older than the cache: a replayed "new" alert is a duplicate; any other status is
            # the alert's current state and harmless to announce again.
            if status == "new":
                self.duplicates += 1
                return
        elif updated_at <= known[1]:
            # The same state again, or an older change arriving after a newer one (two replicas
            # publishing in a different order than they committed): not news. A newer
            # `updated_at` with the same status is news (a radiation alarm linked to a hit).
            self.duplicates += 1
            return
        self._remember(alert_id, status, updated_at)
        item = Delivered.of(alert)
        self._fan_out_update(Update(item, item.update_frame(alert)))

    def _deliver(self, alert: AlertView) -> None:
        item = Delivered.of(alert)
        assert item.id == self.high + 1, "hub delivery out of order"
        self.high = item.id
        self.delivered += 1
        self._remember(item.id, item.status, item.updated_at)
        for conn in self._audience(item.recipients):
            conn.offer(item)

    def _fan_out_update(self, update: Update) -> None:
        for conn in self._audience(update.alert.recipients):
            conn.offer_update(update)

    def _audience(self, recipients: frozenset[str]) -> list[Subscriber]:
        out = list(self._everything)
        for bureau in recipients:
            group = self._by_bureau.get(bureau)
            if group:
                out.extend(group)
        return out

    async def _watch_gaps(self) -> None:
        loop = asyncio.get_running_loop()
        outage = OutageLog(log, "hub: filling alerts from the database")
        while True:
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._gap_event.wait(), self.poll_interval)
                self._gap_event.clear()
                if self._gap_since is not None:
                    wait = self._gap_since + self.gap_timeout - loop.time()
                    if wait > 0:
                        # The missing alert usually arrives within milliseconds; give it its
                        # chance before going to the database.
                        await asyncio.sleep(wait)
                    if self._gap_since is not None and (
                        loop.time() - self._gap_since >= self.gap_timeout
                    ):
                        await self.fill_from_database()
                        if self._pending:
                            self._gap_event.set()
                else:
                    await self.fill_from_database()
                outage.recovered()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (the database may be away: next poll)
                outage.failed(exc)

    async def fill_from_database(self) -> int:
        """Deliver committed alerts above `high` that the bus has not brought (yet)."""
        filled = 0
        while True:
            async with self.sessions() as session:
                top = await counters.current_value(session, counters.ALERT_ID)
                if top <= self.high:
                    return filled
                rows = (
                    await session.scalars(
                        select(Alert)
                        .where(Alert.id > self.high, Alert.id <= top)
                        .order_by(Alert.id)
                        .limit(self.limits.replay_page)
                    )
                ).all()
                views = [alert_view(row) for row in rows]
            if not views:
                return filled
            for view in views:
                if view["id"] == self.high + 1:
                    self._deliver(view)
                    self.gap_fills += 1
                    kit_metrics.HUB_GAP_FILLS.inc()
                    filled += 1
            self._drain()

    # -- replay for one connection ---------------------------------------------------------

    async def load_after(
        self, bureau: str | None, after: int, upto: int, limit: int
    ) -> Sequence[AlertView]:
        """Alerts routed to `bureau` (every alert for None) with after < id <= upto, by id."""
        query = select(Alert).where(Alert.id > after, Alert.id <= upto)
        if bureau is not None:
            # Driven by the recipient index (bureau_code, alert_id): the replay index.
            query = query.join(AlertRecipient, AlertRecipient.alert_id == Alert.id).where(
                AlertRecipient.bureau_code == bureau
            )
        async with self.sessions() as session:
            rows = (await session.scalars(query.order_by(Alert.id).limit(limit))).all()
            return [alert_view(row) for row in rows]
