"""The Kafka side on the real broker and PostgreSQL: `failsafe ingest` records lane crossings
and `failsafe ingest-alarms` consumes failsafe.alarms.v1 (JSON and N42 XML), dead-letters what
it cannot read (with the reason in headers), links and publishes the radiation alert once, also
when the alarm is delivered twice."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from failsafe.alarms.service import lane_observer
from failsafe.alarms.worker import AlarmWorker
from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.db.models import Alarm, AlarmLink, Alert
from failsafe.ingest.service import new_screener
from failsafe.ingest.worker import IngestWorker
from tests import alarm_docs as docs
from tests.fixtures.streams import alarm_stream_settings, read_topic

pytestmark = pytest.mark.integration


async def test_kafka_workers_link_alarms_and_dead_letter_bad_ones(
    fresh_pg_url: str, kafka_bootstrap: str, unique_topic: Callable[[str], str]
) -> None:
    settings = await alarm_stream_settings(fresh_pg_url, kafka_bootstrap, unique_topic)
    topics = settings.kafka.topics
    engine = create_engine(settings.database)
    sessions = create_sessionmaker(engine)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    ingest = IngestWorker(
        settings, new_screener(), batch_size=100, lanes=lane_observer(settings.alarms)
    )
    alarms = AlarmWorker(settings, batch_size=10)
    tasks = [asyncio.create_task(ingest.run()), asyncio.create_task(alarms.run())]
    try:
        point = "DEU-KAFKA-1"
        c = docs.crossing(point=point, lane="3", at=docs.T0 + timedelta(seconds=4))
        await producer.send_and_wait(topics.events, orjson.dumps(c), key=b"k")
        good_xml = docs.portal_snm("kafka-n42-1", point=point, lane="3")
        json_alarm = docs.alarm_json(point=point, lane="9", start=docs.T0 + timedelta(hours=1))
        for value in (docs.BILLION_LAUGHS, good_xml, orjson.dumps(json_alarm), b"{", good_xml):
            await producer.send_and_wait(topics.alarms, value, key=b"a")

        dead = await read_topic(kafka_bootstrap, topics.alarms_dlq, 2)
        reasons = [dict(r.headers)["failsafe.error"].decode() for r in dead]
        assert "forbidden XML construct" in reasons[0] and reasons[1].startswith("not JSON")
        assert dead[0].value == docs.BILLION_LAUGHS  # the original bytes

        async with asyncio.timeout(30):
            while True:
                async with sessions() as s:
                    rows = list(await s.scalars(select(Alarm).order_by(Alarm.id)))
                    links = list(await s.scalars(select(AlarmLink)))
                if len(rows) == 2 and links and alarms.processed >= 5:
                    break
                await asyncio.sleep(0.1)
        # Two rows, one per alarm (the redelivered XML made none). Not in a fixed id order: the
        # alarms of one batch are recorded concurrently (AlarmIntake.process), whichever first
        # takes the point's lock gets the lower id.
        assert len(rows) == 2
        assert {r.alarm_id for r in rows} == {"kafka-n42-1", json_alarm["alarm_id"]}
        assert [(x.event_id, x.relation) for x in links] == [(c["event_id"], "same_lane")]
        # The redelivered document publishes its existing alert again (at-least-once; the hub
        # drops the duplicate by id), and so does a link made after the alert (an update): at
        # least three messages, two alert ids.
        published = [
            orjson.loads(r.value) for r in await read_topic(kafka_bootstrap, topics.alerts, 3)
        ]
        assert {a["kind"] for a in published} == {"radiation_alarm"}
        assert {a["id"] for a in published} == {1, 2}
        async with sessions() as s:
            stored = list(await s.scalars(select(Alert).where(Alert.kind == "radiation_alarm")))
        assert len(stored) == 2  # the redelivered document made no second alert
        first = next(a for a in stored if a.event_id == "alarm:kafka-n42-1").payload
        assert first["severity"] == "critical"
        assert [x["event_id"] for x in first["crossings"]] == [c["event_id"]]
    finally:
        ingest.request_stop()
        alarms.request_stop()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(30):
                await asyncio.gather(*tasks)
        await producer.stop()
        await engine.dispose()
