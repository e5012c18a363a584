"""Shared pieces of the stream tests: settings on unique topics, creating them (the worker only
checks that they exist), and reading a topic back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer

from failsafe.kit.kafka import client_options
from failsafe.kit.topics import create_topics, topic_names
from failsafe.settings import DatabaseSettings, KafkaSettings, Settings, TopicSettings


def stream_settings(
    pg_url: str, bootstrap: str, unique_topic: Callable[[str], str], **kafka: Any
) -> Settings:
    """Settings for a worker on `pg_url` whose group and topics no other test uses."""
    return Settings(
        database=DatabaseSettings(url=pg_url),
        kafka=KafkaSettings(
            bootstrap_servers=bootstrap,
            consumer_group=unique_topic("group"),
            topics=TopicSettings(
                events=unique_topic("events"),
                events_dlq=unique_topic("dlq"),
                alerts=unique_topic("alerts"),
            ),
            **kafka,
        ),
    )


async def create_stream_topics(kafka: KafkaSettings, partitions: int = 4) -> None:
    """The settings' topics, as `failsafe kafka create-topics` makes them."""
    await create_topics(client_options(kafka), topic_names(kafka), partitions, 1)


async def read_topic(bootstrap: str, topic: str, n: int, timeout: float = 30) -> list[Any]:
    """The first `n` records of `topic`, from the beginning (fails after `timeout` seconds)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    out: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while len(out) < n:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    out.extend(records)
    finally:
        await consumer.stop()
    return out
