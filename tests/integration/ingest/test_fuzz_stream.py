"""Poison and fuzz on the real stream (issue 9's standing suite): a few thousand generated messages,
events of the contract's shape with hostile values and plain garbage, with good hits planted
among them, through the real worker on the real Kafka and PostgreSQL.

Every message is accounted for: consumed = accepted + dead-lettered, the dead-lettered ones are
exactly those the event validation refuses (nothing valid fails later), every planted hit and
every valid event of the hit's traveller is alerted, the worker is alive and ready, and the
consumer group's lag is 0. The messages are drawn once, derandomized (the same on every run),
and sent in one go, so the test is bounded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from hypothesis import strategies as st
from sqlalchemy import select

from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.db.models import Alert
from failsafe.errors import InvalidEvent
from failsafe.ingest.events import parse_event
from failsafe.ingest.screener import new_screener
from failsafe.ingest.worker import IngestWorker
from failsafe.settings import Settings
from tests.fixtures.factories import entry_doc, put_entry
from tests.fixtures.hostile import base_event, draw_many, garbage, hostile_event
from tests.fixtures.streams import create_stream_topics, stream_settings, worker_ready
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.integration

FUZZED = 3000  # generated messages: ~5/6 hostile events, ~1/6 garbage
PLANTED = 100  # good hits among them
HIT = base_event("KOVACS", "LASZLO", "1965-02-03")


@pytest.fixture
def settings(
    fresh_pg_url: str, kafka_bootstrap: str, unique_topic: Callable[[str], str]
) -> Settings:
    return stream_settings(fresh_pg_url, kafka_bootstrap, unique_topic)


def _verdict(raw: bytes) -> dict[str, Any] | None:
    """The event as validation gives it, or None when validation refuses the message."""
    try:
        return parse_event(raw).to_json_dict()
    except InvalidEvent:
        return None


async def _end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    assert partitions, topic
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def _read_all(bootstrap: str, topic: str) -> list[Any]:
    """Every record of `topic`, up to its end offsets."""
    ends = await _end_offsets(bootstrap, topic)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    out: list[Any] = []
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        async with asyncio.timeout(30):
            while len(out) < sum(ends.values()):  # one record per offset (no transactions)
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    out.extend(records)
    finally:
        await consumer.stop()
    return out


async def test_fuzzed_messages_are_each_alerted_or_dead_lettered(settings: Settings) -> None:
    started = time.perf_counter()
    fuzzed = draw_many(st.one_of(hostile_event(HIT), hostile_event(HIT), garbage), FUZZED)
    assert len(fuzzed) == FUZZED
    planted = [
        orjson.dumps({**HIT, "event_id": f"planted-{k}"}) for k in range(PLANTED)
    ]
    messages = list(fuzzed)
    for k, raw in enumerate(planted):  # spread evenly through the stream
        messages.insert((k + 1) * len(messages) // (PLANTED + 1), raw)
    drawn = time.perf_counter() - started

    kafka = settings.kafka
    bootstrap = str(kafka.bootstrap_servers)
    engine = create_engine(settings.database)
    sessions = create_sessionmaker(engine)
    await put_entry(sessions, entry_doc("KOVACS", "LASZLO", dob="1965-02-03", owner="HUN"))
    await create_stream_topics(settings.kafka)
    worker = IngestWorker(settings, new_screener(), batch_size=200)
    task = asyncio.create_task(worker.run())
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    await producer.start()
    try:
        await eventually(
            lambda: worker_ready(worker, task) and len(worker.screener) == 1, timeout=30
        )
        futures = [await producer.send(kafka.topics.events, raw) for raw in messages]
        metadata = await asyncio.gather(*futures)
        sent = {(m.partition, m.offset): raw for m, raw in zip(metadata, messages, strict=True)}

        def all_processed() -> bool:
            assert not task.done(), "the worker stopped"
            return worker.processed >= len(messages)

        await eventually(all_processed, timeout=120, interval=0.1)
        assert worker.processed == len(messages)
        assert not task.done() and worker.ready  # alive and ready after all of it

        # Lag 0: the group has committed every offset of the topic.
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            committed = await admin.list_consumer_group_offsets(kafka.consumer_group)
        finally:
            await admin.close()
        ends = await _end_offsets(bootstrap, kafka.topics.events)
        lag = {tp: end - committed[tp].offset for tp, end in ends.items() if end}
        assert set(lag.values()) == {0}, lag

        dead = await _read_all(bootstrap, kafka.topics.events_dlq)
        async with sessions() as session:
            alerted = set((await session.scalars(select(Alert.event_id))).all())
    finally:
        await producer.stop()
        worker.request_stop()
        await asyncio.wait_for(task, 30)
        await engine.dispose()

    # Each message is accounted for once: dead-lettered or accepted.
    dead_at: dict[tuple[int, int], Any] = {}
    for record in dead:
        headers = dict(record.headers)
        source = (int(headers["failsafe.source.partition"]), int(headers["failsafe.source.offset"]))
        assert source in sent and source not in dead_at, source
        assert record.value == sent[source]  # the original bytes
        assert headers["failsafe.error"].decode()
        dead_at[source] = record
    accepted = {at: raw for at, raw in sent.items() if at not in dead_at}
    assert len(accepted) + len(dead_at) == len(messages)

    # Dead-lettered exactly when validation refuses: nothing valid failed in a later step.
    verdicts = {at: _verdict(raw) for at, raw in sent.items()}
    refused = {at for at, event in verdicts.items() if event is None}
    failed_later = {
        dict(dead_at[at].headers)["failsafe.error"].decode() for at in set(dead_at) - refused
    }
    assert failed_later == set(), failed_later
    assert set(dead_at) == refused

    # Every planted hit, and every accepted event of the hit's traveller, is alerted; nothing
    # that was dead-lettered is.
    hit_traveller = {k: v for k, v in HIT["traveller"].items() if v is not None}
    expected = {
        event["event_id"]
        for at, event in verdicts.items()
        if event is not None and at in accepted and event.get("traveller") == hit_traveller
    }
    assert {f"planted-{k}" for k in range(PLANTED)} <= expected
    assert expected <= alerted, sorted(expected - alerted)[:5]
    ids_accepted = {e["event_id"] for at, e in verdicts.items() if e and at in accepted}
    ids_dead = {e["event_id"] for at, e in verdicts.items() if e and at in dead_at}
    assert not alerted & (ids_dead - ids_accepted)

    elapsed = time.perf_counter() - started
    print(
        f"\nfuzz: {len(fuzzed)} generated + {PLANTED} planted = {len(messages)} consumed; "
        f"{len(accepted)} accepted, {len(dead_at)} dead-lettered; {len(alerted)} alerted "
        f"({len(expected)} expected hits); drawn in {drawn:.1f} s, {elapsed:.1f} s in all"
    )
