"""Async factories for alert and hub tests: a fresh migrated database, watchlist entries,
principals, alerts recorded and published the way the ingest pipeline does, and a real uvicorn
server running the app in this event loop (real sockets, real websockets clients)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect

from failsafe.actor import CLI_ACTOR
from failsafe.alerts.recorder import Hit, record_hits
from failsafe.app import create_app
from failsafe.auth.service import create_principal
from failsafe.cli import uvicorn_options
from failsafe.db import migrate
from failsafe.hub.service import Hub
from failsafe.kit.bus import AlertBus
from failsafe.kit.state import AppState
from failsafe.settings import DatabaseSettings, KafkaSettings, Settings, TopicSettings
from failsafe.watchlist import service as watchlist
from failsafe.watchlist.schemas import EntryIn
from tests.conftest import create_database, drop_database, personal_data, unique_name

_seq = itertools.count(1)


@contextlib.asynccontextmanager
async def fresh_database(pg_server: str) -> AsyncIterator[str]:
    """A new migrated PostgreSQL database (alert ids start at 1), dropped afterwards."""
    name = unique_name("failsafe_hub")
    url = await create_database(pg_server, name)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
    finally:
        await drop_database(pg_server, name)


def settings_for(
    db_url: str, kafka: str | None = None, topics: TopicSettings | None = None
) -> Settings:
    return Settings(
        database=DatabaseSettings(url=db_url, auto_migrate=False, pool_size=5),
        kafka=KafkaSettings(bootstrap_servers=kafka, topics=topics or TopicSettings()),
    )


async def make_entry(
    sessions: async_sessionmaker[AsyncSession],
    *,
    owner: str,
    notice_type: str = "green",
    action: str = "discreet_check",
    distribution: dict[str, Any] | None = None,
    surname: str = "PETROV",
    given_names: str = "IVAN",
    document: str | None = None,
) -> dict[str, Any]:
    n = next(_seq)
    document = document or f"75{n:07d}"
    personal_data(surname, given_names, document)
    data = EntryIn.model_validate(
        {
            "notice": {"type": notice_type, "reference": f"2026/{uuid.uuid4().hex[:8]}-{n}"},
            "owner_bureau": owner,
            "subject": {
                "surname": surname,
                "given_names": given_names,
                "date_of_birth": "1970-03",
                "documents": [
                    {"type": "P", "number": document, "issuing_state": "RUS"}
                ],
            },
            "case": {"category": "nuclear_smuggling", "requested_action": action},
            "distribution": distribution or {"mode": "all", "allow": [], "deny": []},
        }
    )
    async with sessions() as session:
        return await watchlist.create_entry(session, CLI_ACTOR, data)


async def make_token(
    sessions: async_sessionmaker[AsyncSession], role: str, bureau: str | None
) -> str:
    async with sessions() as session:
        _, token = await create_principal(
            session, role=role, bureau_code=bureau, name=f"{role} {bureau}", actor=CLI_ACTOR
        )
    return token


def make_hit(
    entry: dict[str, Any],
    *,
    country: str,
    score: float = 0.95,
    event_id: str | None = None,
    direction: str = "entry",
) -> Hit:
    personal_data("PETROV", "IVAN", "753123456")
    event = {
        "schema": "failsafe.event/v1",
        "event_id": event_id or f"ev-{uuid.uuid4().hex}",
        "kind": "border_crossing",
        "occurred_at": "2026-11-27T10:22:05+01:00",
        "source": f"{country}-BP",
        "country": country,
        "crossing": {"point": f"{country}-T1", "mode": "air", "direction": direction},
        "traveller": {"surname": "PETROV", "given_names": "IVAN", "date_of_birth": "1970-03-14"},
        "document": {"type": "P", "number": "753123456", "issuing_state": "RUS"},
    }
    return Hit(
        event=event,
        entry=entry,
        score=score,
        method="document",
        explanation=[
            {"feature": "document_number", "score": 1.0, "query": "753123456",
             "candidate": "753123456"},
            {"feature": "name", "score": score, "query": "IVAN PETROV", "candidate": "IVAN PETROV"},
        ],
    )


async def emit(
    sessions: async_sessionmaker[AsyncSession], bus: AlertBus | None, hits: Sequence[Hit]
) -> list[dict[str, Any]]:
    """Record and publish, as the pipeline does; returns the alerts (new or existing)."""
    alerts, _ = await record_hits(sessions, hits)
    if bus is not None:
        await bus.publish(alerts)
    return alerts


@dataclass
class RunningApp:
    app: FastAPI
    server: uvicorn.Server
    port: int

    @property
    def state(self) -> AppState:
        state: AppState = self.app.state.failsafe
        return state

    @property
    def hub(self) -> Hub:
        hub: Hub = self.state.services.get(Hub)
        return hub

    @property
    def bus(self) -> AlertBus:
        bus: AlertBus = self.state.bus
        return bus

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.state.sessionmaker

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, token: str | None = None) -> str:
        url = f"ws://127.0.0.1:{self.port}/v1/alerts/stream"
        return f"{url}?token={token}" if token else url


@contextlib.asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[RunningApp]:
    """`create_app(settings)` served by uvicorn on a free loopback port, in this event loop."""
    app = create_app(settings)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="on",
        ws="auto",  # as `failsafe serve` runs it (websockets sans-I/O, no per-message deflate)
        **uvicorn_options(settings),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("server stopped during start-up")
                await asyncio.sleep(0.02)  # uvicorn offers no start-up event to await
        port = server.servers[0].sockets[0].getsockname()[1]
        yield RunningApp(app=app, server=server, port=port)
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            async with asyncio.timeout(30):
                await task


async def open_stream(
    url: str,
    token: str | None,
    *,
    since: int | None = None,
    filters: dict[str, Any] | None = None,
    header: bool = True,
    subscribe: bool = True,
    **kwargs: Any,
) -> ClientConnection:
    headers = {"Authorization": f"Bearer {token}"} if (token and header) else None
    ws = await connect(url, additional_headers=headers, open_timeout=10, **kwargs)
    if subscribe:
        message: dict[str, Any] = {"type": "subscribe", "since": since}
        if filters is not None:
            message["filters"] = filters
        await ws.send(orjson.dumps(message).decode())
    return ws


async def recv_json(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            msg = orjson.loads(await ws.recv())
            if msg.get("type") == "ping":
                await ws.send('{"type": "pong"}')
                continue
            return dict(msg)


async def collect_alerts(
    ws: ClientConnection, until_id: int, timeout: float = 15.0
) -> tuple[list[int], dict[str, Any] | None, list[dict[str, Any]]]:
    """Alert ids received until `until_id` is seen, the `subscribed` message, everything else."""
    ids: list[int] = []
    subscribed: dict[str, Any] | None = None
    other: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while not ids or ids[-1] < until_id:
            msg = await recv_json(ws, timeout)
            if msg["type"] == "alert":
                ids.append(int(msg["alert"]["id"]))
            elif msg["type"] == "subscribed":
                subscribed = msg
            else:
                other.append(msg)
    return ids, subscribed, other
