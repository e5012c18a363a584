"""The websocket contract at its edges: authentication (bad token, other bureau, roles), garbage
frames, filters, acks."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from failsafe.db.models import AlertAck
from tests.fixtures.app import RunningApp, make_token
from tests.fixtures.factories import emit, make_entry, make_hit
from tests.fixtures.sockets import collect_alerts, open_stream, recv_json

pytestmark = pytest.mark.integration


async def _close_code(url: str, headers: dict[str, str] | None = None) -> int | None:
    async with connect(url, additional_headers=headers, open_timeout=10) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_bad_tokens_close_with_1008(app: RunningApp) -> None:
    assert await _close_code(app.ws_url()) == 1008  # no token
    assert await _close_code(app.ws_url("fs_not-a-real-token-at-all-000000")) == 1008
    bad = {"Authorization": "Bearer fs_not-a-real-token-at-all-000000"}
    assert await _close_code(app.ws_url(), bad) == 1008
    assert await _close_code(app.ws_url(), {"Authorization": "Basic abc"}) == 1008
    # A border system sends events; it never receives alerts.
    border = await make_token(app.sessions, "border", "DEU")
    assert await _close_code(app.ws_url(border)) == 1008


async def test_query_token_and_other_bureaus(app: RunningApp) -> None:
    entry = await make_entry(app.sessions, owner="FRA")
    restricted = await make_entry(
        app.sessions, owner="FRA", distribution={"mode": "restricted", "allow": ["DEU"]}
    )
    deu = await make_token(app.sessions, "bureau", "DEU")
    ita = await make_token(app.sessions, "bureau", "ITA")
    admin = await make_token(app.sessions, "admin", None)
    # History: FRA+DEU, then FRA+ITA, then a restricted entry seen in ITA (ITA not entitled).
    (a1,) = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU")])
    (a2,) = await emit(app.sessions, app.bus, [make_hit(entry, country="ITA")])
    (a3,) = await emit(app.sessions, app.bus, [make_hit(restricted, country="ITA")])
    assert a3["recipients"] == ["FRA"]

    ws_ita = await open_stream(app.ws_url(ita), ita, since=0, header=False)  # ?token=
    ws_deu = await open_stream(app.ws_url(), deu, since=0)
    ws_admin = await open_stream(app.ws_url(), admin, since=0)
    (a4,) = await emit(app.sessions, app.bus, [make_hit(restricted, country="DEU")])
    (a5,) = await emit(app.sessions, app.bus, [make_hit(entry, country="ITA")])
    ids_ita, _, _ = await collect_alerts(ws_ita, a5["id"])
    assert ids_ita == [a2["id"], a5["id"]]
    (a6,) = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU")])
    ids_deu, _, _ = await collect_alerts(ws_deu, a6["id"])
    assert ids_deu == [a1["id"], a4["id"], a6["id"]]
    ids_admin, _, _ = await collect_alerts(ws_admin, a6["id"])
    assert ids_admin == [a["id"] for a in (a1, a2, a3, a4, a5, a6)]

    # Acks: only for alerts the bureau may see; stored per principal, twice is fine.
    await ws_ita.send(orjson.dumps({"type": "ack", "id": a1["id"]}).decode())
    msg = await recv_json(ws_ita)
    assert (msg["type"], msg["code"]) == ("error", "not_found")
    for _ in range(2):
        await ws_deu.send(orjson.dumps({"type": "ack", "id": a1["id"]}).decode())
        assert await recv_json(ws_deu) == {"type": "acked", "id": a1["id"]}
    async with app.sessions() as session:
        acks = (await session.scalars(select(AlertAck).where(AlertAck.alert_id == a1["id"]))).all()
    assert len(acks) == 1
    for ws in (ws_ita, ws_deu, ws_admin):
        await ws.close()


async def test_garbage_frames_get_errors_not_crashes(app: RunningApp) -> None:
    entry = await make_entry(app.sessions, owner="FRA")
    token = await make_token(app.sessions, "bureau", "FRA")
    ws = await open_stream(app.ws_url(), token, subscribe=False)
    garbage: list[str | bytes] = [
        "not json",
        "{",
        "[]",
        "null",
        '"subscribe"',
        "{}",
        '{"type": "launch"}',
        '{"type": "subscribe", "since": "yesterday"}',
        '{"type": "subscribe", "since": -5}',
        '{"type": "subscribe", "filters": {"min_score": 7}}',
        '{"type": "subscribe", "filters": {"colour": "red"}}',
        '{"type": "subscribe", "filters": {"notice_types": ["pink"]}}',
        '{"type": "ack", "id": "x"}',
        '{"type": "ack"}',
        b"\x00\x01binary",
        "\u0000\ud7ff weird",
    ]
    for frame in garbage:
        await ws.send(frame)
        msg = await recv_json(ws)
        assert msg["type"] == "error" and msg["code"] == "bad_request", frame
    # Still alive and usable.
    await ws.send('{"type": "ping"}')
    assert await recv_json(ws) == {"type": "pong"}
    await ws.send('{"type": "subscribe", "since": null}')
    assert (await recv_json(ws))["type"] == "subscribed"
    await ws.send('{"type": "subscribe", "since": null}')
    assert (await recv_json(ws))["code"] == "conflict"
    (alert,) = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU")])
    assert (await recv_json(ws))["alert"]["id"] == alert["id"]
    # An oversized frame closes with 1009.
    await ws.send("x" * (70 * 1024))
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await recv_json(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009

    # Endless garbage closes with 1008 instead of answering forever.
    ws = await open_stream(app.ws_url(), token, subscribe=False)
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(100):
            await ws.send("garbage")
            await recv_json(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_filters_apply_to_replay_and_live(app: RunningApp) -> None:
    green = await make_entry(app.sessions, owner="FRA", notice_type="green")
    red = await make_entry(app.sessions, owner="FRA", notice_type="red", action="locate_and_detain")
    token = await make_token(app.sessions, "bureau", "DEU")
    history = await emit(
        app.sessions,
        app.bus,
        [
            make_hit(green, country="DEU", score=0.95),
            make_hit(red, country="DEU", score=0.95),
            make_hit(red, country="DEU", score=0.75),
        ],
    )
    ws = await open_stream(
        app.ws_url(), token, since=0, filters={"min_score": 0.8, "notice_types": ["red"]}
    )
    # The replay ends with `subscribed`; only then are the live alerts emitted (else they would
    # be part of the replay, which is right too, but not what this test looks at).
    replayed: list[int] = []
    while (msg := await recv_json(ws))["type"] != "subscribed":
        if msg["type"] == "alert":
            replayed.append(int(msg["alert"]["id"]))
    assert replayed == [history[1]["id"]]
    assert msg["replayed"] == 1
    live = await emit(
        app.sessions,
        app.bus,
        [
            make_hit(red, country="DEU", score=0.7),
            make_hit(green, country="DEU", score=0.99),
            make_hit(red, country="DEU", score=0.9),
        ],
    )
    ids, _, _ = await collect_alerts(ws, live[2]["id"])
    assert ids == [live[2]["id"]]

    ws2 = await open_stream(app.ws_url(), token, since=0, filters={"severities": ["critical"]})
    ids2, _, _ = await collect_alerts(ws2, live[2]["id"])
    assert ids2 == [a["id"] for a in [*history, *live] if a["severity"] == "critical"]
    assert len(ids2) == 4  # every red locate-and-detain hit, whatever its score
    await ws.close()
    await ws2.close()
