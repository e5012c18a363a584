"""`failsafe simulate` into the real Kafka, consumed by the real workers on PostgreSQL: the
stream's watchlist subjects hit, its alarms link to the vehicles in their lanes, and every
injected SNM alarm has exactly one critical alert."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from failsafe.alarms.service import lane_observer
from failsafe.alarms.simulate import Sink, Stream, run
from failsafe.alarms.worker import AlarmWorker
from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.db.models import Alarm, AlarmLink, Alert
from failsafe.ingest.service import new_screener
from failsafe.ingest.worker import IngestWorker
from tests.fixtures.factories import entry_doc, put_entry
from tests.fixtures.streams import alarm_stream_settings

pytestmark = pytest.mark.integration


async def test_simulated_stream_through_the_workers(
    fresh_pg_url: str, kafka_bootstrap: str, unique_topic: Callable[[str], str]
) -> None:
    settings = await alarm_stream_settings(fresh_pg_url, kafka_bootstrap, unique_topic)
    topics = settings.kafka.topics
    engine = create_engine(settings.database)
    sessions = create_sessionmaker(engine)
    entry = await put_entry(
        sessions,
        entry_doc(
            "ZAKHAROV",
            "DMITRI",
            dob="1971-05-02",
            documents=[{"type": "P", "number": "720011223", "issuing_state": "RUS"}],
        ),
    )
    stream = Stream(
        points=["DEU-SIM-00"],
        seed=7,
        alarms_per_lane_day=2000,  # many alarms in a short test
        snm_every=5,
        hit_share=0.05,
        subjects=[entry],
    )
    ingest = IngestWorker(
        settings, new_screener(), batch_size=200, lanes=lane_observer(settings.alarms)
    )
    alarms = AlarmWorker(settings, batch_size=20)
    tasks = [asyncio.create_task(ingest.run()), asyncio.create_task(alarms.run())]
    try:
        sink = Sink(
            "kafka",
            bootstrap=kafka_bootstrap,
            events_topic=topics.events,
            alarms_topic=topics.alarms,
        )
        sent = await run(stream, sink, seconds=2.0, accelerate=600.0, rate=None)
        assert sent["alarms"] >= 10 and sent["events"] > 50
        async with asyncio.timeout(60):
            while True:
                async with sessions() as s:
                    n_alarms = await s.scalar(select(func.count()).select_from(Alarm))
                if n_alarms == sent["alarms"] and ingest.processed >= sent["events"]:
                    break
                await asyncio.sleep(0.2)
        async with sessions() as s:
            hits = await s.scalar(
                select(func.count()).select_from(Alert).where(Alert.kind == "watchlist_hit")
            )
            links = await s.scalar(select(func.count()).select_from(AlarmLink))
            rows = (
                await s.execute(
                    select(Alarm.document, Alert.severity).join(Alert, Alert.id == Alarm.alert_id)
                )
            ).all()
            snm = [sev for doc, sev in rows if any(n["category"] == "snm" for n in doc["nuclides"])]
            radiation = await s.scalar(
                select(func.count()).select_from(Alert).where(Alert.kind == "radiation_alarm")
            )
        assert hits and hits > 0
        assert links and links >= sent["alarms"]  # each alarm sits on a vehicle of its lane
        assert len(snm) == sent["alarms"] // 5 and set(snm) == {"critical"}
        assert radiation == sent["alarms"]  # exactly one alert per alarm
    finally:
        ingest.request_stop()
        alarms.request_stop()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(30):
                await asyncio.gather(*tasks)
        await engine.dispose()
