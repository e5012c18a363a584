"""Ingest throughput on real Kafka and PostgreSQL, with one and two `failsafe ingest` processes.

    .venv/bin/python benchmarks/ingest/throughput.py [--entries 100000] [--events 200000]
        [--hit-rate 0.005] [--processes 1 2]

Needs the dev services (`make services`: PostgreSQL on 127.0.0.1:15432, Kafka on 127.0.0.1:19092;
override with --pg / --kafka). For each process count: a fresh database holding a synthetic
watchlist, a fresh events topic (4 partitions) holding the synthetic traffic with planted hits,
then N real worker processes in one consumer group. The rate is measured from the moment every
worker is ready (watchlist loaded, consuming) until the group's committed offsets cover every
event, so it is the sustained rate from consumption to alerts persisted, published and committed.
Then it checks every planted hit against the alerts (exactly once each) and measures how long a
watchlist change takes to take effect in a running worker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import func, insert, select, update

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "matching"))
sys.path.insert(0, str(ROOT))

from synth import generate_traffic, generate_watchlist  # noqa: E402
from tests.conftest import create_database, drop_database  # noqa: E402
from tests.fixtures.factories import entry_doc, put_entry  # noqa: E402

from failsafe.db import migrate  # noqa: E402
from failsafe.db.engine import create_engine, create_sessionmaker  # noqa: E402
from failsafe.db.models import Alert, Counter, WatchlistEntry, WatchlistEntryVersion  # noqa: E402
from failsafe.settings import DatabaseSettings  # noqa: E402

PARTITIONS = 4


def as_event(ev: dict[str, Any], now: str) -> dict[str, Any]:
    """Synthetic traffic as contract events (occurred_at, country, crossing added)."""
    return {
        "schema": "failsafe.event/v1",
        "occurred_at": now,
        "country": "DEU",
        "source": "BENCH",
        "crossing": {"point": "DEU-FRA-T1", "mode": "air", "direction": "entry"},
        **ev,
    }


async def fresh_database(pg: str) -> str:
    url = await create_database(pg, f"failsafe_bench_{uuid.uuid4().hex[:8]}")
    await asyncio.to_thread(migrate.upgrade, url)
    return url


async def load_watchlist(url: str, entries: list[dict[str, Any]]) -> None:
    engine = create_engine(DatabaseSettings(url=url))
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        for start in range(0, len(entries), 2000):
            chunk = entries[start : start + 2000]
            rows = [
                {
                    "id": e["id"],
                    "notice_type": e["notice"]["type"],
                    "notice_reference": e["notice"]["reference"],
                    "owner_bureau": e["owner_bureau"],
                    "status": "active",
                    "distribution_mode": "all",
                    "version": 1,
                    "revision": start + i + 1,
                    "search_text": "",
                    "document": {**e, "version": 1},
                    "created_at": now,
                    "updated_at": now,
                }
                for i, e in enumerate(chunk)
            ]
            await conn.execute(insert(WatchlistEntry), rows)
            await conn.execute(
                insert(WatchlistEntryVersion),
                [
                    {
                        "entry_id": r["id"],
                        "version": 1,
                        "revision": r["revision"],
                        "change": "create",
                        "status": "active",
                        "document": r["document"],
                        "changed_at": now,
                    }
                    for r in rows
                ],
            )
        await conn.execute(
            update(Counter).where(Counter.name == "watchlist_revision").values(value=len(entries))
        )
    await engine.dispose()


async def produce(
    kafka: str, topic: str, payloads: list[tuple[bytes, bytes]], others: list[str]
) -> float:
    # Every topic the workers use exists first (`failsafe ingest` only checks for them).
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)]
            + [NewTopic(t, num_partitions=1, replication_factor=1) for t in others]
        )
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka,
        linger_ms=20,
        max_batch_size=256 * 1024,
        compression_type=None,
        acks=1,
    )
    await producer.start()
    t0 = time.perf_counter()
    try:
        for key, value in payloads:
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()
    return time.perf_counter() - t0


async def committed_total(kafka: str, group: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        total = 0
        for p in range(PARTITIONS):
            total += (await consumer.committed(TopicPartition(topic, p))) or 0
        return total
    finally:
        await consumer.stop()


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


async def run_case(
    args: argparse.Namespace,
    n_proc: int,
    entries: list[dict[str, Any]],
    payloads: list[tuple[bytes, bytes]],
    truth: dict[str, tuple[str, str]],
) -> dict[str, Any]:
    url = await fresh_database(args.pg)
    tag = uuid.uuid4().hex[:8]
    topics = {
        "events": f"bench.events.{tag}",
        "dlq": f"bench.dlq.{tag}",
        "alerts": f"bench.alerts.{tag}",
    }
    group = f"bench-{tag}"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        t = time.perf_counter()
        await load_watchlist(url, entries)
        load_s = time.perf_counter() - t
        produce_s = await produce(
            args.kafka, topics["events"], payloads, [topics["dlq"], topics["alerts"]]
        )
        env = {
            **os.environ,
            "FAILSAFE_DATABASE__URL": url,
            "FAILSAFE_KAFKA__BOOTSTRAP_SERVERS": args.kafka,
            "FAILSAFE_KAFKA__CONSUMER_GROUP": group,
            "FAILSAFE_KAFKA__TOPICS__EVENTS": topics["events"],
            "FAILSAFE_KAFKA__TOPICS__EVENTS_DLQ": topics["dlq"],
            "FAILSAFE_KAFKA__TOPICS__ALERTS": topics["alerts"],
            "FAILSAFE_LOG_LEVEL": "WARNING",
        }
        ports = [19500 + i for i in range(n_proc)]
        t_launch = time.perf_counter()
        for port in ports:
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "failsafe.cli",
                        "ingest",
                        "--batch-size",
                        str(args.batch),
                        "--metrics-port",
                        str(port),
                    ],
                    env=env,
                )
            )
        while not all(ready(p) for p in ports):
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("an ingest process exited during start-up")
            await asyncio.sleep(0.1)
        t_ready = time.perf_counter()
        total = len(payloads)
        samples: list[tuple[float, int]] = []
        while True:
            done = await committed_total(args.kafka, group, topics["events"])
            samples.append((time.perf_counter(), done))
            if done >= total:
                break
            if time.perf_counter() - t_ready > args.max_seconds:
                raise RuntimeError(f"only {done}/{total} committed after {args.max_seconds}s")
            await asyncio.sleep(0.25)
        t_done = samples[-1][0]
        # Rate between 10 % and 90 % committed: the sustained rate, without start and tail.
        lo = next(s for s in samples if s[1] >= total * 0.1)
        hi = next(s for s in samples if s[1] >= total * 0.9)
        sustained = (hi[1] - lo[1]) / max(hi[0] - lo[0], 1e-9)

        engine = create_engine(DatabaseSettings(url=url))
        sessions = create_sessionmaker(engine)
        async with sessions() as s:
            pairs = [tuple(r) for r in (await s.execute(select(Alert.event_id, Alert.entry_id)))]
            n_alerts = await s.scalar(select(func.count()).select_from(Alert))
        expected = {(ev, entry) for ev, (entry, _) in truth.items()}
        got = set(pairs)
        result = {
            "processes": n_proc,
            "events": total,
            "watchlist_load_s": round(load_s, 1),
            "produce_s": round(produce_s, 1),
            "startup_s": round(t_ready - t_launch, 1),
            "elapsed_s": round(t_done - t_ready, 1),
            "overall_events_per_s": round(total / (t_done - t_ready)),
            "sustained_events_per_s": round(sustained),
            "alerts": n_alerts,
            "duplicate_pairs": len(pairs) - len(got),
            "planted": len(expected),
            "planted_alerted": len(expected & got),
            "alerts_not_planted": len(got - expected),
        }
        if args.change_latency and n_proc == 1:
            result["watchlist_change_s"] = await change_latency(args, sessions, topics["events"])
        await engine.dispose()
        return result
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(60)
        await drop_database(args.pg, url.rsplit("/", 1)[1])


async def change_latency(args: argparse.Namespace, sessions: Any, topic: str) -> list[float]:
    """Seconds from a committed watchlist change to the first event that alerts on it."""
    producer = AIOKafkaProducer(bootstrap_servers=args.kafka)
    await producer.start()
    out: list[float] = []
    try:
        for _ in range(5):
            doc = entry_doc("QUINTERO-VALDIVIA", "ANASTASIA", dob="1969-04-21")
            await put_entry(sessions, doc)
            t0 = time.perf_counter()
            sent: dict[str, float] = {}
            while True:
                ev_id = f"chg-{uuid.uuid4().hex}"
                ev = as_event(
                    {
                        "event_id": ev_id,
                        "kind": "border_crossing",
                        "traveller": {
                            "surname": "QUINTERO VALDIVIA",
                            "given_names": "ANASTASIA",
                            "date_of_birth": "1969-04-21",
                        },
                    },
                    datetime.now(UTC).isoformat(),
                )
                sent[ev_id] = time.perf_counter() - t0
                await producer.send_and_wait(topic, orjson.dumps(ev), key=ev_id.encode())
                async with sessions() as s:
                    hit = await s.scalar(
                        select(Alert.event_id)
                        .where(Alert.entry_id == doc["id"])
                        .order_by(Alert.id)
                        .limit(1)
                    )
                if hit is not None:
                    out.append(round(sent[hit], 3))
                    break
                await asyncio.sleep(0.05)
            # The next change: cancel this entry so the names don't pile up.
            await put_entry(sessions, {**doc}, status="cancelled")
    finally:
        await producer.stop()
    return out


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--hit-rate", type=float, default=0.005)
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--pg", default="postgresql://failsafe:failsafe@127.0.0.1:15432")
    ap.add_argument("--kafka", default="127.0.0.1:19092")
    ap.add_argument("--max-seconds", type=float, default=900)
    ap.add_argument("--no-change-latency", dest="change_latency", action="store_false")
    args = ap.parse_args()

    t = time.perf_counter()
    entries, pools = generate_watchlist(args.entries)
    hits = int(args.events * args.hit_rate)
    events, truth = generate_traffic(entries, pools, hits, args.events - hits)
    now = datetime.now(UTC).isoformat()
    payloads = [(ev["event_id"].encode(), orjson.dumps(as_event(ev, now))) for ev in events]
    print(
        f"generated {len(entries)} entries and {len(events)} events ({hits} planted hits) "
        f"in {time.perf_counter() - t:.1f}s",
        flush=True,
    )
    results = []
    for n in args.processes:
        r = await run_case(args, n, entries, payloads, truth)
        results.append(r)
        print(orjson.dumps(r).decode(), flush=True)
    print("\nprocesses  sustained ev/s  overall ev/s  planted alerted  duplicates  extra alerts")
    for r in results:
        print(
            f"{r['processes']:>9}  {r['sustained_events_per_s']:>14}  "
            f"{r['overall_events_per_s']:>12}  {r['planted_alerted']:>7}/{r['planted']:<7}  "
            f"{r['duplicate_pairs']:>10}  {r['alerts_not_planted']:>12}"
        )
    for r in results:
        if "watchlist_change_s" in r:
            print(
                f"watchlist change to effect (s, 5 trials): {r['watchlist_change_s']} "
                f"median {statistics.median(r['watchlist_change_s'])}"
            )


if __name__ == "__main__":
    asyncio.run(main())
