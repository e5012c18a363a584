"""failsafe's Kafka topics: created deliberately by an operator (`failsafe kafka create-topics`),
only checked by the processes that use them.

Invariants:
- No failsafe process creates a topic as a side effect: partitions and replication are the
  cluster operator's decision (a worker that auto-created 4 partitions with replication factor 1
  on a production cluster was issue 13's complaint). `failsafe ingest` checks its topics at start
  and stops with `MissingTopics`, which names them and the command to run.
- `create_topics` returns once the topics it created are listed in the cluster's metadata, so a
  worker started right after finds them.
- `create_topics` is idempotent: a topic that exists is reported as found and left as it is (its
  partition count is not changed: that would move keys between partitions), even when another
  process creates it at the same moment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from failsafe.kit.kafka import ClientOptions
from failsafe.settings import KafkaSettings

log = logging.getLogger(__name__)

CREATE_COMMAND = "failsafe kafka create-topics --partitions N --replication-factor R"


def topic_names(kafka: KafkaSettings) -> list[str]:
    """Every topic failsafe uses, as configured (events in, dead letters, alerts out, radiation
    alarms in and their dead letters)."""
    topics = kafka.topics
    return [topics.events, topics.events_dlq, topics.alerts, topics.alarms, topics.alarms_dlq]


def ingest_topics(kafka: KafkaSettings) -> list[str]:
    """The topics `failsafe ingest` reads and writes (the alarm worker checks its own)."""
    topics = kafka.topics
    return [topics.events, topics.events_dlq, topics.alerts]


class MissingTopics(Exception):
    """Topics a process needs do not exist; the message says how to create them."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = list(missing)
        names = ", ".join(self.missing)
        super().__init__(
            f"Kafka topic(s) missing: {names}. failsafe does not create topics by itself; "
            f"create them once with `{CREATE_COMMAND}` (the same FAILSAFE_KAFKA__* settings), "
            "or with your cluster's own tooling"
        )


@dataclass
class TopicReport:
    """What `create_topics` did: the topics it created and those it found already there."""

    created: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)


async def _existing(admin: AIOKafkaAdminClient) -> set[str]:
    return set(await admin.list_topics())


async def _until_listed(admin: AIOKafkaAdminClient, topics: Sequence[str]) -> None:
    """Wait until the brokers' metadata lists `topics`: the controller acknowledges a creation
    before every broker knows it, and a worker started right after must find its topics.
    (The caller bounds the wait; Kafka offers no event for it, so this polls.)"""
    while missing := [t for t in topics if t not in await _existing(admin)]:
        log.debug("waiting for %d new topic(s) to appear in the metadata", len(missing))
        await asyncio.sleep(0.05)


async def missing_topics(client: ClientOptions, topics: Sequence[str]) -> list[str]:
    """The topics of `topics` the cluster does not have (Kafka errors propagate: retryable)."""
    admin = AIOKafkaAdminClient(**client)
    await admin.start()
    try:
        existing = await _existing(admin)
    finally:
        await admin.close()
    return [t for t in topics if t not in existing]


async def require_topics(client: ClientOptions, topics: Sequence[str]) -> None:
    """Raise MissingTopics unless every topic of `topics` exists."""
    missing = await missing_topics(client, topics)
    if missing:
        raise MissingTopics(missing)


async def create_topics(
    client: ClientOptions, topics: Sequence[str], partitions: int, replication_factor: int
) -> TopicReport:
    """Create the topics of `topics` that do not exist; report what was created and found."""
    report = TopicReport()
    admin = AIOKafkaAdminClient(**client)
    await admin.start()
    try:
        existing = await _existing(admin)
        report.found = [t for t in topics if t in existing]
        for topic in (t for t in topics if t not in existing):
            # One request per topic: the answer says per topic whether it was created, and a
            # topic created meanwhile by someone else is simply found.
            response = await admin.create_topics(
                [NewTopic(topic, num_partitions=partitions, replication_factor=replication_factor)]
            )
            for name, code, *rest in response.topic_errors:
                if code == 0:
                    report.created.append(name)
                elif code == TopicAlreadyExistsError.errno:
                    report.found.append(name)
                else:
                    message = rest[0] if rest and rest[0] else f"error code {code}"
                    raise TopicCreationError(name, message)
        if report.created:
            await _until_listed(admin, report.created)
    finally:
        await admin.close()
    return report


class TopicCreationError(Exception):
    """The cluster refused to create a topic (too few brokers for the replication factor, no
    permission, an invalid partition count); the message is the broker's."""

    def __init__(self, topic: str, message: str) -> None:
        self.topic = topic
        super().__init__(f"could not create topic {topic}: {message}")
