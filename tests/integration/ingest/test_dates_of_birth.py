"""Dates of birth through the ingest path on the real broker and PostgreSQL: the worker (and
`serve`'s matcher behind POST /v1/events and /v1/screen) hands the index entries with
`subject.dates_of_birth`, reads an unpadded traveller date as the same date, and rejects an event
whose date is outside the grammar with the same reason everywhere (its neighbours go on); and
the recorder lowers the severity of a hit whose explanation says the dates are far apart
(hand-written explanations: the matcher's own are tested with the matcher)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

import orjson
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.actor import CLI_ACTOR
from failsafe.alerts.recorder import Hit, record_hits
from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.db.models import Alert
from failsafe.ingest.worker import IngestWorker
from failsafe.matching.index import WatchlistIndex
from failsafe.settings import DatabaseSettings, Settings
from failsafe.watchlist.schemas import EntryIn
from failsafe.watchlist.service import create_entry
from tests.fixtures.app import in_process
from tests.fixtures.factories import entry_doc, event, put_entry
from tests.fixtures.streams import create_stream_topics, read_topic, stream_settings, worker_ready
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.integration


class RecordingIndex(WatchlistIndex):
    """The real index, keeping the entry dicts it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.given: dict[str, Mapping[str, Any]] = {}

    def add_many(self, entries: Iterable[Any], more: bool = False) -> int:
        entries = list(entries)
        for e in entries:
            if isinstance(e, Mapping):
                self.given[e["id"]] = e
        return super().add_many(entries, more)

    def upsert(self, entry: Any) -> bool:
        if isinstance(entry, Mapping):
            self.given[entry["id"]] = entry
        return super().upsert(entry)


def entry_body(surname: str, given_names: str, **subject: Any) -> dict[str, Any]:
    return {
        "notice": {"type": "red", "reference": f"DOB/{surname}"},
        "owner_bureau": "FRA",
        "subject": {"surname": surname, "given_names": given_names, **subject},
        "case": {"requested_action": "discreet_check"},
    }


@pytest_asyncio.fixture
async def sessions(fresh_pg_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(DatabaseSettings(url=fresh_pg_url))
    yield create_sessionmaker(engine)
    await engine.dispose()


async def test_the_worker_sees_dates_of_birth_and_dead_letters_unreadable_ones(
    fresh_pg_url: str,
    sessions: async_sessionmaker[AsyncSession],
    kafka_bootstrap: str,
    unique_topic: Callable[[str], str],
) -> None:
    settings = stream_settings(fresh_pg_url, kafka_bootstrap, unique_topic)
    await create_stream_topics(settings.kafka)
    async with sessions() as session:  # written by the watchlist service, as the API does
        entry = await create_entry(
            session,
            CLI_ACTOR,
            EntryIn.model_validate(
                entry_body(
                    "DOE",
                    "JOHN",
                    date_of_birth="1969-06-16",
                    dates_of_birth=[{"circa": 1971}, {"from": 1960, "to": 1962}],
                )
            ),
        )
    index = RecordingIndex()
    worker = IngestWorker(settings, index, batch_size=100)
    task = asyncio.create_task(worker.run())
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await eventually(lambda: worker_ready(worker, task), timeout=30, what="worker ready")
        subject = index.given[entry["id"]]["subject"]
        assert subject["date_of_birth"] == "1969-06-16"
        assert subject["dates_of_birth"] == [
            "1969-06-16",
            {"circa": 1971},
            {"from": 1960, "to": 1962},
        ]
        unpadded = event("DOE", "JOHN", dob="1969-6-16")
        dotted = event("DOE", "JOHN", dob="16.06.1969")
        impossible = event("DOE", "JOHN", dob="1969-02-30")
        bad = [orjson.dumps(dotted), orjson.dumps(impossible)]
        for raw in (bad[0], orjson.dumps(unpadded), bad[1]):
            await producer.send_and_wait(settings.kafka.topics.events, raw, key=b"k")
        dlq = await read_topic(kafka_bootstrap, settings.kafka.topics.events_dlq, 2)
        assert [m.value for m in dlq] == bad
        assert [dict(m.headers)["failsafe.error"].decode() for m in dlq] == [
            "schema violation: traveller.date_of_birth: date_format",
            "schema violation: traveller.date_of_birth: date_value",
        ]

        async def stored() -> list[Alert]:
            async with sessions() as s:
                return list((await s.execute(select(Alert))).scalars())

        alerts = await eventually(stored, timeout=30, interval=0.1, what="an alert")
        (alert,) = alerts
        assert (alert.event_id, alert.entry_id) == (unpadded["event_id"], entry["id"])
        # The sighting keeps the date as normalised by the event schema.
        assert alert.payload["event"]["traveller"]["date_of_birth"] == "1969-06-16"
    finally:
        await producer.stop()
        worker.request_stop()
        await asyncio.wait_for(task, 30)


async def test_the_recorder_lowers_severity_for_far_dates(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    name = {"feature": "name", "score": 0.97, "query": "X", "candidate": "X"}

    def dob(agreement: str) -> dict[str, Any]:
        return {
            "feature": "date_of_birth",
            "score": 0.5,
            "query": "1985",
            "candidate": "1960",
            "agreement": agreement,
            "detail": "hand-written",
        }

    entry = await put_entry(
        sessions,
        entry_doc("PETROV", "IVAN", dob="1960", notice_type="green", action="discreet_check"),
    )
    hits = [
        Hit(
            event=event("PETROV", "IVAN", dob="1985"),
            entry=entry,
            score=0.95,
            method="name",
            explanation=explanation,
        )
        for explanation in (
            [name, dob("exact")],
            [name, dob("close")],
            [name, dob("far")],
            [name, dob("far"), dob("close")],
            [name],
        )
    ]
    out, created = await record_hits(sessions, hits)
    assert created == 5
    assert [a["severity"] for a in out] == ["high", "high", "medium", "high", "high"]
    async with sessions() as s:
        stored = {a.id: a.severity for a in (await s.execute(select(Alert))).scalars()}
    assert [stored[a["id"]] for a in out] == ["high", "high", "medium", "high", "high"]
    assert out[2]["explanation"][1]["agreement"] == "far"  # the reason travels with the alert


async def test_serve_screens_with_the_list_and_rejects_unreadable_dates(fresh_pg_url: str) -> None:
    settings = Settings(database=DatabaseSettings(url=fresh_pg_url))  # no Kafka: in process
    async with in_process(settings) as api:
        client, state = api.client, api.state
        await api.ready()
        analyst = await api.headers("analyst", "FRA")
        border = await api.headers("border", "DEU")
        body = entry_body(
            "KOWALSKA", "ANNA", date_of_birth="1969-06-16", dates_of_birth=[{"circa": 1972}]
        )
        r = await client.post("/v1/watchlist", json=body, headers=analyst)
        assert r.status_code == 201, r.text
        entry_id = r.json()["id"]
        await api.follows(entry_id)
        follower = api.screening.follower
        assert follower.entries[entry_id]["subject"]["dates_of_birth"] == [
            "1969-06-16",
            {"circa": 1972},
        ]
        unpadded = event("KOWALSKA", "ANNA", dob="1969-6-16")
        dotted = event("KOWALSKA", "ANNA", dob="16/06/1969")
        reason = "schema violation: traveller.date_of_birth: date_format"
        screened = (
            await client.post("/v1/screen", json=[unpadded, dotted], headers=analyst)
        ).json()
        assert [m["entry_id"] for m in screened[0]["matches"]] == [entry_id]
        assert screened[1] == {"event_id": None, "matches": [], "error": reason}
        r = await client.post("/v1/events", json=[dotted, unpadded], headers=border)
        assert r.status_code == 202, r.text
        assert r.json() == {
            "accepted": [{"index": 1, "event_id": unpadded["event_id"]}],
            "rejected": [{"index": 0, "reason": reason}],
        }
        async with state.sessionmaker() as s:
            alerts = list((await s.execute(select(Alert))).scalars())
        assert [(a.event_id, a.entry_id) for a in alerts] == [(unpadded["event_id"], entry_id)]
