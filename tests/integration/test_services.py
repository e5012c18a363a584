"""Smoke tests proving the real services: an ORM round trip on PostgreSQL, a message through Kafka,
migrations on SQLite, and the commit-ordered counters under concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from failsafe.db import counters, migrate
from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.db.models import Bureau, Counter, Principal
from failsafe.settings import DatabaseSettings

pytestmark = pytest.mark.integration


async def test_orm_round_trip_on_postgresql(db_session: AsyncSession) -> None:
    db_session.add(Bureau(code="UTO", name="Utopia NCB"))
    db_session.add(
        Principal(
            id="p1",
            name="utopia desk",
            role="bureau",
            bureau_code="UTO",
            token_hash="0" * 64,
            token_prefix="fs_abc",
        )
    )
    await db_session.commit()
    row = (await db_session.execute(select(Principal).where(Principal.id == "p1"))).scalar_one()
    assert (row.bureau_code, row.role) == ("UTO", "bureau")
    assert row.created_at.tzinfo is not None
    assert db_session.bind.dialect.name == "postgresql"


async def test_migrations_seed_the_counters(db_session: AsyncSession) -> None:
    names = set((await db_session.execute(select(Counter.name))).scalars())
    assert names == set(counters.COUNTERS)


async def test_counters_are_gap_free_under_concurrent_writers(pg_engine: AsyncEngine) -> None:
    sessions = create_sessionmaker(pg_engine)
    async with sessions() as s:
        start = await counters.current_value(s, counters.ALERT_ID)

    async def take() -> int:
        async with sessions() as s:
            value = await counters.next_value(s, counters.ALERT_ID)
            await asyncio.sleep(0.01)  # hold the row lock a little, as a real writer would
            await s.commit()
            return value

    values = await asyncio.gather(*(take() for _ in range(20)))
    assert sorted(values) == list(range(start + 1, start + 21))


async def test_message_round_trip_on_real_kafka(
    kafka_bootstrap: str, unique_topic: Callable[[str], str]
) -> None:
    topic = unique_topic("failsafe.test")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(10):
            await producer.send_and_wait(topic, f"m{i}".encode(), key=str(i % 2).encode())
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=unique_topic("g"),
    )
    await consumer.start()
    got: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(got) < 10:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    got.extend(r.value for r in records if r.value is not None)
    finally:
        await consumer.stop()
    assert sorted(got) == sorted(f"m{i}".encode() for i in range(10))


async def test_migrations_run_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    await asyncio.to_thread(migrate.check, url)
    engine = create_engine(DatabaseSettings(url=url))
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"watchlist_entry", "alert", "principal", "audit_log", "counter"} <= tables
    finally:
        await engine.dispose()
