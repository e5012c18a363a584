"""POST /v1/events and POST /v1/screen through the real app: Kafka mode on the real broker and
PostgreSQL, and the embedded mode (SQLite, in-process pipeline)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select

from failsafe.db.models import Alert
from failsafe.ingest.service import ScreeningService
from failsafe.settings import DatabaseSettings, KafkaSettings, Settings, TopicSettings
from tests.apptools import running, token, wait_ready
from tests.factories import entry_doc, event, put_entry

pytestmark = pytest.mark.integration


async def test_kafka_mode_produces_valid_events_and_reports_rejections(
    fresh_pg_url: str, kafka_bootstrap: str, unique_topic: Callable[[str], str]
) -> None:
    topics = TopicSettings(
        events=unique_topic("events"), events_dlq=unique_topic("dlq"), alerts=unique_topic("alerts")
    )
    settings = Settings(
        database=DatabaseSettings(url=fresh_pg_url),
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap, topics=topics),
    )
    async with running(settings) as (client, state):
        await wait_ready(state)
        border = await token(state, "border", "DEU")
        bureau = await token(state, "bureau", "DEU")
        good = event("MUSTER", "ERIKA")
        bad = {**event("X", "Y"), "occurred_at": "yesterday"}
        resp = await client.post("/v1/events", json=[good, bad], headers=border)
        assert resp.status_code == 202, resp.text
        body = resp.json()
        assert body["accepted"] == [{"index": 0, "event_id": good["event_id"]}]
        assert body["rejected"][0]["index"] == 1
        assert "occurred_at" in body["rejected"][0]["reason"]
        assert set(body) == {"accepted", "rejected"}  # a sender never learns of a match
        assert (await client.post("/v1/events", json=good, headers=bureau)).status_code == 403
        assert (await client.post("/v1/events", json=good)).status_code == 401
        assert (await client.post("/v1/events", content=b"{", headers=border)).status_code == 400

    consumer = AIOKafkaConsumer(
        topics.events,
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    try:
        async with asyncio.timeout(20):
            got: list[Any] = []
            while not got:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    got.extend(records)
    finally:
        await consumer.stop()
    assert [orjson.loads(r.value)["event_id"] for r in got] == [good["event_id"]]
    assert got[0].key == good["event_id"].encode()


async def test_embedded_mode_screens_in_process_and_publishes(tmp_path: Path) -> None:
    settings = Settings(database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'e.db'}"))
    async with running(settings) as (client, state):
        await wait_ready(state)
        border = await token(state, "border", "DEU")
        entry = await put_entry(
            state.sessionmaker, entry_doc("PETROV", "IVAN", dob="1970-03", owner="FRA")
        )
        async with asyncio.timeout(5):
            while entry["id"] not in state.services.get(ScreeningService).follower.entries:
                await asyncio.sleep(0.05)
        received: list[dict[str, Any]] = []

        async def listen() -> None:
            async for alert in state.bus.subscribe():
                received.append(alert)
                return

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0)
        hit = event("PETROV", "IVAN", dob="1970-03-14", country="DEU")
        resp = await client.post(
            "/v1/events", json=[hit, event("NOBODY", "SPECIAL")], headers=border
        )
        assert resp.status_code == 202
        assert len(resp.json()["accepted"]) == 2
        await asyncio.wait_for(listener, 5)
        async with state.sessionmaker() as session:
            alerts = list((await session.execute(select(Alert))).scalars())
        assert [(a.event_id, a.entry_id) for a in alerts] == [(hit["event_id"], entry["id"])]
        assert received[0]["id"] == alerts[0].id
        assert received[0]["recipients"] == ["DEU", "FRA"]


async def test_screen_answers_now_and_hides_entries_the_caller_may_not_see(
    tmp_path: Path,
) -> None:
    settings = Settings(database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 's.db'}"))
    async with running(settings) as (client, state):
        await wait_ready(state)
        deu = await token(state, "border", "DEU")
        usa = await token(state, "border", "USA")
        analyst = await token(state, "analyst", "FRA")
        restricted = await put_entry(
            state.sessionmaker,
            entry_doc(
                "DUBOIS",
                "CLAIRE",
                dob="1985-09-09",
                owner="FRA",
                distribution={"mode": "restricted", "allow": ["USA"], "deny": []},
            ),
        )
        async with asyncio.timeout(5):
            while restricted["id"] not in state.services.get(ScreeningService).follower.entries:
                await asyncio.sleep(0.05)
        query = event("DUBOIS", "CLAIRE", dob="1985-09-09")
        seen_by_usa = (await client.post("/v1/screen", json=query, headers=usa)).json()
        assert [m["entry_id"] for m in seen_by_usa[0]["matches"]] == [restricted["id"]]
        assert seen_by_usa[0]["matches"][0]["explanation"]
        seen_by_deu = (await client.post("/v1/screen", json=query, headers=deu)).json()
        assert seen_by_deu == [{"event_id": query["event_id"], "matches": [], "error": None}]
        both = (
            await client.post("/v1/screen", json=[query, {"kind": "x"}], headers=analyst)
        ).json()
        assert both[0]["matches"][0]["entry_id"] == restricted["id"]
        assert both[1]["error"].startswith("schema violation")
        too_many = [query] * 101
        assert (await client.post("/v1/screen", json=too_many, headers=analyst)).status_code == 400
        async with state.sessionmaker() as session:
            assert list((await session.execute(select(Alert))).scalars()) == []  # nothing stored


async def test_a_border_principal_sends_events_of_its_own_country_only(fresh_pg_url: str) -> None:
    settings = Settings(database=DatabaseSettings(url=fresh_pg_url))  # no Kafka: in process
    async with running(settings) as (client, state):
        await wait_ready(state)
        deu = await token(state, "border", "DEU")
        admin = await token(state, "admin", None)
        entry = await put_entry(
            state.sessionmaker, entry_doc("PETROV", "IVAN", dob="1970-03", owner="FRA")
        )
        async with asyncio.timeout(5):
            while entry["id"] not in state.services.get(ScreeningService).follower.entries:
                await asyncio.sleep(0.05)
        own = event("PETROV", "IVAN", dob="1970-03-14", country="DEU")
        foreign = event("PETROV", "IVAN", dob="1970-03-14", country="ITA")
        unsaid = {k: v for k, v in event("PETROV", "IVAN", dob="1970-03-14").items()
                  if k != "country"}
        lower = event("PETROV", "IVAN", dob="1970-03-14", country="deu")
        resp = await client.post("/v1/events", json=[own, foreign, unsaid, lower], headers=deu)
        assert resp.status_code == 202, resp.text
        body = resp.json()
        assert [a["index"] for a in body["accepted"]] == [0, 2]
        assert [r["index"] for r in body["rejected"]] == [1, 3]
        assert body["rejected"][0]["reason"] == (
            "forbidden: country 'ITA' is not this principal's bureau 'DEU'; "
            "a border principal sends events of its own country only"
        )
        async with state.sessionmaker() as session:
            alerts = list((await session.execute(select(Alert).order_by(Alert.id))).scalars())
        assert [a.event_id for a in alerts] == [own["event_id"], unsaid["event_id"]]
        assert [a.recipients for a in alerts] == [["DEU", "FRA"], ["FRA"]]  # never ITA
        # Admins manage; border systems send (README): an admin's events are refused whole.
        assert (await client.post("/v1/events", json=own, headers=admin)).status_code == 403
        screened = await client.post("/v1/screen", json=foreign, headers=admin)
        assert screened.status_code == 200
        assert screened.json()[0]["matches"][0]["entry_id"] == entry["id"]
