"""`failsafe kafka ...`: the operator's Kafka commands (topic creation; see failsafe.kit.topics).

`create-topics` is the deliberate, idempotent step a deployment runs once (a compose one-shot, a
Kubernetes Job) before `failsafe ingest` starts; the worker itself only checks that the topics
exist. It uses the same FAILSAFE_KAFKA__* settings (bootstrap servers, TLS, SASL) as every
other client.
"""

from __future__ import annotations

import asyncio

import typer

from failsafe.logging import configure_logging
from failsafe.settings import get_settings

kafka_app = typer.Typer(no_args_is_help=True, help="Kafka topics.")


@kafka_app.command("create-topics")
def create_topics_command(
    partitions: int = typer.Option(
        ..., min=1, help="Partitions of the events topic (the most ingest workers that share it)."
    ),
    replication_factor: int = typer.Option(
        ..., "--replication-factor", min=1, help="Copies of every partition (3 in production)."
    ),
    timeout: float = typer.Option(30.0, min=1, help="Seconds to wait for the cluster."),
) -> None:
    """Create failsafe's topics that do not exist yet (events, dead letters, alerts); report
    each as created or found. Idempotent: existing topics are left as they are. The alerts
    topic gets one partition whatever --partitions says (alerts keep one order; see
    failsafe.kit.bus)."""
    from aiokafka.errors import KafkaError

    from failsafe.kit.kafka import client_options, describe_failure
    from failsafe.kit.topics import TopicCreationError, create_topics, topic_names

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    kafka = settings.kafka
    if not kafka.bootstrap_servers:
        raise typer.BadParameter("set FAILSAFE_KAFKA__BOOTSTRAP_SERVERS", param_hint="settings")
    client = client_options(kafka)
    plan = [
        ([kafka.topics.events, kafka.topics.events_dlq], partitions),
        ([kafka.topics.alerts], 1),
        ([kafka.topics.alarms, kafka.topics.alarms_dlq], partitions),
    ]

    async def run() -> dict[str, str]:
        outcome: dict[str, str] = {}
        async with asyncio.timeout(timeout):
            for topics, count in plan:
                report = await create_topics(client, topics, count, replication_factor)
                plural = "s" if count > 1 else ""
                outcome |= {t: f"created ({count} partition{plural})" for t in report.created}
                outcome |= {t: "found (left as it is)" for t in report.found}
        return outcome

    try:
        outcome = asyncio.run(run())
    except TopicCreationError as exc:
        typer.echo(f"failsafe: {exc}", err=True)
        raise typer.Exit(1) from None
    except (KafkaError, OSError, TimeoutError) as exc:
        typer.echo(
            f"failsafe: Kafka at {kafka.bootstrap_servers} did not answer: "
            f"{describe_failure(exc) if not isinstance(exc, TimeoutError) else 'timeout'}",
            err=True,
        )
        raise typer.Exit(1) from None
    for topic in topic_names(kafka):
        typer.echo(f"{topic}: {outcome[topic]}")
