"""Small Kafka helpers shared by the ingest worker, the alert hub and the health checks."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaClient


async def kafka_ready(bootstrap_servers: str, wait_s: float = 3.0) -> bool:
    """True when the cluster answers a metadata request within `wait_s` seconds."""
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=int(wait_s * 1000)
    )
    try:
        async with asyncio.timeout(wait_s):
            await client.bootstrap()
            await client.fetch_all_metadata()
        return True
    except (TimeoutError, OSError, Exception):  # noqa: BLE001  (any failure means "not ready")
        return False
    finally:
        await client.close()
