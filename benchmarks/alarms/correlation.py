"""Project Stone correlation at load, on the real PostgreSQL: lane crossings at `--crossings`/s
(batches of `--batch`, as `failsafe ingest` records them) and alarms at `--alarms`/s (as
`failsafe ingest-alarms` records them), concurrently in one process, for `--seconds`.

The stream: `--points` crossing points with 6 lanes each (lanes 1-2 cargo, 3-6 passenger cars,
1-4 people per vehicle, plates); alarms at those lanes with the issue's mix (cargo: 80 % NORM,
10 % medical, 5 % industrial, 5 % statistical; cars: mostly medical Tc-99m / I-131 / Tl-201;
neutron alarms ten times rarer than gamma) and, every `--snm-every` alarms, a real SNM alarm
(Pu-239 with a neutron alarm). Alarms arrive up to 5 s after their crossings, as a portal
reports after the occupancy ends, so most links are made from the alarm side.

Prints: the sustained rates, correlation latency (one side in -> its transaction, links and
alerts committed, ready to publish) p50/p99 for each side, links made, and whether every
injected SNM alarm has exactly one alert (critical) with its lane's vehicle's people linked.
What it does not include: Kafka and the websocket hop (see benchmarks/delivery/latency.py for
the hub's share).

    FAILSAFE_BENCH_PG=postgresql://failsafe:failsafe@127.0.0.1:15432 \\
      .venv/bin/python benchmarks/alarms/correlation.py --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import func, select

from failsafe.alarms.correlation import record_alarm, record_crossings
from failsafe.db import migrate
from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.db.models import Alarm, AlarmLink, Alert
from failsafe.settings import AlarmSettings, DatabaseSettings

CARGO = [("K-40", "norm", 0.8), ("Ra-226", "norm", 0.1)]
MEDICAL = [("Tc-99m", "medical"), ("I-131", "medical"), ("Tl-201", "medical")]


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


class Stream:
    def __init__(self, points: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.points = [f"BEN-{i:03d}" for i in range(points)]
        self.clock = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
        self.recent: list[tuple[str, str, datetime, int]] = []  # point, lane, time, people

    def crossings(self, n: int) -> list[dict[str, Any]]:
        out = []
        while len(out) < n:
            # A vehicle per lane every ~30 s on average (simulated time runs faster than real
            # time when the rate asks for more than the lanes would carry).
            step = 30.0 / (len(self.points) * 6)
            self.clock += timedelta(seconds=self.rng.uniform(0, 2 * step))
            point = self.rng.choice(self.points)
            lane = str(self.rng.randint(1, 6))
            people = 1 if lane in ("1", "2") else self.rng.randint(1, 4)
            plate = f"{self.rng.choice('BMKHS')}-{self.rng.randint(100, 9999)}"
            for _ in range(people):
                out.append(
                    {
                        "schema": "failsafe.event/v1",
                        "event_id": f"bx-{uuid.uuid4().hex}",
                        "kind": "border_crossing",
                        "occurred_at": self.clock.isoformat(),
                        "country": "DEU",
                        "crossing": {
                            "point": point,
                            "lane": lane,
                            "mode": "land",
                            "direction": "entry",
                            "vehicle": {"plate": plate},
                        },
                        "traveller": {"surname": "SYNTH", "given_names": "PERSON"},
                        "document": {"type": "P", "number": uuid.uuid4().hex[:9].upper()},
                    }
                )
            self.recent.append((point, lane, self.clock, people))
        self.recent = self.recent[-2000:]
        return out

    def alarm(self, snm: bool) -> dict[str, Any]:
        point, lane, at, _ = self.rng.choice(self.recent[-200:])
        cargo = lane in ("1", "2")
        categories = ["gamma"]
        nuclides: list[dict[str, Any]] = []
        r = self.rng.random()
        if snm:
            categories = ["gamma", "neutron"]
            nuclides = [{"name": "Pu-239", "category": "snm", "confidence": 0.7}]
        elif cargo and r < 0.8:
            name, cat, _ = self.rng.choice(CARGO)
            nuclides = [{"name": name, "category": cat, "confidence": 0.9}]
        elif (cargo and r < 0.9) or (not cargo and r < 0.85):
            name, cat = self.rng.choice(MEDICAL)
            nuclides = [{"name": name, "category": cat, "confidence": 0.85}]
        elif r < 0.95:
            nuclides = [{"name": "Cs-137", "category": "industrial", "confidence": 0.8}]
        if not snm and self.rng.random() < 0.01:
            categories.append("neutron")  # neutron alarms: >= 10x rarer than gamma
        return {
            "schema": "failsafe.alarm/v1",
            "alarm_id": f"ba-{uuid.uuid4().hex}",
            "occurred_at": (at + timedelta(seconds=2)).isoformat(),
            "country": "DEU",
            "point": point,
            "lane": lane,
            "occupancy": {
                "start": (at - timedelta(seconds=2)).isoformat(),
                "end": (at + timedelta(seconds=8)).isoformat(),
            },
            "categories": categories,
            "gamma": {"max_cps": 1800.0, "background_cps": 1200.0},
            "nuclides": nuclides,
        }


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--crossings", type=int, default=2000, help="per second")
    ap.add_argument("--alarms", type=float, default=10, help="per second")
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--points", type=int, default=20)
    ap.add_argument("--snm-every", type=int, default=25)
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args()
    server = os.environ.get("FAILSAFE_BENCH_PG", "postgresql://failsafe:failsafe@127.0.0.1:15432")
    name = f"bench_alarms_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(f"{server}/postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = f"{server.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        engine = create_engine(DatabaseSettings(url=url, pool_size=10))
        sessions = create_sessionmaker(engine)
        settings = AlarmSettings()
        stream = Stream(args.points, args.seed)
        crossing_lat: list[float] = []
        alarm_lat: list[float] = []
        snm_ids: list[str] = []
        sent = {"crossings": 0, "alarms": 0}
        deadline = time.perf_counter() + args.seconds

        async def crossings_side() -> None:
            interval = args.batch / args.crossings
            nxt = time.perf_counter()
            while time.perf_counter() < deadline:
                batch = stream.crossings(args.batch)
                t = time.perf_counter()
                await record_crossings(sessions, batch, set(), settings)
                crossing_lat.append(time.perf_counter() - t)
                sent["crossings"] += len(batch)
                nxt += interval
                await asyncio.sleep(max(0.0, nxt - time.perf_counter()))

        async def alarms_side() -> None:
            interval = 1.0 / args.alarms
            nxt = time.perf_counter() + 0.5
            n = 0
            while time.perf_counter() < deadline:
                await asyncio.sleep(max(0.0, nxt - time.perf_counter()))
                nxt += interval
                if not stream.recent:
                    continue
                n += 1
                snm = n % args.snm_every == 0
                alarm = stream.alarm(snm)
                if snm:
                    snm_ids.append(alarm["alarm_id"])
                t = time.perf_counter()
                await record_alarm(sessions, alarm, settings)
                alarm_lat.append(time.perf_counter() - t)
                sent["alarms"] += 1

        started = time.perf_counter()
        await asyncio.gather(crossings_side(), alarms_side())
        elapsed = time.perf_counter() - started
        async with sessions() as s:
            links = await s.scalar(select(func.count()).select_from(AlarmLink))
            snm_alerts = (
                await s.execute(
                    select(Alarm.alarm_id, Alert.severity, func.count(AlarmLink.event_id))
                    .join(Alert, Alert.id == Alarm.alert_id)
                    .outerjoin(AlarmLink, AlarmLink.alarm_pk == Alarm.id)
                    .where(Alarm.alarm_id.in_(snm_ids))
                    .group_by(Alarm.alarm_id, Alert.severity)
                )
            ).all()
            per_alarm = await s.scalar(
                select(func.count()).select_from(Alert).where(Alert.kind == "radiation_alarm")
            )
        await engine.dispose()
        ms = 1000.0
        print(f"ran {elapsed:.1f} s on {args.points} points x 6 lanes")
        print(
            f"crossings: {sent['crossings']} ({sent['crossings'] / elapsed:.0f}/s) in batches of "
            f"{args.batch}: record+link p50 {quantile(crossing_lat, 0.5) * ms:.1f} ms, "
            f"p99 {quantile(crossing_lat, 0.99) * ms:.1f} ms"
        )
        print(
            f"alarms: {sent['alarms']} ({sent['alarms'] / elapsed:.1f}/s): record+link+alert "
            f"p50 {quantile(alarm_lat, 0.5) * ms:.1f} ms, "
            f"p99 {quantile(alarm_lat, 0.99) * ms:.1f} ms "
            f"(mean {statistics.fmean(alarm_lat) * ms:.1f} ms; one at a time, as the worker does)"
        )
        print(f"links: {links}; radiation alerts: {per_alarm} for {sent['alarms']} alarms")
        ok = len(snm_alerts) == len(snm_ids) and all(
            sev == "critical" and n_links > 0 for _, sev, n_links in snm_alerts
        )
        print(
            f"SNM alarms injected: {len(snm_ids)}; with exactly one critical, linked alert: "
            f"{sum(1 for _, sev, n in snm_alerts if sev == 'critical' and n > 0)} "
            f"({'OK' if ok else 'MISMATCH'})"
        )
    finally:
        conn = await asyncpg.connect(f"{server}/postgres")
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
