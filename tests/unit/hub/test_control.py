"""The hub's control messages (failsafe.kit.bus.revocation), against the in-memory bus: a
revocation closes exactly that principal's sockets (1008), whatever their bureau; an unknown
control message is ignored and is never taken for an alert."""

from __future__ import annotations

from typing import Any

from failsafe.hub.connection import Connection
from failsafe.hub.service import Hub
from failsafe.kit.bus import MemoryAlertBus, revocation


def _hub() -> Hub:
    # The database is not touched by the fan-out: no sessions needed.
    sessions: Any = None
    return Hub(sessions, MemoryAlertBus())


def test_a_revocation_closes_only_that_principals_sockets() -> None:
    hub = _hub()
    conns = [
        Connection(hub, principal_id="p_a", bureau="DEU"),
        Connection(hub, principal_id="p_a", bureau="DEU"),
        Connection(hub, principal_id="p_admin", bureau=None),
        Connection(hub, principal_id="p_b", bureau="DEU"),
    ]
    for conn in conns:
        conn.state = "live"
        hub.register(conn)
    hub.receive(revocation("p_a"))
    assert [(c.state, c.close_code) for c in conns] == [
        ("closed", 1008),
        ("closed", 1008),
        ("live", None),
        ("live", None),
    ]
    assert conns[0].close_reason == "token revoked"
    hub.receive(revocation("p_admin"))
    assert conns[2].close_code == 1008 and conns[3].state == "live"
    assert hub.high == 0 and hub.delivered == 0  # not taken for an alert


def test_unknown_control_messages_are_ignored() -> None:
    hub = _hub()
    conn = Connection(hub, principal_id="p_a", bureau="DEU")
    conn.state = "live"
    hub.register(conn)
    hub.receive({"control": "something_newer", "principal_id": "p_a"})
    assert conn.state == "live" and hub.high == 0
