"""The Kafka ingest worker on the real broker and PostgreSQL: alerts, DLQ, idempotence, crash
recovery, watchlist changes, routing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from failsafe.db.models import AlertRecipient, Sighting
from failsafe.ingest.service import new_screener
from failsafe.ingest.worker import IngestWorker
from tests.conftest import subprocess_log
from tests.fixtures.factories import entry_doc, event, put_entry
from tests.fixtures.streams import Env, loaded, worker_env
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.integration


async def test_hits_become_routed_persisted_published_alerts(
    env: Env, worker: IngestWorker
) -> None:
    petrov = await put_entry(env.sessions, entry_doc("PETROV", "IVAN", dob="1970-03", owner="FRA"))
    await loaded(worker)
    hit = event("PETROV", "IVAN", dob="1970-03-14", country="DEU")
    misses = [event("SMITH", "JOHN"), event("GARCIA", "MARIA", dob="1990-01-01")]
    await env.send(misses[0], hit, misses[1])
    (alert,) = await env.wait_alerts(1)
    assert (alert.event_id, alert.entry_id) == (hit["event_id"], petrov["id"])
    assert alert.recipients == ["DEU", "FRA"]
    assert alert.payload["method"] in {"name_dob", "name"}
    assert alert.payload["explanation"]
    published = await env.read_topic(env.settings.kafka.topics.alerts, 1)
    assert orjson.loads(published[0].value)["id"] == alert.id
    async with env.sessions() as s:
        # Data minimisation: only the hit's event is stored.
        assert await s.scalar(select(func.count()).select_from(Sighting)) == 1
        bureaus = set((await s.execute(select(AlertRecipient.bureau_code))).scalars())
    assert bureaus == {"DEU", "FRA"}


async def test_invalid_input_goes_to_the_dlq_and_the_worker_goes_on(
    env: Env, worker: IngestWorker
) -> None:
    await put_entry(env.sessions, entry_doc("KOVACS", "LASZLO", dob="1965-02-03"))
    await loaded(worker)
    bad: list[bytes] = [
        b"{not json",
        orjson.dumps({"event_id": 42, "kind": "border_crossing"}),  # wrong type
        orjson.dumps({**event("A", "B"), "schema": "failsafe.event/v9"}),  # unknown version
        orjson.dumps({**event("A", "B"), "padding": "x" * 5000}),  # oversized (limit 4096)
        orjson.dumps({k: v for k, v in event("A", "B").items() if k != "event_id"}),  # missing id
    ]
    good = event("KOVACS", "LASZLO", dob="1965-02-03")
    await env.send(*bad, good)
    await env.wait_alerts(1)
    dlq = await env.read_topic(env.settings.kafka.topics.events_dlq, len(bad))
    assert [m.value for m in dlq] == bad
    reasons = [dict(m.headers)["failsafe.error"].decode() for m in dlq]
    assert reasons[0].startswith("not JSON")
    assert reasons[1].startswith("schema violation")
    assert reasons[2].startswith("unknown schema version")
    assert reasons[3].startswith("oversized")
    assert "event_id" in reasons[4]
    headers = dict(dlq[0].headers)
    assert headers["failsafe.source.topic"].decode() == env.settings.kafka.topics.events
    assert headers["failsafe.source.offset"].decode().isdigit()


async def test_the_same_event_twice_gives_one_alert(env: Env, worker: IngestWorker) -> None:
    await put_entry(env.sessions, entry_doc("OKONKWO", "CHINEDU", dob="1980-05-06"))
    await loaded(worker)
    ev = event("OKONKWO", "CHINEDU", dob="1980-05-06")
    await env.send(ev, ev)
    marker = event("OKONKWO", "CHINEDU", dob="1980-05-06")  # a distinct event after both
    await env.send(marker)
    alerts = await env.wait_alerts(2)
    await asyncio.sleep(1)
    alerts = await env.alerts()
    assert sorted(a.event_id for a in alerts) == sorted([ev["event_id"], marker["event_id"]])


async def test_watchlist_changes_apply_without_restart(env: Env, worker: IngestWorker) -> None:
    before = event("LINDQVIST", "ASTRID", dob="1977-07-07")
    await env.send(before)
    entry = await put_entry(env.sessions, entry_doc("LINDQVIST", "ASTRID", dob="1977-07-07"))
    await asyncio.sleep(1.0)  # the design promises 1 s
    after = event("LINDQVIST", "ASTRID", dob="1977-07-07")
    await env.send(after)
    (alert,) = await env.wait_alerts(1)
    assert alert.event_id == after["event_id"]
    # Cancelled: stops matching.
    await put_entry(env.sessions, entry, status="cancelled")
    await asyncio.sleep(1.0)
    cancelled = event("LINDQVIST", "ASTRID", dob="1977-07-07")
    control = await put_entry(env.sessions, entry_doc("BERGMAN", "OLOF", dob="1960-01-01"))
    await asyncio.sleep(1.0)
    await env.send(cancelled, event("BERGMAN", "OLOF", dob="1960-01-01"))
    alerts = await env.wait_alerts(2)
    assert [a.entry_id for a in alerts] == [entry["id"], control["id"]]


async def test_routing_follows_the_route_and_distribution(env: Env, worker: IngestWorker) -> None:
    open_entry = await put_entry(
        env.sessions,
        entry_doc(
            "NAKAMURA",
            "HIROSHI",
            dob="1972",
            owner="FRA",
            distribution={"mode": "all", "allow": [], "deny": ["GBR"]},
        ),
    )
    restricted = await put_entry(
        env.sessions,
        entry_doc(
            "DUBOIS",
            "CLAIRE",
            dob="1985-09-09",
            owner="FRA",
            distribution={"mode": "restricted", "allow": ["USA"], "deny": []},
        ),
    )
    await loaded(worker, 2)
    flight = {
        "carrier": "LH",
        "number": "400",
        "origin": "FRA",
        "destination": "JFK",
        "transit": ["LHR"],
    }
    await env.send(
        event("NAKAMURA", "HIROSHI", dob="1972-01-02", country="DEU", flight=flight),
        event("DUBOIS", "CLAIRE", dob="1985-09-09", country="DEU", flight=flight),
    )
    alerts = {a.entry_id: a for a in await env.wait_alerts(2)}
    # Owner, event country, transit and destination; GBR denied by the entry.
    assert alerts[open_entry["id"]].recipients == ["DEU", "FRA", "USA"]
    # Restricted: only the owner and the allowed bureaus, whatever the route.
    assert alerts[restricted["id"]].recipients == ["FRA", "USA"]


async def test_sigkill_mid_stream_loses_and_duplicates_nothing(env: Env) -> None:
    names = [("HALVORSEN", "KNUT"), ("MBEKI", "THABO"), ("IVANOVA", "OLGA"), ("SILVA", "JOAO")]
    entries = [await put_entry(env.sessions, entry_doc(s, g, dob="1971-01-01")) for s, g in names]
    expected: set[tuple[str, str]] = set()
    events: list[dict[str, Any]] = []
    for i in range(2000):
        if i % 50 == 0:
            k = (i // 50) % len(names)
            ev = event(*names[k], dob="1971-01-01")
            expected.add((ev["event_id"], entries[k]["id"]))
        else:
            ev = event(f"TRAVELLER{uuid.uuid4().hex[:6].upper()}", "ANON")
        events.append(ev)
    for ev in events:
        await env.producer.send(env.settings.kafka.topics.events, orjson.dumps(ev))
    await env.producer.flush()

    child_env = {
        **os.environ,
        **worker_env(env.settings),
    }
    cmd = [
        sys.executable,
        "-m",
        "failsafe.cli",
        "ingest",
        "--batch-size",
        "50",
        "--metrics-port",
        "0",
    ]
    with subprocess_log("ingest").open("ab") as err:  # the suite's log scan reads it
        first = subprocess.Popen(cmd, env=child_env, stderr=err)
    try:
        await env.wait_alerts(len(expected) // 3, timeout=60)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    with subprocess_log("ingest").open("ab") as err:
        second = subprocess.Popen(cmd, env=child_env, stderr=err)
    try:
        alerts = await env.wait_alerts(len(expected), timeout=90)
        await asyncio.sleep(2)  # anything extra would show up now
        alerts = await env.alerts()
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0  # SIGTERM: finishes the batch, commits, exits cleanly
    pairs = [(a.event_id, a.entry_id) for a in alerts]
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == expected
    assert [a.id for a in alerts] == list(range(1, len(alerts) + 1))  # gap-free ids


async def test_a_rebalance_hands_over_committed_work_without_replays(env: Env) -> None:
    names = [("ESPINOZA", "RAUL"), ("TANAKA", "YUKI")]
    entries = [await put_entry(env.sessions, entry_doc(s, g, dob="1980-02-02")) for s, g in names]
    expected: set[tuple[str, str]] = set()

    async def produce(n: int, pause: float) -> None:
        for i in range(n):
            if i % 100 == 0:
                k = (i // 100) % 2
                ev = event(*names[k], dob="1980-02-02")
                expected.add((ev["event_id"], entries[k]["id"]))
            else:
                ev = event(f"PASSENGER{uuid.uuid4().hex[:6].upper()}", "ANON")
            await env.producer.send(
                env.settings.kafka.topics.events, orjson.dumps(ev), key=ev["event_id"].encode()
            )
            if i % 50 == 0:
                await env.producer.flush()
                await asyncio.sleep(pause)
        await env.producer.flush()

    first = IngestWorker(env.settings, new_screener(), batch_size=20)
    second = IngestWorker(env.settings, new_screener(), batch_size=20)
    t1 = asyncio.create_task(first.run())
    try:
        await produce(1000, 0.0)
        await eventually(lambda: first.processed >= 1000, timeout=60, interval=0.02)
        t2 = asyncio.create_task(second.run())  # joins while events keep flowing
        try:
            await produce(2000, 0.25)
            await eventually(
                lambda: first.processed + second.processed >= 3000, timeout=90, interval=0.1
            )
            await asyncio.sleep(1)
        finally:
            second.request_stop()
            await asyncio.wait_for(t2, 30)
    finally:
        first.request_stop()
        await asyncio.wait_for(t1, 30)
    assert second.processed > 0  # the second worker did take partitions over
    # Work in flight was committed before its partitions moved: nothing was processed twice.
    assert first.processed + second.processed == 3000
    pairs = [(a.event_id, a.entry_id) for a in await env.alerts()]
    assert sorted(pairs) == sorted(expected)
