"""Poison events (issue 9, defect 1) on the real services: events that pass the schema but break
a later step. Through the Kafka worker each one lands in the DLQ with its reason, the good event
after it in the same partition is alerted and the worker stays up; through POST /v1/events on
PostgreSQL each is rejected by index and the good events of the batch are accepted and recorded.
Then the defence behind the edge checks: what a later step still fails on is dead-lettered per
event, and an outage dead-letters nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.db.models import Alert
from failsafe.ingest import events as events_module
from failsafe.ingest import pipeline as pipeline_module
from failsafe.ingest.follower import WatchlistFollower
from failsafe.ingest.pipeline import Pipeline, RawRecord, Rejection
from failsafe.ingest.service import new_screener
from failsafe.ingest.worker import IngestWorker
from failsafe.kit.bus import MemoryAlertBus
from failsafe.settings import DatabaseSettings, Settings
from tests.fixtures.app import in_process
from tests.fixtures.factories import entry_doc, put_entry
from tests.fixtures.hostile import SEEN_POISON, apply, base_event, encode
from tests.fixtures.streams import Env, loaded
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.integration

NAME = ("KOVACS", "LASZLO", "1965-02-03")

# What each seen case is rejected for (a prefix of the reason).
EXPECTED_REASON = {
    "occurred_at year 9999 -14:00": "schema violation: occurred_at: timestamp_out_of_range",
    "occurred_at year 1 +14:00": "schema violation: occurred_at: timestamp_out_of_range",
    "300 levels in an unknown field": "nested too deeply: more than 32 levels at vendor",
    "NUL in an unknown field": "NUL character: vendor.note",
    "NUL in a known field": "NUL character: source",
    "NUL in a key": "NUL character: in a key at vendor.k?",
    "1e400": "not JSON: number is infinity",
    "10^400": "not JSON: number is infinity",
    "huge int": "number out of range: vendor",
    "lone surrogate": "not JSON: no low surrogate",
}


def hit() -> dict[str, Any]:
    return base_event(NAME[0], NAME[1], NAME[2])


def poison_hits() -> list[tuple[str, bytes]]:
    """Each seen case applied to an event that hits the watchlist (so it reaches recording)."""
    return [(name, encode(apply(hit(), where, value))) for name, where, value in SEEN_POISON]


async def test_poison_events_go_to_the_dlq_and_the_partition_goes_on(
    env: Env, worker: IngestWorker
) -> None:
    await put_entry(env.sessions, entry_doc(*NAME[:2], dob=NAME[2]))
    await loaded(worker)
    cases = poison_hits()
    goods = [hit() for _ in cases]
    for (_, poison), good in zip(cases, goods, strict=True):
        await env.send(poison, good)  # one key: the good event is behind the poison
    alerts = await env.wait_alerts(len(goods), timeout=60)
    assert sorted(a.event_id for a in alerts) == sorted(g["event_id"] for g in goods)
    dlq = await env.read_topic(env.settings.kafka.topics.events_dlq, len(cases))
    assert [m.value for m in dlq] == [raw for _, raw in cases]
    for (name, _), message in zip(cases, dlq, strict=True):
        reason = dict(message.headers)["failsafe.error"].decode()
        assert reason.startswith(EXPECTED_REASON[name]), (name, reason)
    assert worker.ready
    # Counted after the offsets are committed, a moment after the last alert was published.
    await eventually(lambda: worker.processed >= 2 * len(cases), what="every message processed")
    assert worker.processed == 2 * len(cases)


async def test_a_message_too_large_to_dead_letter_whole_is_truncated_not_stuck(
    env: Env, worker: IngestWorker
) -> None:
    await put_entry(env.sessions, entry_doc(*NAME[:2], dob=NAME[2]))
    await loaded(worker)
    # Just under the producers' 1 MiB request limit: the DLQ's headers push it over.
    event = hit()
    size = len(encode({**event, "pad": ""}))
    big = encode({**event, "pad": "x" * (1024 * 1024 - 100 - size)})
    good = hit()
    await env.send(big, good)
    (alert,) = await env.wait_alerts(1)
    assert alert.event_id == good["event_id"]
    (dead,) = await env.read_topic(env.settings.kafka.topics.events_dlq, 1)
    headers = dict(dead.headers)
    assert headers["failsafe.error"].decode().startswith("oversized")
    assert headers["failsafe.truncated"] == str(len(big)).encode()
    assert dead.value == big[: env.settings.kafka.max_event_bytes]


async def test_poison_events_through_the_api_are_rejected_one_by_one(fresh_pg_url: str) -> None:
    settings = Settings(database=DatabaseSettings(url=fresh_pg_url))  # no Kafka: in process
    async with in_process(settings) as api:
        client, state = api.client, api.state
        await api.ready()
        border = await api.headers("border", "DEU")
        entry = await put_entry(state.sessionmaker, entry_doc(*NAME[:2], dob=NAME[2]))
        await api.follows(entry["id"])
        # JSON values orjson cannot read make the whole body unreadable (400), so those cases
        # are sent alone; the others go in one batch between good events.
        readable = [(n, raw) for n, raw in poison_hits() if _orjson_reads(raw)]
        unreadable = [(n, raw) for n, raw in poison_hits() if not _orjson_reads(raw)]
        goods = [hit() for _ in range(len(readable) + 1)]
        body = [orjson.dumps(goods[0])]
        for (_, raw), good in zip(readable, goods[1:], strict=True):
            body += [raw, orjson.dumps(good)]
        resp = await client.post(
            "/v1/events",
            content=b"[" + b",".join(body) + b"]",
            headers={**border, "content-type": "application/json"},
        )
        assert resp.status_code == 202, resp.text
        answer = resp.json()
        assert [a["event_id"] for a in answer["accepted"]] == [g["event_id"] for g in goods]
        assert [a["index"] for a in answer["accepted"]] == list(range(0, len(body), 2))
        rejected = answer["rejected"]
        assert [r["index"] for r in rejected] == list(range(1, len(body), 2))
        for (name, _), r in zip(readable, rejected, strict=True):
            assert r["reason"].startswith(EXPECTED_REASON[name]), (name, r["reason"])
        for name, raw in unreadable:
            resp = await client.post(
                "/v1/events", content=raw, headers={**border, "content-type": "application/json"}
            )
            assert resp.status_code == 400, (name, resp.text)
            assert resp.json()["error"]["message"].startswith("body is not JSON"), name
        async with state.sessionmaker() as session:
            alerted = set((await session.scalars(select(Alert.event_id))).all())
        assert alerted == {g["event_id"] for g in goods}


def _orjson_reads(raw: bytes) -> bool:
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    return True


# --- behind the edge: what a later step still fails on -------------------------------------


class Dlq:
    def __init__(self) -> None:
        self.sent: list[Rejection] = []

    async def send(self, rejections: Sequence[Rejection]) -> None:
        self.sent.extend(rejections)


def _no_edge_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    # As if validation had missed NUL characters: the database refuses them when recording.
    monkeypatch.setattr(events_module, "check_values", lambda data: None)


async def test_a_hit_the_database_refuses_is_dead_lettered_alone(
    fresh_pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_edge_checks(monkeypatch)
    engine = create_engine(DatabaseSettings(url=fresh_pg_url))
    try:
        sessions = create_sessionmaker(engine)
        follower = WatchlistFollower(sessions, new_screener())
        dlq = Dlq()
        pipe = Pipeline(sessions, follower, MemoryAlertBus(), dlq)
        entry = await put_entry(sessions, entry_doc(*NAME[:2], dob=NAME[2]))
        await follower.load()
        goods = [hit(), hit()]
        in_text = apply(hit(), "source", "DEU\u0000BPOL")  # text column: SQLSTATE 22021
        in_json = apply(hit(), "vendor", {"note": "a\u0000b"})  # jsonb: SQLSTATE 22P05
        batch = [goods[0], in_text, in_json, goods[1]]
        out = await pipe.process([RawRecord(orjson.dumps(e)) for e in batch])
        assert out.accepted == [g["event_id"] for g in goods]
        assert [r.index for r in dlq.sent] == [1, 2]
        assert dlq.sent[0].reason == "storage error: DBAPIError (SQLSTATE 22021)"
        assert dlq.sent[1].reason.startswith("storage error: DBAPIError (SQLSTATE 22")
        assert sorted(a["event"]["event_id"] for a in out.alerts) == sorted(out.accepted)
        async with sessions() as session:
            stored = set((await session.scalars(select(Alert.event_id))).all())
        assert stored == set(out.accepted)
        assert all(a["entry"]["id"] == entry["id"] for a in out.alerts)
    finally:
        await engine.dispose()


async def test_an_outage_while_recording_dead_letters_nothing(
    fresh_pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(DatabaseSettings(url=fresh_pg_url))
    try:
        sessions = create_sessionmaker(engine)
        follower = WatchlistFollower(sessions, new_screener())
        dlq = Dlq()
        pipe = Pipeline(sessions, follower, MemoryAlertBus(), dlq)
        await put_entry(sessions, entry_doc(*NAME[:2], dob=NAME[2]))
        await follower.load()
        real = pipeline_module.record_hits
        calls = 0

        async def down_once(*args: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise OperationalError("INSERT", {}, ConnectionResetError("connection lost"))
            return await real(*args)

        monkeypatch.setattr(pipeline_module, "record_hits", down_once)
        records = [RawRecord(orjson.dumps(hit())) for _ in range(3)]
        with pytest.raises(OperationalError):  # the source retries the batch; no DLQ
            await pipe.process(records)
        assert dlq.sent == []
        assert calls == 1  # not retried event by event either
        out = await pipe.process(records)  # the retry, once the database is back
        assert len(out.accepted) == 3 and len(out.alerts) == 3 and dlq.sent == []
    finally:
        await engine.dispose()


async def test_the_worker_dead_letters_what_the_database_refuses_and_goes_on(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_edge_checks(monkeypatch)
    await put_entry(env.sessions, entry_doc(*NAME[:2], dob=NAME[2]))
    w = IngestWorker(env.settings, new_screener(), batch_size=100)
    task = asyncio.create_task(w.run())
    try:
        await loaded(w)
        bad = apply(hit(), "vendor", {"note": "a\u0000b"})
        goods = [hit(), hit()]
        await env.send(goods[0], bad, goods[1])
        alerts = await env.wait_alerts(2)
        assert sorted(a.event_id for a in alerts) == sorted(g["event_id"] for g in goods)
        (dead,) = await env.read_topic(env.settings.kafka.topics.events_dlq, 1)
        assert orjson.loads(dead.value)["event_id"] == bad["event_id"]
        assert dict(dead.headers)["failsafe.error"].startswith(b"storage error: DBAPIError")
        assert not task.done()
    finally:
        w.request_stop()
        await asyncio.wait_for(task, 30)


async def test_screen_reports_an_event_the_engine_fails_on_and_answers_the_others(
    fresh_pg_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database=DatabaseSettings(url=fresh_pg_url))
    async with in_process(settings) as api:
        client, state = api.client, api.state
        await api.ready()
        analyst = await api.headers("analyst", "FRA")
        entry = await put_entry(state.sessionmaker, entry_doc(*NAME[:2], dob=NAME[2]))
        pipe = api.screening.pipeline
        await eventually(lambda: entry["id"] in pipe.follower.entries, timeout=5)
        real = pipe.screen

        def broken_on_one(event: dict[str, Any], threshold: float | None = None) -> Any:
            if event["traveller"].get("surname") == "CRASH":
                raise KeyError("CRASH TRAVELLER")  # as a bug in the engine would
            return real(event, threshold)

        monkeypatch.setattr(pipe, "screen", broken_on_one)
        crash = base_event("CRASH", "TEST")
        resp = await client.post("/v1/screen", json=[crash, hit()], headers=analyst)
        assert resp.status_code == 200, resp.text
        first, second = resp.json()
        assert first == {"event_id": crash["event_id"], "matches": [],
                         "error": "processing error: KeyError"}
        assert second["matches"][0]["entry_id"] == entry["id"]
        assert "CRASH TRAVELLER" not in caplog.text
