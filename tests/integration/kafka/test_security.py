"""Kafka with TLS and SASL: `serve` and `ingest` work end to end (event in through
POST /v1/events, alert out on a bureau's websocket) through a TLS listener and through a
SASL_SSL SCRAM-SHA-512 listener of a real broker (tests/integration/kafka/secure_broker.py: its
own certificates and SCRAM user, no topic auto-creation: topics are made by the same code as
`failsafe kafka create-topics`, over the secure listener). A wrong password is a clear log line
without the password, `/readyz` 503 and an ingest worker that is not ready. One broker for the
module (about 20-40 s of its time is the broker's start)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.ingest.service import new_screener
from failsafe.ingest.worker import IngestWorker
from failsafe.kit.kafka import client_options
from failsafe.kit.topics import create_topics, topic_names
from failsafe.settings import DatabaseSettings, KafkaSettings, Settings, TopicSettings
from tests.conftest import personal_data
from tests.fixtures.app import make_token, running_app
from tests.fixtures.factories import event, make_entry
from tests.fixtures.sockets import open_stream, recv_json
from tests.integration.kafka.secure_broker import SecureBroker, secure_broker

pytestmark = pytest.mark.integration

PASSWORD = f"scram-{secrets.token_hex(12)}"
WRONG = f"wrong-{secrets.token_hex(12)}"
personal_data(PASSWORD, WRONG)  # the suite's log scan fails the run if either is ever logged


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    with secure_broker(tmp_path_factory.mktemp("secure-kafka"), PASSWORD) as running:
        yield running


def _kafka(
    broker: SecureBroker, protocol: str, unique_topic: Callable[[str], str], password: str
) -> KafkaSettings:
    common: dict[str, Any] = {
        "consumer_group": unique_topic("group"),
        "topics": TopicSettings(
            events=unique_topic("events"),
            events_dlq=unique_topic("dlq"),
            alerts=unique_topic("alerts"),
        ),
        "ssl_cafile": broker.ca_file,
        "security_protocol": protocol,
    }
    if protocol == "SSL":
        return KafkaSettings(bootstrap_servers=broker.ssl, **common)
    return KafkaSettings(
        bootstrap_servers=broker.sasl_ssl,
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username=broker.user,
        sasl_password=SecretStr(password),
        **common,
    )


async def _until(check: Callable[[], Any], timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.1)  # polling readiness endpoints and flags


@pytest.mark.parametrize("protocol", ["SSL", "SASL_SSL"])
async def test_serve_and_ingest_work_through_a_secure_listener(
    broker: SecureBroker, protocol: str, fresh_pg_url: str, unique_topic: Callable[[str], str]
) -> None:
    kafka = _kafka(broker, protocol, unique_topic, PASSWORD)
    # The admin client over the secure listener (the broker creates no topic by itself).
    await create_topics(client_options(kafka), topic_names(kafka), 2, 1)
    settings = Settings(
        database=DatabaseSettings(url=fresh_pg_url, auto_migrate=False, pool_size=5), kafka=kafka
    )
    engine = create_engine(settings.database)
    sessions = create_sessionmaker(engine)
    entry = await make_entry(sessions, owner="FRA", surname="KOWALCZYK", given_names="ADAM")
    border = await make_token(sessions, "border", "DEU")
    desk = await make_token(sessions, "bureau", "DEU")
    worker = IngestWorker(settings, new_screener(), batch_size=50)
    work = asyncio.create_task(worker.run())
    try:
        async with running_app(settings) as app, httpx2.AsyncClient(
            base_url=app.http, timeout=10
        ) as http:

            async def ready() -> bool:
                r = await http.get("/readyz")
                return r.status_code == 200 and worker.ready

            await _until(ready)
            assert (await http.get("/readyz")).json()["checks"]["kafka"] == "ok"
            ws = await open_stream(app.ws_url(), desk, since=None)
            assert (await recv_json(ws))["type"] == "subscribed"
            sent = event("KOWALCZYK", "ADAM", dob="1970-03-14", country="DEU")
            r = await http.post(
                "/v1/events", json=sent, headers={"Authorization": f"Bearer {border}"}
            )
            assert r.status_code in (200, 202), r.text
            msg = await recv_json(ws, 30)
            assert msg["type"] == "alert"
            assert msg["alert"]["event"]["event_id"] == sent["event_id"]
            assert msg["alert"]["entry"]["id"] == entry["id"]
            await ws.close()
    finally:
        worker.request_stop()
        await asyncio.wait_for(work, 30)
        await engine.dispose()


async def test_a_wrong_password_is_a_clear_error_and_not_ready(
    broker: SecureBroker,
    fresh_pg_url: str,
    unique_topic: Callable[[str], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    kafka = _kafka(broker, "SASL_SSL", unique_topic, WRONG)
    settings = Settings(
        database=DatabaseSettings(url=fresh_pg_url, auto_migrate=False, pool_size=5), kafka=kafka
    )
    reason = "SaslAuthenticationFailed"

    def ours() -> list[str]:
        # failsafe's own lines (aiokafka logs the failure too; we must not depend on it).
        return [
            r.getMessage() for r in caplog.records if r.name.startswith("failsafe")
        ]

    async def said_why() -> bool:
        return any(reason in line for line in ours())

    worker = IngestWorker(settings, new_screener(), batch_size=50)
    work = asyncio.create_task(worker.run())
    try:
        await _until(said_why)
        assert not worker.ready
        caplog.clear()
        async with running_app(settings) as app, httpx2.AsyncClient(
            base_url=app.http, timeout=10
        ) as http:
            r = await http.get("/readyz")
            assert r.status_code == 503
            assert r.json()["checks"]["kafka"] == "unavailable"
            await _until(said_why)  # serve's producer says why too
    finally:
        worker.request_stop()
        await asyncio.wait_for(work, 30)
    lines = [line for line in ours() if reason in line]
    assert any("SCRAM-SHA-512" in line and broker.sasl_ssl in line for line in lines), lines
    everything = "\n".join(caplog.text.splitlines() + [r.getMessage() for r in caplog.records])
    assert WRONG not in everything and PASSWORD not in everything
