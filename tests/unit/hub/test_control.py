"""The hub's control messages (failsafe.kit.bus.revocation), through the in-memory bus: a
revocation closes exactly that principal's sockets (1008), whatever their bureau; an unknown
control message is ignored and is never taken for an alert."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.hub.connection import Connection
from failsafe.hub.service import Hub
from failsafe.kit.bus import MemoryAlertBus, revocation
from tests.unit.hub.conftest import started


def _live(hub: Hub, principal_id: str, bureau: str | None) -> Connection:
    conn = Connection(hub, limits=hub.limits, principal_id=principal_id, bureau=bureau)
    conn.state = "live"
    hub.register(conn)
    return conn


async def test_a_revocation_closes_only_that_principals_sockets(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    bus = MemoryAlertBus()
    hub = await started(sessions, bus)
    try:
        conns = [
            _live(hub, "p_a", "DEU"),
            _live(hub, "p_a", "DEU"),
            _live(hub, "p_admin", None),
            _live(hub, "p_b", "DEU"),
        ]
        await bus.publish([revocation("p_a")])
        async with asyncio.timeout(5):
            await conns[1].closed.wait()
        assert [(c.state, c.close_code) for c in conns] == [
            ("closed", 1008),
            ("closed", 1008),
            ("live", None),
            ("live", None),
        ]
        assert conns[0].close_reason == "token revoked"
        await bus.publish([revocation("p_admin")])
        async with asyncio.timeout(5):
            await conns[2].closed.wait()
        assert conns[2].close_code == 1008 and conns[3].state == "live"
        assert hub.high == 0 and hub.delivered == 0  # not taken for an alert
    finally:
        await hub.stop()


async def test_unknown_control_messages_are_ignored(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    bus = MemoryAlertBus()
    hub = await started(sessions, bus)
    try:
        conn = _live(hub, "p_a", "DEU")
        # The unknown message, then a revocation of someone else as a marker that the first
        # has been consumed (the bus keeps order).
        marker = _live(hub, "p_marker", "DEU")
        await bus.publish([{"control": "something_newer", "principal_id": "p_a"}])
        await bus.publish([revocation("p_marker")])
        async with asyncio.timeout(5):
            await marker.closed.wait()
        assert conn.state == "live" and hub.high == 0
    finally:
        await hub.stop()
