"""Revoking a principal closes its open websockets at once, not at their next heartbeat (20 s):
through the API in the embedded mode (in-memory bus), and through `failsafe principal revoke`
when Kafka is configured (the CLI publishes the revocation on the alerts topic that every
replica's hub reads). Other principals' sockets stay open."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import httpx2
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from failsafe.settings import TopicSettings
from tests.conftest import scan_output
from tests.fixtures.app import FAILSAFE, RunningApp, make_token, running_app, settings_for
from tests.fixtures.sockets import open_stream, recv_json

pytestmark = pytest.mark.integration


async def _principal_id(app: RunningApp, token: str) -> str:
    async with httpx2.AsyncClient(base_url=app.http, timeout=10) as http:
        r = await http.get("/v1/principals/me", headers={"Authorization": f"Bearer {token}"})
    return str(r.json()["id"])


async def _closed_within(ws: ClientConnection, seconds: float) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(seconds):
            while True:
                await recv_json(ws, seconds)
    return ws.close_code, ws.close_reason


async def _still_open(ws: ClientConnection) -> None:
    await ws.send('{"type": "ping"}')
    assert await recv_json(ws) == {"type": "pong"}


async def test_api_revocation_closes_the_principals_sockets_at_once(app: RunningApp) -> None:
    admin = await make_token(app.sessions, "admin", None)
    doomed = await make_token(app.sessions, "bureau", "DEU")
    colleague = await make_token(app.sessions, "bureau", "DEU")
    sockets = [await open_stream(app.ws_url(), t) for t in (doomed, doomed, colleague)]
    for ws in sockets:
        assert (await recv_json(ws))["type"] == "subscribed"
    async with httpx2.AsyncClient(base_url=app.http, timeout=10) as http:
        r = await http.post(
            f"/v1/principals/{await _principal_id(app, doomed)}/revoke",
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert r.status_code == 200
    for ws in sockets[:2]:
        assert await _closed_within(ws, 2.0) == (1008, "token revoked")
    await _still_open(sockets[2])
    await sockets[2].close()


async def test_cli_revocation_reaches_the_replicas_through_kafka(
    fresh_pg_url: str, kafka_bootstrap: str, unique_topic: Callable[[str], str]
) -> None:
    topics = TopicSettings(
        events=unique_topic("failsafe.events.v1"),
        events_dlq=unique_topic("failsafe.events.dlq.v1"),
        alerts=unique_topic("failsafe.alerts.v1"),
    )
    # The hub reads the topic from its end: it must exist before the hub subscribes.
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topics.alerts, 1, 1)])
    finally:
        await admin.close()
    async with running_app(settings_for(fresh_pg_url, kafka_bootstrap, topics)) as app:
        doomed = await make_token(app.sessions, "analyst", "ITA")
        colleague = await make_token(app.sessions, "analyst", "ITA")
        ws = await open_stream(app.ws_url(), doomed)
        other = await open_stream(app.ws_url(), colleague)
        for s in (ws, other):
            assert (await recv_json(s))["type"] == "subscribed"
        proc = await asyncio.create_subprocess_exec(
            FAILSAFE, "principal", "revoke", await _principal_id(app, doomed),
            env={
                **os.environ,
                "FAILSAFE_DATABASE__URL": fresh_pg_url,
                "FAILSAFE_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap,
                "FAILSAFE_KAFKA__TOPICS__ALERTS": topics.alerts,
            },
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await proc.communicate()
        scan_output("failsafe principal revoke", err.decode())
        assert proc.returncode == 0, err.decode()
        assert "warning" not in err.decode()
        # Well before the 20 s heartbeat (the CLI's own start-up is not counted).
        assert await _closed_within(ws, 5.0) == (1008, "token revoked")
        await _still_open(other)
        await other.close()
