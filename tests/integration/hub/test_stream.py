"""The websocket hub on real PostgreSQL and a real uvicorn server (embedded bus): replay then live
with no gap or duplicate while alerts keep arriving, resume after a disconnect, a slow client
dropped and resuming losslessly, gaps and duplicates on the bus, updates, heartbeats."""

from __future__ import annotations

import asyncio
import random
import socket
from dataclasses import replace
from typing import Any

import httpx2
import orjson
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from failsafe.actor import CLI_ACTOR
from failsafe.alerts import service as alerts_service
from failsafe.alerts.recorder import record_hits
from failsafe.db.models import Alert
from tests.fixtures.app import RunningApp, make_token
from tests.fixtures.factories import emit, make_entry, make_hit
from tests.fixtures.sockets import collect_alerts, open_stream, recv_json

pytestmark = pytest.mark.integration


async def test_replay_then_live_without_gap_or_duplicate(app: RunningApp) -> None:
    entry = await make_entry(app.sessions, owner="FRA")
    token = await make_token(app.sessions, "bureau", "DEU")
    # History: 40 alerts, a quarter of them not routed to DEU.
    expected: list[int] = []
    for i in range(40):
        country = "ITA" if i % 4 == 0 else "DEU"
        (alert,) = await emit(app.sessions, app.bus, [make_hit(entry, country=country)])
        if "DEU" in alert["recipients"]:
            expected.append(alert["id"])
    since = expected[5]

    # Two producers keep recording and publishing while the client replays: their commits and
    # publications interleave, so the hub also sees ids out of order.
    produced: list[dict[str, Any]] = []

    async def produce(n: int) -> None:
        for i in range(n):
            country = random.choice(["DEU", "DEU", "ITA"])
            produced.extend(await emit(app.sessions, app.bus, [make_hit(entry, country=country)]))
            if i % 5 == 0:
                await asyncio.sleep(0)  # let the other producer and the replay interleave

    producers = [asyncio.create_task(produce(60)), asyncio.create_task(produce(60))]
    ws = await open_stream(app.ws_url(), token, since=since)
    await asyncio.gather(*producers)
    # One last DEU alert marks the end.
    (last,) = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU")])
    ids, subscribed, other = await collect_alerts(ws, last["id"])
    if subscribed is None:  # everything was committed before the replay: it all came replayed
        subscribed = await recv_json(ws)
    await ws.close()

    live = [a["id"] for a in produced if "DEU" in a["recipients"]]
    want = sorted(i for i in [*expected, *live, last["id"]] if i > since)
    assert ids == want  # every alert routed to DEU after `since`, in id order, each once
    assert subscribed is not None and subscribed["replayed"] >= len(
        [i for i in expected if i > since]
    )
    assert not [m for m in other if m["type"] == "error"]


async def test_reconnect_with_since_after_disconnect(app: RunningApp) -> None:
    entry = await make_entry(app.sessions, owner="FRA")
    token = await make_token(app.sessions, "bureau", "FRA")
    ws = await open_stream(app.ws_url(), token, since=None)
    first = await recv_json(ws)
    assert first == {"type": "subscribed", "replayed": 0, "last_id": 0}
    batch1 = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU") for _ in range(5)])
    ids1, _, _ = await collect_alerts(ws, batch1[-1]["id"])
    assert ids1 == [a["id"] for a in batch1]
    await ws.close()

    # Missed while away.
    batch2 = await emit(app.sessions, app.bus, [make_hit(entry, country="ESP") for _ in range(7)])
    ws = await open_stream(app.ws_url(), token, since=ids1[-1])
    batch3 = await emit(app.sessions, app.bus, [make_hit(entry, country="PRT") for _ in range(3)])
    ids2, subscribed, _ = await collect_alerts(ws, batch3[-1]["id"])
    if subscribed is None:  # everything was committed before the replay: it all came replayed
        subscribed = await recv_json(ws)
    await ws.close()
    assert ids2 == [a["id"] for a in [*batch2, *batch3]]
    assert subscribed["type"] == "subscribed" and subscribed["replayed"] >= len(batch2)


async def test_slow_client_is_dropped_and_resumes_losslessly(app: RunningApp) -> None:
    hub = app.hub
    hub.limits = replace(hub.limits, max_queue=8, send_timeout=3.0)
    entry = await make_entry(app.sessions, owner="FRA")
    token = await make_token(app.sessions, "bureau", "DEU")

    # A client that stops reading: a tiny kernel receive buffer and a one-message client queue,
    # so the server's writes stall as soon as a few frames are in flight.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", app.port))
    slow = await connect(
        app.ws_url(),
        sock=sock,
        additional_headers={"Authorization": f"Bearer {token}"},
        max_queue=1,
        max_size=None,
    )
    await slow.send(orjson.dumps({"type": "subscribe", "since": 0}).decode())
    assert (await recv_json(slow))["type"] == "subscribed"

    # Big alerts (a long explanation) fill the socket buffers quickly.
    padding = [{"feature": f"pad{i}", "score": 0.5, "query": "x" * 4000} for i in range(10)]
    produced: list[int] = []

    def connected() -> int:
        return len(hub._by_bureau.get("DEU", ()))

    async with asyncio.timeout(60):
        while connected():
            hits = [make_hit(entry, country="DEU") for _ in range(10)]
            hits = [
                type(h)(**{**h.__dict__, "explanation": h.explanation + padding}) for h in hits
            ]
            produced += [a["id"] for a in await emit(app.sessions, app.bus, hits)]
    assert len(produced) > hub.limits.max_queue  # it was dropped for being slow, not for nothing

    # The slow client now reads what had reached it, then the close frame: 1013, resume.
    received: list[int] = []
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(30):
            while True:
                msg = orjson.loads(await slow.recv())
                if msg["type"] == "alert":
                    received.append(msg["alert"]["id"])
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    since = received[-1] if received else 0

    more = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU") for _ in range(3)])
    ws = await open_stream(app.ws_url(), token, since=since, max_size=None)
    resumed, _, _ = await collect_alerts(ws, more[-1]["id"], timeout=30)
    await ws.close()
    everything = received + resumed
    assert everything == sorted(set(everything))  # in order, no duplicate
    assert everything == [*produced, *(a["id"] for a in more)]  # nothing lost


async def test_gaps_on_the_bus_are_filled_and_duplicates_dropped(app: RunningApp) -> None:
    hub = app.hub
    hub.gap_timeout = 0.2
    entry = await make_entry(app.sessions, owner="FRA")
    token = await make_token(app.sessions, "bureau", "FRA")
    ws = await open_stream(app.ws_url(), token, since=None)
    assert (await recv_json(ws))["type"] == "subscribed"

    # Alert A committed but never published (its publisher died), then B published twice.
    (a,), _ = await record_hits(app.sessions, [make_hit(entry, country="DEU")])
    (b,) = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU")])
    await app.bus.publish([b])
    ids, _, _ = await collect_alerts(ws, b["id"])
    assert ids == [a["id"], b["id"]]
    assert hub.gap_fills >= 1

    # Published out of order: C after D; both arrive in order.
    (c,), _ = await record_hits(app.sessions, [make_hit(entry, country="DEU")])
    (d,), _ = await record_hits(app.sessions, [make_hit(entry, country="DEU")])
    await app.bus.publish([d])
    await app.bus.publish([c])
    # Committed and never published at all, nothing after it: the counter poll finds it.
    hub.poll_interval = 0.3
    (e,), _ = await record_hits(app.sessions, [make_hit(entry, country="DEU")])
    ids, _, _ = await collect_alerts(ws, e["id"])
    assert ids == [c["id"], d["id"], e["id"]]
    # A replay of old alerts (at-least-once) sends nothing again.
    await app.bus.publish([a, b, c])
    (f,) = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU")])
    ids, _, other = await collect_alerts(ws, f["id"])
    assert ids == [f["id"]] and other == []
    await ws.close()


async def test_status_changes_reach_sockets_as_alert_update(app: RunningApp) -> None:
    entry = await make_entry(app.sessions, owner="FRA")
    fra = await make_token(app.sessions, "bureau", "FRA")
    deu = await make_token(app.sessions, "bureau", "DEU")
    ws_fra = await open_stream(app.ws_url(), fra, since=None)
    ws_deu = await open_stream(app.ws_url(), deu, since=None)
    for ws in (ws_fra, ws_deu):
        assert (await recv_json(ws))["type"] == "subscribed"
    (alert,) = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU")])
    for ws in (ws_fra, ws_deu):
        assert (await recv_json(ws))["alert"]["id"] == alert["id"]

    async with app.sessions() as session:
        from failsafe.actor import Actor

        actor = Actor(id="p_deu", role="bureau", bureau_code="DEU")
        await alerts_service.transition(
            session, actor, alert["id"], "acknowledged", note="seen", bus=app.bus
        )
    for ws in (ws_fra, ws_deu):
        msg = await recv_json(ws)
        assert msg["type"] == "alert_update"
        assert (msg["id"], msg["status"]) == (alert["id"], "acknowledged")

    async with app.sessions() as session:
        ids = await alerts_service.withdraw_open_alerts(
            session, entry["id"], CLI_ACTOR, bus=app.bus
        )
    assert ids == [alert["id"]]
    for ws in (ws_fra, ws_deu):
        msg = await recv_json(ws)
        assert (msg["type"], msg["id"], msg["status"]) == ("alert_update", alert["id"], "withdrawn")
    async with app.sessions() as session:
        assert await session.scalar(select(Alert.status).where(Alert.id == alert["id"])) == (
            "withdrawn"
        )
    await ws_fra.close()
    await ws_deu.close()


async def test_cancelling_through_an_import_publishes_the_withdrawals(app: RunningApp) -> None:
    # The import path withdraws the open alerts and publishes exactly those: the update is on
    # the bus and on every socket that received the alert, as when cancelling through the API.
    entry = await make_entry(app.sessions, owner="FRA")
    fra = await make_token(app.sessions, "bureau", "FRA")
    analyst = await make_token(app.sessions, "analyst", "FRA")
    ws = await open_stream(app.ws_url(), fra, since=None)
    assert (await recv_json(ws))["type"] == "subscribed"
    (alert,) = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU")])
    assert (await recv_json(ws))["alert"]["id"] == alert["id"]

    on_bus: list[dict[str, Any]] = []

    async def listen() -> None:
        async for published in app.bus.subscribe():
            if published["id"] == alert["id"]:
                on_bus.append(published)
                return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)  # subscribed before the import publishes
    fields = ("id", "notice", "owner_bureau", "subject", "case", "distribution")
    line = {k: v for k, v in entry.items() if k in fields}
    async with httpx2.AsyncClient(base_url=app.http, timeout=10) as http:
        r = await http.post(
            "/v1/watchlist/import",
            content=orjson.dumps({**line, "status": "cancelled"}) + b"\n",
            headers={"Authorization": f"Bearer {analyst}"},
        )
    assert r.status_code == 200 and r.json()["updated"] == 1, r.text
    await asyncio.wait_for(listener, 5)
    assert (on_bus[0]["id"], on_bus[0]["status"]) == (alert["id"], "withdrawn")
    msg = await recv_json(ws)
    assert (msg["type"], msg["id"], msg["status"]) == ("alert_update", alert["id"], "withdrawn")
    await ws.close()


async def test_heartbeat_ping_and_timeout(app: RunningApp) -> None:
    app.hub.limits = replace(app.hub.limits, ping_interval=0.2, ping_timeout=0.4)
    token = await make_token(app.sessions, "bureau", "FRA")
    ws = await open_stream(app.ws_url(), token, since=None)
    assert orjson.loads(await ws.recv())["type"] == "subscribed"
    # Answering pings keeps the stream open well past the timeout.
    async with asyncio.timeout(5):
        for _ in range(5):
            msg = orjson.loads(await ws.recv())
            assert msg == {"type": "ping"}
            await ws.send('{"type": "pong"}')
    # A client that stops answering is closed with 4408.
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(10):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
