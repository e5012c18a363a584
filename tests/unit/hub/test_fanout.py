"""The hub's ordering, de-duplication, updates and gap filling, driven through the in-memory
bus (as `serve` drives it) with a throwaway SQLite database as the source of truth: what a
subscribed connection receives, never `Hub.receive` called by hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.db import counters
from failsafe.db.models import Alert
from failsafe.hub.connection import Connection
from failsafe.hub.protocol import Filters
from failsafe.hub.service import Hub
from failsafe.kit.bus import MemoryAlertBus
from tests.unit.hub.conftest import started

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _alert(alert_id: int, status: str = "new", updated_at: str | None = None) -> dict[str, Any]:
    return {
        "id": alert_id,
        "created_at": NOW.isoformat(),
        "updated_at": updated_at or NOW.isoformat(),
        "status": status,
        "severity": "high",
        "score": 0.9,
        "method": "name",
        "recipients": ["DEU"],
        "entry": {"id": f"e{alert_id}", "notice": {"type": "red"}},
        "event": {},
        "explanation": [],
    }


async def _commit(sessions: async_sessionmaker[AsyncSession], *payloads: dict[str, Any]) -> None:
    """Store alerts as the recorder does: ids from the counter, in one transaction."""
    async with sessions() as session:
        last = await counters.next_value(session, counters.ALERT_ID, len(payloads))
        assert last == max(p["id"] for p in payloads)
        for p in payloads:
            session.add(
                Alert(
                    id=p["id"],
                    event_id=f"ev{p['id']}",
                    entry_id=p["entry"]["id"],
                    entry_version=1,
                    sighting_id=p["id"],
                    status=p["status"],
                    severity=p["severity"],
                    score=p["score"],
                    method=p["method"],
                    notice_type="red",
                    owner_bureau="DEU",
                    recipients=p["recipients"],
                    traveller_key="k",
                    payload=p,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        await session.commit()


async def _live(hub: Hub) -> Connection:
    conn = Connection(hub, limits=hub.limits, principal_id="p", bureau="DEU")
    hub.register(conn)
    await conn.subscribe(None, Filters())
    assert orjson.loads(conn.queue.get_nowait())["type"] == "subscribed"
    return conn


async def _frames(conn: Connection, n: int) -> list[dict[str, Any]]:
    async with asyncio.timeout(5):
        return [orjson.loads(await conn.queue.get()) for _ in range(n)]


async def test_out_of_order_and_repeated_alerts_are_delivered_once_in_id_order(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    bus = MemoryAlertBus()
    hub = await started(sessions, bus)
    try:
        conn = await _live(hub)
        a1, a2, a3 = _alert(1), _alert(2), _alert(3)
        await _commit(sessions, a1, a2, a3)
        await bus.publish([a2, a3, a1, a2])  # reordered, and 2 again (at-least-once)
        frames = await _frames(conn, 3)
        assert [(f["type"], f["alert"]["id"]) for f in frames] == [
            ("alert", 1),
            ("alert", 2),
            ("alert", 3),
        ]
        assert hub.high == 3 and hub.duplicates == 1 and hub.gap_fills == 0
        # A newer status of a delivered alert is an update; the same one again is not news.
        later = "2026-01-02T00:00:00+00:00"
        await bus.publish([_alert(2, "withdrawn", later), _alert(2, "withdrawn", later)])
        (update,) = await _frames(conn, 1)
        alert = update.pop("alert")  # additive: the whole alert as it is now, and its severity
        assert alert["id"] == 2 and alert["status"] == "withdrawn"
        assert update == {
            "type": "alert_update",
            "id": 2,
            "status": "withdrawn",
            "updated_at": later,
            "severity": alert["severity"],
        }
        assert hub.duplicates == 2
        # 5 ahead of a missing 4 waits; the database has nothing above 3 to fill with.
        await bus.publish([_alert(5)])
        assert await hub.fill_from_database() == 0
        assert conn.queue.empty() and hub.high == 3
        await bus.publish([_alert(4)])  # the missing one arrives: 4 then the held 5
        assert [f["alert"]["id"] for f in await _frames(conn, 2)] == [4, 5]
    finally:
        await hub.stop()


async def test_a_gap_the_bus_never_fills_is_filled_from_the_database(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    bus = MemoryAlertBus()
    hub = await started(sessions, bus)
    try:
        conn = await _live(hub)
        a1, a2 = _alert(1), _alert(2)
        await _commit(sessions, a1, a2)
        await bus.publish([a2])  # 1's publisher died after its commit
        frames = await _frames(conn, 2)
        assert [f["alert"]["id"] for f in frames] == [1, 2]
        # The database had both by then: 2 comes from it too, and the bus copy is dropped as stale.
        assert hub.gap_fills == 2 and hub.high == 2
    finally:
        await hub.stop()
    assert conn.close_code == 1001  # the hub's shutdown closes its sockets: going away
