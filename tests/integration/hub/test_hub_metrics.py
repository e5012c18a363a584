"""The hub's metrics on a served app: open websockets (gauge), frames sent, and alerts the hub
had to fill from the database because the bus did not bring them."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from failsafe.alerts.recorder import record_hits
from tests.fixtures.app import RunningApp, make_token
from tests.fixtures.factories import emit, make_entry, make_hit
from tests.fixtures.sockets import collect_alerts, open_stream, recv_json

pytestmark = pytest.mark.integration


def value(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_connections_frames_and_gap_fills_are_measured(app: RunningApp) -> None:
    app.hub.gap_timeout = 0.2
    entry = await make_entry(app.sessions, owner="FRA")
    token = await make_token(app.sessions, "bureau", "FRA")
    open_before = value("failsafe_websocket_connections")
    frames = value("failsafe_websocket_frames_sent_total")
    fills = value("failsafe_hub_gap_fills_total")

    ws = await open_stream(app.ws_url(), token, since=None)
    assert (await recv_json(ws))["type"] == "subscribed"
    assert value("failsafe_websocket_connections") == open_before + 1
    # One alert committed but never published, then one published: the first is filled.
    (lost,), _ = await record_hits(app.sessions, [make_hit(entry, country="DEU")])
    (seen,) = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU")])
    ids, _, _ = await collect_alerts(ws, seen["id"])
    assert ids == [lost["id"], seen["id"]]
    # The lost one at least (the published one too if the filler read it first).
    assert fills + 1 <= value("failsafe_hub_gap_fills_total") <= fills + 2
    # `subscribed` and the two alerts at least (a heartbeat ping may have gone too).
    assert value("failsafe_websocket_frames_sent_total") >= frames + 3
    await ws.close()
    async with asyncio.timeout(10):
        while value("failsafe_websocket_connections") != open_before:
            await asyncio.sleep(0.05)  # the server sees the close frame
