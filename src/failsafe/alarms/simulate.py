"""`failsafe simulate`: a realistic mixed stream of lane crossings and radiation alarms, to
Kafka, to the HTTP API, or to stdout (JSON lines), for demos and load tests (issue 12).

The stream (`Stream`): crossing points with six lanes each (lanes 1-2 cargo trucks with their
driver, 3-6 cars with one to four people), plates, documents; alarms on lanes that just had a
vehicle, with the occupancy around it, at about `alarms_per_lane_day` (0.5: land crossings see
0.2-1 per lane per day) in simulated time, so `accelerate` (simulated seconds per real second)
makes a demo show alarms within a minute. The causes follow the issue: in cargo lanes about
80 % NORM (K-40, Ra-226), 10 % medical, 5 % industrial, 5 % statistical (no nuclide); in
passenger lanes mostly medical (Tc-99m, I-131, Tl-201); neutron alarms about 1 in 100 (at least
ten times rarer than gamma); every `snm_every`-th alarm a real SNM alarm (Pu-239 with a neutron
alarm). With watchlist subjects given, `hit_share` of the crossings carry one of them (true hits).

Everything here is synthetic; it never reads or sends real personal data.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

LANES = ("1", "2", "3", "4", "5", "6")
CARGO_LANES = ("1", "2")
_NORM = (("K-40", 0.8), ("Ra-226", 0.2))
_MEDICAL = ("Tc-99m", "I-131", "Tl-201")
_SURNAMES = ("MEIER", "NOWAK", "HORVAT", "SILVA", "JANSEN", "POPESCU", "KOVACS", "BERG")
_GIVEN = ("ANNA", "JAN", "MARIA", "PETER", "EVA", "TOMAS", "LENA", "MARKO")


@dataclass
class Stream:
    points: Sequence[str]
    country: str = "DEU"
    seed: int = 1
    alarms_per_lane_day: float = 0.5
    snm_every: int = 50
    hit_share: float = 0.0
    subjects: Sequence[dict[str, Any]] = ()  # watchlist entries whose subjects may cross
    clock: datetime = field(default_factory=lambda: datetime.now(UTC))
    _rng: random.Random = field(init=False)
    _recent: list[tuple[str, str, datetime]] = field(init=False, default_factory=list)
    _alarm_debt: float = field(init=False, default=0.0)
    _alarms: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        # A seeded generator for a repeatable synthetic stream, not for secrets.
        self._rng = random.Random(self.seed)  # noqa: S311

    def _traveller(self) -> tuple[dict[str, Any], dict[str, Any]]:
        rng = self._rng
        if self.subjects and rng.random() < self.hit_share:
            subject = rng.choice(list(self.subjects)).get("subject") or {}
            docs = subject.get("documents") or [{}]
            traveller = {
                k: subject[k]
                for k in ("surname", "given_names", "full_name", "date_of_birth")
                if subject.get(k)
            }
            return traveller, {"type": "P", **{k: v for k, v in docs[0].items() if v}}
        traveller = {
            "surname": rng.choice(_SURNAMES),
            "given_names": rng.choice(_GIVEN),
            "date_of_birth": f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}",
        }
        document = {
            "type": "P",
            "number": uuid.UUID(int=rng.getrandbits(128)).hex[:9].upper(),
            "issuing_state": self.country,
        }
        return traveller, document

    def advance(self, seconds: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Move the simulated clock by `seconds`: the crossings (events) and alarms in them.
        Vehicles come about every 30 s per lane."""
        rng = self._rng
        events: list[dict[str, Any]] = []
        alarms: list[dict[str, Any]] = []
        lanes = len(self.points) * len(LANES)
        end = self.clock + timedelta(seconds=seconds)
        step = 30.0 / lanes
        while True:
            self.clock += timedelta(seconds=rng.uniform(0, 2 * step))
            if self.clock >= end:
                self.clock = end
                break
            point = rng.choice(list(self.points))
            lane = rng.choice(LANES)
            people = 1 if lane in CARGO_LANES else rng.randint(1, 4)
            vehicle: dict[str, Any] = {"plate": f"{rng.choice('BMKHSL')}-{rng.randint(10, 9999)}"}
            if lane in CARGO_LANES:
                vehicle["container"] = f"MSCU{rng.randint(1_000_000, 9_999_999)}"
            for _ in range(people):
                traveller, document = self._traveller()
                events.append(
                    {
                        "schema": "failsafe.event/v1",
                        "event_id": f"sim-{uuid.UUID(int=rng.getrandbits(128)).hex}",
                        "kind": "border_crossing",
                        "occurred_at": self.clock.isoformat(),
                        "source": f"{self.country}-SIM",
                        "country": self.country,
                        "crossing": {
                            "point": point,
                            "mode": "land",
                            "direction": rng.choice(("entry", "exit")),
                            "lane": lane,
                            "vehicle": vehicle,
                        },
                        "traveller": traveller,
                        "document": document,
                    }
                )
            self._recent.append((point, lane, self.clock))
        self._recent = self._recent[-500:]
        self._alarm_debt += seconds * lanes * self.alarms_per_lane_day / 86400.0
        while self._alarm_debt >= 1.0 and self._recent:
            self._alarm_debt -= 1.0
            alarms.append(self.alarm())
        return events, alarms

    def alarm(self) -> dict[str, Any]:
        """One alarm now, on a lane that just had a vehicle (`advance` calls it at the rate)."""
        rng = self._rng
        self._alarms += 1
        point, lane, at = rng.choice(self._recent[-50:])
        snm = self.snm_every > 0 and self._alarms % self.snm_every == 0
        categories = ["gamma"]
        nuclides: list[dict[str, Any]] = []
        r = rng.random()
        if snm:
            categories = ["gamma", "neutron"]
            nuclides = [{"name": "Pu-239", "category": "snm", "confidence": 0.7}]
        elif lane in CARGO_LANES:
            if r < 0.8:
                name = "K-40" if rng.random() < _NORM[0][1] else "Ra-226"
                nuclides = [{"name": name, "category": "norm", "confidence": 0.9}]
            elif r < 0.9:
                nuclides = [
                    {"name": rng.choice(_MEDICAL), "category": "medical", "confidence": 0.85}
                ]
            elif r < 0.95:
                nuclides = [{"name": "Cs-137", "category": "industrial", "confidence": 0.8}]
        elif r < 0.9:
            nuclides = [{"name": rng.choice(_MEDICAL), "category": "medical", "confidence": 0.85}]
        if not snm and rng.random() < 0.01:
            categories.append("neutron")
        return {
            "schema": "failsafe.alarm/v1",
            "alarm_id": f"sim-{uuid.UUID(int=rng.getrandbits(128)).hex}",
            "occurred_at": (at + timedelta(seconds=2)).isoformat(),
            "source": f"{self.country}-SIM-RPM",
            "country": self.country,
            "point": point,
            "lane": lane,
            "instrument": {"id": f"RPM-{point}-{lane}", "kind": "portal"},
            "occupancy": {
                "start": (at - timedelta(seconds=3)).isoformat(),
                "end": (at + timedelta(seconds=9)).isoformat(),
            },
            "categories": categories,
            "gamma": {"max_cps": round(1200 + rng.uniform(300, 900), 1), "background_cps": 1200.0},
            "nuclides": nuclides,
        }


# -- sending -----------------------------------------------------------------------------------


def _post(url: str, token: str, body: bytes, content_type: str = "application/json") -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(  # noqa: S310  (the scheme is checked by the caller)
        url,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class Sink:
    """Where simulated messages go: stdout (JSON lines), Kafka topics, or the HTTP API."""

    def __init__(
        self,
        to: str,
        *,
        bootstrap: str | None = None,
        events_topic: str = "failsafe.events.v1",
        alarms_topic: str = "failsafe.alarms.v1",
        url: str | None = None,
        token: str | None = None,
        client: dict[str, Any] | None = None,
    ) -> None:
        """`client`: the Kafka client options (failsafe.kit.kafka.client_options: TLS, SASL);
        `bootstrap` alone when not given."""
        if to == "kafka" and not bootstrap:
            raise ValueError("--to kafka needs FAILSAFE_KAFKA__BOOTSTRAP_SERVERS")
        if to == "http" and (not url or not token or not url.startswith(("http://", "https://"))):
            raise ValueError("--to http needs --url http(s)://HOST:PORT and a border --token")
        self.to = to
        self.bootstrap = bootstrap
        self.client = client
        self.events_topic = events_topic
        self.alarms_topic = alarms_topic
        self.url = (url or "").rstrip("/")
        self.token = token or ""
        self.producer: Any = None
        self.sent = {"events": 0, "alarms": 0, "refused": 0}

    async def start(self) -> None:
        if self.to == "kafka":
            from aiokafka import AIOKafkaProducer

            client = self.client or {"bootstrap_servers": self.bootstrap}
            self.producer = AIOKafkaProducer(**client, acks="all", linger_ms=5)
            await self.producer.start()

    async def stop(self) -> None:
        if self.producer is not None:
            await self.producer.stop()

    async def send(self, events: list[dict[str, Any]], alarms: list[dict[str, Any]]) -> None:
        import asyncio
        import sys

        import orjson

        if self.to == "stdout":
            for message in (*events, *alarms):
                sys.stdout.write(orjson.dumps(message).decode() + "\n")
        elif self.to == "kafka":
            futures = [
                await self.producer.send(
                    self.events_topic, orjson.dumps(e), key=e["event_id"].encode()
                )
                for e in events
            ] + [
                await self.producer.send(
                    self.alarms_topic, orjson.dumps(a), key=a["alarm_id"].encode()
                )
                for a in alarms
            ]
            await asyncio.gather(*futures)
        else:
            for i in range(0, len(events), 1000):
                body = orjson.dumps(events[i : i + 1000])
                status = await asyncio.to_thread(_post, f"{self.url}/v1/events", self.token, body)
                if status != 202:
                    self.sent["refused"] += 1
            for alarm in alarms:
                status = await asyncio.to_thread(
                    _post, f"{self.url}/v1/alarms", self.token, orjson.dumps(alarm)
                )
                if status != 202:
                    self.sent["refused"] += 1
        self.sent["events"] += len(events)
        self.sent["alarms"] += len(alarms)


async def run(
    stream: Stream,
    sink: Sink,
    *,
    seconds: float,
    accelerate: float,
    rate: float | None,
    tick: float = 0.1,
) -> dict[str, int]:
    """Send for `seconds` of real time: each tick, `accelerate * tick` simulated seconds (or,
    with `rate`, as many as make `rate` crossings per real second)."""
    import asyncio
    import time

    lanes = len(stream.points) * len(LANES)
    # People per simulated second: a vehicle per lane every 30 s, 2 people per vehicle on average.
    people_per_sim_s = lanes / 30.0 * 2.0
    per_tick = (rate * tick / people_per_sim_s) if rate else accelerate * tick
    await sink.start()
    try:
        started = time.perf_counter()
        nxt = started
        while time.perf_counter() - started < seconds:
            events, alarms = stream.advance(per_tick)
            await sink.send(events, alarms)
            nxt += tick
            await asyncio.sleep(max(0.0, nxt - time.perf_counter()))
    finally:
        await sink.stop()
    return sink.sent
