"""Topics are created deliberately (`failsafe kafka create-topics`, idempotent, reporting what it
created and found) and only checked by the worker, which stops with an error naming a missing
topic and the command to run. Real broker (scripts/kafka.sh), unique topic names."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from failsafe.ingest.service import new_screener
from failsafe.ingest.worker import IngestWorker
from failsafe.kit.topics import MissingTopics, TopicCreationError, create_topics
from failsafe.settings import DatabaseSettings, KafkaSettings, Settings, TopicSettings

pytestmark = pytest.mark.integration
FAILSAFE = str(Path(sys.executable).parent / "failsafe")


def _topics(unique_topic: Callable[[str], str]) -> TopicSettings:
    return TopicSettings(
        events=unique_topic("events"),
        events_dlq=unique_topic("dlq"),
        alerts=unique_topic("alerts"),
        alarms=unique_topic("alarms"),
        alarms_dlq=unique_topic("alarms-dlq"),
    )


async def _partitions(bootstrap: str, topics: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}


async def test_create_topics_is_idempotent_and_reports_what_it_did(
    kafka_bootstrap: str, unique_topic: Callable[[str], str]
) -> None:
    topics = _topics(unique_topic)
    # The DLQ exists already (made by someone else, with its own partition count).
    await create_topics({"bootstrap_servers": kafka_bootstrap}, [topics.events_dlq], 2, 1)
    env = {
        **os.environ,
        "FAILSAFE_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap,
        "FAILSAFE_KAFKA__TOPICS__EVENTS": topics.events,
        "FAILSAFE_KAFKA__TOPICS__EVENTS_DLQ": topics.events_dlq,
        "FAILSAFE_KAFKA__TOPICS__ALERTS": topics.alerts,
        "FAILSAFE_KAFKA__TOPICS__ALARMS": topics.alarms,
        "FAILSAFE_KAFKA__TOPICS__ALARMS_DLQ": topics.alarms_dlq,
    }
    command = [FAILSAFE, "kafka", "create-topics", "--partitions", "3", "--replication-factor", "1"]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=60, check=False
        )

    first = await asyncio.to_thread(run)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"{topics.events}: created (3 partitions)",
        f"{topics.events_dlq}: found (left as it is)",
        f"{topics.alerts}: created (1 partition)",
        f"{topics.alarms}: created (3 partitions)",
        f"{topics.alarms_dlq}: created (3 partitions)",
    ]
    second = await asyncio.to_thread(run)
    assert second.returncode == 0, second.stderr
    everything = (topics.events, topics.events_dlq, topics.alerts, topics.alarms, topics.alarms_dlq)
    assert second.stdout.splitlines() == [f"{t}: found (left as it is)" for t in everything]
    names = [topics.events, topics.events_dlq, topics.alerts]
    assert await _partitions(kafka_bootstrap, names) == {
        topics.events: 3, topics.events_dlq: 2, topics.alerts: 1
    }

    # A replication factor the cluster cannot give is the broker's refusal, naming the topic
    # (the command prints it and exits 1).
    other = unique_topic("events")
    with pytest.raises(TopicCreationError) as info:
        await create_topics({"bootstrap_servers": kafka_bootstrap}, [other], 1, 3)
    assert str(info.value).startswith(f"could not create topic {other}: ")
    assert "replication factor" in str(info.value)


async def test_the_worker_only_checks_and_names_the_missing_topic(
    kafka_bootstrap: str, unique_topic: Callable[[str], str], fresh_pg_url: str
) -> None:
    topics = _topics(unique_topic)
    kafka = KafkaSettings(
        bootstrap_servers=kafka_bootstrap, topics=topics, consumer_group=unique_topic("group")
    )
    # Two of three exist: the worker must name the third, create nothing, and stop.
    await create_topics(
        {"bootstrap_servers": kafka_bootstrap}, [topics.events, topics.events_dlq], 1, 1
    )
    settings = Settings(database=DatabaseSettings(url=fresh_pg_url), kafka=kafka)
    worker = IngestWorker(settings, new_screener())
    with pytest.raises(MissingTopics) as info:
        await asyncio.wait_for(worker.run(), 30)
    assert info.value.missing == [topics.alerts]
    assert topics.alerts in str(info.value)
    assert "failsafe kafka create-topics --partitions N --replication-factor R" in str(info.value)
    assert await _partitions(kafka_bootstrap, [topics.alerts]) == {}
